package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/httpx"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestUserAdminPages renders the users, profile fields, billing and audit pages and runs each
// form once, as a platform administrator, in English and French; and checks that a person
// without rights gets none of them.
func TestUserAdminPages(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	ctx := context.Background()
	accounts := account.NewService(db, account.Config{BaseURL: "https://roster.test"})
	w, err := New(Config{BaseURL: "https://roster.test"}, Services{Log: slog.New(slog.DiscardHandler), DB: db, Accounts: accounts})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Routes(mux)
	create := func(in account.NewUser) *account.User {
		t.Helper()
		var u *account.User
		if err := db.Tx(ctx, func(tx *store.Tx) error { u, err = accounts.CreateUser(ctx, tx, in); return err }); err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin := create(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	ada := create(account.NewUser{Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace"})
	call := func(as *account.User, method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var req *http.Request
		if form != nil {
			req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(method, path, nil)
		}
		if as != nil {
			c := authz.With(req.Context(), accounts.PrincipalFor(as))
			req = req.WithContext(httpx.WithUser(c, as))
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String(), rec.Header().Get("Location")
	}
	want := func(code int, body string, wantCode int, parts ...string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("status %d, want %d:\n%s", code, wantCode, body)
		}
		for _, p := range parts {
			if !strings.Contains(body, p) {
				t.Fatalf("page lacks %q:\n%s", p, body)
			}
		}
	}
	userPath := fmt.Sprint("/admin/users/", ada.ID)

	// Profile fields and the shared-email setting.
	code, body, _ := call(admin, "GET", "/admin/profile-fields", nil)
	want(code, body, 200, "Custom profile fields", `id="shared_email"`)
	code, body, _ = call(admin, "POST", "/admin/profile-fields", url.Values{"key": {"Bad Key"}, "label": {"X"}, "kind": {"choice"}})
	want(code, body, 422, "must start with a letter", "a choice needs")
	code, _, loc := call(admin, "POST", "/admin/profile-fields", url.Values{"key": {"faculty"}, "label": {"Faculty"},
		"kind": {"choice"}, "options": {"law\nscience\n"}, "required": {"1"}})
	want(code, "", 303)
	code, body, _ = call(admin, "GET", loc, nil)
	want(code, body, 200, "Saved.", `value="faculty"`)
	code, _, _ = call(admin, "POST", "/admin/settings/accounts", url.Values{"shared_email": {"1"}})
	want(code, "", 303)
	if on, _ := account.SharedEmailAllowed(ctx, db); !on {
		t.Fatal("setting not saved")
	}

	// The list, with search, and the user page.
	code, body, _ = call(admin, "GET", "/admin/users?q=love&lang=fr", nil)
	want(code, body, 200, "Utilisateurs", "Lovelace", "<th>Faculty</th>")
	if strings.Contains(body, "grace@example.org") {
		t.Fatal("search did not filter")
	}
	code, body, _ = call(admin, "GET", userPath, nil)
	want(code, body, 200, `value="Lovelace"`, `name="cf_faculty"`, `id="user-suspend"`, "billable this month")

	// Save: a bad value is shown beside its field and keeps what was typed; then a good one.
	form := url.Values{"first_name": {"Ada"}, "last_name": {"King"}, "email": {"not an address"}, "username": {"ada"},
		"language": {"fr"}, "delete_at": {"2027-01-31"}, "cf_faculty": {"law"}}
	code, body, _ = call(admin, "POST", userPath, form)
	want(code, body, 422, "is not a valid email address", `value="King"`)
	form.Set("email", "ada.king@example.org")
	code, _, loc = call(admin, "POST", userPath, form)
	want(code, "", 303)
	code, body, _ = call(admin, "GET", loc, nil)
	want(code, body, 200, "The account is saved.", `value="King"`, `value="2027-01-31"`, `<option selected>law</option>`)

	// Suspend, reactivate, and delete after a confirmation.
	code, _, loc = call(admin, "POST", userPath+"/status", url.Values{"status": {"suspended"}})
	want(code, "", 303)
	code, body, _ = call(admin, "GET", loc, nil)
	want(code, body, 200, "The account is suspended", `id="user-reactivate"`)
	code, body, _ = call(admin, "POST", fmt.Sprint("/admin/users/", admin.ID, "/status"), url.Values{"status": {"suspended"}})
	want(code, body, 422, "you cannot suspend your own account")
	code, body, _ = call(admin, "GET", userPath+"/delete", nil)
	want(code, body, 200, "Delete the account of Ada King (ada)")
	code, body, _ = call(admin, "POST", userPath+"/delete", url.Values{})
	want(code, body, 422, "Tick the box to confirm.")
	code, _, loc = call(admin, "POST", userPath+"/delete", url.Values{"confirm": {"yes"}})
	want(code, "", 303)
	code, body, _ = call(admin, "GET", loc, nil)
	want(code, body, 200, "The account is deleted.")

	// Billing and the audit log.
	code, body, _ = call(admin, "GET", "/admin/billing", nil)
	want(code, body, 200, "2 billable accounts in 2026-11", "Deleted account #")
	code, body, _ = call(admin, "GET", "/admin/billing?month=soon", nil)
	want(code, body, 422, "must be a month")
	code, body, _ = call(admin, "GET", "/admin/audit?action=user.", nil)
	want(code, body, 200, "user.delete", "user.email_change", "user.suspend")
	code, body, _ = call(admin, "GET", "/admin/audit?lang=fr", nil)
	want(code, body, 200, "Journal d&#39;audit", "profile_field.create")

	// Someone without rights sees none of it.
	other := create(account.NewUser{Email: "other@example.org", FirstName: "O", LastName: "Ther"})
	for _, path := range []string{"/admin/users", fmt.Sprint("/admin/users/", admin.ID), "/admin/profile-fields",
		"/admin/billing", "/admin/audit"} {
		if code, body, _ := call(other, "GET", path, nil); code != http.StatusForbidden {
			t.Errorf("%s for a non-admin: %d\n%s", path, code, body)
		}
	}
	if code, _, loc := call(nil, "GET", "/admin/users", nil); code != 303 || loc != "/login" {
		t.Errorf("anonymous: %d %s", code, loc)
	}
}
