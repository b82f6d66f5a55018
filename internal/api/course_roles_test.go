package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// courseRig is the rig with the API's routes and the course service.
func courseRig(t *testing.T, db *store.DB) (*rig, *course.Service) {
	r := newRig(t, db)
	courses := course.NewService(db, course.Config{})
	mux := http.NewServeMux()
	New(Config{}, Services{Log: slog.New(slog.DiscardHandler), DB: db, Accounts: r.accounts, Courses: courses}).Routes(mux)
	r.h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := audit.WithIP(req.Context(), "192.0.2.7")
		if p := r.who[req.Header.Get("X-As")]; p != nil {
			ctx = authz.With(ctx, p)
		}
		mux.ServeHTTP(w, req.WithContext(ctx))
	})
	return r, courses
}

func TestCourseRolesAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r, _ := courseRig(t, db)
		ann := r.user("ann", "ann@example.org")
		r.who["ann"] = &authz.Principal{UserID: ann.ID}

		var created CourseRole
		if code, body := r.do("admin", "POST", "/api/v1/course-roles",
			`{"shortname":"secretariat","name":"Secretariat","base_role":"non_editing_teacher"}`, &created); code != 201 ||
			created.Shortname != "secretariat" || created.BaseRole != "non_editing_teacher" || created.Builtin {
			t.Fatalf("create: %d %s", code, body)
		}
		for body, field := range map[string]string{
			`{"shortname":"X Y","name":"N","base_role":"student"}`:           "shortname",
			`{"shortname":"ok_role","name":"","base_role":"student"}`:        "name",
			`{"shortname":"ok_role","name":"N","base_role":"emperor"}`:       "base_role",
			`{"shortname":"ok_role","name":"N","base_role":"student","x":1}`: "x",
		} {
			if code, resp := r.do("admin", "POST", "/api/v1/course-roles", body, nil); code != 422 ||
				!strings.Contains(resp, `"field":"`+field+`"`) {
				t.Errorf("%s: %d %s", body, code, resp)
			}
		}
		if code, resp := r.do("admin", "POST", "/api/v1/course-roles",
			`{"shortname":"secretariat","name":"Again","base_role":"student"}`, nil); code != 409 || !strings.Contains(resp, `"field":"shortname"`) {
			t.Errorf("duplicate: %d %s", code, resp)
		}
		if code, resp := r.do("ann", "POST", "/api/v1/course-roles",
			`{"shortname":"boss","name":"Boss","base_role":"teacher"}`, nil); code != 403 {
			t.Errorf("not an admin: %d %s", code, resp)
		}
		var list List[CourseRole]
		if code, body := r.do("ann", "GET", "/api/v1/course-roles", "", &list); code != 200 || len(list.Items) != 5 ||
			list.Items[0].Shortname != "teacher" || !list.Items[0].Builtin || list.Items[4].Shortname != "secretariat" {
			t.Fatalf("list: %d %s", code, body)
		}
		if code, _ := r.do("", "GET", "/api/v1/course-roles", "", nil); code != 401 {
			t.Errorf("anonymous list: %d", code)
		}
	})
}

// Removing an enrolment method removes its enrolments and keeps those by other methods.
func TestDeleteMethodAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r, courses := courseRig(t, db)
		admin := authz.With(bg, authz.System)
		c, err := courses.Create(admin, course.Course{Shortname: "math", Fullname: "Maths", Visible: true})
		if err != nil {
			t.Fatal(err)
		}
		ann, bob, tess, stu := r.user("ann", "ann@x.org"), r.user("bob", "bob@x.org"), r.user("tess", "tess@x.org"), r.user("stu", "stu@x.org")
		r.who["tess"], r.who["stu"] = &authz.Principal{UserID: tess.ID}, &authz.Principal{UserID: stu.ID}
		if _, err := courses.Enrol(admin, c.ID, course.EnrolRequest{UserIDs: []int64{ann.ID, bob.ID, stu.ID}, Role: course.Student}); err != nil {
			t.Fatal(err)
		}
		if _, err := courses.Enrol(admin, c.ID, course.EnrolRequest{UserIDs: []int64{tess.ID}, Role: course.Teacher}); err != nil {
			t.Fatal(err)
		}
		var second Method
		if code, body := r.do("admin", "POST", fmt.Sprintf("/api/v1/courses/%d/methods", c.ID),
			`{"type":"manual","name":"Second","role":"student"}`, &second); code != 201 {
			t.Fatalf("second method: %d %s", code, body)
		}
		var secondID int64
		fmt.Sscan(second.ID, &secondID)
		if _, err := courses.Enrol(admin, c.ID, course.EnrolRequest{UserIDs: []int64{ann.ID}, MethodID: secondID}); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/courses/%d/methods/%s", c.ID, second.ID)
		if code, _ := r.do("stu", "DELETE", path, "", nil); code != 403 {
			t.Fatalf("a student deletes a method: %d", code)
		}
		count := func(q string, args ...any) int {
			var n int
			if err := db.QueryRowContext(bg, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if code, body := r.do("tess", "DELETE", path, "", nil); code != 204 {
			t.Fatalf("the teacher deletes a method: %d %s", code, body)
		}
		if n := count(`SELECT COUNT(*) FROM course_methods WHERE id = $1`, secondID); n != 0 {
			t.Errorf("the method is still there")
		}
		// Ann keeps her enrolment by the first method; nobody keeps one by the second.
		if n := count(`SELECT COUNT(*) FROM course_enrolments WHERE course_id = $1 AND user_id = $2`, c.ID, ann.ID); n != 1 {
			t.Errorf("ann has %d enrolments, want 1", n)
		}
		if n := count(`SELECT COUNT(*) FROM course_enrolments WHERE method_id = $1`, secondID); n != 0 {
			t.Errorf("%d enrolments by the deleted method", n)
		}
		if code, body := r.do("tess", "DELETE", path, "", nil); code != 404 || !strings.Contains(body, `"field":"method_id"`) {
			t.Errorf("again: %d %s", code, body)
		}
		if code, _ := r.do("admin", "DELETE", fmt.Sprintf("/api/v1/courses/%d/methods/abc", c.ID), "", nil); code != 404 {
			t.Errorf("bad id: %d", code)
		}
		// Deleting the manual method unenrols everyone it enrolled, the teacher included.
		var first int64
		if err := db.QueryRowContext(bg, `SELECT id FROM course_methods WHERE course_id = $1 AND type = 'manual'`, c.ID).Scan(&first); err != nil {
			t.Fatal(err)
		}
		if code, body := r.do("admin", "DELETE", fmt.Sprintf("/api/v1/courses/%d/methods/%d", c.ID, first), "", nil); code != 204 {
			t.Fatalf("delete manual: %d %s", code, body)
		}
		if n := count(`SELECT COUNT(*) FROM course_enrolments WHERE course_id = $1`, c.ID); n != 0 {
			t.Errorf("%d enrolments left", n)
		}
	})
}
