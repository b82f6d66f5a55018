package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/errs"
)

type courseListData struct {
	Courses   []course.Course
	SelfOpen  []course.Course // the courses the person may enrol themself in
	Guest     bool            // anonymous visitors: the courses open to guests
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
	if !d.Guest && currentUser(r) != nil {
		if d.SelfOpen, _, err = w.Courses.List(r.Context(), course.Filter{SelfEnrol: true, Q: r.URL.Query().Get("q"), Limit: 500}); err != nil {
			w.render(rw, r, showError(p, err), "message", p)
			return
		}
	}
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
	// Self lists the self-enrolment methods the person may use ("Enrol me"); Key is the key
	// as typed after a wrong one.
	Self []course.SelfOption
	Key  string
	// Participant: the person is enrolled (any role, any status); Guest: an anonymous visitor.
	Participant bool
	Guest       bool
}

// coursePage shows a course; opening it counts as an access for the participants list.
// Teachers find here every action on the course; a person who may enrol themself finds
// "Enrol me"; a visitor of a course open to guests reads it.
func (w *Web) coursePage(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseID(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.title")
	switch r.URL.Query().Get("done") {
	case "self":
		p.Notice = p.L.T("course.self_done")
	}
	w.coursePageRender(rw, r, p, id, &coursePageData{}, http.StatusOK)
}

func (w *Web) coursePageRender(rw http.ResponseWriter, r *http.Request, p *Page, id int64, d *coursePageData, status int) {
	c, err := w.Courses.Get(r.Context(), id)
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	if err := w.Courses.TouchAccess(r.Context(), id); err != nil {
		w.log.Error("course access", "err", err)
	}
	p.Title = c.Fullname
	d.Course, d.Rights = c, w.Courses.RightsIn(r.Context(), id)
	d.Open = c.StartsAt == nil || !c.StartsAt.After(time.Now())
	d.Guest = currentUser(r) == nil
	if d.Rights.ViewParticipants {
		d.Methods, _ = w.Courses.Methods(r.Context(), id)
	}
	if u := currentUser(r); u != nil {
		role, _, rerr := authz.CourseRole(r.Context(), w.db, u.ID, id, time.Now())
		if rerr != nil {
			w.log.Error("course role", "err", rerr)
		}
		d.Participant = role != ""
		if d.Self, err = w.Courses.SelfOptions(r.Context(), id); err != nil {
			w.log.Error("self-enrolment options", "err", err)
		}
	}
	p.Data = d
	w.render(rw, r, status, "course_page", p)
}

// courseSelfEnrol enrols the logged-in person by a self-enrolment method ("Enrol me"), with
// its key when it has one, and shows the course; a wrong key shows beside the key field.
func (w *Web) courseSelfEnrol(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseForm(rw, r, false)
	if !ok {
		return
	}
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "course.title")
	method, _ := strconv.ParseInt(formValue(r, "method"), 10, 64)
	err := w.Courses.SelfEnrol(r.Context(), id, method, r.PostFormValue("key"))
	if err == nil {
		http.Redirect(rw, r, "/courses/"+strconv.FormatInt(id, 10)+"?done=self", http.StatusSeeOther)
		return
	}
	if errs.Is(err, errs.Unauthorized) {
		w.courseError(rw, r, p, err)
		return
	}
	status := showError(p, err)
	topFields(p, "key")
	w.coursePageRender(rw, r, p, id, &coursePageData{Key: r.PostFormValue("key")}, status)
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

// courseForm opens the handler of a course's form: the course id from the path (else 404)
// and the form read, parseBigForm's limits when big (else parseForm's), else the "unreadable
// form" page. ok false: the answer is written.
func (w *Web) courseForm(rw http.ResponseWriter, r *http.Request, big bool) (id int64, ok bool) {
	if id, ok = w.courseID(rw, r); !ok {
		return 0, false
	}
	parse := parseForm
	if big {
		parse = parseBigForm
	}
	if err := parse(rw, r); err != nil {
		w.badForm(rw, r)
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

// topFields moves the messages of fields the page has no place for to the top of the page.
func topFields(p *Page, shown ...string) {
	for f, msg := range p.Fields {
		if !slices.Contains(shown, f) {
			if p.Error != "" {
				p.Error += " "
			}
			r, n := utf8.DecodeRuneInString(msg) // a field's message starts in lower case
			p.Error += string(unicode.ToUpper(r)) + strings.TrimSuffix(msg[n:], ".") + "."
			delete(p.Fields, f)
		}
	}
}
