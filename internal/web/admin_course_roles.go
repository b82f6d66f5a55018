package web

import (
	"net/http"
	"net/url"
	"strings"

	"roster/internal/course"
)

// /admin/course-roles: platform administrators name custom course roles (for instance
// "Secretariat") with the rights of a built-in one, and see every role. The service checks
// the right to create (authz.CanCreateCourse); the page is for platform administrators only.

type courseRolesData struct {
	Roles     []course.Role
	RoleMap   []course.RoleMapping // the site's role map, by name
	NewMap    course.RoleMapping   // the role-map form, refilled after an error
	BaseRoles []string
	New       course.Role // the creation form, refilled after an error
	created   string      // the short name of the role just created, for the notice
}

// Languages are those a created role may be named in.
func (d *courseRolesData) Languages() []string { return Languages }

func (w *Web) adminCourseRoles(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "course_roles.title")
	w.courseRolesRender(rw, r, p, &courseRolesData{New: course.Role{BaseRole: course.NonEditingTeacher},
		created: r.URL.Query().Get("created")}, http.StatusOK)
}

func (w *Web) courseRolesRender(rw http.ResponseWriter, r *http.Request, p *Page, d *courseRolesData, status int) {
	if u := currentUser(r); u == nil || !u.IsAdmin {
		p.Error = p.L.T("error.forbidden")
		w.render(rw, r, http.StatusForbidden, "message", p)
		return
	}
	var err error
	if d.Roles, err = w.Courses.Roles(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	if d.RoleMap, err = w.Courses.RoleMappings(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	if r.URL.Query().Get("mapped") != "" {
		p.Notice = p.L.T("course_roles.map_saved")
	}
	if r.URL.Query().Get("renamed") != "" {
		p.Notice = p.L.T("course_roles.renamed")
	}
	d.BaseRoles = course.BaseRoles
	for _, role := range d.Roles {
		if d.created != "" && role.Shortname == d.created {
			p.Notice = p.L.T("course_roles.created", role.Name)
		}
	}
	p.Data = d
	w.render(rw, r, status, "admin_course_roles", p)
}

func (w *Web) adminCourseRoleCreate(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	in := course.Role{Shortname: formValue(r, "shortname"), Name: formValue(r, "name"), BaseRole: formValue(r, "base_role"),
		Names: map[string]string{}}
	for _, lang := range Languages {
		if v := formValue(r, "name_"+lang); v != "" {
			in.Names[lang] = v
		}
	}
	role, err := w.Courses.CreateRole(r.Context(), in)
	if err != nil {
		p := w.page(rw, r, "course_roles.title")
		status := showError(p, err)
		w.courseRolesRender(rw, r, p, &courseRolesData{New: in}, status)
		return
	}
	http.Redirect(rw, r, "/admin/course-roles?created="+url.QueryEscape(role.Shortname), http.StatusSeeOther)
}

// adminCourseRoleNames: POST /admin/course-roles/{shortname}/names {name, name_LANG}:
// renames a custom role, in each language. An error is shown above the table (the fields
// of the creation form keep theirs).
func (w *Web) adminCourseRoleNames(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	names := map[string]string{}
	for _, lang := range Languages {
		names[lang] = formValue(r, "name_"+lang)
	}
	shortname := r.PathValue("shortname")
	if _, err := w.Courses.UpdateRole(r.Context(), shortname, formValue(r, "name"), names); err != nil {
		p := w.page(rw, r, "course_roles.title")
		status := showError(p, err)
		for _, msg := range p.Fields {
			p.Error = strings.TrimSpace(p.Error + " " + p.L.T("course_roles.rename_error", shortname, msg))
		}
		p.Fields = map[string]string{}
		w.courseRolesRender(rw, r, p, &courseRolesData{New: course.Role{BaseRole: course.NonEditingTeacher}}, status)
		return
	}
	http.Redirect(rw, r, "/admin/course-roles?renamed="+url.QueryEscape(shortname), http.StatusSeeOther)
}

// adminRoleMapSet: POST /admin/course-roles/map {name, role}: maps a role name of files from
// elsewhere (Moodle's) to a course role; an empty role removes the entry.
func (w *Web) adminRoleMapSet(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	in := course.RoleMapping{Name: formValue(r, "map_name"), Role: formValue(r, "map_role")}
	if err := w.Courses.SetRoleMapping(r.Context(), in.Name, in.Role); err != nil {
		p := w.page(rw, r, "course_roles.title")
		status := showError(p, err)
		w.courseRolesRender(rw, r, p, &courseRolesData{New: course.Role{BaseRole: course.NonEditingTeacher}, NewMap: in}, status)
		return
	}
	http.Redirect(rw, r, "/admin/course-roles?mapped=1#role-map", http.StatusSeeOther)
}
