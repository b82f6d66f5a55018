package group

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Move puts a group (with its sub-tree) under newParentID (0: at the top) and recomputes the
// memberships the propagation rule implies for every group of the sub-tree. It needs
// authz.CanManageUnder on both the current and the new parent. Errors: Forbidden, NotFound
// (the group, or parent_id), Invalid (parent_id: under itself or one of its sub-groups),
// Conflict (name: a sibling with the same name under the new parent).
func (s *Service) Move(ctx context.Context, id, newParentID int64) (*Group, error) {
	var out *Group
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanManageGroup(ctx, tx, id); err != nil {
			return err
		}
		g, err := getGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := authz.CanManageUnder(ctx, tx, g.ParentID); err != nil {
			return err
		}
		if err := authz.CanManageUnder(ctx, tx, newParentID); err != nil {
			return err
		}
		if newParentID == g.ParentID {
			out = g
			return nil
		}
		if newParentID != 0 {
			if _, err := getGroup(ctx, tx, newParentID); err != nil {
				return parentErr(err)
			}
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM group_paths WHERE ancestor_id = $1 AND descendant_id = $2`,
				id, newParentID).Scan(&one)
			if err == nil {
				return errs.FieldCode("parent_id", "group_under_itself")
			}
			if !store.IsNoRows(err) {
				return wrap(err, "group: move")
			}
		}
		if err := checkFree(ctx, tx, id, newParentID, g.Name, ""); err != nil {
			return err
		}
		err = recompute(ctx, tx, id, func() error {
			if _, err := tx.ExecContext(ctx, `UPDATE groups SET parent_id = $2, updated_at = $3 WHERE id = $1`,
				id, nullID(newParentID), tx.Now.Unix()); err != nil {
				if store.IsUnique(err) {
					return conflictField("name", "group_name_taken", errs.P{"name": g.Name})
				}
				return wrap(err, "group: move")
			}
			// The closure: cut the sub-tree from its old ancestors, then join it to the new ones.
			if _, err := tx.ExecContext(ctx, `DELETE FROM group_paths
				WHERE descendant_id IN (SELECT descendant_id FROM group_paths WHERE ancestor_id = $1)
				AND ancestor_id NOT IN (SELECT descendant_id FROM group_paths WHERE ancestor_id = $1)`, id); err != nil {
				return wrap(err, "group: move paths")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO group_paths (ancestor_id, descendant_id, depth)
				SELECT a.ancestor_id, d.descendant_id, a.depth + d.depth + 1
				FROM group_paths a CROSS JOIN group_paths d
				WHERE a.descendant_id = $1 AND d.ancestor_id = $2`, newParentID, id); err != nil {
				return wrap(err, "group: move paths")
			}
			return nil
		})
		if err != nil {
			return err
		}
		old := g.ParentID
		g.ParentID, g.UpdatedAt = newParentID, tx.Now
		out = g
		return audit.Record(ctx, tx, audit.Event{Action: "group.move", TargetType: "group", TargetID: idStr(id),
			Details: map[string]any{"from_parent_id": old, "to_parent_id": newParentID}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeletePreview says what deleting a group takes with it.
type DeletePreview struct {
	SubGroups   int // groups below it, at any depth
	Members     int // distinct people with a membership in it or below
	Memberships int // membership rows in it or below
	Propagated  int // memberships above it that exist only because of it (propagated from it or below)
}

// Empty reports whether the group can go without confirmation.
func (p DeletePreview) Empty() bool { return p.SubGroups == 0 && p.Memberships == 0 }

func (p DeletePreview) String() string {
	return fmt.Sprintf("%d sub-groups, %d memberships of %d people, and %d memberships propagated to groups above will be deleted",
		p.SubGroups, p.Memberships, p.Members, p.Propagated)
}

// DeletePreview counts what Delete would remove. It needs authz.CanManageUnder on the
// parent. Errors: Forbidden, NotFound.
func (s *Service) DeletePreview(ctx context.Context, id int64) (*DeletePreview, error) {
	var p *DeletePreview
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		_, p, err = checkDelete(ctx, tx, id)
		return err
	})
	return p, err
}

func checkDelete(ctx context.Context, tx *store.Tx, id int64) (*Group, *DeletePreview, error) {
	if err := authz.CanManageGroup(ctx, tx, id); err != nil {
		return nil, nil, err
	}
	g, err := getGroup(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := authz.CanManageUnder(ctx, tx, g.ParentID); err != nil {
		return nil, nil, err
	}
	var p DeletePreview
	const (
		sub   = `SELECT descendant_id FROM group_paths WHERE ancestor_id = $1`
		above = `SELECT ancestor_id FROM group_paths WHERE descendant_id = $1 AND depth > 0`
	)
	err = tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) - 1 FROM group_paths WHERE ancestor_id = $1),
		(SELECT count(DISTINCT user_id) FROM group_members WHERE group_id IN (`+sub+`)),
		(SELECT count(*) FROM group_members WHERE group_id IN (`+sub+`)),
		(SELECT count(*) FROM group_members WHERE group_id IN (`+above+`)
			AND source_kind = 'propagated' AND source_ref IN (`+sub+`))`, id).Scan(&p.SubGroups, &p.Members, &p.Memberships, &p.Propagated)
	if err != nil {
		return nil, nil, wrap(err, "group: delete preview")
	}
	return g, &p, nil
}

// Delete removes a group, its sub-groups, their memberships, and the memberships they caused
// in the groups above. A group with sub-groups or members is deleted only with confirm=true;
// otherwise the error (Conflict) says what would go. It needs authz.CanManageUnder on the
// parent. Errors: Forbidden, NotFound, Conflict.
func (s *Service) Delete(ctx context.Context, id int64, confirm bool) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error { return s.DeleteTx(ctx, tx, id, confirm) })
}

// DeleteTx is Delete within the caller's transaction, with the same permission check.
func (s *Service) DeleteTx(ctx context.Context, tx *store.Tx, id int64, confirm bool) error {
	g, p, err := checkDelete(ctx, tx, id)
	if err != nil {
		return err
	}
	if !p.Empty() && !confirm {
		return errs.Coded(errs.Conflict, "confirm_group_delete", errs.P{"name": g.Name, "subgroups": p.SubGroups, "memberships": p.Memberships, "people": p.Members, "propagated": p.Propagated})
	}
	// Rows propagated from the sub-tree lie in it (they go with their groups) or above it.
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_members
		WHERE group_id IN (SELECT ancestor_id FROM group_paths WHERE descendant_id = $1 AND depth > 0)
		AND source_kind = 'propagated' AND source_ref IN (SELECT descendant_id FROM group_paths WHERE ancestor_id = $1)`, id); err != nil {
		return wrap(err, "group: delete propagated")
	}
	ids, err := subtreeDeepestFirst(ctx, tx, id)
	if err != nil {
		return err
	}
	// Deepest first, so that no group goes before its children; the closure rows and the
	// memberships go with their groups (ON DELETE CASCADE).
	for part := range slices.Chunk(ids, chunk) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE id IN (`+store.Placeholders(1, len(part))+`)`,
			int64Args(part)...); err != nil {
			return wrap(err, "group: delete")
		}
	}
	return audit.Record(ctx, tx, audit.Event{Action: "group.delete", TargetType: "group", TargetID: idStr(id),
		Details: map[string]any{"name": g.Name, "sub_groups": p.SubGroups, "memberships": p.Memberships,
			"propagated": p.Propagated}})
}

// Node is a group in a tree, with its sub-groups.
type Node struct {
	Group
	Depth    int
	Children []*Node
}

// Children lists the groups directly under parentID (0: the top level) with their member
// counts, by name. It needs authz.CanViewGroup on the parent (platform administrators for the
// top level). Errors: Forbidden, NotFound.
func (s *Service) Children(ctx context.Context, parentID int64) ([]Group, error) {
	if parentID == 0 {
		if err := authz.RequirePlatformAdmin(ctx); err != nil {
			return nil, err
		}
	} else {
		if err := authz.CanViewGroup(ctx, s.db, parentID); err != nil {
			return nil, err
		}
		if _, err := getGroup(ctx, s.db, parentID); err != nil {
			return nil, err
		}
	}
	return listGroups(ctx, s.db, `WHERE COALESCE(g.parent_id, 0) = $1`, parentID)
}

// Tree returns the groups the caller may see, as a forest ordered by name: every group for a
// platform administrator, otherwise the groups where the caller holds a role that lets them
// see it, with everything below. Errors: Unauthorized.
func (s *Service) Tree(ctx context.Context) ([]*Node, error) {
	all, roots, err := authz.GroupScope(ctx, s.db, authz.ViewGroup)
	if err != nil {
		return nil, err
	}
	var groups []Group
	switch {
	case all:
		groups, err = listGroups(ctx, s.db, ``)
	case len(roots) == 0:
		return nil, nil
	default:
		args := make([]any, len(roots))
		for i, r := range roots {
			args[i] = r
		}
		groups, err = listGroups(ctx, s.db, `WHERE g.id IN (SELECT descendant_id FROM group_paths WHERE ancestor_id IN (`+
			store.Placeholders(1, len(roots))+`))`, args...)
	}
	if err != nil {
		return nil, err
	}
	return buildForest(groups), nil
}

// buildForest nests groups (ordered by name) under their parents; a group whose parent is not
// in the list is a root.
func buildForest(groups []Group) []*Node {
	nodes := make(map[int64]*Node, len(groups))
	for _, g := range groups {
		nodes[g.ID] = &Node{Group: g}
	}
	var roots []*Node
	for _, g := range groups {
		n := nodes[g.ID]
		if p, ok := nodes[g.ParentID]; ok && g.ParentID != 0 {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	var setDepth func(ns []*Node, d int)
	setDepth = func(ns []*Node, d int) {
		for _, n := range ns {
			n.Depth = d
			setDepth(n.Children, d+1)
		}
	}
	setDepth(roots, 0)
	return roots
}

// listGroups reads groups with their member counts, by name.
func listGroups(ctx context.Context, q store.Querier, where string, args ...any) ([]Group, error) {
	rows, err := q.QueryContext(ctx, `SELECT g.id, COALESCE(g.parent_id, 0), g.name, g.idnumber, g.description, g.visibility,
		g.created_at, g.updated_at, COALESCE(c.n, 0)
		FROM groups g LEFT JOIN (SELECT group_id, count(DISTINCT user_id) AS n FROM group_members GROUP BY group_id) c
		ON c.group_id = g.id `+where+` ORDER BY g.name, g.id`, args...)
	if err != nil {
		return nil, wrap(err, "group: list")
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var (
			g        Group
			cre, upd int64
		)
		if err := rows.Scan(&g.ID, &g.ParentID, &g.Name, &g.IDNumber, &g.Description, &g.Visibility, &cre, &upd, &g.MemberCount); err != nil {
			return nil, wrap(err, "group: list")
		}
		g.CreatedAt, g.UpdatedAt = store.Time(cre), store.Time(upd)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "group: list")
	}
	return out, nil
}

// chainOf returns the chain of a group: itself, its parent, ... up to the root.
func chainOf(ctx context.Context, q store.Querier, id int64) ([]Link, error) {
	rows, err := q.QueryContext(ctx, `SELECT g.id, g.visibility FROM group_paths p JOIN groups g ON g.id = p.ancestor_id
		WHERE p.descendant_id = $1 ORDER BY p.depth`, id)
	if err != nil {
		return nil, wrap(err, "group: chain")
	}
	defer rows.Close()
	var chain []Link
	for rows.Next() {
		var (
			l   Link
			vis string
		)
		if err := rows.Scan(&l.ID, &vis); err != nil {
			return nil, wrap(err, "group: chain")
		}
		l.Public = vis == Public
		chain = append(chain, l)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "group: chain")
	}
	return chain, nil
}

// subtreeChains returns the chain of every group in the sub-tree of top, top included.
func subtreeChains(ctx context.Context, q store.Querier, top int64) (map[int64][]Link, error) {
	rows, err := q.QueryContext(ctx, `SELECT p.descendant_id, g.id, g.visibility
		FROM group_paths s
		JOIN group_paths p ON p.descendant_id = s.descendant_id
		JOIN groups g ON g.id = p.ancestor_id
		WHERE s.ancestor_id = $1
		ORDER BY p.descendant_id, p.depth`, top)
	if err != nil {
		return nil, wrap(err, "group: sub-tree chains")
	}
	defer rows.Close()
	chains := map[int64][]Link{}
	for rows.Next() {
		var (
			d   int64
			l   Link
			vis string
		)
		if err := rows.Scan(&d, &l.ID, &vis); err != nil {
			return nil, wrap(err, "group: sub-tree chains")
		}
		l.Public = vis == Public
		chains[d] = append(chains[d], l)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "group: sub-tree chains")
	}
	return chains, nil
}

// recompute runs change (which alters the visibility or the place of top) and brings the
// propagated memberships of top's sub-tree in line with the new chains: the chains before and
// after are compared in Go (Recompute), and each resulting Change is applied with set-based
// statements over all its origin groups at once.
func recompute(ctx context.Context, tx *store.Tx, top int64, change func() error) error {
	before, err := subtreeChains(ctx, tx, top)
	if err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	after, err := subtreeChains(ctx, tx, top)
	if err != nil {
		return err
	}
	return applyChanges(ctx, tx, Recompute(before, after))
}

// chunk bounds the number of ids bound in one statement, well under both databases' limits.
const chunk = 500

// applyChanges writes the result of Recompute. Where a change both removes and adds targets, it
// pairs them and moves the rows from one target to the other with an UPDATE of group_id: the
// user index and the row's place stay, where a DELETE and an INSERT would rewrite the table
// row and every index twice; a sub-tree move mostly swaps one ancestor for another, so this
// is most of the work. The invariant (the rows of an origin exist exactly in its current
// targets) guarantees that the moved rows do not collide with existing ones.
func applyChanges(ctx context.Context, tx *store.Tx, changes []Change) error {
	for _, c := range changes {
		paired := min(len(c.Remove), len(c.Add))
		for origins := range slices.Chunk(c.Origins, chunk) {
			in := store.Placeholders(4, len(origins))
			for i := range paired {
				args := append([]any{c.Add[i], c.Remove[i], tx.Now.Unix()}, int64Args(origins)...)
				if _, err := tx.ExecContext(ctx, `UPDATE group_members SET group_id = $1, created_at = $3
					WHERE group_id = $2 AND source_kind = 'propagated' AND source_ref IN (`+in+`)`, args...); err != nil {
					return wrap(err, "group: recompute move")
				}
			}
			if remove := c.Remove[paired:]; len(remove) > 0 {
				args := append(int64Args(origins), int64Args(remove)...)
				if _, err := tx.ExecContext(ctx, `DELETE FROM group_members
					WHERE source_kind = 'propagated' AND source_ref IN (`+store.Placeholders(1, len(origins))+`)
					AND group_id IN (`+store.Placeholders(len(origins)+1, len(remove))+`)`, args...); err != nil {
					return wrap(err, "group: recompute remove")
				}
			}
			if add := c.Add[paired:]; len(add) > 0 {
				args := append([]any{tx.Now.Unix()}, int64Args(origins)...)
				args = append(args, int64Args(add)...)
				if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
					SELECT t.id, m.user_id, 'learner', 'propagated', m.group_id, $1
					FROM (SELECT DISTINCT group_id, user_id FROM group_members
						WHERE group_id IN (`+store.Placeholders(2, len(origins))+`)
						AND role = 'learner' AND source_kind <> 'propagated') m
					CROSS JOIN groups t
					WHERE t.id IN (`+store.Placeholders(len(origins)+2, len(add))+`)
					ON CONFLICT DO NOTHING`, args...); err != nil {
					return wrap(err, "group: recompute add")
				}
			}
		}
	}
	return nil
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// subtreeDeepestFirst lists top and every group below it, the deepest first.
func subtreeDeepestFirst(ctx context.Context, q store.Querier, top int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT descendant_id FROM group_paths WHERE ancestor_id = $1 ORDER BY depth DESC, descendant_id`, top)
	if err != nil {
		return nil, wrap(err, "group: sub-tree")
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "group: sub-tree")
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "group: sub-tree")
	}
	return ids, nil
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }
