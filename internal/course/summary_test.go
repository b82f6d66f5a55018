package course_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"roster/internal/course"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// summaryFilters are the benchmark's combinations and every sort in both directions.
func summaryFilters() []course.ParticipantFilter {
	fs := append([]course.ParticipantFilter{}, filters...)
	for _, col := range course.SortColumns {
		fs = append(fs, course.ParticipantFilter{Sort: col, Offset: 25}, course.ParticipantFilter{Sort: col, Desc: true, Offset: 7, Limit: 50},
			course.ParticipantFilter{Sort: col, Desc: true, Limit: course.All, Status: course.Active})
	}
	return append(fs, course.ParticipantFilter{Limit: course.All, Offset: 250}, course.ParticipantFilter{GroupID: 999},
		course.ParticipantFilter{Method: "999"}, course.ParticipantFilter{Q: "u000_"}, course.ParticipantFilter{Role: "non_editing_teacher"})
}

// sameAsEnrolments checks that the list read from the summary equals the list read from the
// enrolments for every filter, and that it was read from the summary. A first page starts the
// summary's rebuild (in the background for a course of more than
// course.DefaultRebuildInBackgroundOver people), which it waits for.
func sameAsEnrolments(t *testing.T, db *store.DB, s *course.Service, id int64, what string) {
	t.Helper()
	if _, err := s.Participants(admin, id, course.ParticipantFilter{}); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	s.WaitRebuilds()
	for _, f := range summaryFilters() {
		got, err := s.Participants(admin, id, f)
		if err != nil {
			t.Fatalf("%s: %+v: %v", what, f, err)
		}
		want, err := course.LiveParticipants(admin, s, id, f)
		if err != nil {
			t.Fatalf("%s: %+v: %v", what, f, err)
		}
		if g, w := fmt.Sprintf("%d %+v", got.Total, got.Items), fmt.Sprintf("%d %+v", want.Total, want.Items); g != w {
			t.Fatalf("%s: %+v: the summary's list differs from the enrolments'\n got %.600s\nwant %.600s", what, f, g, w)
		}
	}
	sameBrief(t, s, id, what)
	var stale bool
	if err := db.QueryRowContext(context.Background(), `SELECT stale FROM course_participants_state WHERE course_id = $1`, id).
		Scan(&stale); err != nil || stale {
		t.Fatalf("%s: state stale %v (%v), want built", what, stale, err)
	}
	if n, all := count(t, db, `SELECT count(*) FROM course_participants WHERE course_id = $1`, id),
		count(t, db, `SELECT count(DISTINCT user_id) FROM course_enrolments WHERE course_id = $1`, id); n != all {
		t.Fatalf("%s: %d summary rows for %d participants", what, n, all)
	}
}

// sameBrief checks that the list a spreadsheet export reads (each person's roles, methods and
// groups as lists of the list's own statement), from the summary and from the enrolments,
// shows what the full list does: names, status, roles, groups, and each enrolment's method,
// type and role in the same order.
func sameBrief(t *testing.T, s *course.Service, id int64, what string) {
	t.Helper()
	brief := func(p course.Participant) string {
		var es []string
		for _, e := range p.Enrolments {
			es = append(es, fmt.Sprintf("%d/%s/%s", e.MethodID, e.MethodType, e.Role))
		}
		return fmt.Sprintf("%d %s %s %s %s %s %v %q %q %v %v%v\n", p.UserID, p.FirstName, p.LastName, p.Email, p.Username,
			p.Status, p.LastAccess, p.Roles, p.Groups, es, p.EmailHidden, p.UsernameHidden)
	}
	for _, f := range []course.ParticipantFilter{{}, {Sort: "groups", Desc: true, Status: course.Active}, {Q: "u00"}} {
		f.Limit = course.All
		full, err := course.LiveParticipants(admin, s, id, f)
		if err != nil {
			t.Fatalf("%s: %+v: %v", what, f, err)
		}
		var want string
		for _, p := range full.Items {
			want += brief(p)
		}
		for _, live := range []bool{false, true} {
			got, err := course.BriefParticipants(admin, s, id, f, live)
			if err != nil {
				t.Fatalf("%s: %+v (live %v): %v", what, f, live, err)
			}
			var g string
			for _, p := range got.Items {
				g += brief(p)
			}
			if g != want || got.Total != full.Total {
				t.Fatalf("%s: %+v (live %v): the export's list differs from the full list\n got %d %.900s\nwant %d %.900s",
					what, f, live, got.Total, g, full.Total, want)
			}
		}
	}
}

// TestSummaryFollowsWrites reads the participants list after each kind of write that changes
// it: the list, read from the summary, equals the one read from the enrolments.
func TestSummaryFollowsWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		s := course.NewService(db, course.Config{})
		t.Cleanup(func() { s.Close() })
		id := buildFixture(t, db, fixture{Courses: 5, BigParticipants: 300, Enrolments: 500})
		now := db.Now().Unix()
		sameAsEnrolments(t, db, s, id, "first list")
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		writes := []struct {
			what string
			do   func()
		}{
			{"enrol", func() { mustEnrol(t, s, id, "teacher", 450, 451) }},
			{"enrol by a second method", func() {
				// As the nightly sync and imports enrol (SQLite: no trigger, EnrolManyTx marks).
				if err := db.Tx(ctx, func(tx *store.Tx) error {
					_, err := course.EnrolManyTx(ctx, tx, []course.EnrolRow{{CourseID: 1, MethodID: 6, UserID: 7, Role: "teacher"}})
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}},
			{"unenrol", func() { exec(`DELETE FROM course_enrolments WHERE course_id = 1 AND user_id IN (3, 10)`) }},
			{"unenrol from one method", func() { exec(`DELETE FROM course_enrolments WHERE course_id = 1 AND user_id = 15 AND method_id = 6`) }},
			{"change role", func() { exec(`UPDATE course_enrolments SET role = 'teacher' WHERE course_id = 1 AND user_id = 11`) }},
			{"suspend", func() {
				exec(`UPDATE course_enrolments SET status = 'suspended' WHERE course_id = 1 AND user_id IN (12, 13)`)
			}},
			{"end dates", func() { exec(`UPDATE course_enrolments SET ends_at = $1 WHERE course_id = 1 AND user_id = 14`, now-10) }},
			{"start dates", func() {
				exec(`UPDATE course_enrolments SET starts_at = $1 WHERE course_id = 1 AND user_id = 16`, now+86400)
			}},
			{"join a group", func() {
				exec(`INSERT INTO course_group_members (course_group_id, user_id, method_id, created_at) VALUES (7, 17, 1, 0)`)
			}},
			{"join groups by two methods", func() {
				// 17 is in 8 (the fixture), 7 (above), 9 (renamed below to sort first), and in 8 by a second method.
				exec(`INSERT INTO course_group_members (course_group_id, user_id, method_id, created_at) VALUES (9, 17, 0, 0), (8, 17, 1, 0)`)
			}},
			{"leave a group", func() { exec(`DELETE FROM course_group_members WHERE user_id IN (18, 19)`) }},
			{"rename a group", func() { exec(`UPDATE course_groups SET name = 'A first' WHERE id = 9`) }},
			{"delete a group", func() { exec(`DELETE FROM course_groups WHERE id = 4`) }},
			{"rename a person", func() { exec(`UPDATE users SET last_name = 'Aaron', first_name = 'Zoe' WHERE id = 20`) }},
			{"change an address and a username", func() {
				exec(`UPDATE users SET email = 'zz@example.org', email_norm = 'zz@example.org', username = 'aa' WHERE id = 21`)
			}},
			{"access the course", func() {
				exec(`UPDATE course_access SET last_access_at = $1 WHERE course_id = 1 AND user_id = 22`, now+5)
				exec(`INSERT INTO course_access (course_id, user_id, last_access_at) VALUES (1, 29, $1)`, now-400*86400)
			}},
			{"delete a person", func() { exec(`DELETE FROM users WHERE id = 23`) }},
			{"time passes an end date", func() {
				exec(`UPDATE course_enrolments SET ends_at = $1 WHERE course_id = 1 AND user_id = 24`, now+100)
				sameAsEnrolments(t, db, s, id, "before the end date")
				clock.Advance(200 * time.Second)
			}},
			{"time passes a start date", func() {
				exec(`UPDATE course_enrolments SET starts_at = $1 WHERE course_id = 1 AND user_id = 26`, clock.Now().Unix()+100)
				sameAsEnrolments(t, db, s, id, "before the start date")
				clock.Advance(200 * time.Second)
			}},
		}
		for _, w := range writes {
			w.do()
			sameAsEnrolments(t, db, s, id, w.what)
		}
		// A course deleted takes its summary with it.
		exec(`DELETE FROM courses WHERE id = 1`)
		if n := count(t, db, `SELECT count(*) FROM course_participants WHERE course_id = 1`) +
			count(t, db, `SELECT count(*) FROM course_participants_state WHERE course_id = 1`); n != 0 {
			t.Fatalf("%d summary rows left", n)
		}
	})
}

// TestStaleBigCourseRebuildsInBackground: the page of a stale course of more people than
// Config.RebuildInBackgroundOver is read from the enrolments without waiting for the summary's
// rebuild, which runs in the background, once at a time; the lists after it read the summary.
func TestStaleBigCourseRebuildsInBackground(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{RebuildInBackgroundOver: 100})
		t.Cleanup(func() { s.Close() })
		id := buildFixture(t, db, fixture{Courses: 5, BigParticipants: 300, Enrolments: 500})
		stale := func() bool {
			t.Helper()
			return count(t, db, `SELECT count(*) FROM course_participants_state WHERE course_id = $1 AND stale`, id) == 1
		}
		if !stale() {
			t.Fatal("the fixture's course is not stale")
		}
		started := make(chan int64, 10)
		release := make(chan struct{})
		course.HoldRebuilds(t, func(c int64) { started <- c }, release)
		filters := []course.ParticipantFilter{{}, {Sort: "roles", Desc: true, Offset: 40}, {Q: "u00", Limit: 10}}
		for _, f := range filters {
			got, err := s.Participants(admin, id, f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := course.LiveParticipants(admin, s, id, f)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := fmt.Sprintf("%d %+v", got.Total, got.Items), fmt.Sprintf("%d %+v", want.Total, want.Items); g != w || got.Total == 0 {
				t.Fatalf("%+v: page while stale\n got %.300s\nwant %.300s", f, g, w)
			}
		}
		// One rebuild started, held: the pages above answered without it.
		if c := <-started; c != id {
			t.Fatalf("rebuild of course %d, want %d", c, id)
		}
		if !stale() || count(t, db, `SELECT count(*) FROM course_participants WHERE course_id = $1`, id) != 0 {
			t.Fatal("the summary was rebuilt before the pages")
		}
		close(release)
		s.WaitRebuilds()
		if len(started) != 0 {
			t.Fatalf("%d more rebuilds of the course started", len(started))
		}
		if stale() {
			t.Fatal("still stale after the background rebuild")
		}
		sameAsEnrolments(t, db, s, id, "after the background rebuild")

		// A write marks it stale again: the next page rebuilds it in the background again.
		mustEnrol(t, s, id, "teacher", 450)
		if p, err := s.Participants(admin, id, course.ParticipantFilter{}); err != nil || p.Total != 301 {
			t.Fatalf("after enrolling: %v, %+v", err, p)
		}
		s.WaitRebuilds()
		if len(started) != 1 || stale() {
			t.Fatalf("%d rebuilds after the write, stale %v; want 1, built", len(started), stale())
		}
		<-started

		// Closed, the service rebuilds before the page (nothing runs after Close).
		s.Close()
		mustEnrol(t, s, id, "teacher", 451)
		if _, err := s.Participants(admin, id, course.ParticipantFilter{}); err != nil {
			t.Fatal(err)
		}
		if len(started) != 0 || stale() {
			t.Fatalf("after Close: %d background rebuilds, stale %v", len(started), stale())
		}
	})
}
