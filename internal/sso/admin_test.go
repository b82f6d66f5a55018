package sso_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/sso"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestProviderAdminNeedsPlatformAdmin: the service checks the permission, whoever calls.
func TestProviderAdminNeedsPlatformAdmin(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	r := startRoster(t, db)
	user := authz.With(context.Background(), &authz.Principal{UserID: 7})
	if _, err := r.SSO.CreateProvider(user, casProvider("https://cas.example.edu/cas")); !errs.Is(err, errs.Forbidden) {
		t.Errorf("create by a non-admin: %v", err)
	}
	if _, err := r.SSO.Providers(context.Background()); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("list by nobody: %v", err)
	}
	if _, err := r.SSO.Convert(user, sso.Conversion{Login: "x", To: "local"}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("convert by a non-admin: %v", err)
	}
	p, err := r.SSO.CreateProvider(admin(), casProvider("https://cas.example.edu/cas"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SSO.CreateProvider(admin(), casProvider("https://cas.example.edu/cas")); !errs.Is(err, errs.Conflict) {
		t.Errorf("a second provider with the same slug: %v", err)
	}
	set := p.Settings
	if _, err := r.SSO.UpdateProvider(admin(), p.ID, sso.Provider{Slug: "univ", Name: "Off", Enabled: false, Settings: set}); err != nil {
		t.Fatal(err)
	}
	if bs, _ := r.SSO.Buttons(context.Background(), "/"); len(bs) != 0 {
		t.Errorf("a disabled provider has a button: %+v", bs)
	}
	if _, status, _ := newBrowser(t).get(t, r.Base+"/sso/univ/login"); status != http.StatusNotFound {
		t.Errorf("login with a disabled provider: %d", status)
	}
}

// TestConvertAccounts: local → CAS removes the password (login and reset refused);
// CAS → local removes the identities and sends an account set-up link.
func TestConvertAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := startRoster(t, db)
		ctx := context.Background()
		if _, err := r.SSO.CreateProvider(admin(), casProvider("https://cas.example.edu/cas")); err != nil {
			t.Fatal(err)
		}
		mustLocal(t, r, "jdupont", "jeanne.dupont@univ.example")
		res, err := r.SSO.Convert(admin(), sso.Conversion{Login: "JDUPONT", To: "univ", Subject: "jdupont"})
		if err != nil {
			t.Fatal(err)
		}
		if res.User.Auth != account.AuthCAS || res.User.HasPassword {
			t.Errorf("converted to %s, password kept: %v", res.User.Auth, res.User.HasPassword)
		}
		if _, err := r.Accounts.Login(ctx, "jdupont", "local password 42", ""); err == nil {
			t.Error("the old password still logs in")
		}
		if err := r.Accounts.RequestReset(ctx, "jdupont", ""); !errs.Is(err, errs.Conflict) {
			t.Errorf("reset for an SSO account: %v", err)
		}
		if n := countRows(t, db, `SELECT count(*) FROM sso_identities WHERE subject = 'jdupont'`); n != 1 {
			t.Errorf("%d identities after converting with a subject", n)
		}
		if _, err := r.SSO.Convert(admin(), sso.Conversion{Login: "jdupont", To: "nowhere"}); !errs.Is(err, errs.Invalid) {
			t.Errorf("convert to an unknown provider: %v", err)
		}

		res, err = r.SSO.Convert(admin(), sso.Conversion{Login: "jdupont", To: "local"})
		if err != nil {
			t.Fatal(err)
		}
		if res.User.Auth != account.AuthLocal || !strings.Contains(res.SetupLink, "/account/setup/") {
			t.Errorf("to local: auth %s, link %q", res.User.Auth, res.SetupLink)
		}
		if n := countRows(t, db, `SELECT count(*) FROM sso_identities`); n != 0 {
			t.Errorf("%d identities left after converting to local", n)
		}
		if n := countRows(t, db, `SELECT count(*) FROM outbox WHERE to_addr = 'jeanne.dupont@univ.example'`); n != 1 {
			t.Errorf("%d set-up emails queued", n)
		}
		if _, err := r.SSO.Convert(admin(), sso.Conversion{Login: "jdupont", To: "local"}); !errs.Is(err, errs.Conflict) {
			t.Errorf("converting a local account to local: %v", err)
		}

		// Deleting the account forgets its identities (the account package asks sso).
		if _, err := r.SSO.Convert(admin(), sso.Conversion{Login: "jdupont", To: "univ", Subject: "jdupont"}); err != nil {
			t.Fatal(err)
		}
		if err := r.Accounts.DeleteUser(admin(), res.User.ID); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, `SELECT count(*) FROM sso_identities`); n != 0 {
			t.Errorf("%d identities left after deleting the account", n)
		}
	})
}

// TestAdminPages: a platform administrator creates a provider and converts an account with
// the forms; someone else is refused.
func TestAdminPages(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	r := startRoster(t, db)
	err := db.Tx(context.Background(), func(tx *store.Tx) error {
		_, err := r.Accounts.CreateUser(context.Background(), tx, account.NewUser{Username: "root", Email: "root@example.org",
			FirstName: "Ada", LastName: "Admin", Password: "admin password 42", IsAdmin: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	mustLocal(t, r, "someone", "someone@example.org")

	other := newBrowser(t)
	other.postForm(t, r.Base+"/login", url.Values{"login": {"someone"}, "password": {"local password 42"}})
	if _, status, _ := other.get(t, r.Base+"/admin/sso"); status != http.StatusForbidden {
		t.Errorf("/admin/sso for a non-admin: %d", status)
	}

	b := newBrowser(t)
	b.postForm(t, r.Base+"/login", url.Values{"login": {"root"}, "password": {"admin password 42"}})
	if _, status, page := b.get(t, r.Base+"/admin/sso/new?kind=oidc"); status != 200 || !strings.Contains(page, `name="issuer"`) {
		t.Fatalf("new OIDC form: %d\n%s", status, page)
	}
	form := url.Values{"kind": {"oidc"}, "name": {"Partner login"}, "slug": {"op"}, "enabled": {"1"}, "issuer": {"https://op.example"},
		"client_id": {"roster"}, "client_secret": {"s3cret"}, "scopes": {"openid profile email"}, "create_accounts": {"1"},
		"rules": {"groups=staff -> STAFF trainer"}}
	if final, status, page := b.postForm(t, r.Base+"/admin/sso/new", form); status != 200 || final.Path != "/admin/sso" ||
		!strings.Contains(page, "Partner login") {
		t.Fatalf("create: %d at %s\n%s", status, final, page)
	}
	// A broken rule is shown with its line, nothing saved.
	form.Set("slug", "op2")
	form.Set("rules", "nonsense")
	if _, _, page := b.postForm(t, r.Base+"/admin/sso/new", form); !strings.Contains(page, "line 1") {
		t.Errorf("a broken rule line is not reported:\n%s", page)
	}
	var id string
	db.QueryRowContext(context.Background(), `SELECT id FROM sso_providers WHERE slug = 'op'`).Scan(&id)
	_, _, page := b.get(t, r.Base+"/admin/sso/"+id)
	if !strings.Contains(page, r.Base+"/sso/op/callback") || strings.Contains(page, "s3cret") {
		t.Errorf("edit page: redirect URI missing or secret shown:\n%s", page)
	}
	// Saving without a secret keeps the stored one.
	form.Set("slug", "op")
	form.Set("client_secret", "")
	form.Set("rules", "")
	if _, status, _ := b.postForm(t, r.Base+"/admin/sso/"+id, form); status != 200 {
		t.Errorf("update: %d", status)
	}
	p, _ := r.SSO.Provider(admin(), mustID(t, id))
	if p.Settings.ClientSecret != "s3cret" || len(p.Settings.Rules) != 0 {
		t.Errorf("after update: secret %q, rules %+v", p.Settings.ClientSecret, p.Settings.Rules)
	}
	_, _, page = b.postForm(t, r.Base+"/admin/sso/convert", url.Values{"login": {"someone"}, "to": {"op"}})
	if !strings.Contains(page, "Account someone now logs in with: oidc.") {
		t.Errorf("convert form:\n%s", page)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var id int64
	for _, c := range s {
		id = id*10 + int64(c-'0')
	}
	if id == 0 {
		t.Fatalf("no id in %q", s)
	}
	return id
}
