package web

import (
	"net/http"

	"roster/internal/errs"
	"roster/internal/httpx"
	"roster/internal/invite"
)

// The invitation link, /invitation/{token}: it asks for first name, last name and a password
// (twice), creates the account and logs the person in. A cancelled, accepted or unknown link
// says so; an expired one offers "send me a new one", answered the same whatever happens.

type acceptData struct {
	Invitation          *invite.Invitation
	FirstName, LastName string
	Action              string
	Expired             bool
}

func (w *Web) invitationAcceptForm(rw http.ResponseWriter, r *http.Request) {
	inv, err := w.Invites.Check(r.Context(), r.PathValue("token"))
	if err != nil {
		w.invitationGone(rw, r, w.page(rw, r, "accept.title"), err)
		return
	}
	// The page speaks the invitation's language (unless the visitor chose another).
	p := w.pageIn(rw, r, "accept.title", inv.Language)
	first, last := splitName(inv.Name)
	p.Data = &acceptData{Invitation: inv, FirstName: first, LastName: last, Action: r.URL.Path}
	w.render(rw, r, http.StatusOK, "invitation_accept", p)
}

// splitName proposes a first and a last name from the display name typed with the address.
func splitName(name string) (string, string) {
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == ' ' {
			return name[:i], name[i+1:]
		}
	}
	return name, ""
}

func (w *Web) invitationAcceptSubmit(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := r.PathValue("token")
	inv, err := w.Invites.Check(ctx, token)
	if err != nil {
		w.invitationGone(rw, r, w.page(rw, r, "accept.title"), err)
		return
	}
	p := w.pageIn(rw, r, "accept.title", inv.Language)
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	d := &acceptData{Invitation: inv, FirstName: formValue(r, "first_name"), LastName: formValue(r, "last_name"),
		Action: r.URL.Path}
	p.Data = d
	password, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
	if password != "" && password != confirm {
		p.Fields["confirm"] = p.L.T("password.mismatch")
		w.render(rw, r, http.StatusUnprocessableEntity, "invitation_accept", p)
		return
	}
	u, err := w.Invites.Accept(ctx, invite.Acceptance{Token: token, FirstName: d.FirstName, LastName: d.LastName,
		Password: password})
	if errs.Is(err, errs.Gone) {
		w.invitationGone(rw, r, p, err)
		return
	}
	if err != nil {
		w.render(rw, r, showError(p, err), "invitation_accept", p)
		return
	}
	// Logged in at once: the person has just chosen the password, through a link only they got.
	if old := httpx.SessionToken(r); old != "" {
		_ = w.Accounts.EndSession(ctx, old)
	}
	session, err := w.Accounts.CreateSession(ctx, u.ID, httpx.ClientIP(r), r.UserAgent())
	if err != nil {
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
		return
	}
	httpx.SetSession(rw, session, w.cfg.SecureCookies)
	http.Redirect(rw, r, "/", http.StatusSeeOther)
}

// acceptGoneKeys are the messages of invitation links that cannot be accepted, by reason.
var acceptGoneKeys = map[string]string{"cancelled": "accept.gone_cancelled", "accepted": "accept.gone_accepted",
	"unknown": "accept.gone_unknown", "expired": "accept.gone_expired"}

// invitationGone answers a link that cannot be accepted, with what the person can do.
func (w *Web) invitationGone(rw http.ResponseWriter, r *http.Request, p *Page, err error) {
	if invite.GoneReason(err) == "" {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	if invite.IsExpired(err) {
		p.Error = p.L.T("accept.gone_expired")
		p.Data = &acceptData{Expired: true, Action: "/invitation/" + r.PathValue("token") + "/renew"}
		w.render(rw, r, http.StatusGone, "invitation_accept", p)
		return
	}
	p.Error = p.L.T(acceptGoneKeys[invite.GoneReason(err)])
	w.render(rw, r, http.StatusGone, "message", p)
}

// invitationRenew answers "send me a new one" on an expired link, the same way whatever the
// link was: a new link goes to the invited address, never to one the visitor types.
func (w *Web) invitationRenew(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "accept.title")
	if err := w.Invites.RequestNew(r.Context(), r.PathValue("token")); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	p.Notice = p.L.T("accept.renewed")
	w.render(rw, r, http.StatusOK, "message", p)
}
