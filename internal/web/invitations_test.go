package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/httpx"
	"roster/internal/invite"
	"roster/internal/mail"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestInvitationPages renders every invitation page and runs each form once, in English and
// French, as a platform administrator and as the invited person.
func TestInvitationPages(t *testing.T) {
	db, clock := storetest.OpenSQLite(t)
	ctx := context.Background()
	accounts := account.NewService(db, account.Config{BaseURL: "https://roster.test"})
	invites := invite.NewService(db, accounts, invite.Config{BaseURL: "https://roster.test"})
	w, err := New(Config{BaseURL: "https://roster.test"}, Services{Log: slog.New(slog.DiscardHandler), DB: db,
		Accounts: accounts, Invites: invites})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Routes(mux)
	var admin *account.User
	err = db.Tx(ctx, func(tx *store.Tx) error {
		admin, err = accounts.CreateUser(ctx, tx, account.NewUser{Email: "grace@example.org", FirstName: "Grace",
			LastName: "Hopper", IsAdmin: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	call := func(asAdmin bool, method, path string, form url.Values) (int, string) {
		t.Helper()
		var req *http.Request
		if form != nil {
			req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(method, path, nil)
		}
		if asAdmin {
			c := authz.With(req.Context(), accounts.PrincipalFor(admin))
			req = req.WithContext(httpx.WithUser(c, admin))
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
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

	code, body := call(true, "GET", "/", nil)
	want(code, body, 200, `id="external-users"`, "External users")
	code, body = call(true, "GET", "/invitations/new?lang=fr", nil)
	want(code, body, 200, "Inviter des personnes", `name="emails"`)
	call(true, "GET", "/?lang=en", nil) // the switch is saved on the account: back to English
	code, body = call(true, "POST", "/invitations/new", url.Values{"emails": {"Ann <ann@x.org>, grace@example.org, bad"},
		"language": {"en"}})
	want(code, body, 200, `id="invite-results"`, "1 invited, 0 already invited, 1 already has an account, 1 invalid", "missing @")
	code, body = call(true, "POST", "/invitations/new", url.Values{"emails": {"x@x.org"}, "delete_at": {"tomorrow"}})
	want(code, body, 422, "YYYY-MM-DD")

	code, body = call(true, "GET", "/invitations", nil)
	want(code, body, 200, `data-email="ann@x.org"`, "Grace Hopper", "Queued")
	id := regexp.MustCompile(`/invitations/(\d+)/link`).FindStringSubmatch(body)[1]
	code, body = call(true, "POST", "/invitations/"+id+"/link", url.Values{"email": {"ann@x.org"}, "return": {"status=pending"}})
	want(code, body, 200, `id="fresh-link"`, "https://roster.test/invitation/")
	token := regexp.MustCompile(`https://roster\.test/invitation/([A-Za-z0-9_-]{43})`).FindStringSubmatch(body)[1]
	code, body = call(true, "POST", "/invitations/lifetime", url.Values{"lifetime_days": {"7"}})
	if code != http.StatusSeeOther {
		t.Fatalf("lifetime: %d %s", code, body)
	}
	code, _ = call(true, "POST", "/invitations/"+id+"/resend", url.Values{"return": {"status=pending"}})
	if code != http.StatusSeeOther {
		t.Fatalf("resend: %d", code)
	}

	// The invited person: the link of the last sending; expired after 8 days, then renewed.
	code, body = call(false, "GET", "/invitation/"+token, nil)
	want(code, body, http.StatusGone, "does not work")
	var text string
	db.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE to_addr = 'ann@x.org' ORDER BY id DESC LIMIT 1`).Scan(&text)
	text, _ = mail.OpenLinks(db.Key, text)
	token = regexp.MustCompile(`/invitation/([A-Za-z0-9_-]{43})`).FindStringSubmatch(text)[1]
	code, body = call(false, "GET", "/invitation/"+token+"?lang=fr", nil)
	want(code, body, 200, "Grace Hopper vous invite", `value="Ann"`)
	clock.Advance(8 * 24 * time.Hour)
	code, body = call(false, "GET", "/invitation/"+token, nil)
	want(code, body, http.StatusGone, `id="renew-submit"`, "expired")
	code, body = call(false, "POST", "/invitation/"+token+"/renew", url.Values{})
	want(code, body, 200, "a new link is on its way")
	db.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE to_addr = 'ann@x.org' ORDER BY id DESC LIMIT 1`).Scan(&text)
	text, _ = mail.OpenLinks(db.Key, text)
	token = regexp.MustCompile(`/invitation/([A-Za-z0-9_-]{43})`).FindStringSubmatch(text)[1]
	code, body = call(false, "POST", "/invitation/"+token, url.Values{"first_name": {"Ann"}, "last_name": {"Lee"},
		"password": {"violet harbour lantern 7"}, "confirm": {"violet harbour lantern 8"}})
	want(code, body, 422, "differ")
	code, _ = call(false, "POST", "/invitation/"+token, url.Values{"first_name": {"Ann"}, "last_name": {"Lee"},
		"password": {"violet harbour lantern 7"}, "confirm": {"violet harbour lantern 7"}})
	if code != http.StatusSeeOther {
		t.Fatalf("accept: %d", code)
	}
	code, body = call(false, "GET", "/invitation/"+token, nil)
	want(code, body, http.StatusGone, "already accepted")

	// Cancel many, and a cancelled link.
	call(true, "POST", "/invitations/new", url.Values{"emails": {"c@x.org"}})
	db.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE to_addr = 'c@x.org' ORDER BY id DESC LIMIT 1`).Scan(&text)
	text, _ = mail.OpenLinks(db.Key, text)
	cToken := regexp.MustCompile(`/invitation/([A-Za-z0-9_-]{43})`).FindStringSubmatch(text)[1]
	code, body = call(true, "POST", "/invitations/cancel-many", url.Values{"emails": {"c@x.org, nobody@x.org"}})
	want(code, body, 200, `id="cancel-results"`, "Cancelled", "No pending invitation")
	code, body = call(false, "GET", "/invitation/"+cToken, nil)
	want(code, body, http.StatusGone, "was cancelled")

	// Create an account: the full form, and the dashboard block.
	code, body = call(true, "GET", "/external/new", nil)
	want(code, body, 200, `id="external-form"`)
	code, body = call(true, "POST", "/external/new", url.Values{"last_name": {"Speaker"}, "first_name": {"Ext"},
		"email": {"speaker@x.org"}, "quick": {"1"}})
	want(code, body, 200, "The account speaker@x.org was created.")
	code, body = call(true, "POST", "/external/new", url.Values{"last_name": {"No"}, "first_name": {"Mail"},
		"username": {"nomail"}})
	want(code, body, 200, `id="setup-link"`, "https://roster.test/account/setup/")
	code, body = call(true, "POST", "/external/new", url.Values{"last_name": {""}, "first_name": {"X"}, "email": {"bad@"}})
	want(code, body, 422, "is required", "no domain")
}
