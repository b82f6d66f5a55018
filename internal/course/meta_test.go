package course_test

import (
	"io"
	"log/slog"
	"testing"

	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestMetaKeepsRoles: a meta link gives each person their role in the linked course (a
// teacher stays a teacher, as with Moodle's meta link), optionally only for some roles, and
// follows role changes; the same meta link cannot be added twice; a disabled link keeps its
// people suspended until it is enabled again.
func TestMetaKeepsRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{})
		follower := course.NewFollower(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		parent := mustCourse(t, s, "PARENT")
		child := mustCourse(t, s, "CHILD")
		students := mustCourse(t, s, "STUDENTS-ONLY")
		tea := addUser(t, db, "Tess", "Teacher")
		aide := addUser(t, db, "Nina", "Aide")
		stu := addUser(t, db, "Sam", "Student")
		mustEnrol(t, s, parent.ID, course.Teacher, tea)
		mustEnrol(t, s, parent.ID, course.NonEditingTeacher, aide)
		mustEnrol(t, s, parent.ID, course.Student, stu)

		link, err := s.AddMethod(admin, child.ID, course.Method{Type: course.Meta, LinkedCourseID: parent.ID})
		if err != nil {
			t.Fatal(err)
		}
		roleOf := func(c, u int64) string {
			t.Helper()
			var r string
			if err := db.QueryRowContext(admin, `SELECT role || ':' || status FROM course_enrolments WHERE course_id = $1 AND user_id = $2`, c, u).Scan(&r); err != nil {
				return "none"
			}
			return r
		}
		for u, want := range map[int64]string{tea: "teacher:active", aide: "non_editing_teacher:active", stu: "student:active"} {
			if got := roleOf(child.ID, u); got != want {
				t.Errorf("user %d in CHILD: %s, want %s", u, got, want)
			}
		}
		// Only some roles.
		if _, err := s.AddMethod(admin, students.ID, course.Method{Type: course.Meta, LinkedCourseID: parent.ID,
			LinkedRoles: []string{course.Student}}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE course_id = $1`, students.ID); n != 1 || roleOf(students.ID, stu) != "student:active" {
			t.Errorf("students-only link: %d enrolments", n)
		}
		// The same link again is refused, with the field named.
		_, err = s.AddMethod(admin, child.ID, course.Method{Type: course.Meta, LinkedCourseID: parent.ID})
		wantCode(t, err, errs.Conflict, "course_id")

		// A role changed in the parent changes in the child.
		if _, err := db.ExecContext(admin, `UPDATE course_enrolments SET role = 'teacher' WHERE course_id = $1 AND user_id = $2`, parent.ID, aide); err != nil {
			t.Fatal(err)
		}
		drain(t, follower)
		if got := roleOf(child.ID, aide); got != "teacher:active" {
			t.Errorf("after the parent's change: %s", got)
		}
		// Disabled: everyone suspended; enabled: active again.
		if err := s.SetMethodEnabled(admin, child.ID, link.ID, false); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE method_id = $1 AND status = 'suspended'`, link.ID); n != 3 {
			t.Errorf("disabled: %d suspended", n)
		}
		drain(t, follower)
		if err := s.SetMethodEnabled(admin, child.ID, link.ID, true); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE method_id = $1 AND status = 'active'`, link.ID); n != 3 {
			t.Errorf("enabled again: %d active", n)
		}
	})
}
