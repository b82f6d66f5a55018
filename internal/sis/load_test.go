package sis

import (
	"context"
	"strings"
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestLoadHaveReadsStatusRoleDatesAndGroups checks the packed read of the enrolments a source
// made: a suspension by hand stays, one by the sync is lifted when the person comes back,
// roles (a custom one too), dates and course groups are read as written.
func TestLoadHaveReadsStatusRoleDatesAndGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		seed(t, db, 2, 4)
		src := csvSource(t, "c1,u1,student", "c1,u2,student", "c2,u3,teacher", "c2,u4,student")
		if _, err := Run(ctx, db, src, RunOptions{}); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// u1 suspended by hand, u2 by the sync; u4 given dates by hand.
		exec(`UPDATE course_enrolments SET status = 'suspended' WHERE user_id = 1`)
		exec(`UPDATE course_enrolments SET status = 'suspended', sync_suspended = true WHERE user_id = 2`)
		exec(`UPDATE course_enrolments SET starts_at = 100, ends_at = 200 WHERE user_id = 4`)
		have, methods, err := loadHave(ctx, db, "nightly")
		if err != nil || len(have) != 4 || len(methods) != 2 {
			t.Fatalf("loadHave: %v, %d rows, %d methods", err, len(have), len(methods))
		}
		for i, h := range have {
			if i > 0 && have[i-1].Key >= h.Key {
				t.Errorf("not in key order: %v", have)
			}
			want := Have{ID: h.Have.ID, Role: "student"}
			switch h.Key.User() {
			case 1:
				want.Suspended = true
			case 2:
				want.Suspended, want.BySync = true, true
			case 3:
				want.Role = "teacher"
			case 4:
				want.Starts, want.Ends = 100, 200
			}
			if h.Have != want || h.Key.Course() != int64(1+(h.Key.User()-1)/2) {
				t.Errorf("user %d: %+v, want %+v", h.Key.User(), h, want)
			}
		}
		rep, err := Run(ctx, db, csvSource(t, "c1,u1,student", "c1,u2,student", "c2,u3,teacher", "c2,u4,student"), RunOptions{})
		if err != nil || rep.Summary() != "added 0, changed 2, removed 0" { // u2 reactivated, u4's dates
			t.Fatalf("rerun: %v %s", err, rep.Summary())
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE status = 'suspended'`); n != 1 {
			t.Errorf("%d suspended, want u1's alone", n)
		}
		// A custom role, and a course group.
		exec(`INSERT INTO course_roles (shortname, name, base_role, created_at) VALUES ('tutor', 'Tutor', 'teacher', 0)`)
		exec(`UPDATE course_enrolments SET role = 'tutor' WHERE user_id = 3`)
		grouped, err := ReadCSV(strings.NewReader("course,user,role,group\nc1,u1,student,\nc1,u2,student,G\nc2,u3,tutor,\nc2,u4,student,\n"), "g.csv")
		if err != nil {
			t.Fatal(err)
		}
		grouped.Name = "nightly"
		if rep, err := Run(ctx, db, grouped, RunOptions{}); err != nil || rep.Summary() != "added 0, changed 1, removed 0" {
			t.Fatalf("grouped: %v %s", err, rep.Summary())
		}
		have, _, err = loadHave(ctx, db, "nightly")
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range have {
			if u := h.Key.User(); (u == 3 && h.Have.Role != "tutor") || (u == 2 && h.Have.Group != "G") || (u != 2 && h.Have.Group != "") {
				t.Errorf("user %d: %+v", u, h.Have)
			}
		}
	})
}
