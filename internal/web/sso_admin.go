package web

import (
	"net/http"
	"strconv"
	"strings"

	"roster/internal/errs"
	"roster/internal/sso"
)

// The set-up pages of single sign-on, for platform administrators (the service checks):
// /admin/sso lists the providers and converts accounts between local and SSO,
// /admin/sso/new and /admin/sso/{id} create and edit a provider.

type ssoAdminData struct {
	Providers []*sso.Provider
	Convert   sso.Conversion
	Result    *sso.ConvertResult
}

type ssoEditData struct {
	New         bool
	ID          int64
	P           sso.Provider
	Scopes      string
	Rules       string
	ServiceURL  string // CAS: register this service at the CAS server
	CallbackURL string // OIDC: register this redirect URI at the provider
	HasSecret   bool
}

func (w *Web) ssoAdmin(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	w.ssoAdminRender(rw, r, &ssoAdminData{}, http.StatusOK, nil)
}

func (w *Web) ssoAdminRender(rw http.ResponseWriter, r *http.Request, d *ssoAdminData, status int, err error) {
	p := w.page(rw, r, "sso.admin.title")
	ps, lerr := w.SSO.Providers(r.Context())
	if lerr != nil {
		w.render(rw, r, showError(p, lerr), "message", p)
		return
	}
	d.Providers = ps
	if err != nil {
		status = showError(p, err)
	}
	if d.Result != nil {
		p.Notice = p.L.T("sso.convert.done", d.Result.User.Username, d.Result.User.Auth)
	}
	p.Data = d
	w.render(rw, r, status, "sso_admin", p)
}

// ssoConvert switches an account between local and SSO.
func (w *Web) ssoConvert(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	c := sso.Conversion{Login: formValue(r, "login"), To: formValue(r, "to"), Subject: formValue(r, "subject")}
	d := &ssoAdminData{Convert: c}
	res, err := w.SSO.Convert(r.Context(), c)
	if err != nil {
		w.ssoAdminRender(rw, r, d, http.StatusOK, err)
		return
	}
	d.Result, d.Convert = res, sso.Conversion{}
	w.ssoAdminRender(rw, r, d, http.StatusOK, nil)
}

func (w *Web) ssoNew(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind != sso.KindOIDC {
		kind = sso.KindCAS
	}
	d := &ssoEditData{New: true, P: sso.Provider{Kind: kind, Enabled: true,
		Settings: sso.Settings{Mapping: sso.DefaultMapping(kind), CreateAccounts: true}}}
	if kind == sso.KindOIDC {
		d.Scopes = strings.Join(sso.DefaultScopes, " ")
	}
	w.ssoEditRender(rw, r, d, http.StatusOK, nil)
}

func (w *Web) ssoEdit(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	pr, err := w.SSO.Provider(r.Context(), id)
	if err != nil {
		p := w.page(rw, r, "sso.admin.title")
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	w.ssoEditRender(rw, r, editData(pr), http.StatusOK, nil)
}

func editData(pr *sso.Provider) *ssoEditData {
	d := &ssoEditData{ID: pr.ID, P: *pr, Scopes: strings.Join(pr.Settings.Scopes, " "),
		Rules: sso.FormatRules(pr.Settings.Rules), HasSecret: pr.Settings.ClientSecret != ""}
	d.P.Settings.ClientSecret = ""
	return d
}

func (w *Web) ssoEditRender(rw http.ResponseWriter, r *http.Request, d *ssoEditData, status int, err error) {
	titleKey := "sso.edit.title"
	if d.New {
		titleKey = "sso.new.title"
	}
	p := w.page(rw, r, titleKey)
	if err != nil {
		status = showError(p, err)
		for _, f := range errs.As(err).Fields {
			if f.Line > 0 {
				p.Fields[f.Field] = p.L.T("sso.rules.line", f.Line, f.In(p.L.Lang))
			}
		}
	}
	if !d.New && d.P.Slug != "" {
		d.ServiceURL, d.CallbackURL = w.SSO.ServiceURL(&d.P), w.SSO.CallbackURL(&d.P)
	}
	p.Data = d
	w.render(rw, r, status, "sso_edit", p)
}

// ssoSave creates (id "new") or updates a provider from the form, then goes back to the list.
func (w *Web) ssoSave(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	in := sso.Provider{
		Kind: formValue(r, "kind"), Slug: formValue(r, "slug"), Name: formValue(r, "name"),
		Enabled: r.PostFormValue("enabled") != "",
		Settings: sso.Settings{
			CASURL: formValue(r, "cas_url"), EmailsVerified: r.PostFormValue("emails_verified") != "",
			Issuer: formValue(r, "issuer"), ClientID: formValue(r, "client_id"), ClientSecret: formValue(r, "client_secret"),
			Scopes: strings.Fields(r.PostFormValue("scopes")),
			Mapping: sso.Mapping{Username: formValue(r, "map_username"), Email: formValue(r, "map_email"),
				FirstName: formValue(r, "map_first_name"), LastName: formValue(r, "map_last_name"), Language: formValue(r, "map_language")},
			CreateAccounts: r.PostFormValue("create_accounts") != "",
			LinkByEmail:    r.PostFormValue("link_by_email") != "",
		},
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	d := &ssoEditData{New: id == 0, ID: id, P: in, Scopes: r.PostFormValue("scopes"), Rules: r.PostFormValue("rules")}
	d.P.Settings.ClientSecret = ""
	rules, err := sso.ParseRules(d.Rules)
	if err != nil {
		w.ssoEditRender(rw, r, d, http.StatusOK, err)
		return
	}
	in.Settings.Rules = rules
	if id == 0 {
		_, err = w.SSO.CreateProvider(r.Context(), in)
	} else {
		_, err = w.SSO.UpdateProvider(r.Context(), id, in)
	}
	if err != nil {
		w.ssoEditRender(rw, r, d, http.StatusOK, err)
		return
	}
	http.Redirect(rw, r, "/admin/sso", http.StatusSeeOther)
}
