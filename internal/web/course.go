package web

import (
	"net/http"
	"strconv"
	"time"

	"roster/internal/course"
	"roster/internal/errs"
)

type courseListData struct {
	Courses   []course.Course
	Guest     bool // anonymous visitors: the courses open to guests
	CanCreate bool
	Shortname string
	Fullname  string
}

// courseList shows the courses the visitor may see: all for platform administrators, their
// own for everyone else, and the ones open to guests for anonymous visitors (?guest=1).
func (w *Web) courseList(rw http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	guest := r.URL.Query().Get("guest") == "1"
	if u == nil && !guest {
		http.Redirect(rw, r, "/login?next=/courses", http.StatusSeeOther)
		return
	}
	p := w.page(rw, r, "courses.title")
	d := &courseListData{Guest: guest || u == nil, CanCreate: u != nil && u.IsAdmin}
	p.Data = d
	w.renderCourseList(rw, r, p, d, http.StatusOK)
}

func (w *Web) renderCourseList(rw http.ResponseWriter, r *http.Request, p *Page, d *courseListData, status int) {
	items, _, err := w.Courses.List(r.Context(), course.Filter{Guest: d.Guest, Q: r.URL.Query().Get("q"), Limit: 500})
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	d.Courses = items
	w.render(rw, r, status, "course_list", p)
}

// courseCreate adds a course (platform administrators) and opens it.
func (w *Web) courseCreate(rw http.ResponseWriter, r *http.Request) {
	u := w.requireLogin(rw, r)
	if u == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	p := w.page(rw, r, "courses.title")
	d := &courseListData{CanCreate: u.IsAdmin, Shortname: formValue(r, "shortname"), Fullname: formValue(r, "fullname")}
	p.Data = d
	c, err := w.Courses.Create(r.Context(), course.Course{Shortname: d.Shortname, Fullname: d.Fullname, Visible: true,
		GuestAccess: r.PostFormValue("guest_access") != ""})
	if err != nil {
		w.renderCourseList(rw, r, p, d, showError(p, err))
		return
	}
	http.Redirect(rw, r, "/courses/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
}

type coursePageData struct {
	Course  *course.Course
	Rights  course.Rights
	Methods []course.Method
	Open    bool
}

// coursePage shows a course; opening it counts as an access for the participants list.
func (w *Web) coursePage(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseID(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.title")
	c, err := w.Courses.Get(r.Context(), id)
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	if err := w.Courses.TouchAccess(r.Context(), id); err != nil {
		w.log.Error("course access", "err", err)
	}
	p.Title = c.Fullname
	d := &coursePageData{Course: c, Rights: w.Courses.RightsIn(r.Context(), id)}
	d.Open = c.StartsAt == nil || !c.StartsAt.After(time.Now())
	if d.Rights.ViewParticipants {
		d.Methods, _ = w.Courses.Methods(r.Context(), id)
	}
	p.Data = d
	w.render(rw, r, http.StatusOK, "course_page", p)
}

// courseID reads the {id} of the path; an id that is not a number is a 404.
func (w *Web) courseID(rw http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.NotFound(rw, r)
		return 0, false
	}
	return id, true
}

// courseError shows a service error as a page; an anonymous visitor is sent to log in.
func (w *Web) courseError(rw http.ResponseWriter, r *http.Request, p *Page, err error) {
	if errs.Is(err, errs.Unauthorized) {
		http.Redirect(rw, r, "/login?next="+r.URL.Path, http.StatusSeeOther)
		return
	}
	if errs.Is(err, errs.Forbidden) {
		p.Error = p.L.T("error.forbidden")
		w.render(rw, r, http.StatusForbidden, "message", p)
		return
	}
	w.render(rw, r, showError(p, err), "message", p)
}

// courseGuestAccess reports whether the login page should offer "Continue as guest".
func (w *Web) courseGuestAccess(r *http.Request) bool {
	if w.Courses == nil {
		return false
	}
	ok, err := course.AnyGuestAccess(r.Context(), w.db)
	if err != nil {
		w.log.Error("guest access", "err", err)
	}
	return ok
}
