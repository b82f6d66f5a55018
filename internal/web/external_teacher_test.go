package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
)

// TestExternalUsersBlockForTeachers: the dashboard's "External users" block shows for a
// teacher (with their courses) and not for a student; the teacher's "Add" creates the account
// and enrols it in the chosen course. And the course roles admin page.
func TestExternalUsersBlockForTeachers(t *testing.T) {
	rg := newRig(t)
	db, ctx, courses, create := rg.db, rg.ctx, rg.courses, rg.user
	admin := create(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	tess := create(account.NewUser{Email: "tess@example.org", FirstName: "Tess", LastName: "Teacher"})
	stu := create(account.NewUser{Email: "stu@example.org", FirstName: "Stu", LastName: "Dent"})
	sys := authz.With(ctx, authz.System)
	mine, err := courses.Create(sys, course.Course{Shortname: "MINE", Fullname: "My course", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	other, err := courses.Create(sys, course.Course{Shortname: "OTHER", Fullname: "Other course", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		course int64
		user   int64
		role   string
	}{{mine.ID, tess.ID, course.Teacher}, {other.ID, tess.ID, course.Student}, {mine.ID, stu.ID, course.Student}} {
		if _, err := courses.Enrol(sys, e.course, course.EnrolRequest{UserIDs: []int64{e.user}, Role: e.role}); err != nil {
			t.Fatal(err)
		}
	}
	call, want := rg.call, rg.want
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The teacher sees the block with their course only (not the one they study in).
	code, body, _ := call(tess, "GET", "/", nil)
	want(code, body, 200, `id="external-users"`, "External users", `name="course_id"`, "My course (MINE)")
	// (The dashboard lists both courses under "My courses": the block is what follows.)
	if block := body[strings.Index(body, `id="external-users"`):]; strings.Contains(block, "Other course") || strings.Contains(body, `href="/external/new"`) {
		t.Fatalf("the teacher's block offers another course or the full form:\n%s", body)
	}
	code, body, _ = call(tess, "GET", "/?lang=fr", nil)
	want(code, body, 200, "Utilisateurs externes", "Inscrire dans mon cours")
	call(tess, "GET", "/?lang=en", nil) // the switch is saved on the account: back to English
	// The student does not.
	code, body, _ = call(stu, "GET", "/", nil)
	want(code, body, 200)
	if strings.Contains(body, `id="external-users"`) {
		t.Fatalf("a student sees the block:\n%s", body)
	}

	// The teacher adds someone into their course.
	code, body, _ = call(tess, "POST", "/external/new", url.Values{"quick": {"1"}, "last_name": {"Speaker"},
		"first_name": {"Ext"}, "email": {"ext@uni.test"}, "course_id": {fmt.Sprint(mine.ID)}})
	want(code, body, 200, "The account ext@uni.test was created.")
	if n := count(`SELECT COUNT(*) FROM course_enrolments e JOIN users u ON u.id = e.user_id
		WHERE e.course_id = $1 AND u.email = 'ext@uni.test' AND e.role = 'student'`, mine.ID); n != 1 {
		t.Fatalf("%d enrolments of the new account", n)
	}
	if n := count(`SELECT COUNT(*) FROM outbox WHERE template = 'account_setup' AND to_addr = 'ext@uni.test'`); n != 1 {
		t.Fatalf("%d account_setup emails", n)
	}
	users := count(`SELECT COUNT(*) FROM users`)
	// Not into a course they do not teach; a student not at all; errors name the fields.
	code, body, _ = call(tess, "POST", "/external/new", url.Values{"quick": {"1"}, "last_name": {"No"},
		"first_name": {"Way"}, "email": {"no@uni.test"}, "course_id": {fmt.Sprint(other.ID)}})
	want(code, body, 403, "you may not manage the participants of this course", `value="no@uni.test"`)
	code, body, _ = call(tess, "POST", "/external/new", url.Values{"quick": {"1"}, "first_name": {"Way"}})
	want(code, body, 422, "is required")
	code, body, _ = call(stu, "POST", "/external/new", url.Values{"quick": {"1"}, "last_name": {"No"},
		"first_name": {"Way"}, "email": {"no2@uni.test"}})
	want(code, body, 403, "may create accounts")
	if n := count(`SELECT COUNT(*) FROM users`); n != users {
		t.Fatalf("refused requests created %d accounts", n-users)
	}

	// The course roles page: platform administrators list and create.
	code, body, _ = call(admin, "GET", "/", nil)
	want(code, body, 200, `href="/admin/course-roles"`, `id="external-users"`, "Other course (OTHER)")
	code, body, _ = call(admin, "GET", "/admin/course-roles", nil)
	want(code, body, 200, "Course roles", "non_editing_teacher", `id="course-role-form"`)
	code, body, _ = call(admin, "POST", "/admin/course-roles", url.Values{"shortname": {"Bad Name"}, "name": {""},
		"base_role": {"emperor"}})
	want(code, body, 422, "lower-case letters", "is required, at most 100 characters", "must be one of")
	code, _, loc := call(admin, "POST", "/admin/course-roles", url.Values{"shortname": {"secretariat"},
		"name": {"Secretariat"}, "base_role": {"non_editing_teacher"}})
	want(code, "", 303)
	code, body, _ = call(admin, "GET", loc+"&lang=fr", nil)
	want(code, body, 200, "Rôles de cours", "Le rôle Secretariat a été créé.", "<code>secretariat</code>", "Enseignant non éditeur")
	call(admin, "GET", "/?lang=en", nil)
	code, body, _ = call(admin, "POST", "/admin/course-roles", url.Values{"shortname": {"secretariat"},
		"name": {"Again"}, "base_role": {"student"}})
	want(code, body, 409, "already exists")
	code, body, _ = call(tess, "GET", "/admin/course-roles", nil)
	want(code, body, 403)
	code, body, _ = call(tess, "POST", "/admin/course-roles", url.Values{"shortname": {"boss"}, "name": {"Boss"},
		"base_role": {"teacher"}})
	want(code, body, 403)
	if n := count(`SELECT COUNT(*) FROM course_roles WHERE shortname = 'boss'`); n != 0 {
		t.Fatalf("a teacher created a role")
	}

	// The role map of imported files, on the same page.
	code, body, _ = call(admin, "GET", "/admin/course-roles?lang=fr", nil)
	want(code, body, 200, "Noms de rôles des fichiers importés", "<code>editingteacher</code>", `id="role-map-form"`)
	call(admin, "GET", "/?lang=en", nil)
	code, _, loc = call(admin, "POST", "/admin/course-roles/map", url.Values{"map_name": {"secretaire"}, "map_role": {"secretariat"}})
	want(code, "", 303)
	code, body, _ = call(admin, "GET", "/admin/course-roles?mapped=1", nil)
	want(code, body, 200, "The role map was saved.", "<code>secretaire</code>")
	code, body, _ = call(admin, "POST", "/admin/course-roles/map", url.Values{"map_name": {"x"}, "map_role": {"emperor"}})
	want(code, body, 422, "unknown role")
	code, body, _ = call(tess, "POST", "/admin/course-roles/map", url.Values{"map_name": {"x"}, "map_role": {"teacher"}})
	want(code, body, 403)
	if n := count(`SELECT COUNT(*) FROM course_role_map WHERE name = 'x'`); n != 0 {
		t.Fatalf("a refused mapping was saved")
	}
}
