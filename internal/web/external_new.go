package web

import (
	"net/http"
	"strconv"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/invite"
)

// "Create an account", /external/new: an external person's account, active at once, with
// their groups, and either a password set here or an email that lets them choose one. The
// dashboard block "External users" posts here with just last name, first name and email.

type externalData struct {
	FirstName, LastName, Email, Username string
	Language, DeleteAt                   string
	Choices                              []invite.GroupChoice
	Selected                             map[int64]bool
	Role                                 string
	Roles                                []string
	Profile                              []account.ProfileField
	Custom                               map[string]string
	Notify                               bool
	Created                              *invite.Created
}

func (w *Web) externalForm(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	w.externalRender(rw, r, &externalData{Role: group.Learner, Notify: true, Selected: map[int64]bool{},
		Custom: map[string]string{}}, http.StatusOK, nil)
}

func (w *Web) externalRender(rw http.ResponseWriter, r *http.Request, d *externalData, status int, err error) {
	p := w.page(rw, r, "external.title")
	choices, cerr := w.Invites.GroupChoices(r.Context(), true)
	if cerr == nil {
		d.Profile, cerr = w.Accounts.ProfileFields(r.Context())
	}
	if cerr != nil {
		w.render(rw, r, showError(p, cerr), "message", p)
		return
	}
	d.Choices, d.Roles = choices, group.Roles
	if err != nil {
		status = showError(p, err)
		inviteFieldsShown(p, "first_name", "last_name", "email", "username", "password", "confirm", "delete_at")
	}
	if d.Created != nil {
		p.Notice = p.L.T("external.created", d.Created.User.Username)
	}
	p.Data = d
	w.render(rw, r, status, "external_new", p)
}

func (w *Web) externalSubmit(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	d := &externalData{FirstName: formValue(r, "first_name"), LastName: formValue(r, "last_name"),
		Email: formValue(r, "email"), Username: formValue(r, "username"), Language: formValue(r, "language"),
		DeleteAt: formValue(r, "delete_at"), Custom: w.inviteCustom(r),
		// The dashboard block has no checkbox: it always notifies.
		Notify: r.PostFormValue("notify") != "" || r.PostFormValue("quick") != ""}
	var grants []invite.Grant
	d.Selected, d.Role, grants = inviteGrants(r)
	courseID, _ := strconv.ParseInt(formValue(r, "course_id"), 10, 64)
	if r.PostFormValue("quick") != "" {
		w.externalQuick(rw, r, d, grants, courseID)
		return
	}
	deleteAt, ok := inviteDate(d.DeleteAt)
	if !ok {
		w.externalRender(rw, r, d, http.StatusUnprocessableEntity, errs.Field("delete_at", "%s",
			w.page(rw, r, "").L.T("invite.bad_date")))
		return
	}
	password := r.PostFormValue("password")
	if password != "" && password != r.PostFormValue("confirm") {
		p := w.page(rw, r, "")
		w.externalRender(rw, r, d, http.StatusUnprocessableEntity, errs.Field("confirm", "%s", p.L.T("password.mismatch")))
		return
	}
	c, err := w.Invites.CreateExternal(r.Context(), invite.ExternalRequest{FirstName: d.FirstName, LastName: d.LastName,
		Email: d.Email, Username: d.Username, Language: d.Language, DeleteAt: deleteAt, CustomFields: d.Custom,
		Groups: grants, Password: password, SendCredentials: d.Notify, CourseID: courseID})
	if err != nil {
		w.externalRender(rw, r, d, http.StatusOK, err)
		return
	}
	w.externalRender(rw, r, &externalData{Role: d.Role, Notify: true, Selected: d.Selected, Custom: map[string]string{},
		Created: c}, http.StatusOK, nil)
}

// externalQuick is the dashboard block "External users": last name, first name, email, and
// optionally one of the person's courses (teachers) or groups (user administrators, as a
// learner). The new account always gets the account-setup email; the dashboard is shown
// again with a notice, or with the block's errors.
func (w *Web) externalQuick(rw http.ResponseWriter, r *http.Request, d *externalData, grants []invite.Grant, courseID int64) {
	for i := range grants {
		grants[i].Role = group.Learner
	}
	c, err := w.Invites.CreateExternal(r.Context(), invite.ExternalRequest{FirstName: d.FirstName, LastName: d.LastName,
		Email: d.Email, Groups: grants, SendCredentials: true, CourseID: courseID})
	if err != nil {
		hd := &homeData{FirstName: d.FirstName, LastName: d.LastName, Email: d.Email, CourseID: courseID}
		if len(grants) > 0 {
			hd.GroupID = grants[0].GroupID
		}
		w.homeRender(rw, r, hd, "", err)
		return
	}
	p := w.page(rw, r, "")
	w.homeRender(rw, r, &homeData{}, p.L.T("external.created", c.User.Username), nil)
}
