package course_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestCreateAndBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{})
		c := mustCourse(t, s, "BIO101")
		_, err := s.Create(admin, course.Course{Shortname: "bio101", Fullname: "Again"})
		wantCode(t, err, errs.Conflict, "shortname")
		_, err = s.Create(admin, course.Course{Shortname: " ", Fullname: ""})
		wantCode(t, err, errs.Invalid, "shortname")
		_, err = s.Create(as(1), course.Course{Shortname: "X", Fullname: "X"})
		wantCode(t, err, errs.Forbidden, "")

		ann := addUser(t, db, "Ann", "Archer")
		bob := addUser(t, db, "Bob", "Baker")
		before := count(t, db, `SELECT count(*) FROM course_enrolments`)
		start := clock.T.Add(48 * time.Hour)
		end := clock.T.Add(24 * time.Hour)
		cases := []struct {
			name  string
			req   course.EnrolRequest
			code  errs.Code
			field string
		}{
			{"unknown user", course.EnrolRequest{UserIDs: []int64{ann, 999999}, Role: course.Student}, errs.NotFound, "user_ids"},
			{"unknown role", course.EnrolRequest{UserIDs: []int64{ann}, Role: "wizard"}, errs.Invalid, "role"},
			{"end before start", course.EnrolRequest{UserIDs: []int64{ann}, Role: course.Student, StartsAt: &start, EndsAt: &end}, errs.Invalid, "ends_at"},
			{"nobody", course.EnrolRequest{Role: course.Student}, errs.Invalid, "user_ids"},
			{"unknown method", course.EnrolRequest{UserIDs: []int64{ann}, MethodID: 424242}, errs.NotFound, "method_id"},
			{"unknown group", course.EnrolRequest{GroupIDs: []int64{4242}}, errs.NotFound, "group_ids"},
		}
		for _, tc := range cases {
			_, err := s.Enrol(admin, c.ID, tc.req)
			if !errs.Is(err, tc.code) {
				t.Fatalf("%s: want %s, got %v", tc.name, tc.code, err)
			}
			wantCode(t, err, tc.code, tc.field)
		}
		mustEnrol(t, s, c.ID, course.Student, ann)
		// Twice by the same method: a clear error naming who, and nothing changed (bob neither).
		_, err = s.Enrol(admin, c.ID, course.EnrolRequest{UserIDs: []int64{bob, ann}, Role: course.Student})
		wantCode(t, err, errs.Conflict, "user_ids")
		if got := count(t, db, `SELECT count(*) FROM course_enrolments`); got != before+1 {
			t.Fatalf("enrolments = %d, want %d: a failed enrol changed something", got, before+1)
		}
		_, err = s.AddMethod(admin, c.ID, course.Method{Type: "carrier_pigeon"})
		wantCode(t, err, errs.Invalid, "type")
		_, err = s.AddMethod(admin, c.ID, course.Method{Type: course.GroupSync})
		wantCode(t, err, errs.Invalid, "group_id")
		_, err = s.AddMethod(admin, c.ID, course.Method{Type: course.Meta, LinkedCourseID: c.ID})
		wantCode(t, err, errs.Invalid, "course_id")
		_, err = s.AddMethod(admin, c.ID, course.Method{Type: course.Manual, Role: "nobody"})
		wantCode(t, err, errs.Invalid, "role")
		_, err = s.SetDates(admin, c.ID, []int64{ann}, &start, &end)
		wantCode(t, err, errs.Invalid, "ends_at")
		_, err = s.SetStatus(admin, c.ID, []int64{bob}, course.Suspended)
		wantCode(t, err, errs.NotFound, "user_ids")
		_, err = s.Update(admin, c.ID, course.Update{Fullname: new(string)})
		wantCode(t, err, errs.Invalid, "fullname")
		if _, err := s.Get(admin, 999); !errs.Is(err, errs.NotFound) {
			t.Fatalf("get unknown course: %v", err)
		}

		// Custom roles: named by platform admins, with the rights of a built-in one.
		r, err := s.CreateRole(admin, course.Role{Shortname: "secretariat", Name: "Secretariat", BaseRole: course.NonEditingTeacher})
		if err != nil || r.BaseRole != course.NonEditingTeacher {
			t.Fatalf("create role: %v", err)
		}
		_, err = s.CreateRole(admin, course.Role{Shortname: "secretariat", Name: "Again", BaseRole: course.Student})
		wantCode(t, err, errs.Conflict, "shortname")
		_, err = s.CreateRole(admin, course.Role{Shortname: "boss", Name: "Boss", BaseRole: "emperor"})
		wantCode(t, err, errs.Invalid, "base_role")
		_, err = s.CreateRole(as(ann), course.Role{Shortname: "boss", Name: "Boss", BaseRole: course.Teacher})
		wantCode(t, err, errs.Forbidden, "")
		mustEnrol(t, s, c.ID, "secretariat", bob)
		if err := s.RightsIn(as(bob), c.ID); !err.ViewParticipants || err.ManageParticipants {
			t.Fatalf("a secretariat (non-editing teacher) rights = %+v", err)
		}
	})
}

func TestParticipantsMethodsAndBulk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		s := course.NewService(db, course.Config{})
		c := mustCourse(t, s, "HIST")
		teacher := addUser(t, db, "Tess", "Teacher")
		ann := addUser(t, db, "Ann", "Archer")
		bob := addUser(t, db, "Bob", "=Baker")
		cid := addUser(t, db, "Cid", "Cole")
		mustEnrol(t, s, c.ID, course.Teacher, teacher)
		tctx := as(teacher)
		if _, err := s.Enrol(tctx, c.ID, course.EnrolRequest{UserIDs: []int64{ann, bob, cid}, Role: course.Student}); err != nil {
			t.Fatal(err)
		}
		// A second way in for Ann: self-enrolment with a key.
		self, err := s.AddMethod(tctx, c.ID, course.Method{Type: course.Self, EnrolKey: "sesame", MaxEnrolled: 2})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.SelfEnrol(as(ann), c.ID, self.ID, "wrong"), errs.Invalid, "key")
		if err := s.SelfEnrol(as(ann), c.ID, self.ID, "sesame"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.SelfEnrol(as(ann), c.ID, self.ID, "sesame"), errs.Conflict, "user_ids")
		dora := addUser(t, db, "Dora", "Dunn")
		if err := s.SelfEnrol(as(dora), c.ID, self.ID, "sesame"); err != nil {
			t.Fatal(err)
		}
		eve := addUser(t, db, "Eve", "Evans")
		wantCode(t, s.SelfEnrol(as(eve), c.ID, self.ID, "sesame"), errs.Conflict, "")

		g, err := s.CreateGroup(tctx, c.ID, "Distance")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddToGroup(tctx, c.ID, g.ID, []int64{ann, cid}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.AddToGroup(tctx, c.ID, g.ID, []int64{eve}), errs.NotFound, "user_ids")
		// Cid's enrolment is over; Bob is suspended.
		past, ended := clock.T.Add(-72*time.Hour), clock.T.Add(-time.Hour)
		if _, err := s.SetDates(tctx, c.ID, []int64{cid}, &past, &ended); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetStatus(tctx, c.ID, []int64{bob}, course.Suspended); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchAccess(as(ann), c.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * 24 * time.Hour)
		if err := s.TouchAccess(as(teacher), c.ID); err != nil {
			t.Fatal(err)
		}

		list := func(f course.ParticipantFilter) []string {
			t.Helper()
			p, err := s.Participants(tctx, c.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			return names(p)
		}
		checks := []struct {
			f    course.ParticipantFilter
			want string
		}{
			{course.ParticipantFilter{}, "[=Baker Bob Archer Ann Cole Cid Dunn Dora Teacher Tess]"},
			{course.ParticipantFilter{Desc: true}, "[Teacher Tess Dunn Dora Cole Cid Archer Ann =Baker Bob]"},
			{course.ParticipantFilter{Role: course.Student}, "[=Baker Bob Archer Ann Cole Cid Dunn Dora]"},
			{course.ParticipantFilter{Role: course.Teacher}, "[Teacher Tess]"},
			{course.ParticipantFilter{Status: course.Suspended}, "[=Baker Bob]"},
			{course.ParticipantFilter{Status: course.NotCurrent}, "[Cole Cid]"},
			{course.ParticipantFilter{Status: course.Active, Role: course.Student}, "[Archer Ann Dunn Dora]"},
			{course.ParticipantFilter{Method: course.Self}, "[Archer Ann Dunn Dora]"},
			{course.ParticipantFilter{Method: fmt.Sprint(self.ID), Q: "ann"}, "[Archer Ann]"},
			{course.ParticipantFilter{GroupID: g.ID}, "[Archer Ann Cole Cid]"},
			{course.ParticipantFilter{GroupID: course.NoGroup, Role: course.Student}, "[=Baker Bob Dunn Dora]"},
			{course.ParticipantFilter{InactiveDays: 5}, "[=Baker Bob Archer Ann Cole Cid Dunn Dora]"},
			{course.ParticipantFilter{Q: "example.org", Sort: "firstname", Limit: 2, Offset: 1}, "[=Baker Bob Cole Cid]"},
			{course.ParticipantFilter{Sort: "lastaccess"}, "[Archer Ann Teacher Tess =Baker Bob Cole Cid Dunn Dora]"},
			{course.ParticipantFilter{Sort: "groups", Role: course.Student}, "[Archer Ann Cole Cid =Baker Bob Dunn Dora]"},
			{course.ParticipantFilter{Sort: "status", Desc: true, Role: course.Student}, "[Archer Ann Dunn Dora Cole Cid =Baker Bob]"},
			{course.ParticipantFilter{Sort: "roles", Desc: true}, "[Teacher Tess =Baker Bob Archer Ann Cole Cid Dunn Dora]"},
		}
		for _, ch := range checks {
			if got := fmt.Sprint(list(ch.f)); got != ch.want {
				t.Errorf("%+v:\n got %s\nwant %s", ch.f, got, ch.want)
			}
		}
		p, err := s.Participants(tctx, c.ID, course.ParticipantFilter{Q: "archer"})
		if err != nil || p.Total != 1 || len(p.Items[0].Enrolments) != 2 || fmt.Sprint(p.Items[0].Groups) != "[Distance]" {
			t.Fatalf("Ann's row: %+v %v", p, err)
		}
		_, err = s.Participants(tctx, c.ID, course.ParticipantFilter{Sort: "shoe_size"})
		wantCode(t, err, errs.Invalid, "sort")

		// Unenrolling Ann by the manual method keeps her self-enrolment and her row.
		manual := p.Items[0].Enrolments[0].MethodID
		res, err := s.Unenrol(tctx, c.ID, []int64{ann}, manual)
		if err != nil || res.Changed != 1 {
			t.Fatalf("unenrol: %+v %v", res, err)
		}
		p, _ = s.Participants(tctx, c.ID, course.ParticipantFilter{Q: "archer"})
		if p.Total != 1 || len(p.Items[0].Enrolments) != 1 || p.Items[0].Enrolments[0].MethodType != course.Self {
			t.Fatalf("after unenrolling one method: %+v", p.Items)
		}
		if _, err := s.Unenrol(tctx, c.ID, []int64{ann}, 0); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM course_group_members WHERE user_id = $1`, ann); n != 0 {
			t.Fatalf("an unenrolled person stays in %d course groups", n)
		}
		_ = ctx

		// Students see nothing of the list unless the platform allows a read-only view.
		_, err = s.Participants(as(dora), c.ID, course.ParticipantFilter{})
		wantCode(t, err, errs.Forbidden, "")
		if _, err := db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('courses.students_see_participants', 'true')`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Participants(as(dora), c.ID, course.ParticipantFilter{}); err != nil {
			t.Fatalf("read-only view: %v", err)
		}
		_, err = s.SetStatus(as(dora), c.ID, []int64{bob}, course.Active)
		wantCode(t, err, errs.Forbidden, "")
	})
}
