package web

import (
	"net/http"
	"strconv"

	"roster/internal/course"
	"roster/internal/errs"
)

// The enrolment methods of a course, /courses/{id}/methods, for those who may manage the
// course (its teachers, platform administrators): add a group sync (cohort sync), a meta
// link, a self-enrolment with an optional key, guest access; rename, change a key, enable,
// disable and remove.

type courseMethodsData struct {
	Course  *course.Course
	Methods []course.Method
	Roles   []course.Role
	Groups  []course.PickGroup // the groups the person may sync (authz.CanPickGroup)
	Courses []course.Course    // the courses the person may follow with a meta link
	Guest   bool               // the course has a guest method already
	Form    string             // the add form that failed, to show it open
	Edit    int64              // the method whose edit failed
	In      map[string]string  // the values as typed
}

// V is a value as typed.
func (d *courseMethodsData) V(key string) string { return d.In[key] }

// GroupName names a group sync's group among those the person may pick ("#id" otherwise:
// a group they may no longer see).
func (d *courseMethodsData) GroupName(id int64) string {
	for _, g := range d.Groups {
		if g.ID == id {
			return g.Name
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}

// CourseName names the course a meta link follows.
func (d *courseMethodsData) CourseName(id int64) string {
	for _, c := range d.Courses {
		if c.ID == id {
			return c.Fullname
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}

// GroupRoles are the group roles a group sync may keep ("" for every member).
func (d *courseMethodsData) GroupRoles() []string {
	return []string{"learner", "trainer", "group_admin", "user_admin", ""}
}

func (w *Web) courseMethods(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseID(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.methods")
	switch r.URL.Query().Get("done") {
	case "added":
		p.Notice = p.L.T("methods.done.added")
	case "saved":
		p.Notice = p.L.T("methods.done.saved")
	case "enabled":
		p.Notice = p.L.T("methods.done.enabled")
	case "disabled":
		p.Notice = p.L.T("methods.done.disabled")
	case "removed":
		p.Notice = p.L.T("methods.done.removed")
	}
	w.courseMethodsRender(rw, r, p, id, &courseMethodsData{}, http.StatusOK)
}

func (w *Web) courseMethodsRender(rw http.ResponseWriter, r *http.Request, p *Page, id int64, d *courseMethodsData, status int) {
	ctx := r.Context()
	c, err := w.Courses.Get(ctx, id)
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	if !w.Courses.RightsIn(ctx, id).Manage {
		p.Error = p.L.T("error.forbidden")
		w.render(rw, r, http.StatusForbidden, "message", p)
		return
	}
	d.Course = c
	if d.Methods, err = w.Courses.Methods(ctx, id); err == nil {
		if d.Roles, err = w.Courses.Roles(ctx); err == nil {
			d.Groups, err = w.Courses.PickableGroups(ctx)
		}
	}
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	for _, m := range d.Methods {
		d.Guest = d.Guest || m.Type == course.Guest
	}
	all, _, err := w.Courses.List(ctx, course.Filter{Limit: 500})
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	admin := currentUser(r) != nil && currentUser(r).IsAdmin
	for _, o := range all {
		if o.ID != id && (admin || o.MyRole == course.Teacher || o.MyRole == course.NonEditingTeacher) {
			d.Courses = append(d.Courses, o)
		}
	}
	if d.In == nil {
		d.In = map[string]string{"role": course.Student, "group_role": "learner"}
	}
	p.Title = p.L.T("methods.title", c.Fullname)
	p.Data = d
	w.render(rw, r, status, "course_methods", p)
}

// courseMethodAdd adds a method of the type the form names.
func (w *Web) courseMethodAdd(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseForm(rw, r, false)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.methods")
	in := map[string]string{}
	for _, k := range []string{"type", "name", "role", "enrol_key", "group_id", "group_role", "subgroups", "course_id", "max_enrolled"} {
		in[k] = formValue(r, k)
	}
	m := course.Method{Type: in["type"], Name: in["name"], Role: in["role"], EnrolKey: in["enrol_key"],
		GroupRole: in["group_role"], Subgroups: in["subgroups"] != ""}
	m.GroupID, _ = strconv.ParseInt(in["group_id"], 10, 64)
	m.LinkedCourseID, _ = strconv.ParseInt(in["course_id"], 10, 64)
	var err error
	if in["max_enrolled"] != "" {
		if m.MaxEnrolled, err = strconv.Atoi(in["max_enrolled"]); err != nil {
			err = errs.FieldCode("max_enrolled", "not_a_number")
		}
	}
	if m.Type == course.Meta {
		m.Role = "" // a meta link keeps each person's role in the course it follows
	}
	if err == nil {
		_, err = w.Courses.AddMethod(r.Context(), id, m)
	}
	if err != nil {
		if errs.Is(err, errs.Unauthorized) {
			w.courseError(rw, r, p, err)
			return
		}
		status := showError(p, err)
		topFields(p, "name", "role", "enrol_key", "group_id", "group_role", "course_id", "max_enrolled")
		w.courseMethodsRender(rw, r, p, id, &courseMethodsData{Form: m.Type, In: in}, status)
		return
	}
	http.Redirect(rw, r, methodsURL(id, "added"), http.StatusSeeOther)
}

// courseMethodSave renames a method and, for a self-enrolment, changes its key and cap.
func (w *Web) courseMethodSave(rw http.ResponseWriter, r *http.Request) {
	id, mid, ok := w.methodIDs(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.methods")
	name := formValue(r, "name")
	u := course.MethodUpdate{Name: &name}
	var err error
	if r.PostForm.Has("enrol_key") {
		key := r.PostFormValue("enrol_key")
		u.EnrolKey = &key
		n := 0
		if v := formValue(r, "max_enrolled"); v != "" {
			if n, err = strconv.Atoi(v); err != nil {
				err = errs.FieldCode("max_enrolled", "not_a_number")
			}
		}
		u.MaxEnrolled = &n
	}
	if err == nil {
		_, err = w.Courses.UpdateMethod(r.Context(), id, mid, u)
	}
	if err != nil {
		w.methodError(rw, r, p, id, mid, err)
		return
	}
	http.Redirect(rw, r, methodsURL(id, "saved"), http.StatusSeeOther)
}

// courseMethodEnable enables (enabled=1) or disables a method.
func (w *Web) courseMethodEnable(rw http.ResponseWriter, r *http.Request) {
	id, mid, ok := w.methodIDs(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.methods")
	on := r.PostFormValue("enabled") == "1"
	if err := w.Courses.SetMethodEnabled(r.Context(), id, mid, on); err != nil {
		w.methodError(rw, r, p, id, mid, err)
		return
	}
	done := "disabled"
	if on {
		done = "enabled"
	}
	http.Redirect(rw, r, methodsURL(id, done), http.StatusSeeOther)
}

// courseMethodDelete removes a method and the enrolments it made.
func (w *Web) courseMethodDelete(rw http.ResponseWriter, r *http.Request) {
	id, mid, ok := w.methodIDs(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.methods")
	if err := w.Courses.DeleteMethod(r.Context(), id, mid); err != nil {
		w.methodError(rw, r, p, id, mid, err)
		return
	}
	http.Redirect(rw, r, methodsURL(id, "removed"), http.StatusSeeOther)
}

func (w *Web) methodIDs(rw http.ResponseWriter, r *http.Request) (int64, int64, bool) {
	id, ok := w.courseID(rw, r)
	if !ok {
		return 0, 0, false
	}
	mid, err := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	if err != nil || mid <= 0 {
		http.NotFound(rw, r)
		return 0, 0, false
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return 0, 0, false
	}
	return id, mid, true
}

// methodError shows the methods page with the error of one method's form.
func (w *Web) methodError(rw http.ResponseWriter, r *http.Request, p *Page, id, mid int64, err error) {
	if errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.Forbidden) {
		w.courseError(rw, r, p, err)
		return
	}
	status := showError(p, err)
	topFields(p, "name", "enrol_key", "max_enrolled")
	w.courseMethodsRender(rw, r, p, id, &courseMethodsData{Edit: mid}, status)
}

func methodsURL(id int64, done string) string {
	return "/courses/" + strconv.FormatInt(id, 10) + "/methods?done=" + done
}
