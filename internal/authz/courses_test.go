package authz_test

import (
	"context"
	"testing"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// The courses of the test: Own (id 1, where each person below holds their role) and Other
// (id 2, taught by "other_teacher"), Hidden (id 3, not visible), Open (id 4, guest access).
func seedCourses(t *testing.T, db *store.DB, now time.Time) map[string]*authz.Principal {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO course_roles (shortname, name, base_role, created_at) VALUES ('secretariat', 'Secretariat', 'non_editing_teacher', 0)`)
	for _, c := range []struct {
		id      int64
		visible bool
	}{{1, true}, {2, true}, {3, false}, {4, true}} {
		exec(`INSERT INTO courses (id, shortname, fullname, visible, created_at, updated_at) VALUES ($1, $2, 'C', $3, 0, 0)`,
			c.id, "C"+string(rune('0'+c.id)), c.visible)
		exec(`INSERT INTO course_methods (id, course_id, type, role, created_at, updated_at) VALUES ($1, $1, 'manual', 'student', 0, 0)`, c.id)
	}
	exec(`INSERT INTO course_methods (id, course_id, type, role, created_at, updated_at) VALUES (10, 4, 'guest', 'guest', 0, 0)`)
	people := map[string]*authz.Principal{
		"platform_admin": {UserID: 200, PlatformAdmin: true},
		"anonymous":      nil,
		"scim_token":     {SCIMGroupID: 1},
	}
	enrol := []struct {
		who, role, status string
		course            int64
		ends              int64 // relative to now, in hours; 0 for none
	}{
		{"teacher", "teacher", "active", 1, 0},
		{"non_editing", "non_editing_teacher", "active", 1, 0},
		{"secretariat", "secretariat", "active", 1, 0},
		{"student", "student", "active", 1, 0},
		{"guest_role", "guest", "active", 1, 0},
		{"suspended_teacher", "teacher", "suspended", 1, 0},
		{"ended_teacher", "teacher", "active", 1, -1},
		{"other_teacher", "teacher", "active", 2, 0},
		{"outsider", "", "", 0, 0},
	}
	for i, e := range enrol {
		id := int64(300 + i)
		exec(`INSERT INTO users (id, username, email, email_norm, created_at, updated_at) VALUES ($1, $2, '', '', 0, 0)`, id, e.who)
		people[e.who] = &authz.Principal{UserID: id}
		if e.course == 0 {
			continue
		}
		var ends any
		if e.ends != 0 {
			ends = now.Add(time.Duration(e.ends) * time.Hour).Unix()
		}
		for _, c := range []int64{e.course, 3} { // everyone holds the same role in Hidden too
			if c == 3 && e.course != 1 {
				continue
			}
			exec(`INSERT INTO course_enrolments (course_id, method_id, user_id, role, status, ends_at, created_at, updated_at)
				VALUES ($1, $1, $2, $3, $4, $5, 0, 0)`, c, id, e.role, e.status, ends)
		}
	}
	return people
}

func TestCoursePermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		people := seedCourses(t, db, clock.T)
		ops := []authz.CourseOp{authz.ViewCourse, authz.ViewParticipants, authz.ManageParticipants, authz.ManageCourse}
		// allowed[who][course] lists the operations allowed, in the order of ops: v(iew),
		// p(articipants), e(nrol/manage participants), m(anage course); "-" forbidden.
		allowed := map[string]map[int64]string{
			"platform_admin":    {1: "vpem", 2: "vpem", 3: "vpem", 4: "vpem"},
			"teacher":           {1: "vpem", 2: "----", 3: "vpem", 4: "v---"},
			"non_editing":       {1: "vp--", 2: "----", 3: "vp--", 4: "v---"},
			"secretariat":       {1: "vp--", 2: "----", 3: "vp--", 4: "v---"},
			"student":           {1: "v---", 2: "----", 3: "----", 4: "v---"},
			"guest_role":        {1: "v---", 2: "----", 3: "----", 4: "v---"},
			"suspended_teacher": {1: "----", 2: "----", 3: "----", 4: "v---"},
			"ended_teacher":     {1: "----", 2: "----", 3: "----", 4: "v---"},
			"other_teacher":     {1: "----", 2: "vpem", 3: "----", 4: "v---"},
			"outsider":          {1: "----", 2: "----", 3: "----", 4: "v---"},
			"anonymous":         {1: "----", 2: "----", 3: "----", 4: "v---"},
			"scim_token":        {1: "----", 2: "----", 3: "----", 4: "v---"},
		}
		check := func(who string, course int64, want string) {
			t.Helper()
			ctx := context.Background()
			if p := people[who]; p != nil {
				ctx = authz.With(ctx, p)
			}
			for i, op := range ops {
				err := authz.CanInCourse(ctx, db, op, course, clock.T)
				ok := want[i] != '-'
				if ok != (err == nil) {
					t.Errorf("%s %s in course %d: got %v, want allowed=%v", who, op, course, err, ok)
				}
				if err != nil && who == "anonymous" && !errs.Is(err, errs.Unauthorized) {
					t.Errorf("anonymous %s: want unauthorized, got %v", op, err)
				}
				if err != nil && who != "anonymous" && !errs.Is(err, errs.Forbidden) {
					t.Errorf("%s %s: want forbidden, got %v", who, op, err)
				}
			}
		}
		for who, courses := range allowed {
			for course, want := range courses {
				check(who, course, want)
			}
		}
		// The platform may give students a read-only view of the list (of visible courses).
		if _, err := db.ExecContext(context.Background(), `INSERT INTO settings (key, value) VALUES ($1, 'true')`,
			authz.StudentsSeeParticipants); err != nil {
			t.Fatal(err)
		}
		check("student", 1, "vp--")
		check("student", 3, "----")
		check("guest_role", 1, "v---")
		if err := authz.CanCreateCourse(authz.With(context.Background(), people["teacher"])); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a teacher creates courses: %v", err)
		}
	})
}

func TestTeachesSomeCourse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		people := seedCourses(t, db, clock.T)
		want := map[string]bool{
			"platform_admin": true, "teacher": true, "other_teacher": true,
			"non_editing": false, "secretariat": false, "student": false, "guest_role": false,
			"suspended_teacher": false, "ended_teacher": false, "outsider": false, "anonymous": false, "scim_token": false,
		}
		for who, w := range want {
			ctx := context.Background()
			if p := people[who]; p != nil {
				ctx = authz.With(ctx, p)
			}
			got, err := authz.TeachesSomeCourse(ctx, db, clock.T)
			if err != nil || got != w {
				t.Errorf("%s: got %v %v, want %v", who, got, err, w)
			}
		}
		// A custom role based on teacher gives the same right.
		if _, err := db.ExecContext(context.Background(), `INSERT INTO course_roles (shortname, name, base_role, created_at)
			VALUES ('lead', 'Lead', 'teacher', 0)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(context.Background(), `UPDATE course_enrolments SET role = 'lead'
			WHERE user_id = $1`, people["student"].UserID); err != nil {
			t.Fatal(err)
		}
		ctx := authz.With(context.Background(), people["student"])
		if got, err := authz.TeachesSomeCourse(ctx, db, clock.T); err != nil || !got {
			t.Errorf("custom teacher role: %v %v", got, err)
		}
	})
}
