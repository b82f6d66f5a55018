package api

import (
	"strings"
	"testing"

	"roster/internal/authz"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestRoleMapAPI: platform administrators read and edit the site's role map; the defaults
// are Moodle's names; an unknown course role is refused naming the field.
func TestRoleMapAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r, _ := courseRig(t, db)
		ann := r.user("ann", "ann@example.org")
		r.who["ann"] = &authz.Principal{UserID: ann.ID}
		var list List[RoleMapping]
		if code, body := r.do("admin", "GET", "/api/v1/course-role-map", "", &list); code != 200 || !strings.Contains(body, `{"name":"editingteacher","role":"teacher"}`) ||
			!strings.Contains(body, `{"name":"teacher","role":"non_editing_teacher"}`) {
			t.Fatalf("list: %d %s", code, body)
		}
		if code, body := r.do("admin", "PUT", "/api/v1/course-role-map/Ucitel", `{"role":"non_editing_teacher"}`, nil); code != 200 ||
			!strings.Contains(body, `"name":"ucitel"`) {
			t.Fatalf("set: %d %s", code, body)
		}
		if code, body := r.do("admin", "PUT", "/api/v1/course-role-map/boss", `{"role":"emperor"}`, nil); code != 422 || !strings.Contains(body, `"field":"role"`) {
			t.Errorf("unknown role: %d %s", code, body)
		}
		if code, _ := r.do("ann", "PUT", "/api/v1/course-role-map/boss", `{"role":"teacher"}`, nil); code != 403 {
			t.Errorf("not an admin: %d", code)
		}
		if code, _ := r.do("ann", "GET", "/api/v1/course-role-map", "", nil); code != 403 {
			t.Errorf("not an admin lists: %d", code)
		}
		if code, _ := r.do("admin", "DELETE", "/api/v1/course-role-map/ucitel", "", nil); code != 204 {
			t.Errorf("delete: %d", code)
		}
		if _, body := r.do("admin", "GET", "/api/v1/course-role-map", "", nil); strings.Contains(body, "ucitel") {
			t.Errorf("still mapped: %s", body)
		}
	})
}
