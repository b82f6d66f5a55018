package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/invite"
)

// The invitation form, /invitations/new: addresses, groups and role, language, deletion date
// and custom fields; on submit, the outcome of each address, with "add these existing
// accounts to the groups instead" for the addresses that have an account.

type inviteFormData struct {
	Emails   string
	Choices  []invite.GroupChoice
	Selected map[int64]bool
	Role     string
	Roles    []string
	Language string
	DeleteAt string
	Profile  []account.ProfileField
	Custom   map[string]string
	Results  []invite.Result
	Counts   map[string]int
	Existing []int64 // accounts of the already_active outcomes
	Grants   []invite.Grant
}

func (w *Web) inviteForm(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	d := &inviteFormData{Role: group.Learner, Selected: map[int64]bool{}, Custom: map[string]string{}}
	if g, err := strconv.ParseInt(r.URL.Query().Get("group"), 10, 64); err == nil {
		d.Selected[g] = true
	}
	w.inviteRender(rw, r, d, http.StatusOK, nil)
}

func (w *Web) inviteRender(rw http.ResponseWriter, r *http.Request, d *inviteFormData, status int, err error) {
	p := w.page(rw, r, "invite.title")
	choices, cerr := w.Invites.GroupChoices(r.Context(), false)
	if cerr != nil {
		w.render(rw, r, showError(p, cerr), "message", p)
		return
	}
	d.Choices, d.Roles = choices, group.Roles
	if d.Language == "" && d.Results == nil {
		d.Language = p.L.Lang
	}
	if d.Profile, cerr = w.Accounts.ProfileFields(r.Context()); cerr != nil {
		w.render(rw, r, showError(p, cerr), "message", p)
		return
	}
	if err != nil {
		status = showError(p, err)
		inviteFieldsShown(p, "emails", "delete_at")
	}
	p.Data = d
	w.render(rw, r, status, "invitation_new", p)
}

// inviteFieldsShown keeps the field messages a form shows beside its inputs (those named,
// "groups" for every groups[i]... message, and custom_fields.KEY) and moves the others to
// the top of the page, so that no message is lost.
func inviteFieldsShown(p *Page, shown ...string) {
	keep := map[string]bool{"groups": true}
	for _, f := range shown {
		keep[f] = true
	}
	for k, v := range p.Fields {
		switch {
		case strings.HasPrefix(k, "groups"):
			delete(p.Fields, k)
			p.Fields["groups"] = v
		case keep[k] || strings.HasPrefix(k, "custom_fields."):
		default:
			delete(p.Fields, k)
			if p.Error != "" {
				p.Error += " "
			}
			p.Error += k + ": " + v
		}
	}
}

// inviteGrants reads the groups (several "group_id") and the one role of a form.
func inviteGrants(r *http.Request) (selected map[int64]bool, role string, grants []invite.Grant) {
	selected = map[int64]bool{}
	role = formValue(r, "role")
	for _, v := range r.PostForm["group_id"] {
		if id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && !selected[id] {
			selected[id] = true
			grants = append(grants, invite.Grant{GroupID: id, Role: role})
		}
	}
	return selected, role, grants
}

// inviteCustom reads the inputs "custom_KEY" of the profile fields; a date typed as
// dd/mm/yyyy (French pages) is read as yyyy-mm-dd.
func (w *Web) inviteCustom(r *http.Request) map[string]string {
	out := map[string]string{}
	for k, v := range r.PostForm {
		if key, ok := strings.CutPrefix(k, "custom_"); ok && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
			out[key] = strings.TrimSpace(v[0])
		}
	}
	w.isoCustomDates(r, out)
	return out
}

// isoCustomDates rewrites the values of date profile fields typed as dd/mm/yyyy.
func (w *Web) isoCustomDates(r *http.Request, values map[string]string) {
	fields, err := w.Accounts.ProfileFields(r.Context())
	if err != nil {
		return // the service refuses what it cannot read
	}
	for _, f := range fields {
		if v, ok := values[f.Key]; ok && f.Kind == account.FieldDate {
			values[f.Key] = isoDate(v)
		}
	}
}

// inviteDate reads a date input (YYYY-MM-DD); "" is none. A bad value reads as none and the
// page says so through the field message.
func inviteDate(v string) (*time.Time, bool) {
	if v == "" {
		return nil, true
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, false
	}
	return &t, true
}

func (w *Web) inviteSubmit(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	d := &inviteFormData{Emails: r.PostFormValue("emails"), Language: formValue(r, "language"),
		DeleteAt: formValue(r, "delete_at"), Custom: w.inviteCustom(r)}
	d.Selected, d.Role, d.Grants = inviteGrants(r)
	deleteAt, ok := inviteDate(d.DeleteAt)
	if !ok {
		p := w.page(rw, r, "invite.title")
		w.inviteRender(rw, r, d, http.StatusUnprocessableEntity, errs.Field("delete_at", "%s", p.L.T("invite.bad_date")))
		return
	}
	res, err := w.Invites.Invite(r.Context(), invite.Request{Emails: d.Emails, Groups: d.Grants, Language: d.Language,
		DeleteAt: deleteAt, CustomFields: d.Custom})
	if err != nil {
		w.inviteRender(rw, r, d, http.StatusOK, err)
		return
	}
	d.Results, d.Counts = res, map[string]int{}
	for _, x := range res {
		d.Counts[x.Outcome]++
		if x.Outcome == invite.AlreadyActive {
			d.Existing = append(d.Existing, x.UserID)
		}
	}
	d.Emails = ""
	w.inviteRender(rw, r, d, http.StatusOK, nil)
}

// inviteAddExisting is the one click that puts the accounts of already_active outcomes in
// the groups of the invitation instead.
func (w *Web) inviteAddExisting(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	d := &inviteFormData{Custom: map[string]string{}}
	d.Selected, d.Role, d.Grants = inviteGrants(r)
	var ids []int64
	for _, v := range r.PostForm["user_id"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if err := w.Invites.AddExisting(r.Context(), ids, d.Grants); err != nil {
		w.inviteRender(rw, r, d, http.StatusOK, err)
		return
	}
	p := w.page(rw, r, "invite.title")
	p.Notice = p.L.T("invite.added_existing", len(ids))
	w.render(rw, r, http.StatusOK, "message", p)
}
