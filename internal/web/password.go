package web

import (
	"net/http"

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
		http.Error(rw, "bad form", http.StatusBadRequest)
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

func (w *Web) resetForm(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "reset.title")
	u, err := w.Accounts.CheckResetToken(r.Context(), r.PathValue("token"))
	if err != nil {
		w.linkGone(rw, r, p, err)
		return
	}
	p.Data = &passwordData{Username: u.Username, Action: r.URL.Path}
	w.render(rw, r, http.StatusOK, "password", p)
}

func (w *Web) resetSubmit(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "reset.title")
	token := r.PathValue("token")
	u, err := w.Accounts.CheckResetToken(r.Context(), token)
	if err != nil {
		w.linkGone(rw, r, p, err)
		return
	}
	p.Data = &passwordData{Username: u.Username, Action: r.URL.Path}
	password, ok := w.twoPasswords(rw, r, p)
	if !ok {
		return
	}
	if err := w.Accounts.ResetPassword(r.Context(), token, password); err != nil {
		if errs.Is(err, errs.Gone) {
			w.linkGone(rw, r, p, err)
			return
		}
		w.render(rw, r, showError(p, err), "password", p)
		return
	}
	// The reset ended every session, this browser's too.
	httpx.ClearSession(rw, w.cfg.SecureCookies)
	http.Redirect(rw, r, "/login?done=reset", http.StatusSeeOther)
}

func (w *Web) accountSetupForm(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "account_setup.title")
	u, err := w.Accounts.CheckAccountSetupToken(r.Context(), r.PathValue("token"))
	if err != nil {
		w.linkGone(rw, r, p, err)
		return
	}
	p.Data = &passwordData{Username: u.Username, Action: r.URL.Path}
	w.render(rw, r, http.StatusOK, "password", p)
}

func (w *Web) accountSetupSubmit(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "account_setup.title")
	token := r.PathValue("token")
	u, err := w.Accounts.CheckAccountSetupToken(r.Context(), token)
	if err != nil {
		w.linkGone(rw, r, p, err)
		return
	}
	p.Data = &passwordData{Username: u.Username, Action: r.URL.Path}
	password, ok := w.twoPasswords(rw, r, p)
	if !ok {
		return
	}
	if err := w.Accounts.CompleteAccountSetup(r.Context(), token, password); err != nil {
		if errs.Is(err, errs.Gone) {
			w.linkGone(rw, r, p, err)
			return
		}
		w.render(rw, r, showError(p, err), "password", p)
		return
	}
	http.Redirect(rw, r, "/login?done=setup", http.StatusSeeOther)
}

// twoPasswords reads "password" and "confirm"; on a mismatch it re-renders and says false.
func (w *Web) twoPasswords(rw http.ResponseWriter, r *http.Request, p *Page) (string, bool) {
	if err := parseForm(rw, r); err != nil {
		http.Error(rw, "bad form", http.StatusBadRequest)
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
