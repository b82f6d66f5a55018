package web

import (
	"context"
	"net/http"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/httpx"
)

type forgotData struct{ Login string }

func (w *Web) forgotForm(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "forgot.title")
	p.Data = &forgotData{}
	w.render(rw, r, http.StatusOK, "forgot", p)
}

// forgotSubmit answers with the same neutral text whether or not an account matches. The one
// exception is an institutional (SSO) account, whose password Roster does not hold.
func (w *Web) forgotSubmit(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "forgot.title")
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	d := &forgotData{Login: formValue(r, "login")}
	p.Data = d
	if d.Login == "" {
		p.Fields["login"] = p.L.T("field.required")
		w.render(rw, r, http.StatusUnprocessableEntity, "forgot", p)
		return
	}
	err := w.Accounts.RequestReset(r.Context(), d.Login, httpx.ClientIP(r))
	switch {
	case err == nil:
		p.Notice = p.L.T("forgot.sent")
		d.Login = ""
	case errs.Is(err, errs.Conflict):
		p.Error = p.L.T("forgot.sso")
	default:
		w.render(rw, r, showError(p, err), "forgot", p)
		return
	}
	w.render(rw, r, http.StatusOK, "forgot", p)
}

type passwordData struct {
	Username string
	Action   string
}

// tokenPassword is a page that sets a password through a one-time link: the reset link and
// the "an account was created for you" link work the same way, with their own service calls.
type tokenPassword struct {
	titleKey string
	check    func(ctx context.Context, token string) (*account.User, error)
	complete func(ctx context.Context, token, password string) error
	done     string // where to go after, with its notice
	// endsSessions: the service ended every session of the person, this browser's too.
	endsSessions bool
}

func (w *Web) resetPassword() tokenPassword {
	return tokenPassword{titleKey: "reset.title", check: w.Accounts.CheckResetToken,
		complete: w.Accounts.ResetPassword, done: "/login?done=reset", endsSessions: true}
}

func (w *Web) accountSetup() tokenPassword {
	return tokenPassword{titleKey: "account_setup.title", check: w.Accounts.CheckAccountSetupToken,
		complete: w.Accounts.CompleteAccountSetup, done: "/login?done=setup"}
}

func (w *Web) resetForm(rw http.ResponseWriter, r *http.Request) {
	w.passwordForm(rw, r, w.resetPassword())
}
func (w *Web) resetSubmit(rw http.ResponseWriter, r *http.Request) {
	w.passwordSubmit(rw, r, w.resetPassword())
}
func (w *Web) accountSetupForm(rw http.ResponseWriter, r *http.Request) {
	w.passwordForm(rw, r, w.accountSetup())
}
func (w *Web) accountSetupSubmit(rw http.ResponseWriter, r *http.Request) {
	w.passwordSubmit(rw, r, w.accountSetup())
}

func (w *Web) passwordForm(rw http.ResponseWriter, r *http.Request, f tokenPassword) {
	p := w.page(rw, r, f.titleKey)
	u, err := f.check(r.Context(), r.PathValue("token"))
	if err != nil {
		w.linkGone(rw, r, p, err)
		return
	}
	p.Data = &passwordData{Username: u.Username, Action: r.URL.Path}
	w.render(rw, r, http.StatusOK, "password", p)
}

func (w *Web) passwordSubmit(rw http.ResponseWriter, r *http.Request, f tokenPassword) {
	p := w.page(rw, r, f.titleKey)
	token := r.PathValue("token")
	u, err := f.check(r.Context(), token)
	if err != nil {
		w.linkGone(rw, r, p, err)
		return
	}
	p.Data = &passwordData{Username: u.Username, Action: r.URL.Path}
	password, ok := w.twoPasswords(rw, r, p)
	if !ok {
		return
	}
	if err := f.complete(r.Context(), token, password); err != nil {
		if errs.Is(err, errs.Gone) {
			w.linkGone(rw, r, p, err)
			return
		}
		w.render(rw, r, showError(p, err), "password", p)
		return
	}
	if f.endsSessions {
		httpx.ClearSession(rw, w.cfg.SecureCookies)
	}
	http.Redirect(rw, r, f.done, http.StatusSeeOther)
}

// twoPasswords reads "password" and "confirm"; on a mismatch it re-renders and says false.
func (w *Web) twoPasswords(rw http.ResponseWriter, r *http.Request, p *Page) (string, bool) {
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return "", false
	}
	password, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
	if password == "" {
		p.Fields["password"] = p.L.T("field.required")
	} else if password != confirm {
		p.Fields["confirm"] = p.L.T("password.mismatch")
	}
	if len(p.Fields) > 0 {
		w.render(rw, r, http.StatusUnprocessableEntity, "password", p)
		return "", false
	}
	return password, true
}

// linkGone answers a link that is unknown, used or expired, or any other failure to check it.
func (w *Web) linkGone(rw http.ResponseWriter, r *http.Request, p *Page, err error) {
	if !errs.Is(err, errs.Gone) && !errs.Is(err, errs.NotFound) {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	p.Error = p.L.T("link.gone")
	w.render(rw, r, http.StatusGone, "message", p)
}
