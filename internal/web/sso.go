package web

import (
	"net/http"

	"roster/internal/errs"
	"roster/internal/httpx"
	"roster/internal/sso"
)

// Single sign-on pages: the start of a login (/sso/{slug}/login), the CAS service URL
// (/sso/{slug}/cas: GET with a ticket, POST with a single-logout request from the CAS server)
// and the OpenID Connect redirect URI (/sso/{slug}/callback). The rules live in sso.Service.

// ssoButtons lists the login page's institutional buttons; none when SSO is not wired.
func (w *Web) ssoButtons(r *http.Request, next string) []ssoButton {
	if w.SSO == nil {
		return nil
	}
	bs, err := w.SSO.Buttons(r.Context(), next)
	if err != nil {
		w.log.Error("sso buttons", "err", err)
		return nil
	}
	out := make([]ssoButton, 0, len(bs))
	for _, b := range bs {
		out = append(out, ssoButton{Name: b.Name, URL: b.URL})
	}
	return out
}

type ssoErrorData struct {
	Detail  string
	Restart string // where to start again
}

// ssoFailed shows why a single sign-on did not log the person in, translated where the
// reason is known, with the service's detail below it.
func (w *Web) ssoFailed(rw http.ResponseWriter, r *http.Request, slug string, err error) {
	p := w.page(rw, r, "sso.error.title")
	e := errs.As(err)
	status := errs.HTTPStatus(e.Code)
	d := &ssoErrorData{Restart: "/sso/" + slug + "/login"}
	switch reason := sso.ReasonOf(err); {
	case e.Code == errs.Internal:
		w.log.Error("sso", "path", r.URL.Path, "err", e.Cause)
		p.Error = p.L.T("error.internal")
	case reason != "":
		key := "sso.error." + reason // every reason has a key: TestSSOReasonsTranslated
		p.Error = p.L.T(key)
		// The service's detail is English unless it is coded: other languages show the
		// reason alone.
		if e.Key != "" || p.L.Lang == "en" {
			d.Detail = e.In(p.L.Lang)
		}
	default:
		p.Error = e.In(p.L.Lang)
	}
	if e.Code == errs.NotFound {
		d.Restart = ""
	}
	p.Data = d
	w.render(rw, r, status, "sso_error", p)
}

// ssoStart sends the person to the provider, keeping the flow in a cookie.
func (w *Web) ssoStart(rw http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	start, err := w.SSO.Begin(r.Context(), slug, r.URL.Query().Get("next"))
	if err != nil {
		w.ssoFailed(rw, r, slug, err)
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: sso.FlowCookie, Value: start.FlowToken, Path: "/sso/",
		MaxAge: int(start.MaxAge.Seconds()), HttpOnly: true, Secure: w.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(rw, r, start.RedirectURL, http.StatusSeeOther)
}

// ssoReturn builds what came back from the provider.
func (w *Web) ssoReturn(r *http.Request) sso.Return {
	q := r.URL.Query()
	ret := sso.Return{Slug: r.PathValue("slug"), Ticket: q.Get("ticket"), State: q.Get("state"), Code: q.Get("code"),
		Error: q.Get("error"), IP: httpx.ClientIP(r), UserAgent: r.UserAgent()}
	if c, err := r.Cookie(sso.FlowCookie); err == nil {
		ret.FlowToken = c.Value
	}
	return ret
}

// ssoLoggedIn opens the session of a finished login: a new session at every login, the old
// cookie's session ended, the flow cookie dropped.
func (w *Web) ssoLoggedIn(rw http.ResponseWriter, r *http.Request, l *sso.Login) {
	if old := httpx.SessionToken(r); old != "" {
		_ = w.Accounts.EndSession(r.Context(), old)
	}
	httpx.SetSession(rw, l.SessionToken, w.cfg.SecureCookies)
	http.SetCookie(rw, &http.Cookie{Name: sso.FlowCookie, Path: "/sso/", MaxAge: -1, HttpOnly: true,
		Secure: w.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(rw, r, l.Next, http.StatusSeeOther)
}

// ssoCAS is the CAS service URL: the person comes back with a ticket.
func (w *Web) ssoCAS(rw http.ResponseWriter, r *http.Request) {
	l, err := w.SSO.FinishCAS(r.Context(), w.ssoReturn(r))
	if err != nil {
		w.ssoFailed(rw, r, r.PathValue("slug"), err)
		return
	}
	w.ssoLoggedIn(rw, r, l)
}

// ssoCASLogout receives the CAS server's single-logout request (a form post from the server
// itself, not from a browser) and ends the session its ticket opened.
func (w *Web) ssoCASLogout(rw http.ResponseWriter, r *http.Request) {
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	err := w.SSO.SingleLogout(r.Context(), r.PathValue("slug"), r.PostFormValue("logoutRequest"))
	if err != nil {
		e := errs.As(err)
		if e.Code == errs.Internal {
			w.log.Error("sso single logout", "err", e.Cause)
		}
		// The CAS server reads this answer: English, with the code.
		http.Error(rw, e.CodeKey()+": "+e.Message, errs.HTTPStatus(e.Code))
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Write([]byte("ok\n"))
}

// ssoCallback is the OpenID Connect redirect URI.
func (w *Web) ssoCallback(rw http.ResponseWriter, r *http.Request) {
	l, err := w.SSO.FinishOIDC(r.Context(), w.ssoReturn(r))
	if err != nil {
		w.ssoFailed(rw, r, r.PathValue("slug"), err)
		return
	}
	w.ssoLoggedIn(rw, r, l)
}
