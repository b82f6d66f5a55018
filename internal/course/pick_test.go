package course_test

import (
	"context"
	"testing"

	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestTeacherPicksGroupsAndEnrolsLearnersOnly: a plain teacher picks the groups they belong to
// (and no other); enrolling a group enrols its learners, not its trainer (the teacher), who
// stays a teacher only. The same rule holds for a group sync's right to pick.
func TestTeacherPicksGroupsAndEnrolsLearnersOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		s := course.NewService(db, course.Config{})
		c := mustCourse(t, s, "HIST")
		tess, ann, bob := addUser(t, db, "Tess", "Teacher"), addUser(t, db, "Ann", "Archer"), addUser(t, db, "Bob", "Baker")
		mustEnrol(t, s, c.ID, course.Teacher, tess)
		for _, q := range []string{
			`INSERT INTO groups (id, name, created_at, updated_at) VALUES (1, 'Cohort', 0, 0), (2, 'Other', 0, 0)`,
			`INSERT INTO group_paths (ancestor_id, descendant_id, depth) VALUES (1, 1, 0), (2, 2, 0)`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
			VALUES (1, $1, 'trainer', 'manual', 0, 0), (1, $2, 'learner', 'manual', 0, 0), (2, $3, 'learner', 'manual', 0, 0)`,
			tess, ann, bob); err != nil {
			t.Fatal(err)
		}
		groups, err := s.PickableGroups(as(tess))
		if err != nil || len(groups) != 1 || groups[0].ID != 1 || groups[0].Members != 1 {
			t.Fatalf("pickable: %+v %v", groups, err)
		}
		if none, err := s.PickableGroups(as(bob + 1000)); err != nil || len(none) != 0 {
			t.Fatalf("a stranger picks %+v %v", none, err)
		}
		_, err = s.Enrol(as(tess), c.ID, course.EnrolRequest{GroupIDs: []int64{2}, Role: course.Student})
		wantCode(t, err, errs.Forbidden, "")
		_, err = s.AddMethod(as(tess), c.ID, course.Method{Type: course.GroupSync, GroupID: 2})
		wantCode(t, err, errs.Forbidden, "")

		res, err := s.Enrol(as(tess), c.ID, course.EnrolRequest{GroupIDs: []int64{1}, Role: course.Student})
		if err != nil || res.Enrolled != 1 {
			t.Fatalf("enrol the cohort: %+v %v", res, err)
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE course_id = $1 AND user_id = $2`, c.ID, tess); n != 1 {
			t.Errorf("the trainer teacher has %d enrolments, want 1 (teacher)", n)
		}
		if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE course_id = $1 AND user_id = $2 AND role = 'student'`, c.ID, ann); n != 1 {
			t.Errorf("the learner: %d student enrolments", n)
		}
	})
}

// TestSelfEnrolmentOpensTheCourse: a course with an enabled self-enrolment method is listed
// for self-enrolment to a logged-in person who is not in it, who may then view it and enrol
// with the key; disabled, the course is closed to them again.
func TestSelfEnrolmentOpensTheCourse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{})
		c := mustCourse(t, s, "OPEN")
		mustCourse(t, s, "CLOSED")
		lou := addUser(t, db, "Lou", "Learner")
		_, err := s.Get(as(lou), c.ID)
		wantCode(t, err, errs.Forbidden, "")
		m, err := s.AddMethod(admin, c.ID, course.Method{Type: course.Self, EnrolKey: "sesame"})
		if err != nil {
			t.Fatal(err)
		}
		list, _, err := s.List(as(lou), course.Filter{SelfEnrol: true})
		if err != nil || len(list) != 1 || list[0].ID != c.ID {
			t.Fatalf("open for self-enrolment: %+v %v", list, err)
		}
		if _, err := s.Get(as(lou), c.ID); err != nil {
			t.Fatalf("view a course open for self-enrolment: %v", err)
		}
		opts, err := s.SelfOptions(as(lou), c.ID)
		if err != nil || len(opts) != 1 || !opts[0].NeedsKey || !opts[0].Open() {
			t.Fatalf("options: %+v %v", opts, err)
		}
		wantCode(t, s.SelfEnrol(as(lou), c.ID, m.ID, "nope"), errs.Invalid, "key")
		if err := s.SelfEnrol(as(lou), c.ID, m.ID, "sesame"); err != nil {
			t.Fatal(err)
		}
		if list, _, _ := s.List(as(lou), course.Filter{SelfEnrol: true}); len(list) != 0 {
			t.Errorf("still offered once enrolled: %+v", list)
		}
		// Renamed, keyless, capped; and disabled, the course closes to others.
		name, key, max := "Door", "", 1
		if _, err := s.UpdateMethod(admin, c.ID, m.ID, course.MethodUpdate{Name: &name, EnrolKey: &key, MaxEnrolled: &max}); err != nil {
			t.Fatal(err)
		}
		other := addUser(t, db, "Oz", "Other")
		if opts, _ := s.SelfOptions(as(other), c.ID); len(opts) != 1 || !opts[0].Full || opts[0].NeedsKey {
			t.Errorf("capped options: %+v", opts)
		}
		if err := s.SetMethodEnabled(admin, c.ID, m.ID, false); err != nil {
			t.Fatal(err)
		}
		_, err = s.Get(as(other), c.ID)
		wantCode(t, err, errs.Forbidden, "")
		_, err = s.UpdateMethod(as(other), c.ID, m.ID, course.MethodUpdate{Name: &name})
		wantCode(t, err, errs.Forbidden, "")
	})
}
