package scim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// SCIM Groups are the Roster groups below the token's group. Their members, as SCIM shows
// and changes them, are the learner memberships with source "scim": memberships an
// administrator, an import or the sync made are neither shown nor touched, so a PUT of a
// group's members cannot remove them.
//
// Creating, renaming and deleting a group go through group.Service's functions that take the
// caller's transaction: the group, its memberships, its version (scim_groups, SCIM's own) and
// the audit events of a request are written in one.

type groupRow struct {
	ID                        int64
	Name, IDNumber            string
	Created, Updated, Version int64
}

const groupSelect = `SELECT g.id, g.name, g.idnumber, g.created_at, g.updated_at, COALESCE(sg.version, 0)
	FROM groups g LEFT JOIN scim_groups sg ON sg.group_id = g.id`

const groupsFrom = `FROM groups g`

// groupScope is the condition on g for the groups a token of group $1 sees: strictly below.
const groupScope = ` g.id IN (SELECT descendant_id FROM group_paths WHERE ancestor_id = $1 AND depth > 0)`

func (g *groupRow) etag() string { return fmt.Sprintf(`W/"%d-%d"`, g.Version, g.Updated) }

// loadGroup reads one group in scope. Errors: NotFound.
func loadGroup(ctx context.Context, q store.Querier, scopeID int64, id string) (*groupRow, error) {
	n, ok := parseID(id)
	if !ok {
		return nil, noGroup(id)
	}
	var g groupRow
	err := q.QueryRowContext(ctx, groupSelect+` WHERE g.id = $2 AND`+groupScope, scopeID, n).
		Scan(&g.ID, &g.Name, &g.IDNumber, &g.Created, &g.Updated, &g.Version)
	if store.IsNoRows(err) {
		return nil, noGroup(id)
	}
	if err != nil {
		return nil, errs.Wrap(err, "scim: load group")
	}
	return &g, nil
}

type memberRef struct {
	ID          int64
	First, Last string
}

// groupMembers returns the SCIM members of each group.
func groupMembers(ctx context.Context, q store.Querier, ids []int64) (map[int64][]memberRef, error) {
	out := map[int64][]memberRef{}
	for part := range slices.Chunk(ids, 500) {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := q.QueryContext(ctx, `SELECT DISTINCT m.group_id, u.id, u.first_name, u.last_name FROM group_members m
			JOIN users u ON u.id = m.user_id JOIN scim_users s ON s.user_id = u.id
			WHERE m.source_kind = 'scim' AND m.group_id IN (`+store.Placeholders(1, len(part))+`)
			AND s.deleted_at IS NULL AND u.deleted_at IS NULL ORDER BY m.group_id, u.id`, args...)
		if err != nil {
			return nil, errs.Wrap(err, "scim: members")
		}
		for rows.Next() {
			var gid int64
			var m memberRef
			if err := rows.Scan(&gid, &m.ID, &m.First, &m.Last); err != nil {
				rows.Close()
				return nil, errs.Wrap(err, "scim: members")
			}
			out[gid] = append(out[gid], m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, errs.Wrap(err, "scim: members")
		}
	}
	return out, nil
}

func (s *Service) groupResource(g *groupRow, members []memberRef, withMembers bool) object {
	id := itoa(g.ID)
	m := object{"schemas": groupsType.schemaIDs(false), "id": id, "displayName": g.Name,
		"meta": object{"resourceType": "Group", "created": rfc3339(g.Created), "lastModified": rfc3339(g.Updated),
			"location": s.location("/Groups", id), "version": g.etag()}}
	if g.IDNumber != "" {
		m["externalId"] = g.IDNumber
	}
	if withMembers {
		list := make([]any, len(members))
		for i, u := range members {
			uid := itoa(u.ID)
			list[i] = object{"value": uid, "display": strings.TrimSpace(u.First + " " + u.Last),
				"$ref": s.location("/Users", uid), "type": "User"}
		}
		if len(list) > 0 {
			m["members"] = list
		}
	}
	return m
}

// groupsByID returns the groups with these ids, in this order, as resources, and fills etags
// (when not nil) with their versions.
func (s *Service) groupsByID(ctx context.Context, scopeID int64, ids []int64, proj projection, etags map[int64]string) ([]any, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{scopeID}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, groupSelect+` WHERE g.id IN (`+store.Placeholders(2, len(ids))+`) AND`+groupScope, args...)
	if err != nil {
		return nil, errs.Wrap(err, "scim: groups")
	}
	byID := map[int64]*groupRow{}
	for rows.Next() {
		var g groupRow
		if err := rows.Scan(&g.ID, &g.Name, &g.IDNumber, &g.Created, &g.Updated, &g.Version); err != nil {
			rows.Close()
			return nil, errs.Wrap(err, "scim: groups")
		}
		byID[g.ID] = &g
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "scim: groups")
	}
	withMembers := proj.wants("members")
	var members map[int64][]memberRef
	if withMembers {
		if members, err = groupMembers(ctx, s.db, ids); err != nil {
			return nil, err
		}
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		if g := byID[id]; g != nil {
			out = append(out, proj.apply(s.groupResource(g, members[id], withMembers)))
			if etags != nil {
				etags[id] = g.etag()
			}
		}
	}
	return out, nil
}

// memberPlan is what a request does to a group's SCIM memberships: replace them with set
// (when replace), then add and remove.
type memberPlan struct {
	replace     bool
	set         map[int64]bool
	add, remove map[int64]bool
	touched     bool
}

func newPlan() *memberPlan {
	return &memberPlan{set: map[int64]bool{}, add: map[int64]bool{}, remove: map[int64]bool{}}
}

func (p *memberPlan) replaceWith(ids []int64) {
	p.touched, p.replace = true, true
	p.set, p.add, p.remove = map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for _, id := range ids {
		p.set[id] = true
	}
}

func (p *memberPlan) addIDs(ids []int64) {
	p.touched = true
	for _, id := range ids {
		p.add[id], p.remove[id] = true, false
		delete(p.remove, id)
	}
}

func (p *memberPlan) removeIDs(ids []int64) {
	p.touched = true
	for _, id := range ids {
		p.remove[id] = true
		delete(p.add, id)
		delete(p.set, id)
	}
}

// after is the member set the plan leads to from current.
func (p *memberPlan) after(current map[int64]bool) map[int64]bool {
	out := map[int64]bool{}
	base := current
	if p.replace {
		base = p.set
	}
	for id := range base {
		out[id] = true
	}
	for id := range p.add {
		out[id] = true
	}
	for id := range p.remove {
		delete(out, id)
	}
	return out
}

// memberIDs reads the ids of a members value: a list of {"value": id}, or one such object.
// strict refuses ids that are not numbers (for additions); otherwise they are skipped (a
// removal of what cannot exist removes nothing).
func memberIDs(v any, strict bool) ([]int64, error) {
	list, ok := v.([]any)
	if !ok {
		if v == nil {
			return nil, nil
		}
		list = []any{v}
	}
	var out []int64
	for _, e := range list {
		o, ok := e.(object)
		if !ok {
			return nil, invalidValue("members must be objects with a value")
		}
		var val any
		for k, x := range o {
			switch strings.ToLower(k) {
			case "value":
				val = x
			case "type":
				if t, _ := x.(string); strings.EqualFold(t, "Group") {
					return nil, invalidValue("a group cannot be a member of a group here: members are users (see /Schemas)")
				}
			case "display", "$ref":
			default:
				return nil, invalidSyntax("unknown attribute %q in members", k)
			}
		}
		s, _ := val.(string)
		n, ok := parseID(s)
		if !ok {
			if strict {
				return nil, invalidValue("no user %q", s)
			}
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// checkVisible fails unless every id is an account this scope sees.
func checkVisible(ctx context.Context, q store.Querier, scopeID int64, ids []int64) error {
	for part := range slices.Chunk(ids, 500) {
		args := []any{scopeID}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, `SELECT u.id FROM users u JOIN scim_users s ON s.user_id = u.id
			WHERE u.id IN (`+store.Placeholders(2, len(part))+`) AND`+inScope, args...)
		if err != nil {
			return errs.Wrap(err, "scim: check members")
		}
		seen := map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return errs.Wrap(err, "scim: check members")
			}
			seen[id] = true
		}
		rows.Close()
		for _, id := range part {
			if !seen[id] {
				return errs.Coded(errs.Invalid, "scim_no_user", errs.P{"id": itoa(id)})
			}
		}
	}
	return nil
}

func currentMembers(ctx context.Context, q store.Querier, groupID int64) (map[int64]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT user_id FROM group_members WHERE group_id = $1 AND source_kind = 'scim'`, groupID)
	if err != nil {
		return nil, errs.Wrap(err, "scim: members")
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, errs.Wrap(err, "scim: members")
		}
		out[id] = true
	}
	return out, errs.Wrap(rows.Err(), "scim: members")
}

// applyPlan changes the SCIM memberships of a group and bumps its version, within tx.
func applyPlan(ctx context.Context, tx *store.Tx, scopeID, groupID int64, p *memberPlan) (added, removed int, err error) {
	var toAdd, toRemove []int64
	if p.replace {
		cur, err := currentMembers(ctx, tx, groupID)
		if err != nil {
			return 0, 0, err
		}
		next := p.after(cur)
		for id := range next {
			if !cur[id] {
				toAdd = append(toAdd, id)
			}
		}
		for id := range cur {
			if !next[id] {
				toRemove = append(toRemove, id)
			}
		}
	} else {
		for id := range p.add {
			toAdd = append(toAdd, id)
		}
		for id := range p.remove {
			toRemove = append(toRemove, id)
		}
	}
	slices.Sort(toAdd)
	slices.Sort(toRemove)
	if err := checkVisible(ctx, tx, scopeID, toAdd); err != nil {
		return 0, 0, err
	}
	for _, id := range toRemove {
		err := group.RemoveMemberTx(ctx, tx, groupID, id, group.Learner, group.SourceSCIM)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		removed++
	}
	for _, id := range toAdd {
		if err := group.AddMemberTx(ctx, tx, groupID, id, group.Learner, group.SourceSCIM); err != nil {
			return 0, 0, err
		}
		added++
	}
	return added, removed, bumpGroup(ctx, tx, groupID)
}

func bumpGroup(ctx context.Context, tx *store.Tx, groupID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO scim_groups (group_id, version, created_at, updated_at) VALUES ($1, 1, $2, $2)
		ON CONFLICT (group_id) DO UPDATE SET version = scim_groups.version + 1, updated_at = excluded.updated_at`,
		groupID, tx.Now.Unix())
	return errs.Wrap(err, "scim: group version")
}

// groupErr names group fields in SCIM's terms.
func groupErr(err error) error {
	e := errs.As(err)
	if e.Code == errs.Conflict || e.Code == errs.Invalid {
		msg := strings.NewReplacer("idnumber", "externalId", "name", "displayName").Replace(e.Message)
		if e.Code == errs.Conflict {
			return newError(http.StatusConflict, "uniqueness", "%s", msg)
		}
		return invalidValue("%s", msg)
	}
	return err
}

// patchGroupOps splits a PATCH into attribute operations, applied to attrs, and member
// operations, gathered into a plan. current loads the present members when a filter needs them.
func patchGroupOps(attrs object, ops []patchOp, current func() (map[int64]bool, error)) (*memberPlan, error) {
	plan := newPlan()
	for _, op := range ops {
		if op.Path == "" {
			rest := object{}
			if m, ok := op.Value.(object); ok {
				for k, v := range m {
					if strings.EqualFold(k, "members") {
						if err := memberOp(plan, op.Op, nil, v, current); err != nil {
							return nil, err
						}
						continue
					}
					rest[k] = v
				}
				if len(rest) == 0 {
					continue
				}
				op.Value = rest
			}
			if err := groupsType.applyOp(attrs, op); err != nil {
				return nil, err
			}
			continue
		}
		pp, err := groupsType.parsePath(op.Path)
		if err != nil {
			return nil, err
		}
		if pp.Target != nil && strings.EqualFold(pp.Target.Attr.Name, "members") {
			if pp.Target.Sub != nil {
				return nil, invalidPath("members are added and removed whole: use the path members or members[value eq \"ID\"]")
			}
			if op.Op == "remove" && op.Value == nil && pp.Filter == nil {
				plan.replaceWith(nil) // RFC 7644: remove without value or filter removes every member
				continue
			}
			if err := memberOp(plan, op.Op, pp.Filter, op.Value, current); err != nil {
				return nil, err
			}
			continue
		}
		if err := groupsType.applyOp(attrs, op); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

func memberOp(plan *memberPlan, op string, f Filter, value any, current func() (map[int64]bool, error)) error {
	if f != nil {
		if op != "remove" {
			return invalidPath("members[...] can only be removed")
		}
		cur, err := current()
		if err != nil {
			return err
		}
		var ids []int64
		members := findAttr(groupCore.Attributes, "members")
		for id := range plan.after(cur) {
			if matches(f, members, object{"value": itoa(id), "type": "User"}) {
				ids = append(ids, id)
			}
		}
		plan.removeIDs(ids)
		return nil
	}
	ids, err := memberIDs(value, op != "remove")
	if err != nil {
		return err
	}
	switch op {
	case "add":
		plan.addIDs(ids)
	case "replace":
		plan.replaceWith(ids)
	case "remove":
		// Entra ID's form: {"op":"Remove","path":"members","value":[{"value":"ID"}]} removes
		// those members, never all of them.
		plan.removeIDs(ids)
	}
	return nil
}

// noGroup is the error of an id that names no group in scope.
func noGroup(id string) error { return errs.Coded(errs.NotFound, "scim_no_group", errs.P{"id": id}) }
