package api

import (
	"net/http/httptest"
	"os"
	"testing"

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
