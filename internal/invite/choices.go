package invite

import (
	"context"
	"sort"
	"strings"

	"roster/internal/authz"
)

// GroupChoice is a group a form offers, with its path from the top ("Science / Chemistry").
type GroupChoice struct {
	ID   int64
	Name string
	Path string
}

// GroupChoices lists the groups where the caller may invite people (create false) or create
// accounts (create true), ordered by path, for the forms. Errors: Unauthorized.
func (s *Service) GroupChoices(ctx context.Context, create bool) ([]GroupChoice, error) {
	op := forInvite
	if create {
		op = forCreate
	}
	all, roots, err := authz.GroupScope(ctx, s.db, op)
	if err != nil {
		return nil, err
	}
	if !all && len(roots) == 0 {
		return nil, nil
	}
	type node struct {
		parent int64
		name   string
	}
	nodes := map[int64]node{}
	rows, err := s.db.QueryContext(ctx, `SELECT id, COALESCE(parent_id, 0), name FROM groups`)
	if err != nil {
		return nil, wrap(err, "group choices")
	}
	for rows.Next() {
		var (
			id int64
			n  node
		)
		if err := rows.Scan(&id, &n.parent, &n.name); err != nil {
			rows.Close()
			return nil, wrap(err, "group choices")
		}
		nodes[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "group choices")
	}
	isRoot := map[int64]bool{}
	for _, r := range roots {
		isRoot[r] = true
	}
	var out []GroupChoice
	for id, n := range nodes {
		in := all
		var path []string
		for cur, hops := id, 0; cur != 0 && hops <= len(nodes); hops++ {
			c, ok := nodes[cur]
			if !ok {
				break
			}
			in = in || isRoot[cur]
			path = append(path, c.name)
			cur = c.parent
		}
		if !in {
			continue
		}
		for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
			path[i], path[j] = path[j], path[i]
		}
		out = append(out, GroupChoice{ID: id, Name: n.name, Path: strings.Join(path, " / ")})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// CanCreateAccounts reports whether the caller may create accounts somewhere (a platform
// administrator, or a user administrator of some group), for pages deciding what to offer.
func (s *Service) CanCreateAccounts(ctx context.Context) bool {
	all, roots, err := authz.GroupScope(ctx, s.db, forCreate)
	return err == nil && (all || len(roots) > 0)
}

// CanInvite reports whether the caller may invite people somewhere.
func (s *Service) CanInvite(ctx context.Context) bool {
	all, roots, err := authz.GroupScope(ctx, s.db, forInvite)
	return err == nil && (all || len(roots) > 0)
}
