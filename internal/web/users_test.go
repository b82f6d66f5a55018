package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster/internal/account"
)

// TestUserAdminPages renders the users, profile fields, billing and audit pages and runs each
// form once, as a platform administrator, in English and French; and checks that a person
// without rights gets none of them.
func TestUserAdminPages(t *testing.T) {
	rg := newRig(t)
	db, ctx, create := rg.db, rg.ctx, rg.user
	admin := create(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	ada := create(account.NewUser{Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace"})
	call, want := rg.call, rg.want
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
	// What a teacher's people search shows: email by default, then what is ticked.
	code, body, _ = call(admin, "GET", "/admin/profile-fields?lang=fr", nil)
	want(code, body, 200, "recherche de personnes", `id="show_identity_email" checked`, `id="show_identity_username" >`)
	code, _, _ = call(admin, "POST", "/admin/settings/accounts", url.Values{"shared_email": {"1"}, "identity_form": {"1"},
		"show_identity": {"username", "idnumber"}})
	want(code, "", 303)
	if show, _ := account.ShowIdentity(ctx, db); show["email"] || !show["username"] || !show["idnumber"] {
		t.Fatalf("identity setting: %v", show)
	}
	code, _, _ = call(admin, "POST", "/admin/settings/accounts", url.Values{"identity_form": {"1"}, "show_identity": {"password_hash"}})
	want(code, "", 422)
	code, _, _ = call(admin, "POST", "/admin/settings/accounts", url.Values{"shared_email": {"1"}, "identity_form": {"1"}})
	want(code, "", 303)
	if show, _ := account.ShowIdentity(ctx, db); len(show) != 0 {
		t.Fatalf("names only: %v", show)
	}

	// The list, with search, and the user page.
	code, body, _ = call(admin, "GET", "/admin/users?q=love&lang=fr", nil)
	want(code, body, 200, "Utilisateurs", "Lovelace", "<th>Faculty</th>")
	call(admin, "GET", "/?lang=en", nil) // the switch is saved on the account: back to English
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
	form.Set("email", "ada@acme") // the one address rule: the invitation form refuses it too
	code, body, _ = call(admin, "POST", userPath, form)
	want(code, body, 422, "the domain has no dot")
	// A new address is saved only once confirmed, "from A to B"; one that is taken is said
	// beside the field at once, by the save's own checks, and nothing is saved.
	call(admin, "POST", "/admin/settings/accounts", url.Values{}) // addresses are not shared
	if on, _ := account.SharedEmailAllowed(ctx, db); on {
		t.Fatal("shared addresses still allowed")
	}
	form.Set("email", "grace@example.org")
	code, body, _ = call(admin, "POST", userPath, form)
	want(code, body, 409, "is already taken", `value="grace@example.org"`)
	if strings.Contains(body, `id="email-confirm"`) {
		t.Fatal("a taken address is offered for confirmation")
	}
	form.Set("email", "ada.queen@example.org")
	code, body, _ = call(admin, "POST", userPath, form)
	want(code, body, 200, `id="email-confirm"`, "Change the address from ada@example.org to ada.queen@example.org?",
		`name="confirm_email" value="ada.queen@example.org"`, "Nothing is saved yet")
	form.Set("confirm_email", "ada.queen@example.org")
	form.Set("email", "ada.king@example.org") // changed again: asked again
	code, body, _ = call(admin, "POST", userPath+"?lang=fr", form)
	want(code, body, 200, "Remplacer l’adresse ada@example.org par ada.king@example.org\u00a0?", "Confirmer et enregistrer")
	call(admin, "GET", "/?lang=en", nil)
	form.Set("confirm_email", "ada.king@example.org")
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
	want(code, body, 200, "Journal d’audit", "profile_field.create")
	call(admin, "GET", "/?lang=en", nil)

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
