package course_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster/internal/course"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// The benchmark platform: 200 courses and 50,000 enrolments; course 1 has 10,000
// participants, 2,000 of them enrolled twice (manual and self), in 10 course groups, 70% with
// a last access. Run with:
//
//	go test -run '^$' -bench . -benchtime=1x ./internal/course/
type fixture struct {
	Courses, BigParticipants, Enrolments int
}

var benchScale = fixture{Courses: 200, BigParticipants: 10000, Enrolments: 50000}

// buildFixture writes the platform with multi-row INSERTs in one transaction and returns the id
// of the big course.
func buildFixture(t testing.TB, db *store.DB, fx fixture) int64 {
	t.Helper()
	ctx := context.Background()
	now := db.Now().Unix()
	users := fx.BigParticipants * 2
	err := db.Tx(ctx, func(tx *store.Tx) error {
		b := &bulk{ctx: ctx, tx: tx}
		first := []string{"Ann", "Bob", "Cid", "Dora", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jade"}
		last := []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"}
		for i := 1; i <= users; i++ {
			name := fmt.Sprintf("u%06d", i)
			b.row("users (id, username, email, email_norm, first_name, last_name, created_at, updated_at)",
				i, name, name+"@example.org", name+"@example.org", first[i%10], fmt.Sprintf("%s%d", last[(i/10)%10], i%997), 0, 0)
		}
		for c := 1; c <= fx.Courses; c++ {
			b.row("courses (id, shortname, fullname, visible, created_at, updated_at)", c, fmt.Sprintf("C%03d", c), "Course", true, now, now)
			b.row("course_methods (id, course_id, type, role, created_at, updated_at)", c, c, "manual", "student", now, now)
		}
		b.row("course_methods (id, course_id, type, role, created_at, updated_at)", fx.Courses+1, 1, "self", "student", now, now)
		for g := 1; g <= 10; g++ {
			b.row("course_groups (id, course_id, name, created_at)", g, 1, fmt.Sprintf("Group %02d", g), now)
		}
		roles := []string{"student", "student", "student", "student", "student", "student", "student", "student", "non_editing_teacher", "teacher"}
		id := 0
		enrol := func(course, method, user int, role, status string, starts, ends any) {
			id++
			b.row("course_enrolments (id, course_id, method_id, user_id, role, status, starts_at, ends_at, created_at, updated_at)",
				id, course, method, user, role, status, starts, ends, now, now)
		}
		for u := 1; u <= fx.BigParticipants; u++ {
			status := "active"
			if u%17 == 0 {
				status = "suspended"
			}
			var ends any
			if u%23 == 0 {
				ends = now - 86400
			}
			role := "student"
			if u%250 == 0 {
				role = roles[8+u%2]
			}
			enrol(1, 1, u, role, status, nil, ends)
			if u%5 == 0 {
				enrol(1, fx.Courses+1, u, "student", "active", nil, nil)
			}
			b.row("course_group_members (course_group_id, user_id, method_id, created_at)", 1+u%10, u, 0, now)
			if u%10 < 7 {
				b.row("course_access (course_id, user_id, last_access_at)", 1, u, now-int64(u%60)*86400)
			}
		}
		rest := fx.Enrolments - id
		per := rest / (fx.Courses - 1)
		for c := 2; c <= fx.Courses; c++ {
			for k := 0; k < per; k++ {
				enrol(c, c, 1+(c*7919+k*104729)%users, roles[k%10], "active", nil, nil)
			}
		}
		return b.flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	if db.Dialect == store.Postgres {
		for _, table := range []string{"users", "courses", "course_methods", "course_groups", "course_enrolments"} {
			if _, err := db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'), (SELECT max(id) FROM `+table+`))`); err != nil {
				t.Fatal(err)
			}
		}
		// What autovacuum does after a bulk load: statistics and the visibility map (which
		// lets the participants list read the covering index alone).
		for _, table := range []string{"users", "course_enrolments", "course_group_members", "course_access"} {
			if _, err := db.ExecContext(ctx, "VACUUM ANALYZE "+table); err != nil {
				t.Fatal(err)
			}
		}
	} else if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	return 1
}

// bulk batches rows into multi-row INSERTs per table.
type bulk struct {
	ctx     context.Context
	tx      *store.Tx
	table   string
	args    []any
	rows    []string
	perRows int
}

func (b *bulk) row(table string, vals ...any) {
	if table != b.table || len(b.args)+len(vals) > 30000 {
		if err := b.flush(); err != nil {
			panic(err)
		}
		b.table = table
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		b.args = append(b.args, v)
		ph[i] = "$" + strconv.Itoa(len(b.args))
	}
	b.rows = append(b.rows, "("+strings.Join(ph, ", ")+")")
}

func (b *bulk) flush() error {
	if len(b.rows) == 0 {
		return nil
	}
	_, err := b.tx.ExecContext(b.ctx, "INSERT INTO "+b.table+" VALUES "+strings.Join(b.rows, ", "), b.args...)
	b.args, b.rows = nil, nil
	return err
}

// filters are the combinations the participants benchmark measures.
var filters = []course.ParticipantFilter{
	{},
	{Desc: true, Offset: 5000},
	{Sort: "firstname"},
	{Sort: "email", Desc: true},
	{Sort: "roles"},
	{Sort: "groups"},
	{Sort: "lastaccess", Desc: true},
	{Sort: "status"},
	{Sort: "methods"},
	{Q: "bernard"},
	{Q: "u0042"},
	{Role: "teacher"},
	{Role: "student", Sort: "lastaccess"},
	{GroupID: 3},
	{GroupID: course.NoGroup},
	{Status: course.Suspended},
	{Status: course.NotCurrent, Sort: "firstname"},
	{Status: course.Active, Role: "student", GroupID: 5, Sort: "groups"},
	{Method: "self"},
	{Method: "1", Q: "ann", Sort: "email"},
	{InactiveDays: 30},
	{InactiveDays: 30, Role: "student", Status: course.Active, Method: "self", Q: "a", Sort: "lastaccess"},
	{Limit: 100, Offset: 300},
	{Limit: course.All, Role: "non_editing_teacher"},
}

func eachBenchDB(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) {
		db, _ := storetest.OpenSQLite(b)
		fn(b, db)
	})
	b.Run("postgres", func(b *testing.B) {
		db, _ := storetest.OpenPostgres(b)
		fn(b, db)
	})
}

// BenchmarkParticipantsPage measures the participants page (20 rows and the total) of the
// 10,000-person course for every combination in filters, 20 times each, and reports the 95th
// percentile and the worst combination's median.
func BenchmarkParticipantsPage(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, db *store.DB) {
		s := course.NewService(db, course.Config{})
		defer s.Close()
		id := buildFixture(b, db, benchScale)
		buildSummary(b, s, id)
		b.ResetTimer()
		measurePages(b, db, s, admin, id)
	})
}

// BenchmarkParticipantsPageHiddenIdentity is BenchmarkParticipantsPage with the site setting
// users.show_identity at "none", as a teacher of the course who administers a group holding
// every second account: the list decides per row, in its query, whether the address and the
// username are seen (searches and the sort by address follow).
func BenchmarkParticipantsPageHiddenIdentity(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		s := course.NewService(db, course.Config{})
		defer s.Close()
		id := buildFixture(b, db, benchScale)
		caller := int64(benchScale.BigParticipants * 2)
		for _, q := range []string{
			`INSERT INTO groups (id, name, created_at, updated_at) VALUES (1, 'Branch', 0, 0)`,
			`INSERT INTO group_paths (ancestor_id, descendant_id, depth) VALUES (1, 1, 0)`,
			`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
				SELECT 1, id, 'learner', 'manual', 0, 0 FROM users WHERE id % 2 = 0 AND id <> ` + strconv.FormatInt(caller, 10),
			`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
				VALUES (1, ` + strconv.FormatInt(caller, 10) + `, 'group_admin', 'manual', 0, 0)`,
			`INSERT INTO settings (key, value) VALUES ('users.show_identity', 'none')`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		mustEnrol(b, s, id, "teacher", caller)
		buildSummary(b, s, id)
		b.ResetTimer()
		measurePages(b, db, s, as(caller), id)
	})
}

// buildSummary lists the course's first page and waits for the rebuild of its participants
// summary it starts in the background (a stale big course).
func buildSummary(tb testing.TB, s *course.Service, id int64) {
	tb.Helper()
	if _, err := s.Participants(admin, id, course.ParticipantFilter{}); err != nil {
		tb.Fatal(err)
	}
	s.WaitRebuilds()
}

// measurePages runs every combination in filters 20 times as ctx and reports the percentiles.
func measurePages(b *testing.B, db *store.DB, s *course.Service, ctx context.Context, id int64) {
	b.Helper()
	{
		var all []time.Duration
		worst, worstName := time.Duration(0), ""
		for _, f := range filters {
			var ds []time.Duration
			for i := 0; i < 20; i++ {
				t0 := time.Now()
				if _, err := s.Participants(ctx, id, f); err != nil {
					b.Fatalf("%+v: %v", f, err)
				}
				ds = append(ds, time.Since(t0))
			}
			slices.Sort(ds)
			if testing.Verbose() {
				b.Logf("%s: median %v for %+v", db.Dialect, ds[len(ds)/2], f)
			}
			if ds[len(ds)/2] > worst {
				worst, worstName = ds[len(ds)/2], fmt.Sprintf("%+v", f)
			}
			all = append(all, ds...)
		}
		slices.Sort(all)
		p95 := all[len(all)*95/100]
		b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(worst.Microseconds())/1000, "worst-median-ms")
		b.Logf("%s: %d queries over %d combinations: p50 %v, p95 %v, max %v; slowest median %v for %s", db.Dialect,
			len(all), len(filters), all[len(all)/2], p95, all[len(all)-1], worst, worstName)
	}
}

// BenchmarkExportCSV measures the CSV of the 10,000-person course.
func BenchmarkExportCSV(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, db *store.DB) {
		s := course.NewService(db, course.Config{})
		defer s.Close()
		id := buildFixture(b, db, benchScale)
		b.ResetTimer()
		worstOf5 := func() time.Duration {
			var worst time.Duration
			for i := 0; i < 5; i++ {
				t0 := time.Now()
				var n countWriter
				if err := s.Export(admin, id, course.ParticipantFilter{}, nil, course.CSV, &n); err != nil {
					b.Fatal(err)
				}
				worst = max(worst, time.Since(t0))
				if n < 500000 {
					b.Fatalf("CSV of %d bytes", n)
				}
			}
			return worst
		}
		worst := worstOf5()
		b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
		b.Logf("%s: CSV of 10,000 rows, worst of 5: %v", db.Dialect, worst)
		// The same once a page has built the participants summary (an export of a stale course
		// reads the enrolments, as above).
		buildSummary(b, s, id)
		built := worstOf5()
		b.ReportMetric(float64(built.Milliseconds()), "summary-worst-ms")
		b.Logf("%s: CSV of 10,000 rows from the summary, worst of 5: %v", db.Dialect, built)
	})
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// BenchmarkGroupSync5000 adds 5,000 people to a synced group in one statement (as an import or
// the nightly sync does) and measures until the follower has enrolled them.
func BenchmarkGroupSync5000(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		s := course.NewService(db, course.Config{})
		defer s.Close()
		buildFixture(b, db, benchScale)
		if _, err := db.ExecContext(ctx, `INSERT INTO groups (id, name, created_at, updated_at) VALUES (1, 'Cohort', 0, 0)`); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO group_paths (ancestor_id, descendant_id, depth) VALUES (1, 1, 0)`); err != nil {
			b.Fatal(err)
		}
		if _, err := s.AddMethod(admin, 2, course.Method{Type: course.GroupSync, GroupID: 1}); err != nil {
			b.Fatal(err)
		}
		f := course.NewFollower(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		b.ResetTimer()
		t0 := time.Now()
		if _, err := db.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
			SELECT 1, id, 'learner', 'import', 1, 0 FROM users WHERE id > 10000 AND id <= 15000`); err != nil {
			b.Fatal(err)
		}
		added := time.Since(t0)
		if _, err := f.Drain(ctx); err != nil {
			b.Fatal(err)
		}
		total := time.Since(t0)
		var n int
		db.QueryRowContext(ctx, `SELECT count(*) FROM course_enrolments e JOIN course_methods m ON m.id = e.method_id
			WHERE m.type = 'group_sync'`).Scan(&n)
		if n != 5000 {
			b.Fatalf("enrolled %d, want 5000", n)
		}
		b.ReportMetric(float64(total.Milliseconds()), "ms")
		b.Logf("%s: 5,000 members added in %v (triggers included), enrolled by the follower %v later: %v in all "+
			"(plus at most one poll interval, %v, in a running server)", db.Dialect, added, total-added, total, f.Interval)
	})
}

// TestBenchFixtureQueries runs every benchmark filter on a small fixture, so that the
// combinations stay valid SQL on both databases.
func TestBenchFixtureQueries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{})
		defer s.Close()
		id := buildFixture(t, db, fixture{Courses: 5, BigParticipants: 300, Enrolments: 500})
		for _, f := range filters {
			p, err := s.Participants(admin, id, f)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			if f == (course.ParticipantFilter{}) && (p.Total != 300 || len(p.Items) != 20) {
				t.Fatalf("total %d, %d rows", p.Total, len(p.Items))
			}
			// A page is the same rows, with the same fields, as that part of the whole list
			// (read in one pass, where a page reads its people apart).
			whole := f
			whole.Limit, whole.Offset = course.All, 0
			all, err := s.Participants(admin, id, whole)
			if err != nil {
				t.Fatal(err)
			}
			if all.Total != p.Total || len(all.Items) != p.Total {
				t.Fatalf("%+v: whole list %d rows, total %d; page total %d", f, len(all.Items), all.Total, p.Total)
			}
			from := min(f.Offset, len(all.Items))
			want := all.Items[from:]
			if f.Limit != course.All {
				want = want[:min(len(want), max(f.Limit, 20))]
			}
			if fmt.Sprintf("%+v", want) != fmt.Sprintf("%+v", p.Items) {
				t.Fatalf("%+v: the page differs from the whole list's rows %d to %d", f, from, from+len(want))
			}
		}
	})
}

// BenchmarkParticipantsRebuild measures the first page of the 10,000-person course after a
// write marked it stale (read from the enrolments while the summary is rebuilt in the
// background), the rebuild (until it is done), and a page after it, worst of 5 each.
func BenchmarkParticipantsRebuild(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		s := course.NewService(db, course.Config{})
		defer s.Close()
		id := buildFixture(b, db, benchScale)
		buildSummary(b, s, id)
		b.ResetTimer()
		var first, rebuild, page time.Duration
		for i := 0; i < 5; i++ {
			if _, err := db.ExecContext(ctx, `UPDATE course_enrolments SET role = $1 WHERE course_id = 1 AND user_id = 1`,
				[]string{"student", "teacher"}[i%2]); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			if _, err := s.Participants(admin, id, course.ParticipantFilter{}); err != nil {
				b.Fatal(err)
			}
			first = max(first, time.Since(t0))
			s.WaitRebuilds()
			rebuild = max(rebuild, time.Since(t0))
			t0 = time.Now()
			if _, err := s.Participants(admin, id, course.ParticipantFilter{}); err != nil {
				b.Fatal(err)
			}
			page = max(page, time.Since(t0))
		}
		b.ReportMetric(float64(first.Microseconds())/1000, "first-page-ms")
		b.ReportMetric(float64(rebuild.Milliseconds()), "rebuild-ms")
		b.Logf("%s: first page after a write, worst of 5: %v (summary rebuilt %v after it started); the next page: %v",
			db.Dialect, first, rebuild, page)
	})
}
