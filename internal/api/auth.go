package api

import (
	"net/http"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/httpx"
)

// User is the API's form of an account (CONTRACT.md, "Users").
type User struct {
	ID           string            `json:"id"`
	Username     string            `json:"username"`
	Email        string            `json:"email"`
	FirstName    string            `json:"first_name"`
	LastName     string            `json:"last_name"`
	Language     string            `json:"language"`
	Status       string            `json:"status"`
	Auth         string            `json:"auth"`
	Billable     bool              `json:"billable"`
	DeleteAt     *time.Time        `json:"delete_at"`
	CustomFields map[string]string `json:"custom_fields"`
	CreatedAt    time.Time         `json:"created_at"`
	LastLoginAt  *time.Time        `json:"last_login_at"`
}

// UserOf converts an account to its API form. Billable says whether the account counts for
// billing in the month of now (active at some moment of it), whatever its status is now.
func UserOf(u *account.User, now time.Time) User {
	cf := u.CustomFields
	if cf == nil {
		cf = map[string]string{}
	}
	return User{ID: ID(u.ID), Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Language: u.Language, Status: u.Status, Auth: u.Auth, Billable: u.BillableAt(now),
		DeleteAt: u.DeleteAt, CustomFields: cf, CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt}
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	ctx := r.Context()
	u, err := a.Accounts.Login(ctx, in.Login, in.Password, httpx.ClientIP(r))
	if err != nil {
		if !errs.Is(err, errs.TooMany) && !errs.Is(err, errs.Internal) {
			// The same body for unknown logins, wrong passwords and suspended accounts.
			err = errs.Coded(errs.Unauthorized, "api_wrong_login")
		}
		a.problem(w, r, err)
		return
	}
	if old := httpx.SessionToken(r); old != "" {
		_ = a.Accounts.EndSession(ctx, old)
	}
	token, err := a.Accounts.CreateSession(ctx, u.ID, httpx.ClientIP(r), r.UserAgent())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	httpx.SetSession(w, token, a.cfg.SecureCookies)
	writeJSON(w, http.StatusOK, UserOf(u, a.db.Now()))
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	if token := httpx.SessionToken(r); token != "" {
		if err := a.Accounts.EndSession(r.Context(), token); err != nil {
			a.problem(w, r, err)
			return
		}
	}
	httpx.ClearSession(w, a.cfg.SecureCookies)
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) forgot(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Login string `json:"login"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	if in.Login == "" {
		a.problem(w, r, errs.FieldCode("login", "api_required"))
		return
	}
	err := a.Accounts.RequestReset(r.Context(), in.Login, httpx.ClientIP(r))
	if err != nil && errs.Is(err, errs.Internal) {
		a.problem(w, r, err)
		return
	}
	// Always the same answer, whatever the login matched (an SSO account included: the web
	// page tells its owner where to go; the API says nothing that tells accounts apart).
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "If this matches an account, an email is on its way."})
}

func (a *API) reset(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	if err := a.Accounts.ResetPassword(r.Context(), in.Token, in.Password); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) accountSetup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	if err := a.Accounts.CompleteAccountSetup(r.Context(), in.Token, in.Password); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// me returns the caller's account: the simplest way for a script to check its token.
func (a *API) me(w http.ResponseWriter, r *http.Request) {
	p, err := authz.RequireUser(r.Context())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if p.UserID == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"platform_admin": p.PlatformAdmin, "user": nil})
		return
	}
	u, err := a.Accounts.UserByID(r.Context(), p.UserID)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"platform_admin": p.PlatformAdmin, "user": UserOf(u, a.db.Now())})
}
