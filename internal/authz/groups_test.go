package authz_test

import (
	"context"
	"fmt"
	"testing"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// The tree of the test: Company > Region > Team, and Company > Sibling. Each person holds one
// role in Region; the checks are asked of Region itself and Team (in scope) and of Sibling and
// Company (out of scope).
const (
	company = 1
	region  = 2
	team    = 3
	sibling = 4
)

func seedTree(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, g := range []struct {
		id, parent int64
		name       string
	}{{company, 0, "Company"}, {region, company, "Region"}, {team, region, "Team"}, {sibling, company, "Sibling"}} {
		var parent any
		if g.parent != 0 {
			parent = g.parent
		}
		exec(`INSERT INTO groups (id, parent_id, name, visibility, created_at, updated_at) VALUES ($1, $2, $3, 'public', 0, 0)`, g.id, parent, g.name)
	}
	for _, p := range [][3]int64{{1, 1, 0}, {2, 2, 0}, {3, 3, 0}, {4, 4, 0}, {1, 2, 1}, {1, 3, 2}, {2, 3, 1}, {1, 4, 1}} {
		exec(`INSERT INTO group_paths (ancestor_id, descendant_id, depth) VALUES ($1, $2, $3)`, p[0], p[1], p[2])
	}
	users := map[string]int64{}
	for i, role := range []string{"group_admin", "user_admin", "trainer", "learner", "none"} {
		id := int64(100 + i)
		users[role] = id
		exec(`INSERT INTO users (id, username, email, email_norm, first_name, last_name, created_at, updated_at)
			VALUES ($1, $2, $3, $3, 'F', 'L', 0, 0)`, id, role, role+"@example.org")
		if role != "none" {
			exec(`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
				VALUES ($1, $2, $3, 'manual', 0, 0)`, region, id, role)
		}
	}
	return users
}

func TestGroupPermissions(t *testing.T) {
	type check func(ctx context.Context, q store.Querier, groupID int64) error
	ops := []struct {
		name    string
		check   check
		allowed []string // roles held in Region that allow it in scope
	}{
		{"view", authz.CanViewGroup, []string{"group_admin", "user_admin", "trainer"}},
		{"manage", authz.CanManageGroup, []string{"group_admin", "user_admin"}},
		{"invite", authz.CanInviteTo, []string{"group_admin", "user_admin"}},
		{"create accounts", authz.CanCreateAccountsIn, []string{"user_admin"}},
		{"manage sub-groups under", authz.CanManageUnder, []string{"group_admin", "user_admin"}},
		{"grant learner", grant("learner"), []string{"group_admin", "user_admin"}},
		{"grant trainer", grant("trainer"), []string{"group_admin", "user_admin"}},
		{"grant group_admin", grant("group_admin"), []string{"group_admin", "user_admin"}},
		{"grant user_admin", grant("user_admin"), []string{"user_admin"}},
	}
	targets := []struct {
		name    string
		id      int64
		inScope bool
	}{{"itself", region, true}, {"sub-group", team, true}, {"sibling", sibling, false}, {"parent", company, false}}
	roles := []string{"platform_admin", "group_admin", "user_admin", "trainer", "learner", "none", "anonymous"}

	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		users := seedTree(t, db)
		for _, op := range ops {
			for _, role := range roles {
				for _, target := range targets {
					t.Run(fmt.Sprintf("%s/%s/%s", op.name, role, target.name), func(t *testing.T) {
						ctx := context.Background()
						switch role {
						case "platform_admin":
							ctx = authz.With(ctx, &authz.Principal{UserID: 999, PlatformAdmin: true})
						case "anonymous":
						default:
							ctx = authz.With(ctx, &authz.Principal{UserID: users[role]})
						}
						var want errs.Code
						switch {
						case role == "anonymous":
							want = errs.Unauthorized
						case role == "platform_admin":
						case target.inScope && contains(op.allowed, role):
						default:
							want = errs.Forbidden
						}
						err := op.check(ctx, db, target.id)
						if want == "" && err != nil {
							t.Fatalf("want allowed, got %v", err)
						}
						if want != "" && !errs.Is(err, want) {
							t.Fatalf("want %s, got %v", want, err)
						}
					})
				}
			}
		}

		t.Run("top level", func(t *testing.T) {
			admin := authz.With(context.Background(), &authz.Principal{UserID: 999, PlatformAdmin: true})
			if err := authz.CanManageUnder(admin, db, 0); err != nil {
				t.Fatalf("platform admin at the top: %v", err)
			}
			ga := authz.With(context.Background(), &authz.Principal{UserID: users["group_admin"]})
			if err := authz.CanManageUnder(ga, db, 0); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("group admin at the top: want forbidden, got %v", err)
			}
		})

		t.Run("scim token acts under its group", func(t *testing.T) {
			ctx := authz.With(context.Background(), &authz.Principal{SCIMGroupID: region, TokenID: 5})
			for _, g := range []int64{region, team} {
				if err := authz.CanManageGroup(ctx, db, g); err != nil {
					t.Fatalf("scim in %d: %v", g, err)
				}
			}
			for _, g := range []int64{sibling, company} {
				if err := authz.CanManageGroup(ctx, db, g); !errs.Is(err, errs.Forbidden) {
					t.Fatalf("scim in %d: want forbidden, got %v", g, err)
				}
			}
		})

		t.Run("scope", func(t *testing.T) {
			ctx := authz.With(context.Background(), &authz.Principal{UserID: users["trainer"]})
			all, roots, err := authz.GroupScope(ctx, db, authz.ViewGroup)
			if err != nil || all || fmt.Sprint(roots) != fmt.Sprint([]int64{region}) {
				t.Fatalf("trainer view scope: all=%v roots=%v err=%v", all, roots, err)
			}
			all, roots, err = authz.GroupScope(ctx, db, authz.ManageGroup)
			if err != nil || all || len(roots) != 0 {
				t.Fatalf("trainer manage scope: all=%v roots=%v err=%v", all, roots, err)
			}
		})
	})
}

func grant(role string) func(context.Context, store.Querier, int64) error {
	return func(ctx context.Context, q store.Querier, groupID int64) error {
		return authz.CanGrantRole(ctx, q, groupID, role)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
