package web

import (
	"net/http"

	"roster/internal/errs"
	"roster/internal/httpx"
)

// rememberCookie keeps the username when "Remember my username" is ticked.
const rememberCookie = "roster_remember"

type loginData struct {
	Login    string
	Remember bool
	Next     string
	// SSO lists the institutional sign-in buttons; empty until single sign-on is configured.
	SSO []ssoButton
	// Guest offers "Continue as guest" when a course allows guest access.
	Guest bool
}

type ssoButton struct{ Name, URL string }

func (w *Web) loginForm(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "login.title")
	d := &loginData{Next: httpx.LocalPath(r.URL.Query().Get("next"))}
	d.SSO = w.ssoButtons(r, d.Next)
	d.Guest = w.courseGuestAccess(r)
	if c, err := r.Cookie(rememberCookie); err == nil && c.Value != "" {
		d.Login, d.Remember = c.Value, true
	}
	switch r.URL.Query().Get("done") {
	case "reset":
		p.Notice = p.L.T("reset.done")
	case "setup":
		p.Notice = p.L.T("account_setup.done")
	case "logout":
		p.Notice = p.L.T("logout.done")
	}
	p.Data = d
	w.render(rw, r, http.StatusOK, "login", p)
}

func (w *Web) loginSubmit(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "login.title")
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	d := &loginData{Login: formValue(r, "login"), Remember: r.PostFormValue("remember") != "", Next: httpx.LocalPath(r.PostFormValue("next"))}
	d.SSO = w.ssoButtons(r, d.Next)
	p.Data = d
	ctx := r.Context()
	u, err := w.Accounts.Login(ctx, d.Login, r.PostFormValue("password"), httpx.ClientIP(r))
	if err != nil {
		e := errs.As(err)
		status := errs.HTTPStatus(e.Code)
		switch e.Code {
		case errs.TooMany:
			p.Error = p.L.T("login.throttled", e.RetryAfter)
			rw.Header().Set("Retry-After", itoa(e.RetryAfter))
		case errs.Internal:
			p.Error = p.L.T("error.internal")
		case errs.Unavailable: // the database cannot be reached or cannot write: not a wrong password
			p.Error = p.L.T("error.unavailable")
		default:
			// One message for unknown logins, wrong passwords and suspended accounts.
			p.Error = p.L.T("login.wrong")
			status = http.StatusUnauthorized
		}
		w.render(rw, r, status, "login", p)
		return
	}
	// A new session at every login: an old cookie, planted or not, never becomes logged in.
	if old := httpx.SessionToken(r); old != "" {
		_ = w.Accounts.EndSession(ctx, old)
	}
	token, err := w.Accounts.CreateSession(ctx, u.ID, httpx.ClientIP(r), r.UserAgent())
	if err != nil {
		w.render(rw, r, showError(p, err), "login", p)
		return
	}
	httpx.SetSession(rw, token, w.cfg.SecureCookies)
	if d.Remember {
		http.SetCookie(rw, &http.Cookie{Name: rememberCookie, Value: u.Username, Path: "/login", MaxAge: 365 * 86400,
			HttpOnly: true, Secure: w.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	} else {
		http.SetCookie(rw, &http.Cookie{Name: rememberCookie, Path: "/login", MaxAge: -1})
	}
	http.Redirect(rw, r, d.Next, http.StatusSeeOther)
}

func (w *Web) logout(rw http.ResponseWriter, r *http.Request) {
	if token := httpx.SessionToken(r); token != "" {
		if err := w.Accounts.EndSession(r.Context(), token); err != nil {
			w.log.Error("logout", "err", err)
		}
	}
	httpx.ClearSession(rw, w.cfg.SecureCookies)
	http.Redirect(rw, r, "/login?done=logout", http.StatusSeeOther)
}

func itoa(n int) string {
	if n <= 0 {
		return "1"
	}
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
