package sis

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// seed adds courses c1..cN and users u1..uM (email uK@example.org, idnumber SK).
func seed(t testing.TB, db *store.DB, courses, users int) {
	t.Helper()
	ctx := context.Background()
	err := db.Tx(ctx, func(tx *store.Tx) error {
		for s := 1; s <= courses; s += 500 {
			var vals []string
			for i := s; i < s+500 && i <= courses; i++ {
				vals = append(vals, fmt.Sprintf("('c%d', 'Course %d', 0, 0)", i, i))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES `+strings.Join(vals, ",")); err != nil {
				return err
			}
		}
		for s := 1; s <= users; s += 500 {
			var vals []string
			for i := s; i < s+500 && i <= users; i++ {
				vals = append(vals, fmt.Sprintf("('u%d', 'u%d@example.org', 'u%d@example.org', 'S%d', 0, 0)", i, i, i, i))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO users (username, email, email_norm, idnumber, created_at, updated_at) VALUES `+strings.Join(vals, ",")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func csvSource(t testing.TB, lines ...string) *Source {
	t.Helper()
	src, err := ReadCSV(strings.NewReader("course,user,role\n"+strings.Join(lines, "\n")+"\n"), "sis.csv")
	if err != nil {
		t.Fatal(err)
	}
	src.Name = "nightly"
	return src
}

func count(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestRunAppliesAndRerunChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		seed(t, db, 3, 30)
		// A manual enrolment of u1 in c1 that the sync must never touch.
		var manual int64
		if err := db.QueryRowContext(ctx, `INSERT INTO course_methods (course_id, type, created_at, updated_at) VALUES (1, 'manual', 0, 0) RETURNING id`).Scan(&manual); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO course_enrolments (course_id, method_id, user_id, role, created_at, updated_at) VALUES (1, $1, 1, 'teacher', 0, 0)`, manual); err != nil {
			t.Fatal(err)
		}
		var lines []string
		for u := 1; u <= 30; u++ {
			lines = append(lines, fmt.Sprintf("c%d,u%d,student", 1+u%3, u))
		}
		lines = append(lines, "c1,S1,teacher", "c9,u1,student", "c1,u1@example.org,student")
		rep, err := Run(ctx, db, csvSource(t, lines...), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Summary() != "added 31, changed 0, removed 0" || rep.Status != "done" || rep.Skipped != 2 {
			t.Fatalf("first run: %s status %s skipped %d %v", rep.Summary(), rep.Status, rep.Skipped, rep.Issues)
		}
		if n := count(t, db, `SELECT count(*) FROM course_methods WHERE type = 'sis' AND name = 'nightly'`); n != 3 {
			t.Errorf("%d sis methods, want 3", n)
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE sync_run_id = $1`, rep.RunID); n != 31 {
			t.Errorf("%d enrolments say run %d made them", n, rep.RunID)
		}
		var status string
		var added int
		if err := db.QueryRowContext(ctx, `SELECT status, added FROM sync_runs WHERE id = $1`, rep.RunID).Scan(&status, &added); err != nil || status != "done" || added != 31 {
			t.Errorf("sync_runs: %v %s %d", err, status, added)
		}

		clock.Advance(86400e9)
		rep2, err := Run(ctx, db, csvSource(t, lines...), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep2.Summary() != "added 0, changed 0, removed 0" {
			t.Errorf("second run: %s", rep2.Summary())
		}

		// Drop u2 (c3): suspended; u3 becomes teacher; the manual enrolment stays.
		var next []string
		for _, l := range lines {
			switch l {
			case "c3,u2,student":
			case "c1,u3,student":
				next = append(next, "c1,u3,teacher")
			default:
				next = append(next, l)
			}
		}
		rep3, err := Run(ctx, db, csvSource(t, next...), RunOptions{})
		if err != nil || rep3.Summary() != "added 0, changed 1, removed 1" {
			t.Fatalf("third run: %v %s", err, rep3.Summary())
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE user_id = 2 AND status = 'suspended' AND sync_suspended`); n != 1 {
			t.Errorf("u2 not suspended by the sync")
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE method_id = $1`, manual); n != 1 {
			t.Errorf("manual enrolment touched")
		}
		// u2 comes back: reactivated.
		rep4, err := Run(ctx, db, csvSource(t, lines...), RunOptions{})
		if err != nil || rep4.Summary() != "added 0, changed 2, removed 0" {
			t.Fatalf("fourth run: %v %s", err, rep4.Summary())
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE status = 'suspended'`); n != 0 {
			t.Errorf("%d still suspended", n)
		}
	})
}

func TestRunThresholdDryRunAndLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		seed(t, db, 1, 20)
		var lines []string
		for u := 1; u <= 20; u++ {
			lines = append(lines, fmt.Sprintf("c1,u%d,student", u))
		}
		if _, err := Run(ctx, db, csvSource(t, lines...), RunOptions{}); err != nil {
			t.Fatal(err)
		}
		// 3 of 20 (15 %) gone: stopped, nothing applied.
		rep, err := Run(ctx, db, csvSource(t, lines[3:]...), RunOptions{Action: ActionUnenrol})
		if err != nil || !rep.Stopped() || !strings.Contains(rep.Message, "threshold") {
			t.Fatalf("threshold: %v %+v", err, rep)
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments`); n != 20 {
			t.Errorf("%d enrolments after a stopped run", n)
		}
		var msg string
		if err := db.QueryRowContext(ctx, `SELECT message FROM sync_runs WHERE id = $1 AND status = 'stopped'`, rep.RunID).Scan(&msg); err != nil || msg == "" {
			t.Errorf("stopped run not recorded: %v", err)
		}
		// A dry run shows the difference and applies nothing.
		rep, err = Run(ctx, db, csvSource(t, lines[3:]...), RunOptions{Action: ActionUnenrol, Threshold: 50, DryRun: true})
		if err != nil || rep.Status != "dry_run" || rep.Removed != 3 || len(rep.Plan.Unenrol) != 3 {
			t.Fatalf("dry run: %v %+v", err, rep)
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments`); n != 20 {
			t.Errorf("dry run applied")
		}
		// A dry run past the threshold shows the difference and says a real run would stop.
		rep, err = Run(ctx, db, csvSource(t, lines[3:]...), RunOptions{DryRun: true})
		if err != nil || rep.Stopped() || rep.Removed != 3 || !strings.Contains(rep.Message, "a real run would stop") {
			t.Fatalf("dry run past the threshold: %v %+v", err, rep)
		}
		// An empty source removes nothing.
		rep, err = Run(ctx, db, csvSource(t), RunOptions{Action: ActionUnenrol, Threshold: 100})
		if err != nil || rep.Removed != 0 {
			t.Fatalf("empty: %v %+v", err, rep)
		}
		rep, err = Run(ctx, db, csvSource(t, lines[3:]...), RunOptions{Action: ActionUnenrol, Threshold: 50})
		if err != nil || rep.Removed != 3 || count(t, db, `SELECT count(*) FROM course_enrolments`) != 17 {
			t.Fatalf("unenrol: %v %+v", err, rep)
		}
		// One run at a time per source.
		if _, err := db.ExecContext(ctx, `INSERT INTO sync_runs (source, status, started_at) VALUES ('nightly', 'running', $1)`, clock.T.Unix()); err != nil {
			t.Fatal(err)
		}
		if _, err := Run(ctx, db, csvSource(t, lines...), RunOptions{}); !errs.Is(err, errs.Conflict) {
			t.Errorf("concurrent run: %v", err)
		}
		clock.Advance(7 * 3600e9)
		if _, err := Run(ctx, db, csvSource(t, lines...), RunOptions{}); err != nil {
			t.Errorf("a stale run should be taken over: %v", err)
		}
		// A run with a lease (its process renews it) is taken over as soon as the lease ends:
		// the process died, and the next run completes its work.
		if _, err := db.ExecContext(ctx, `INSERT INTO sync_runs (source, status, started_at, alive_until) VALUES ('nightly', 'running', $1, $2)`,
			clock.T.Unix(), clock.T.Add(RunLease).Unix()); err != nil {
			t.Fatal(err)
		}
		if _, err := Run(ctx, db, csvSource(t, lines...), RunOptions{}); !errs.Is(err, errs.Conflict) {
			t.Errorf("run while another holds its lease: %v", err)
		}
		clock.Advance(RunLease + time.Second)
		if _, err := Run(ctx, db, csvSource(t, lines...), RunOptions{}); err != nil {
			t.Errorf("a run whose lease ran out should be taken over: %v", err)
		}
	})
}

func TestRunCourseGroupsAndDates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		seed(t, db, 1, 12)
		src := func(moved bool, drop int) *Source {
			var b strings.Builder
			b.WriteString("course,user,role,group,starts,ends\n")
			for u := 1; u <= 12; u++ {
				if u == drop {
					continue
				}
				g := "A"
				if u%2 == 0 || (moved && u == 1) {
					g = "B"
				}
				if u == 12 {
					g = ""
				}
				fmt.Fprintf(&b, "c1,u%d,student,%s,2026-09-01,2027-06-30\n", u, g)
			}
			s, err := ReadCSV(strings.NewReader(b.String()), "g.csv")
			if err != nil {
				t.Fatal(err)
			}
			s.Name = "groups"
			return s
		}
		groupOf := func(user int) string {
			var names []string
			rows, err := db.QueryContext(ctx, `SELECT g.name FROM course_group_members gm JOIN course_groups g ON g.id = gm.course_group_id WHERE gm.user_id = $1`, user)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var n string
				rows.Scan(&n)
				names = append(names, n)
			}
			return strings.Join(names, ",")
		}
		rep, err := Run(ctx, db, src(false, 0), RunOptions{})
		if err != nil || rep.Added != 12 {
			t.Fatalf("first: %v %+v", err, rep)
		}
		if groupOf(1) != "A" || groupOf(2) != "B" || groupOf(12) != "" {
			t.Errorf("groups: %q %q %q", groupOf(1), groupOf(2), groupOf(12))
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE starts_at IS NOT NULL AND ends_at > starts_at`); n != 12 {
			t.Errorf("%d enrolments with dates", n)
		}
		if rep, err := Run(ctx, db, src(false, 0), RunOptions{}); err != nil || rep.Changed+rep.Added+rep.Removed != 0 {
			t.Fatalf("rerun: %v %s", err, rep.Summary())
		}
		rep, err = Run(ctx, db, src(true, 3), RunOptions{Action: ActionUnenrol})
		if err != nil || rep.Summary() != "added 0, changed 1, removed 1" {
			t.Fatalf("move and drop: %v %s", err, rep.Summary())
		}
		if groupOf(1) != "B" || groupOf(3) != "" {
			t.Errorf("after move: u1 %q u3 %q", groupOf(1), groupOf(3))
		}
		if rep, err := Run(ctx, db, src(true, 3), RunOptions{}); err != nil || rep.Changed+rep.Added+rep.Removed != 0 {
			t.Fatalf("rerun: %v %s", err, rep.Summary())
		}
	})
}
