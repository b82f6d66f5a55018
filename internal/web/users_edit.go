package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/errs"
)

// One account's page: its details, the edit form (names, email, username, language, status,
// deletion date, custom fields), suspend or reactivate, and delete now after a confirmation.

type userEditData struct {
	U        *account.User
	Fields   []account.ProfileField
	DeleteAt string // YYYY-MM-DD, for the date input
	Billable bool
	// EmailFrom and EmailTo, when set, ask to confirm a change of address (EmailTo is what
	// the form carries as confirm_email: a later change of the field asks again).
	EmailFrom, EmailTo string
}

func (w *Web) userID(rw http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p := w.page(rw, r, "users.title")
		w.render(rw, r, showError(p, errs.Coded(errs.NotFound, "no_account")), "message", p)
		return 0, false
	}
	return id, true
}

func (w *Web) adminUser(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.userID(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "users.edit.title")
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = p.L.T("users.saved")
	case "suspended":
		p.Notice = p.L.T("users.suspended_notice")
	case "active":
		p.Notice = p.L.T("users.reactivated_notice")
	}
	w.userPage(rw, r, p, id, nil, http.StatusOK)
}

// userPage renders the account's page; with a form error, the submitted values are shown.
func (w *Web) userPage(rw http.ResponseWriter, r *http.Request, p *Page, id int64, submitted *account.User, status int) {
	w.userPageWith(rw, r, p, id, submitted, status, nil)
}

// userPageWith is userPage with a last touch to the page's data.
func (w *Web) userPageWith(rw http.ResponseWriter, r *http.Request, p *Page, id int64, submitted *account.User, status int, touch func(*userEditData)) {
	u, err := w.Accounts.GetUser(r.Context(), id)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	fields, err := w.Accounts.ProfileFields(r.Context())
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	d := &userEditData{U: u, Fields: fields, Billable: u.BillableAt(w.db.Now())}
	if submitted != nil {
		d.U = submitted
	}
	if d.U.DeleteAt != nil {
		d.DeleteAt = d.U.DeleteAt.Format(time.DateOnly)
	}
	if touch != nil {
		touch(d)
	}
	p.Data = d
	w.render(rw, r, status, "users_edit", p)
}

func (w *Web) adminUserSave(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.userID(rw, r)
	if !ok {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	p := w.page(rw, r, "users.edit.title")
	str := func(name string) *string { v := formValue(r, name); return &v }
	up := account.UserUpdate{FirstName: str("first_name"), LastName: str("last_name"), Email: str("email"),
		Username: str("username"), Language: str("language"), CustomFields: map[string]string{}}
	fields, err := w.Accounts.ProfileFields(r.Context())
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	for _, f := range fields {
		up.CustomFields[f.Key] = formValue(r, "cf_"+f.Key)
		if f.Kind == account.FieldDate {
			up.CustomFields[f.Key] = isoDate(up.CustomFields[f.Key])
		}
	}
	if v := formValue(r, "delete_at"); v == "" {
		up.ClearDeleteAt = true
	} else if t, err := time.Parse(time.DateOnly, v); err != nil {
		p.Fields["delete_at"] = p.L.T("users.bad_date")
	} else {
		up.DeleteAt = &t
	}
	var confirm *userEditData
	if len(p.Fields) == 0 {
		if confirm, err = w.emailChangeToConfirm(r, id, up); confirm != nil {
			p.Notice = p.L.T("users.email_confirm_notice")
		}
	}
	if len(p.Fields) == 0 && err == nil && confirm == nil {
		if _, err = w.Accounts.UpdateUser(r.Context(), id, up); err == nil {
			http.Redirect(rw, r, "/admin/users/"+strconv.FormatInt(id, 10)+"?done=saved", http.StatusSeeOther)
			return
		}
	}
	status := http.StatusUnprocessableEntity
	if err != nil {
		status = showError(p, err)
	} else if confirm != nil {
		status = http.StatusOK
	}
	// Show what was typed, so that nothing is lost.
	sub := &account.User{ID: id, FirstName: *up.FirstName, LastName: *up.LastName, Email: *up.Email, Username: *up.Username,
		Language: *up.Language, CustomFields: up.CustomFields, DeleteAt: up.DeleteAt}
	if cur, gerr := w.Accounts.GetUser(r.Context(), id); gerr == nil {
		sub.Status, sub.Auth, sub.CreatedAt, sub.LastLoginAt, sub.ActivatedAt = cur.Status, cur.Auth, cur.CreatedAt, cur.LastLoginAt, cur.ActivatedAt
	}
	w.userPageConfirm(rw, r, p, id, sub, confirm, status)
}

// emailChangeToConfirm runs the save's own checks (account.CheckUserUpdate: the right, every
// field, an address already taken) and, when the address changes and the person saving has
// not yet confirmed "from A to B" (the form then carries confirm_email, equal to the field),
// returns the confirmation to show; nil to save.
func (w *Web) emailChangeToConfirm(r *http.Request, id int64, up account.UserUpdate) (*userEditData, error) {
	cur, err := w.Accounts.CheckUserUpdate(r.Context(), id, up)
	if err != nil {
		return nil, err
	}
	email := strings.TrimSpace(*up.Email)
	if strings.EqualFold(email, cur.Email) || (email != "" && formValue(r, "confirm_email") == email) {
		return nil, nil
	}
	return &userEditData{EmailFrom: cur.Email, EmailTo: email}, nil
}

// userPageConfirm is userPage with a change of address to confirm.
func (w *Web) userPageConfirm(rw http.ResponseWriter, r *http.Request, p *Page, id int64, sub *account.User, confirm *userEditData, status int) {
	if confirm == nil {
		w.userPage(rw, r, p, id, sub, status)
		return
	}
	p.Title = p.L.T("users.email_confirm_title")
	w.userPageWith(rw, r, p, id, sub, status, func(d *userEditData) { d.EmailFrom, d.EmailTo = confirm.EmailFrom, confirm.EmailTo })
}

// adminUserStatus suspends or reactivates the account (status=suspended|active).
func (w *Web) adminUserStatus(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.userID(rw, r)
	if !ok {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	status := formValue(r, "status")
	if _, err := w.Accounts.UpdateUser(r.Context(), id, account.UserUpdate{Status: &status}); err != nil {
		p := w.page(rw, r, "users.edit.title")
		code := showError(p, err)
		if msg, ok := p.Fields["status"]; ok {
			p.Error = msg
		}
		w.userPage(rw, r, p, id, nil, code)
		return
	}
	http.Redirect(rw, r, "/admin/users/"+strconv.FormatInt(id, 10)+"?done="+status, http.StatusSeeOther)
}

// adminUserDeleteForm asks for confirmation before deleting now.
func (w *Web) adminUserDeleteForm(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.userID(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "users.delete.title")
	u, err := w.Accounts.GetUser(r.Context(), id)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	p.Data = &userEditData{U: u}
	w.render(rw, r, http.StatusOK, "users_delete", p)
}

func (w *Web) adminUserDelete(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.userID(rw, r)
	if !ok {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	p := w.page(rw, r, "users.delete.title")
	if formValue(r, "confirm") != "yes" {
		p.Error = p.L.T("users.delete.unconfirmed")
		u, err := w.Accounts.GetUser(r.Context(), id)
		if err != nil {
			w.render(rw, r, showError(p, err), "message", p)
			return
		}
		p.Data = &userEditData{U: u}
		w.render(rw, r, http.StatusUnprocessableEntity, "users_delete", p)
		return
	}
	if err := w.Accounts.DeleteUser(r.Context(), id); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	http.Redirect(rw, r, "/admin/users?done=deleted", http.StatusSeeOther)
}
