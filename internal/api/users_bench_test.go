package api

import (
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"roster/internal/authz"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

// seedUsers inserts n accounts in one statement: user1..userN, first names from 100 and last
// names from 1,000 values, so that searches match one account or many.
func seedUsers(b *testing.B, db *store.DB, n int) {
	b.Helper()
	_, err := db.ExecContext(bg, `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)
		INSERT INTO users (username, email, email_norm, first_name, last_name, created_at, updated_at, activated_at)
		SELECT 'user' || i, 'user' || i || '@example.org', 'user' || i || '@example.org', 'First' || (i % 100),
			'Last' || (i % 1000), 0, 0, 0 FROM seq`, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(bg, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListUsersQ: GET /api/v1/users?q= over 100,000 accounts, through the handler, as a
// platform administrator: a search that matches one account (the whole table is scanned) and
// one that matches a hundred (the first page of 50 is enough).
func BenchmarkListUsersQ(b *testing.B) {
	dbs := map[string]func(testing.TB) (*store.DB, *storetest.Clock){"sqlite": storetest.OpenSQLite}
	if os.Getenv(testenv.EnvPostgres) != "" {
		dbs["postgres"] = storetest.OpenPostgres
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			db, _ := open(b)
			seedUsers(b, db, 100_000)
			r := newRig(b, db)
			for _, q := range []struct{ name, query string }{{"one", "user54321@"}, {"many", "last777"}} {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						req := httptest.NewRequest("GET", "/api/v1/users?q="+q.query, nil)
						req.Header.Set("X-As", "admin")
						rec := httptest.NewRecorder()
						r.h.ServeHTTP(rec, req)
						if rec.Code != 200 {
							b.Fatal(rec.Code, rec.Body)
						}
					}
				})
			}
		})
	}
}

// BenchmarkListUsersScoped: GET /api/v1/users?q= and PATCH /api/v1/users/{id} over 100,000
// accounts, all learners of one group (a third of them also pulled into a second group by an
// addition, which does not anchor), as that group's user administrator: the list filters by
// authz.UserScopeSQL, the change asks authz.CanManageUser.
func BenchmarkListUsersScoped(b *testing.B) {
	dbs := map[string]func(testing.TB) (*store.DB, *storetest.Clock){"sqlite": storetest.OpenSQLite}
	if os.Getenv(testenv.EnvPostgres) != "" {
		dbs["postgres"] = storetest.OpenPostgres
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			db, _ := open(b)
			seedUsers(b, db, 100_000)
			for _, q := range []string{
				`INSERT INTO groups (id, name, visibility, created_at, updated_at) VALUES (1, 'A', 'private', 0, 0), (2, 'B', 'private', 0, 0)`,
				`INSERT INTO group_paths (ancestor_id, descendant_id, depth) VALUES (1, 1, 0), (2, 2, 0)`,
				`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) SELECT 1, id, 'learner', 'manual', 0, 0 FROM users`,
				`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at, anchors) SELECT 2, id, 'learner', 'manual', 0, 0, false FROM users WHERE id % 3 = 0`,
				`INSERT INTO users (id, username, created_at, updated_at) VALUES (900000, 'ua', 0, 0)`,
				`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) VALUES (1, 900000, 'user_admin', 'manual', 0, 0)`,
				`ANALYZE`,
			} {
				if _, err := db.ExecContext(bg, q); err != nil {
					b.Fatal(q, err)
				}
			}
			r := newRig(b, db)
			r.who["ua"] = &authz.Principal{UserID: 900000}
			for _, c := range []struct{ name, method, path, body string }{
				{"list-one", "GET", "/api/v1/users?q=user54321@", ""},
				{"list-many", "GET", "/api/v1/users?q=last777", ""},
				{"list-first-page", "GET", "/api/v1/users", ""},
				{"patch", "PATCH", "/api/v1/users/54322", `{"first_name":"Ada"}`},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
						req.Header.Set("X-As", "ua")
						rec := httptest.NewRecorder()
						r.h.ServeHTTP(rec, req)
						if rec.Code != 200 {
							b.Fatal(rec.Code, rec.Body)
						}
					}
				})
			}
		})
	}
}
