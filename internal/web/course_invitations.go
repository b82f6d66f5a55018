package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/invite"
)

// The invitations of a course, /courses/{id}/invitations: "add email addresses" (the
// invitations carry the course's enrolment; for a course not open yet they are held until it
// opens) and the course's invitations, with their state, to re-send or cancel. For the
// course's teachers ("session referents and trainers") and platform administrators.

type courseInvitationsData struct {
	Course  *course.Course
	Open    bool
	Items   []invite.Invitation
	Emails  string          // as typed, after an error
	Results []invite.Result // of the invitation just sent
	Now     time.Time
}

func (w *Web) courseInvitations(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseID(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.invite")
	switch r.URL.Query().Get("done") {
	case "resent":
		p.Notice = p.L.T("invitations.resent")
	case "cancelled":
		p.Notice = p.L.T("invitations.cancelled")
	}
	w.courseInvitationsRender(rw, r, p, id, &courseInvitationsData{}, http.StatusOK)
}

func (w *Web) courseInvitationsRender(rw http.ResponseWriter, r *http.Request, p *Page, id int64, d *courseInvitationsData, status int) {
	ctx := r.Context()
	c, err := w.Courses.Get(ctx, id)
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	d.Course = c
	d.Now = w.db.Now()
	d.Open = c.StartsAt == nil || !c.StartsAt.After(d.Now)
	d.Items, _, err = w.Invites.List(ctx, invite.Filter{CourseID: id, Status: "all", Limit: invite.MaxLimit})
	if err != nil {
		w.courseError(rw, r, p, err)
		return
	}
	p.Data = d
	w.render(rw, r, status, "course_invitations", p)
}

// courseInviteSubmit invites the pasted addresses into the course and shows what became of
// each; the same page with the error beside the field when there is nothing to send.
func (w *Web) courseInviteSubmit(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseForm(rw, r, true)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.invite")
	d := &courseInvitationsData{Emails: r.PostFormValue("emails")}
	res, err := w.Invites.Invite(r.Context(), invite.Request{Emails: d.Emails, CourseID: id})
	if err != nil {
		if errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.Forbidden) {
			w.courseError(rw, r, p, err)
			return
		}
		status := showError(p, err)
		topFields(p, "emails")
		w.courseInvitationsRender(rw, r, p, id, d, status)
		return
	}
	d.Results, d.Emails = res, ""
	sent := 0
	for _, x := range res {
		if x.Outcome == invite.Invited || x.Outcome == invite.AlreadyActive {
			sent++
		}
	}
	p.Notice = p.L.T("course.invite_done", sent)
	w.courseInvitationsRender(rw, r, p, id, d, http.StatusOK)
}

// courseInvitationAction re-sends or cancels one invitation of the course and goes back to
// the course's invitations. An invitation of another course is not found here.
func (w *Web) courseInvitationAction(rw http.ResponseWriter, r *http.Request) {
	id, ok := w.courseForm(rw, r, false)
	if !ok {
		return
	}
	p := w.page(rw, r, "course.invite")
	ctx := r.Context()
	invID, _ := strconv.ParseInt(r.PathValue("inv"), 10, 64)
	inv, err := w.Invites.Get(ctx, invID)
	if err == nil && inv.CourseID != id {
		err = errs.Coded(errs.NotFound, "no_invitation")
	}
	done := "cancelled"
	if err == nil {
		if strings.HasSuffix(r.URL.Path, "/resend") {
			err, done = w.Invites.Resend(ctx, invID), "resent"
		} else {
			err = w.Invites.Cancel(ctx, invID)
		}
	}
	if err != nil {
		if errs.Is(err, errs.Unauthorized) || errs.Is(err, errs.Forbidden) {
			w.courseError(rw, r, p, err)
			return
		}
		status := showError(p, err)
		topFields(p)
		w.courseInvitationsRender(rw, r, p, id, &courseInvitationsData{}, status)
		return
	}
	http.Redirect(rw, r, "/courses/"+strconv.FormatInt(id, 10)+"/invitations?done="+done, http.StatusSeeOther)
}
