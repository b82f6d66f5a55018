package api

import (
	"net/http"
	"strings"

	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/errs"
)

// CourseRole is a course role in the API: a built-in one, or one a platform administrator
// named with the rights of a built-in one (base_role).
type CourseRole struct {
	Shortname string `json:"shortname"`
	Name      string `json:"name"`
	BaseRole  string `json:"base_role"`
	Builtin   bool   `json:"builtin"`
	// Names are a custom role's names by language ("fr": "Secrétariat").
	Names map[string]string `json:"names,omitempty"`
}

func courseRoleJSON(r course.Role) CourseRole {
	return CourseRole{Shortname: r.Shortname, Name: r.Name, BaseRole: r.BaseRole, Builtin: r.Builtin, Names: r.Names}
}

// courseRoleUpdate: PATCH /api/v1/course-roles/{shortname} {name, names}, platform
// administrators: renames a custom role (names replaces the names by language; an empty
// name removes one). A built-in role is 409, an unknown one 404.
func (a *API) courseRoleUpdate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string            `json:"name"`
		Names map[string]string `json:"names"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	role, err := a.Courses.UpdateRole(r.Context(), r.PathValue("shortname"), in.Name, in.Names)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, courseRoleJSON(*role))
}

// courseRoleList: GET /api/v1/course-roles, every course role, built-in ones first. Any
// logged-in caller may read it (the enrol dialog of a teacher shows the same names).
func (a *API) courseRoleList(w http.ResponseWriter, r *http.Request) {
	if _, err := authz.RequireUser(r.Context()); err != nil {
		a.problem(w, r, err)
		return
	}
	roles, err := a.Courses.Roles(r.Context())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[CourseRole]{Items: []CourseRole{}}
	for _, role := range roles {
		out.Items = append(out.Items, courseRoleJSON(role))
	}
	writeJSON(w, http.StatusOK, out)
}

// courseRoleCreate: POST /api/v1/course-roles {shortname, name, base_role}, platform
// administrators. Errors name shortname, name or base_role; a taken short name is 409.
func (a *API) courseRoleCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Shortname string            `json:"shortname"`
		Name      string            `json:"name"`
		BaseRole  string            `json:"base_role"`
		Names     map[string]string `json:"names"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	role, err := a.Courses.CreateRole(r.Context(), course.Role{Shortname: in.Shortname, Name: in.Name, BaseRole: in.BaseRole, Names: in.Names})
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, courseRoleJSON(*role))
}

// RoleMapping is one entry of the site's role map: a role name as imported files write it,
// and the course role it gives.
type RoleMapping struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// roleMapList: GET /api/v1/course-role-map, the site's role map by name; platform
// administrators.
func (a *API) roleMapList(w http.ResponseWriter, r *http.Request) {
	list, err := a.Courses.RoleMappings(r.Context())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[RoleMapping]{Items: []RoleMapping{}}
	for _, m := range list {
		out.Items = append(out.Items, RoleMapping{Name: m.Name, Role: m.Role})
	}
	writeJSON(w, http.StatusOK, out)
}

// roleMapSet: PUT /api/v1/course-role-map/{name} {role}: maps the name to a course role;
// platform administrators. Errors name name or role.
func (a *API) roleMapSet(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role string `json:"role"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	if in.Role == "" {
		a.problem(w, r, errs.FieldCode("role", "api_role_name_role"))
		return
	}
	if err := a.Courses.SetRoleMapping(r.Context(), r.PathValue("name"), in.Role); err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RoleMapping{Name: strings.ToLower(strings.TrimSpace(r.PathValue("name"))), Role: in.Role})
}

// roleMapDelete: DELETE /api/v1/course-role-map/{name}: the name is no longer mapped (a row
// using it then needs a course role of that short name); platform administrators.
func (a *API) roleMapDelete(w http.ResponseWriter, r *http.Request) {
	if err := a.Courses.SetRoleMapping(r.Context(), r.PathValue("name"), ""); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
