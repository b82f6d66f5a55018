package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/invite"
)

// The invitations page, /invitations: the list with its filters (status, group, sub-groups,
// text), re-send, cancel and copy a fresh link per row, re-send all pending of the group,
// cancel many by pasting addresses, and the lifetime setting for platform administrators.

type invitationsData struct {
	Filter      invite.Filter
	Items       []invite.Invitation
	Next        string
	Choices     []invite.GroupChoice
	Statuses    []string
	Results     []invite.Result // of "cancel many"
	CancelText  string
	Link        string // a fresh link just made
	LinkFor     string
	Admin       bool
	Lifetime    int // days; 0: until cancelled
	Now         time.Time
	ReturnQuery string
}

func (w *Web) invitations(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	d := &invitationsData{}
	p := w.page(rw, r, "invitations.title")
	switch r.URL.Query().Get("done") {
	case "resent":
		p.Notice = p.L.T("invitations.resent")
	case "cancelled":
		p.Notice = p.L.T("invitations.cancelled")
	case "lifetime":
		p.Notice = p.L.T("invitations.lifetime_saved")
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("sent")); err == nil {
		p.Notice = p.L.T("invitations.resent_all", n)
	}
	w.invitationsRender(rw, r, p, d, http.StatusOK, nil)
}

// invitationsRender lists the invitations of the query's filter under whatever the page
// already carries (a notice, the results of "cancel many", a fresh link).
func (w *Web) invitationsRender(rw http.ResponseWriter, r *http.Request, p *Page, d *invitationsData, status int, err error) {
	ctx := r.Context()
	q := r.URL.Query()
	d.Filter = invite.Filter{Status: q.Get("status"), Q: q.Get("q"), Cursor: q.Get("cursor"), Subgroups: q.Get("subgroups") != ""}
	if d.Filter.Status == "" {
		d.Filter.Status = invite.StatusPending
	}
	d.Filter.GroupID, _ = strconv.ParseInt(q.Get("group"), 10, 64)
	d.ReturnQuery = r.URL.RawQuery
	d.Statuses = []string{invite.StatusPending, invite.StatusExpired, invite.StatusAccepted, invite.StatusCancelled, "all"}
	d.Now = time.Now()
	var lerr error
	if d.Choices, lerr = w.Invites.GroupChoices(ctx, false); lerr == nil {
		d.Items, d.Next, lerr = w.Invites.List(ctx, d.Filter)
	}
	if lerr != nil {
		w.render(rw, r, showError(p, lerr), "message", p)
		return
	}
	if pr := authz.From(ctx); pr != nil && pr.PlatformAdmin {
		d.Admin = true
		lt, lerr := w.Invites.Lifetime(ctx)
		if lerr != nil {
			w.render(rw, r, showError(p, lerr), "message", p)
			return
		}
		d.Lifetime = int(lt / (24 * time.Hour))
	}
	if err != nil {
		status = showError(p, err)
	}
	p.Data = d
	w.render(rw, r, status, "invitations", p)
}

// invitationsBack redirects to the list with the filter the form came from and a notice.
func invitationsBack(rw http.ResponseWriter, r *http.Request, done string) {
	q, _ := url.ParseQuery(r.PostFormValue("return"))
	q.Del("done")
	q.Del("sent")
	q.Set("done", done)
	http.Redirect(rw, r, "/invitations?"+q.Encode(), http.StatusSeeOther)
}

// invitationAction runs one row's button (resend, cancel) and goes back to the list.
func (w *Web) invitationAction(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var (
		err  error
		done string
	)
	if strings.HasSuffix(r.URL.Path, "/resend") {
		err, done = w.Invites.Resend(r.Context(), id), "resent"
	} else {
		err, done = w.Invites.Cancel(r.Context(), id), "cancelled"
	}
	if err != nil {
		w.invitationsAgain(rw, r, &invitationsData{}, err)
		return
	}
	invitationsBack(rw, r, done)
}

// invitationsAgain re-renders the list, with the filter of the form's "return" field.
func (w *Web) invitationsAgain(rw http.ResponseWriter, r *http.Request, d *invitationsData, err error) {
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = r.PostFormValue("return")
	w.invitationsRender(rw, r2, w.page(rw, r, "invitations.title"), d, http.StatusOK, err)
}

// invitationLink makes a fresh link and shows it on the list, to copy.
func (w *Web) invitationLink(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	link, err := w.Invites.FreshLink(r.Context(), id)
	d := &invitationsData{Link: link, LinkFor: formValue(r, "email")}
	w.invitationsAgain(rw, r, d, err)
}

func (w *Web) invitationsResendAll(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	gid, _ := strconv.ParseInt(formValue(r, "group_id"), 10, 64)
	n, err := w.Invites.ResendAll(r.Context(), gid)
	if err != nil {
		w.invitationsAgain(rw, r, &invitationsData{}, err)
		return
	}
	q, _ := url.ParseQuery(r.PostFormValue("return"))
	q.Del("done")
	q.Set("sent", strconv.Itoa(n))
	http.Redirect(rw, r, "/invitations?"+q.Encode(), http.StatusSeeOther)
}

func (w *Web) invitationsCancelMany(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	text := r.PostFormValue("emails")
	res, err := w.Invites.CancelMany(r.Context(), text)
	d := &invitationsData{Results: res}
	if err != nil {
		d.CancelText = text
	}
	w.invitationsAgain(rw, r, d, err)
}

func (w *Web) invitationsLifetime(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	days, err := strconv.Atoi(formValue(r, "lifetime_days"))
	if formValue(r, "lifetime_days") == "" {
		days, err = 0, nil
	}
	if err != nil {
		err = errs.FieldCode("lifetime_days", "whole_days")
	} else {
		err = w.Invites.SetLifetime(r.Context(), days)
	}
	if err != nil {
		w.invitationsAgain(rw, r, &invitationsData{}, err)
		return
	}
	invitationsBack(rw, r, "lifetime")
}
