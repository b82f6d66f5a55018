package authz_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestUserPermissions: the tree Company(1) > Region(2) > Team(3), Company > Sibling(4). The
// callers hold one role in Region (or are a platform administrator, a SCIM token of Region,
// or nobody); the targets are accounts placed around the tree.
func TestUserPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, g := range [][2]any{{1, nil}, {2, 1}, {3, 2}, {4, 1}} {
			exec(`INSERT INTO groups (id, parent_id, name, visibility, created_at, updated_at) VALUES ($1, $2, $3, 'public', 0, 0)`,
				g[0], g[1], fmt.Sprint("G", g[0]))
		}
		for _, p := range [][3]int{{1, 1, 0}, {2, 2, 0}, {3, 3, 0}, {4, 4, 0}, {1, 2, 1}, {1, 3, 2}, {2, 3, 1}, {1, 4, 1}} {
			exec(`INSERT INTO group_paths (ancestor_id, descendant_id, depth) VALUES ($1, $2, $3)`, p[0], p[1], p[2])
		}
		ids := map[string]int64{}
		user := func(name string, admin bool, memberships ...[2]any) {
			id := int64(100 + len(ids))
			ids[name] = id
			exec(`INSERT INTO users (id, username, is_admin, created_at, updated_at) VALUES ($1, $2, $3, 0, 0)`, id, name, admin)
			for _, m := range memberships {
				// A role written "~learner" is a membership made by adding the existing account
				// by someone who could not manage it: it does not anchor.
				role, weak := strings.CutPrefix(m[1].(string), "~")
				exec(`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at, anchors)
					VALUES ($1, $2, $3, 'manual', 0, 0, $4)`, m[0], id, role, !weak)
			}
		}
		user("user_admin", false, [2]any{2, "user_admin"})
		user("group_admin", false, [2]any{2, "group_admin"})
		user("trainer", false, [2]any{2, "trainer"})
		user("learner in team", false, [2]any{3, "learner"})
		user("learner in region", false, [2]any{2, "learner"})
		user("learner in sibling", false, [2]any{4, "learner"})
		user("learner in company", false, [2]any{1, "learner"})
		user("nowhere", false)
		user("platform admin in team", true, [2]any{3, "learner"})
		user("trainer in sibling", false, [2]any{3, "learner"}, [2]any{4, "trainer"})
		user("trainer in team", false, [2]any{3, "trainer"})
		user("pulled into region", false, [2]any{2, "~learner"})
		user("sibling learner pulled into team", false, [2]any{4, "learner"}, [2]any{3, "~learner"})
		user("team learner pulled into sibling", false, [2]any{3, "learner"}, [2]any{4, "~learner"})
		user("propagated from team", false, [2]any{3, "learner"})
		exec(`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) VALUES (1, $1, 'learner', 'propagated', 3, 0)`,
			ids["propagated from team"])

		callers := map[string]*authz.Principal{
			"platform":    {UserID: 1, PlatformAdmin: true},
			"user_admin":  {UserID: ids["user_admin"]},
			"group_admin": {UserID: ids["group_admin"]},
			"trainer":     {UserID: ids["trainer"]},
			"learner":     {UserID: ids["learner in region"]},
			"scim":        {SCIMGroupID: 2},
		}
		const F, V, M = 0, 1, 2 // forbidden, view, view and manage
		for _, c := range []struct {
			target string
			want   map[string]int
		}{
			{"learner in team", map[string]int{"platform": M, "user_admin": M, "group_admin": V, "trainer": F, "learner": F, "scim": M}},
			{"learner in region", map[string]int{"platform": M, "user_admin": M, "group_admin": V, "trainer": F, "learner": F, "scim": M}},
			{"learner in sibling", map[string]int{"platform": M, "user_admin": F, "group_admin": F, "trainer": F, "learner": F, "scim": F}},
			{"learner in company", map[string]int{"platform": M, "user_admin": F, "group_admin": F, "trainer": F, "learner": F, "scim": F}},
			{"nowhere", map[string]int{"platform": M, "user_admin": F, "group_admin": F, "trainer": F, "learner": F, "scim": F}},
			{"platform admin in team", map[string]int{"platform": M, "user_admin": V, "group_admin": V, "trainer": F, "learner": F, "scim": V}},
			{"trainer in sibling", map[string]int{"platform": M, "user_admin": V, "group_admin": V, "trainer": F, "learner": F, "scim": V}},
			{"trainer in team", map[string]int{"platform": M, "user_admin": M, "group_admin": V, "trainer": F, "learner": F, "scim": M}},
			{"group_admin", map[string]int{"platform": M, "user_admin": M, "group_admin": V, "trainer": F, "learner": F, "scim": M}},
			// Additions do not anchor: nobody but the platform sees or manages these two.
			{"pulled into region", map[string]int{"platform": M, "user_admin": F, "group_admin": F, "trainer": F, "learner": F, "scim": F}},
			{"sibling learner pulled into team", map[string]int{"platform": M, "user_admin": F, "group_admin": F, "trainer": F, "learner": F, "scim": F}},
			// Belongs to team, was pulled into the sibling: seen from Region, managed from above both.
			{"team learner pulled into sibling", map[string]int{"platform": M, "user_admin": V, "group_admin": V, "trainer": F, "learner": F, "scim": V}},
			// Propagated rows above the scope only repeat the membership below.
			{"propagated from team", map[string]int{"platform": M, "user_admin": M, "group_admin": V, "trainer": F, "learner": F, "scim": M}},
		} {
			for caller, want := range c.want {
				pctx := authz.With(ctx, callers[caller])
				got := F
				if authz.CanViewUser(pctx, db, ids[c.target]) == nil {
					got = V
				}
				err := authz.CanManageUser(pctx, db, ids[c.target])
				if err == nil {
					got = M
				} else if !errs.Is(err, errs.Forbidden) {
					t.Errorf("%s manages %s: %v", caller, c.target, err)
				}
				if got != want {
					t.Errorf("%s on %s: got %d, want %d (0 forbidden, 1 view, 2 manage)", caller, c.target, got, want)
				}
			}
		}
		if err := authz.CanViewUser(ctx, db, ids["nowhere"]); !errs.Is(err, errs.Unauthorized) {
			t.Errorf("anonymous: %v", err)
		}
		all, roots, err := authz.UserScope(authz.With(ctx, callers["user_admin"]), db, authz.ManageUser)
		if err != nil || all || len(roots) != 1 || roots[0] != 2 {
			t.Errorf("scope: %v %v %v", all, roots, err)
		}
	})
}
