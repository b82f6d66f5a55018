package web

import (
	"net/http"
	"strconv"
	"strings"

	"roster/internal/account"
)

// /admin/profile-fields: platform administrators define the custom profile fields (text,
// choice, date; required or not) and the account setting about shared email addresses. The
// service checks the rights.

type profileFieldsData struct {
	Fields      []account.ProfileField
	New         account.ProfileField // the creation form, refilled after an error
	NewOptions  string
	SharedEmail bool
	// Identity: the fields a teacher's people search shows (account.SettingShowIdentity).
	Identity map[string]bool
}

// IdentityFields are the choices of the people search's identity fields.
func (profileFieldsData) IdentityFields() []string { return account.IdentityFields }

func (w *Web) adminProfileFields(rw http.ResponseWriter, r *http.Request) {
	u := w.requireLogin(rw, r)
	if u == nil {
		return
	}
	p := w.page(rw, r, "pf.title")
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = p.L.T("pf.saved")
	case "deleted":
		p.Notice = p.L.T("pf.deleted")
	}
	w.profileFieldsRender(rw, r, p, &profileFieldsData{New: account.ProfileField{Kind: account.FieldText}}, http.StatusOK)
}

func (w *Web) profileFieldsRender(rw http.ResponseWriter, r *http.Request, p *Page, d *profileFieldsData, status int) {
	if u := currentUser(r); u == nil || !u.IsAdmin {
		p.Error = p.L.T("error.forbidden")
		w.render(rw, r, http.StatusForbidden, "message", p)
		return
	}
	var err error
	if d.Fields, err = w.Accounts.ProfileFields(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	if d.SharedEmail, err = account.SharedEmailAllowed(r.Context(), w.db); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	if d.Identity, err = account.ShowIdentity(r.Context(), w.db); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	p.Data = d
	w.render(rw, r, status, "admin_profile_fields", p)
}

// profileFieldForm reads a definition from a form; options are one per line.
func profileFieldForm(r *http.Request) (account.ProfileField, string) {
	opts := r.PostFormValue("options")
	order, _ := strconv.Atoi(formValue(r, "sort_order"))
	f := account.ProfileField{Key: formValue(r, "key"), Label: formValue(r, "label"), Kind: formValue(r, "kind"),
		Required: r.PostFormValue("required") == "1", SortOrder: order}
	for _, o := range strings.Split(opts, "\n") {
		if o = strings.TrimSpace(o); o != "" {
			f.Options = append(f.Options, o)
		}
	}
	return f, opts
}

func (w *Web) adminProfileFieldCreate(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	p := w.page(rw, r, "pf.title")
	f, opts := profileFieldForm(r)
	if _, err := w.Accounts.CreateProfileField(r.Context(), f); err != nil {
		status := showError(p, err)
		w.profileFieldsRender(rw, r, p, &profileFieldsData{New: f, NewOptions: opts}, status)
		return
	}
	http.Redirect(rw, r, "/admin/profile-fields?done=saved", http.StatusSeeOther)
}

func (w *Web) adminProfileFieldSave(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	p := w.page(rw, r, "pf.title")
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f, _ := profileFieldForm(r)
	if _, err := w.Accounts.UpdateProfileField(r.Context(), id, f); err != nil {
		status := showError(p, err)
		if p.Error == "" {
			for field, msg := range p.Fields {
				p.Error = f.Key + " · " + field + ": " + msg
			}
		}
		w.profileFieldsRender(rw, r, p, &profileFieldsData{New: account.ProfileField{Kind: account.FieldText}}, status)
		return
	}
	http.Redirect(rw, r, "/admin/profile-fields?done=saved", http.StatusSeeOther)
}

func (w *Web) adminProfileFieldDelete(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "pf.title")
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := w.Accounts.DeleteProfileField(r.Context(), id); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	http.Redirect(rw, r, "/admin/profile-fields?done=deleted", http.StatusSeeOther)
}

// adminAccountSettings saves the shared-email setting.
func (w *Web) adminAccountSettings(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	// The identity fields first: a bad one changes nothing.
	var err error
	if r.PostFormValue("identity_form") == "1" {
		err = w.Accounts.SetShowIdentity(r.Context(), r.PostForm["show_identity"])
	}
	if err == nil {
		err = w.Accounts.SetSharedEmailAllowed(r.Context(), r.PostFormValue("shared_email") == "1")
	}
	if err != nil {
		p := w.page(rw, r, "pf.title")
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	http.Redirect(rw, r, "/admin/profile-fields?done=saved", http.StatusSeeOther)
}
