package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/errs"
)

// The administration of accounts: GET /api/v1/users (list), GET|PATCH|DELETE
// /api/v1/users/{id}. Direct creation (POST /api/v1/users) lives with invitations.

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := limit(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	f := account.UserFilter{Q: q.Get("q"), Status: q.Get("status"), Limit: n, Cursor: q.Get("cursor")}
	if v := q.Get("group_id"); v != "" {
		if f.GroupID, err = strconv.ParseInt(v, 10, 64); err != nil || f.GroupID <= 0 {
			a.problem(w, r, errs.FieldCode("group_id", "api_bad_group_id", errs.P{"value": v}))
			return
		}
	}
	users, next, err := a.Accounts.ListUsers(r.Context(), f)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	now := a.db.Now()
	out := List[User]{Items: make([]User, 0, len(users)), NextCursor: next}
	for _, u := range users {
		out.Items = append(out.Items, UserOf(u, now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	u, err := a.Accounts.GetUser(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, UserOf(u, a.db.Now()))
}

// userPatch is the body of PATCH /api/v1/users/{id}: absent fields stay as they are;
// "delete_at": null removes the deletion date; a custom field given as "" is removed.
type userPatch struct {
	FirstName    *string           `json:"first_name"`
	LastName     *string           `json:"last_name"`
	Email        *string           `json:"email"`
	Username     *string           `json:"username"`
	Language     *string           `json:"language"`
	Status       *string           `json:"status"`
	DeleteAt     json.RawMessage   `json:"delete_at"`
	CustomFields map[string]string `json:"custom_fields"`
}

func (a *API) patchUser(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in userPatch
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	up := account.UserUpdate{FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Username: in.Username,
		Language: in.Language, Status: in.Status, CustomFields: in.CustomFields}
	if in.DeleteAt != nil {
		if string(in.DeleteAt) == "null" {
			up.ClearDeleteAt = true
		} else {
			var s string
			if json.Unmarshal(in.DeleteAt, &s) != nil {
				a.problem(w, r, errs.FieldCode("delete_at", "api_bad_time_or_null"))
				return
			}
			t, err := ParseDate(s)
			if err != nil {
				a.problem(w, r, errs.FieldCode("delete_at", "api_bad_time_or_null"))
				return
			}
			up.DeleteAt = &t
		}
	}
	u, err := a.Accounts.UpdateUser(r.Context(), id, up)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, UserOf(u, a.db.Now()))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if err := a.Accounts.DeleteUser(r.Context(), id); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ParseDate reads a deletion date: an RFC 3339 time, or a day YYYY-MM-DD (midnight UTC,
// the start of that day).
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}
