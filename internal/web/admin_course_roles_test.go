package web

import (
	"net/url"
	"testing"

	"roster/internal/account"
)

// TestCourseRoleRename: a custom role's names can change after creation, in each language;
// a built-in role keeps the catalog's names; the French page shows the French name.
func TestCourseRoleRename(t *testing.T) {
	r := newRig(t)
	admin := r.user(account.NewUser{Username: "root", FirstName: "Ada", LastName: "Admin", IsAdmin: true, Language: "en"})
	code, body, _ := r.call(admin, "POST", "/admin/course-roles", url.Values{"shortname": {"secretariat"}, "name": {"Secretariat"},
		"base_role": {"non_editing_teacher"}})
	r.want(code, body, 303)
	code, body, loc := r.call(admin, "POST", "/admin/course-roles/secretariat/names", url.Values{"name": {"Office"},
		"name_fr": {"Secrétariat pédagogique"}, "name_en": {""}})
	r.want(code, body, 303)
	code, body, _ = r.call(admin, "GET", loc, nil)
	r.want(code, body, 200, "The role&#39;s names are saved.", `value="Office"`, `value="Secrétariat pédagogique"`)
	code, body, _ = r.call(admin, "GET", "/admin/course-roles?lang=fr", nil)
	r.want(code, body, 200, "Secrétariat pédagogique")
	r.call(admin, "GET", "/?lang=en", nil)
	// An empty name is refused, a built-in role cannot be renamed, an unknown one is not found.
	code, body, _ = r.call(admin, "POST", "/admin/course-roles/secretariat/names", url.Values{"name": {""}})
	r.want(code, body, 422, "secretariat: is required")
	code, body, _ = r.call(admin, "POST", "/admin/course-roles/teacher/names", url.Values{"name": {"Boss"}})
	r.want(code, body, 409, "a built-in role is named by Roster")
	code, body, _ = r.call(admin, "POST", "/admin/course-roles/nope/names", url.Values{"name": {"X"}})
	r.want(code, body, 404)
}
