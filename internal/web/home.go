package web

import (
	"context"
	"net/http"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/invite"
)

// homeData is the dashboard's own data: the "External users" block and its choices.
type homeData struct {
	// External shows the "External users" block: to platform administrators, to people who
	// manage the participants of some course (teachers), and to user administrators of groups.
	External bool
	// Courses are the courses the new account may be enrolled in (those whose participants the
	// person manages); the choice is optional.
	Courses []course.Course
	// Groups are the groups the person may create accounts in (user administrators).
	Groups []invite.GroupChoice
	// NoGroupNeeded: the person may create an account outside any group (platform
	// administrators and teachers), so the group choice is optional.
	NoGroupNeeded bool
	// MyCourses are the courses the person is enrolled in, with their role ("My courses").
	MyCourses []course.Course
	// The values of the block's form, kept after an error.
	FirstName, LastName, Email string
	CourseID, GroupID          int64
}

// home is the dashboard: what the logged-in person can do from here.
func (w *Web) home(rw http.ResponseWriter, r *http.Request) {
	u := w.requireLogin(rw, r)
	if u == nil {
		return
	}
	w.homeRender(rw, r, &homeData{}, "", nil)
}

// homeRender shows the dashboard with a notice or the error of the "External users" block.
func (w *Web) homeRender(rw http.ResponseWriter, r *http.Request, d *homeData, notice string, err error) {
	p := w.page(rw, r, "home.title")
	if cerr := w.externalChoices(r.Context(), currentUser(r), d); cerr != nil {
		w.render(rw, r, showError(p, cerr), "message", p)
		return
	}
	if w.Courses != nil {
		mine, _, cerr := w.Courses.List(r.Context(), course.Filter{Limit: 500})
		if cerr != nil {
			w.render(rw, r, showError(p, cerr), "message", p)
			return
		}
		for _, c := range mine {
			if c.MyRole != "" {
				d.MyCourses = append(d.MyCourses, c)
			}
		}
	}
	status := http.StatusOK
	if err != nil {
		status = showError(p, err)
		inviteFieldsShown(p, "first_name", "last_name", "email", "course_id")
	}
	p.Notice = notice
	p.Data = d
	w.render(rw, r, status, "home", p)
}

// externalChoices fills in who sees the "External users" block and what they may choose.
func (w *Web) externalChoices(ctx context.Context, u *account.User, d *homeData) error {
	if u == nil || w.Invites == nil {
		return nil
	}
	teaches, err := authz.TeachesSomeCourse(ctx, w.db, w.db.Now())
	if err != nil {
		return err
	}
	d.NoGroupNeeded = teaches // true for platform administrators too
	if d.Groups, err = w.Invites.GroupChoices(ctx, true); err != nil && !errs.Is(err, errs.Unauthorized) {
		return err
	}
	d.External = teaches || len(d.Groups) > 0
	if !d.External || w.Courses == nil {
		return nil
	}
	admin := authz.RequirePlatformAdmin(ctx) == nil
	courses, _, err := w.Courses.List(ctx, course.Filter{Limit: 500})
	if err != nil {
		return err
	}
	for _, c := range courses {
		if admin || c.MyRole == course.Teacher {
			d.Courses = append(d.Courses, c)
		}
	}
	return nil
}
