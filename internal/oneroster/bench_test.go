package oneroster_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"roster/internal/oneroster"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

// seedPeople inserts n accounts, all learners of group 1 (spread over its ten sub-groups
// 2..11), and one course where one person in a hundred is a teacher and the others students:
// the world of a platform with 100,000 people, written in a few statements. The sub-groups are
// public, so each learner is also a learner of group 1 (a propagated membership, as the group
// package writes it: 200,000 memberships); ROSTER_BENCH_GROUPS=private makes them private,
// without propagated memberships (100,000).
func seedPeople(b *testing.B, db *store.DB, n int) {
	b.Helper()
	ctx := context.Background()
	visibility := "public"
	if os.Getenv("ROSTER_BENCH_GROUPS") == "private" {
		visibility = "private"
	}
	for _, q := range []string{
		`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ` + strconv.Itoa(n) + `)
		INSERT INTO users (id, username, email, email_norm, first_name, last_name, created_at, updated_at, activated_at)
		SELECT i, 'user' || i, 'user' || i || '@example.org', 'user' || i || '@example.org', 'First' || (i % 100),
			'Last' || (i % 1000), 0, 1764000000 + i, 0 FROM seq`,
		`INSERT INTO groups (id, parent_id, name, visibility, created_at, updated_at) VALUES (1, NULL, 'Top', 'private', 0, 0)`,
		`WITH RECURSIVE seq(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM seq WHERE i < 11)
		INSERT INTO groups (id, parent_id, name, visibility, created_at, updated_at) SELECT i, 1, 'Sub' || i, '` + visibility + `', 0, 0 FROM seq`,
		`INSERT INTO group_paths (ancestor_id, descendant_id, depth) SELECT id, id, 0 FROM groups`,
		`INSERT INTO group_paths (ancestor_id, descendant_id, depth) SELECT 1, id, 1 FROM groups WHERE id > 1`,
		`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) SELECT 2 + id % 10, id, 'learner', 'manual', 0, 0 FROM users`,
		`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) SELECT 1, id, 'learner', 'propagated', 2 + id % 10, 0 FROM users WHERE '` + visibility + `' = 'public'`,
		`INSERT INTO courses (id, shortname, fullname, created_at, updated_at) VALUES (1, 'big', 'Big course', 0, 0)`,
		`INSERT INTO course_methods (id, course_id, type, created_at, updated_at) VALUES (1, 1, 'manual', 0, 0)`,
		`INSERT INTO course_enrolments (course_id, method_id, user_id, role, created_at, updated_at)
		SELECT 1, 1, id, CASE WHEN id % 100 = 0 THEN 'teacher' ELSE 'student' END, 0, 0 FROM users`,
		`ANALYZE`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(q, err)
		}
	}
	// PostgreSQL: the visibility map, which lets counts and key reads use index-only scans,
	// is set by VACUUM; in production autovacuum runs it after a bulk load like this one (this
	// fixture's server may run without autovacuum). ROSTER_BENCH_VACUUM=0: measure right after
	// the load, before any vacuum.
	if db.Dialect == store.Postgres && os.Getenv("ROSTER_BENCH_VACUUM") != "0" {
		for _, t := range []string{"users", "group_members", "group_paths", "course_enrolments"} {
			if _, err := db.ExecContext(ctx, "VACUUM "+t); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkUsersPaged: GET users over 100,000 people (ROSTER_BENCH_ROWS), every page of
// 1,000 (limit=1000, offset 0 to 99,000), through the handler, for a platform-wide client
// (handler-all) and for a client of the group they are all in (handler-group); beside the
// floor, the raw SQL of one page of users (the same columns, ORDER BY id LIMIT/OFFSET).
// Reported for each: ms/page (the mean over the pages), max-ms/page (the slowest page),
// first-ms (the first, cold page) and the CPU time a page of the test process (cpu-ms/page:
// SQLite runs in it) and of PostgreSQL's server processes for its connections
// (pg-cpu-ms/page), which the load of a shared machine moves less than the wall time. Then the
// first page alone, cold (a new service, nothing kept), ten times: mean and slowest, for both
// clients; for the group's client also once two connections are open and warm
// (first-group-2conns), and without reading its page while its people are read
// (first-nooverlap-group); beside its floor, the count of live accounts and the raw SELECT
// of the same 1,000 rows.
func BenchmarkUsersPaged(b *testing.B) {
	people, limit := 100_000, 1000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_ROWS")); err == nil && v > 0 {
		people = v
	}
	for _, name := range []string{"sqlite", "postgres"} {
		if name == "postgres" && os.Getenv(testenv.EnvPostgres) == "" {
			continue
		}
		b.Run(name, func(b *testing.B) {
			var db *store.DB
			app := ""
			if name == "sqlite" {
				db, _ = storetest.OpenSQLite(b)
			} else {
				app = "orbench" + strconv.Itoa(os.Getpid())
				db, _ = storetest.OpenPostgresNamed(b, app)
			}
			seedPeople(b, db, people)
			grants := map[string]oneroster.Grant{
				"all":   {ClientID: "all", Scopes: oneroster.ReadScopes},
				"group": {ClientID: "group", GroupID: 1, Scopes: oneroster.ReadScopes},
			}
			// A new service has no kept keys: its first page is cold.
			newMux := func() *http.ServeMux {
				mux := http.NewServeMux()
				oneroster.New(db, func(_ context.Context, t string) (oneroster.Grant, error) { return grants[t], nil }, nil).Routes(mux)
				return mux
			}
			mux := newMux()
			cpu := func(b *testing.B, per float64, unit string, run func()) {
				cpu0, pg0 := storetest.ProcessCPU(), storetest.BackendCPU(b, db, app)
				run()
				b.ReportMetric(float64((storetest.ProcessCPU()-cpu0).Microseconds())/per/1000, "cpu-ms/"+unit)
				if app != "" {
					b.ReportMetric(float64((storetest.BackendCPU(b, db, app)-pg0).Microseconds())/per/1000, "pg-cpu-ms/"+unit)
				}
			}

			pages := func(b *testing.B, page func(offset int)) {
				var worst, sum, first time.Duration
				n := 0
				cpu(b, float64((people+limit-1)/limit), "page", func() {
					for b.Loop() {
						for off := 0; off < people; off += limit {
							start := time.Now()
							page(off)
							d := time.Since(start)
							if off == 0 {
								first = d
							}
							sum += d
							worst = max(worst, d)
							n++
						}
					}
				})
				b.ReportMetric(float64(sum.Microseconds())/float64(n)/1000, "ms/page")
				b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms/page")
				b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
			}
			get := func(b *testing.B, mux *http.ServeMux, client string, off int) {
				req := httptest.NewRequest("GET", oneroster.V1p1+"/users?limit="+strconv.Itoa(limit)+"&offset="+strconv.Itoa(off), nil)
				req.Header.Set("Authorization", "Bearer "+client)
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				if rec.Code != 200 || rec.Header().Get("X-Total-Count") != strconv.Itoa(people) {
					b.Fatal(rec.Code, rec.Header(), rec.Body.String()[:200])
				}
			}
			for _, client := range []string{"all", "group"} {
				b.Run("handler-"+client, func(b *testing.B) {
					pages(b, func(off int) { get(b, mux, client, off) })
				})
			}
			// The first page alone, cold, ten times (the mean and the slowest), beside its
			// floor: the count of the live accounts and the raw SELECT of the same 1,000 rows.
			firsts := func(b *testing.B, page func()) {
				const runs = 10
				var sum, worst time.Duration
				cpu(b, runs, "first-page", func() {
					for b.Loop() {
						for range runs {
							start := time.Now()
							page()
							d := time.Since(start)
							sum += d
							worst = max(worst, d)
						}
					}
				})
				b.ReportMetric(float64(sum.Microseconds())/runs/1000, "ms/first-page")
				b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms/first-page")
			}
			for _, client := range []string{"all", "group"} {
				b.Run("first-"+client, func(b *testing.B) {
					firsts(b, func() { get(b, newMux(), client, 0) })
				})
			}
			// The same once two connections have served the group's first page at the same
			// time: on PostgreSQL the first page is read on one of them while the sub-tree's
			// people are read on the other only when two are open and idle.
			b.Run("first-group-2conns", func(b *testing.B) {
				var wg sync.WaitGroup
				for range 2 {
					wg.Go(func() { get(b, newMux(), "group", 0) })
				}
				wg.Wait()
				firsts(b, func() { get(b, newMux(), "group", 0) })
			})
			b.Run("first-nooverlap-group", func(b *testing.B) {
				oneroster.SetOverlap(false)
				defer oneroster.SetOverlap(true)
				firsts(b, func() { get(b, newMux(), "group", 0) })
			})
			b.Run("first-floor-sql", func(b *testing.B) {
				firsts(b, func() {
					var n int
					if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM users WHERE deleted_at IS NULL`).Scan(&n); err != nil || n != people {
						b.Fatal(n, err)
					}
					floorPage(b, db, 0, limit)
				})
			})
			b.Run("floor-sql", func(b *testing.B) {
				pages(b, func(off int) { floorPage(b, db, off, limit) })
			})
		})
	}
}

// floorPage reads one page of users with raw SQL: the same columns, ORDER BY id LIMIT/OFFSET.
func floorPage(b *testing.B, db *store.DB, off, limit int) {
	rows, err := db.QueryContext(context.Background(), `SELECT id, username, first_name, last_name, email, idnumber, status, updated_at
		FROM users WHERE deleted_at IS NULL ORDER BY id LIMIT $1 OFFSET $2`, limit, off)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var id, at int64
		var u, f, l, e, i, s string
		if err := rows.Scan(&id, &u, &f, &l, &e, &i, &s, &at); err != nil {
			b.Fatal(err)
		}
		got++
	}
	if got != limit {
		b.Fatal(got)
	}
}
