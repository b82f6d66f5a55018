package web

import (
	"net/http"

	"roster/internal/account"
	"roster/internal/httpx"
	"roster/internal/site"
)

type setupData struct {
	FirstName, LastName, Email, Username string
	siteFields
}

// setupForm is the page behind the one-time link printed by the first `roster serve`: it
// creates the first platform administrator.
func (w *Web) setupForm(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "setup.title")
	if err := w.Accounts.CheckFirstAdminToken(r.Context(), r.PathValue("token")); err != nil {
		w.linkGone(rw, r, p, err)
		return
	}
	st, _ := site.Get(r.Context(), w.db)
	p.Data = &setupData{siteFields: w.siteFields(st, p.L.Lang)}
	w.render(rw, r, http.StatusOK, "setup", p)
}

func (w *Web) setupSubmit(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "setup.title")
	token := r.PathValue("token")
	if err := w.Accounts.CheckFirstAdminToken(r.Context(), token); err != nil {
		w.linkGone(rw, r, p, err)
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	st, _ := site.Get(r.Context(), w.db)
	d := &setupData{FirstName: formValue(r, "first_name"), LastName: formValue(r, "last_name"),
		Email: formValue(r, "email"), Username: formValue(r, "username"), siteFields: w.siteFields(st, p.L.Lang)}
	lang, tz := w.siteForm(r)
	if lang != "" {
		d.SiteLanguage = lang
	}
	if tz != "" {
		d.SiteTimeZone = tz
	}
	p.Data = d
	if err := site.Check(lang, tz); err != nil {
		w.render(rw, r, showError(p, err), "setup", p)
		return
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		p.Fields["confirm"] = p.L.T("password.mismatch")
		w.render(rw, r, http.StatusUnprocessableEntity, "setup", p)
		return
	}
	u, err := w.Accounts.CompleteFirstAdmin(r.Context(), token, account.NewUser{
		Username: d.Username, Email: d.Email, FirstName: d.FirstName, LastName: d.LastName,
		Language: p.L.Lang, Password: password, IsAdmin: true,
	}, saveSiteTx(r, lang, tz))
	if err != nil {
		w.render(rw, r, showError(p, err), "setup", p)
		return
	}
	session, err := w.Accounts.CreateSession(r.Context(), u.ID, httpx.ClientIP(r), r.UserAgent())
	if err != nil {
		w.render(rw, r, showError(p, err), "setup", p)
		return
	}
	httpx.SetSession(rw, session, w.cfg.SecureCookies)
	http.Redirect(rw, r, "/", http.StatusSeeOther)
}
