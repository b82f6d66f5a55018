package course_test

import (
	"io"
	"log/slog"
	"testing"

	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestSyncQueueTriggersAgree checks that the triggers of migrations 0008 and 0029 queue the
// same methods on both databases: a group sync when a membership moves to another group, a
// meta link when an enrolment of the followed course changes status or role; nothing when
// an update changes what neither follows (a membership's anchors, an enrolment's dates).
func TestSyncQueueTriggersAgree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{})
		gs := group.NewService(db)
		follower := course.NewFollower(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		from, err := gs.Create(admin, group.Group{Name: "From", Visibility: group.Private})
		if err != nil {
			t.Fatal(err)
		}
		to, err := gs.Create(admin, group.Group{Name: "To", Visibility: group.Private})
		if err != nil {
			t.Fatal(err)
		}
		ann, bob := addUser(t, db, "Ann", "Archer"), addUser(t, db, "Bob", "Baker")
		if err := gs.AddMember(admin, from.ID, ann, group.Learner, ""); err != nil {
			t.Fatal(err)
		}
		if err := gs.AddMember(admin, to.ID, bob, group.Learner, ""); err != nil {
			t.Fatal(err)
		}
		parent, synced, linked := mustCourse(t, s, "PARENT"), mustCourse(t, s, "SYNCED"), mustCourse(t, s, "LINKED")
		mustEnrol(t, s, parent.ID, course.Student, ann)
		sync, err := s.AddMethod(admin, synced.ID, course.Method{Type: course.GroupSync, GroupID: to.ID})
		if err != nil {
			t.Fatal(err)
		}
		meta, err := s.AddMethod(admin, linked.ID, course.Method{Type: course.Meta, LinkedCourseID: parent.ID})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, follower)
		step := func(name, update string, args []any, want ...int64) {
			t.Helper()
			if _, err := db.ExecContext(admin, update, args...); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			rows, err := db.QueryContext(admin, `SELECT method_id FROM course_sync_queue ORDER BY method_id`)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				got = append(got, id)
			}
			rows.Close()
			if len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
				t.Errorf("%s: queued %v, want %v", name, got, want)
			}
			drain(t, follower)
		}
		step("anchors changed", `UPDATE group_members SET anchors = false WHERE group_id = $1`, []any{to.ID})
		step("dates changed", `UPDATE course_enrolments SET starts_at = 1, ends_at = 4102444800 WHERE course_id = $1`, []any{parent.ID})
		step("role changed", `UPDATE course_enrolments SET role = 'teacher' WHERE course_id = $1`, []any{parent.ID}, meta.ID)
		step("status changed", `UPDATE course_enrolments SET status = 'suspended' WHERE course_id = $1`, []any{parent.ID}, meta.ID)
		step("membership moved", `UPDATE group_members SET group_id = $1 WHERE group_id = $2`, []any{to.ID, from.ID}, sync.ID)
	})
}
