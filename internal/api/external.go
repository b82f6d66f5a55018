package api

import (
	"encoding/json"
	"net/http"

	"roster/internal/invite"
)

// createdUser is the answer of POST /api/v1/users: the user, and the one-time set-up link
// when the account has neither a password nor an address to send one to.
type createdUser struct {
	User
	SetupLink string `json:"setup_link,omitempty"`
}

// createUser is the direct creation of an account (CONTRACT.md, "Users"): active at once,
// with groups; "notify" (default true) emails the person a link to choose their password,
// "password" sets one instead (never emailed); "course_id" enrols the account in a course the
// caller manages. A teacher without group rights gives only names, email and course_id.
func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email        string            `json:"email"`
		FirstName    string            `json:"first_name"`
		LastName     string            `json:"last_name"`
		Username     string            `json:"username"`
		Language     string            `json:"language"`
		DeleteAt     json.RawMessage   `json:"delete_at"`
		CustomFields map[string]string `json:"custom_fields"`
		Groups       []grantIn         `json:"groups"`
		Notify       *bool             `json:"notify"`
		Password     string            `json:"password"`
		CourseID     flexID            `json:"course_id"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	deleteAt, err := optDate("delete_at", in.DeleteAt)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	notify := in.Notify == nil || *in.Notify
	c, err := a.Invites.CreateExternal(r.Context(), invite.ExternalRequest{FirstName: in.FirstName, LastName: in.LastName,
		Email: in.Email, Username: in.Username, Language: in.Language, DeleteAt: deleteAt, CustomFields: in.CustomFields,
		Groups: grantsOf(in.Groups), Password: in.Password, SendCredentials: notify,
		CourseID: int64(in.CourseID)})
	if err != nil {
		a.problem(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/users/"+ID(c.User.ID))
	writeJSON(w, http.StatusCreated, createdUser{User: UserOf(c.User, a.db.Now()), SetupLink: c.SetupLink})
}
