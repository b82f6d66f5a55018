package oneroster_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"roster/internal/oneroster"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

// seedPeople inserts n accounts, all learners of group 1 (spread over its ten sub-groups
// 2..11), and one course where one person in a hundred is a teacher and the others students:
// the world of a platform with 100,000 people, written in a few statements.
func seedPeople(b *testing.B, db *store.DB, n int) {
	b.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ` + strconv.Itoa(n) + `)
		INSERT INTO users (id, username, email, email_norm, first_name, last_name, created_at, updated_at, activated_at)
		SELECT i, 'user' || i, 'user' || i || '@example.org', 'user' || i || '@example.org', 'First' || (i % 100),
			'Last' || (i % 1000), 0, 1764000000 + i, 0 FROM seq`,
		`INSERT INTO groups (id, parent_id, name, visibility, created_at, updated_at) VALUES (1, NULL, 'Top', 'private', 0, 0)`,
		`WITH RECURSIVE seq(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM seq WHERE i < 11)
		INSERT INTO groups (id, parent_id, name, visibility, created_at, updated_at) SELECT i, 1, 'Sub' || i, 'private', 0, 0 FROM seq`,
		`INSERT INTO group_paths (ancestor_id, descendant_id, depth) SELECT id, id, 0 FROM groups`,
		`INSERT INTO group_paths (ancestor_id, descendant_id, depth) SELECT 1, id, 1 FROM groups WHERE id > 1`,
		`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) SELECT 2 + id % 10, id, 'learner', 'manual', 0, 0 FROM users`,
		`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) SELECT 1, id, 'learner', 'propagated', 2 + id % 10, 0 FROM users`,
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
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkUsersPaged: GET users over 100,000 people, every page of 1,000 (limit=1000,
// offset 0 to 99,000), through the handler, for a platform-wide client and for a client of
// the group they are all in; beside the floor, the raw SQL of one page of users (the same
// columns, ORDER BY id LIMIT/OFFSET). Reported: ms/page (mean over the 100 pages),
// max-ms/page (the slowest page) and first-ms (the first, cold page: the one that reads the
// whole list's keys); then the first page alone, cold, ten times, with and without reading
// the page while the whole list's keys are read (first-nooverlap), beside its floor (the count
// of live accounts and the raw SELECT of the same 1,000 rows).
func BenchmarkUsersPaged(b *testing.B) {
	dbs := map[string]func(testing.TB) (*store.DB, *storetest.Clock){"sqlite": storetest.OpenSQLite}
	if os.Getenv(testenv.EnvPostgres) != "" {
		dbs["postgres"] = storetest.OpenPostgres
	}
	const people, limit = 100_000, 1000
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			db, _ := open(b)
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

			pages := func(b *testing.B, page func(offset int)) {
				var worst, sum, first time.Duration
				n := 0
				cpu0 := cpuTime()
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
				b.ReportMetric(float64(sum.Microseconds())/float64(n)/1000, "ms/page")
				b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms/page")
				b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
				// The CPU time of this process (SQLite runs in it; PostgreSQL's own work is not
				// counted), which the load of the machine moves less than the wall time.
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n)/1000, "cpu-ms/page")
			}
			get := func(b *testing.B, mux *http.ServeMux, client string, off int) {
				req := httptest.NewRequest("GET", oneroster.V1p1+"/users?limit=1000&offset="+strconv.Itoa(off), nil)
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
				cpu0 := cpuTime()
				for b.Loop() {
					for range runs {
						start := time.Now()
						page()
						d := time.Since(start)
						sum += d
						worst = max(worst, d)
					}
				}
				b.ReportMetric(float64(sum.Microseconds())/runs/1000, "ms/first-page")
				b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms/first-page")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/runs/1000, "cpu-ms/first-page")
			}
			for _, client := range []string{"all", "group"} {
				b.Run("first-"+client, func(b *testing.B) {
					firsts(b, func() { get(b, newMux(), client, 0) })
				})
				b.Run("first-nooverlap-"+client, func(b *testing.B) {
					oneroster.SetOverlap(false)
					defer oneroster.SetOverlap(true)
					firsts(b, func() { get(b, newMux(), client, 0) })
				})
			}
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
