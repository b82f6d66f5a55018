package sso_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/group"
	"roster/internal/sso"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// casPeople are the people of the CAS server in these tests (and in docs/sso.md).
var casPeople = []casPerson{
	{Username: "jdupont", Password: "cas password 1", Email: "jeanne.dupont@univ.example", FirstName: "Jeanne", LastName: "Dupont",
		Attributes: map[string]any{"eduPersonAffiliation": []string{"staff", "member"}, "preferredLanguage": "fr"}},
	{Username: "pmartin", Password: "cas password 2", Email: "paul.martin@univ.example", FirstName: "Paul", LastName: "Martin",
		Attributes: map[string]any{"eduPersonAffiliation": []string{"student"}, "preferredLanguage": "en"}},
	{Username: "lbernard", Password: "cas password 3", Email: "lucie.bernard@univ.example", FirstName: "Lucie", LastName: "Bernard",
		Attributes: map[string]any{"eduPersonAffiliation": []string{"student"}}},
}

// casProvider is the configuration docs/sso.md shows for CAS.
func casProvider(casBase string) sso.Provider {
	return sso.Provider{Kind: sso.KindCAS, Slug: "univ", Name: "Institutional account", Enabled: true,
		Settings: sso.Settings{CASURL: casBase,
			Mapping:        sso.Mapping{Email: "email", FirstName: "first_name", LastName: "last_name", Language: "preferredLanguage"},
			Rules:          []sso.Rule{{Attribute: "eduPersonAffiliation", Value: "staff", Group: "STAFF", Role: "trainer"}},
			CreateAccounts: true}}
}

// TestCASAgainstDjangoCASServer drives real logins through the real CAS server: the first
// creates the account from the attributes (and applies the group rule), the second finds it
// by its CAS identity and refreshes it, a replayed ticket is refused (by Roster, the flow
// being used, and by the CAS server, with a fresh flow), and the CAS server's single logout
// ends exactly the session its ticket opened.
func TestCASAgainstDjangoCASServer(t *testing.T) {
	casBase := startCAS(t, casPeople)
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		db.Now = time.Now // the CAS server lives in real time
		r := startRoster(t, db)
		if _, err := r.SSO.CreateProvider(admin(), casProvider(casBase)); err != nil {
			t.Fatal(err)
		}
		staff, err := group.NewService(db).Create(admin(), group.Group{Name: "Staff", IDNumber: "STAFF"})
		if err != nil {
			t.Fatal(err)
		}

		b := newBrowser(t)
		if _, _, page := b.get(t, r.Base+"/login"); !strings.Contains(page, `href="/sso/univ/login"`) ||
			!strings.Contains(page, "Institutional account") {
			t.Fatalf("the login page has no CAS button:\n%s", page)
		}
		final, status, body, ticketURL := casLogin(t, b, r.Base+"/sso/univ/login?next=/admin/mail", "jdupont", "cas password 1")
		if status != http.StatusForbidden || final.Path != "/admin/mail" { // logged in, came back to next (not an admin)
			t.Fatalf("first login ended at %s with %d:\n%s", final, status, body)
		}
		if got := b.me(t, r.Base); got != "jdupont" {
			t.Fatalf("after the first login, /api/v1/me says %q", got)
		}
		auth, email, first, last, lang := userRow(t, db, "jdupont")
		if auth != "cas" || email != "jeanne.dupont@univ.example" || first != "Jeanne" || last != "Dupont" || lang != "fr" {
			t.Errorf("account created as %s %s %s %s %s", auth, email, first, last, lang)
		}
		if n := countRows(t, db, `SELECT count(*) FROM group_members WHERE group_id = $1 AND role = 'trainer'`, staff.ID); n != 1 {
			t.Errorf("the rule staff -> STAFF trainer made %d memberships", n)
		}
		if ticketURL == "" || !strings.HasPrefix(ticketURL, r.Base+"/sso/univ/cas?ticket=ST-") {
			t.Fatalf("no ticket URL seen: %q", ticketURL)
		}

		// Replay, same browser: the flow is used up.
		if _, status, body := b.get(t, ticketURL); status != http.StatusGone || !strings.Contains(body, "Recommencez") {
			t.Errorf("replaying the ticket URL: %d\n%s", status, body)
		}
		// Replay with a fresh flow: Roster asks the CAS server, which refuses the used ticket.
		c := newBrowser(t)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		if resp, err := c.Get(r.Base + "/sso/univ/login"); err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start a flow: %v %v", resp, err)
		}
		if _, status, body := c.get(t, ticketURL); status != http.StatusUnauthorized || !strings.Contains(body, "INVALID_TICKET") {
			t.Errorf("a replayed ticket with a fresh flow: %d\n%s", status, body)
		}
		if c.me(t, r.Base) != "" {
			t.Error("a replayed ticket logged someone in")
		}

		// Second login, another browser: the same account, found by identity and refreshed.
		if _, err := db.ExecContext(context.Background(), `UPDATE users SET first_name = 'Changed', email = 'old@univ.example', email_norm = 'old@univ.example' WHERE username = 'jdupont'`); err != nil {
			t.Fatal(err)
		}
		b2 := newBrowser(t)
		if _, status, body, _ := casLogin(t, b2, r.Base+"/sso/univ/login", "jdupont", "cas password 1"); status != 200 {
			t.Fatalf("second login: %d\n%s", status, body)
		}
		if b2.me(t, r.Base) != "jdupont" {
			t.Fatal("second login: not logged in")
		}
		if n := countRows(t, db, `SELECT count(*) FROM users`); n != 1 {
			t.Errorf("%d accounts after two logins of one person", n)
		}
		if _, email, first, _, _ := userRow(t, db, "jdupont"); first != "Jeanne" || email != "jeanne.dupont@univ.example" {
			t.Errorf("attributes not refreshed: %s %s", first, email)
		}

		// Single logout: logging out at the CAS server in the second browser ends that
		// browser's Roster session, and only that one.
		casLogout(t, b2, casBase)
		if got := b2.me(t, r.Base); got != "" {
			t.Errorf("after CAS single logout the second browser is still logged in as %q", got)
		}
		if got := b.me(t, r.Base); got != "jdupont" {
			t.Errorf("single logout of one session ended the other one too (%q)", got)
		}
		if n := countRows(t, db, `SELECT count(*) FROM audit_events WHERE action = 'logout.sso'`); n != 1 {
			t.Errorf("%d logout.sso events", n)
		}
	})
}

// TestCASAccountRules: JIT off refuses an unknown person with a clear message; a local
// account with the same email is never taken over unless the provider vouches for emails
// and linking is on; then it is linked and keeps its password.
func TestCASAccountRules(t *testing.T) {
	casBase := startCAS(t, casPeople)
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		db.Now = time.Now
		r := startRoster(t, db)
		p, err := r.SSO.CreateProvider(admin(), casProvider(casBase))
		if err != nil {
			t.Fatal(err)
		}
		err = db.Tx(context.Background(), func(tx *store.Tx) error {
			_, err := r.Accounts.CreateUser(context.Background(), tx, account.NewUser{Username: "paul", Email: "Paul.Martin@univ.example",
				FirstName: "Paul", LastName: "Martin", Password: "local password 42"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		// Same email, linking off: refused, nothing created.
		_, status, body, _ := casLogin(t, newBrowser(t), r.Base+"/sso/univ/login", "pmartin", "cas password 2")
		if status != http.StatusUnauthorized || !strings.Contains(body, "Ask an administrator to link it") {
			t.Errorf("same email, linking off: %d\n%s", status, body)
		}
		// Linking on, but the CAS server's emails are not declared verified: still refused.
		set := p.Settings
		set.LinkByEmail = true
		if p, err = r.SSO.UpdateProvider(admin(), p.ID, sso.Provider{Slug: p.Slug, Name: p.Name, Enabled: true, Settings: set}); err != nil {
			t.Fatal(err)
		}
		if _, status, _, _ := casLogin(t, newBrowser(t), r.Base+"/sso/univ/login", "pmartin", "cas password 2"); status != http.StatusUnauthorized {
			t.Errorf("same email, linking on, emails not verified: %d", status)
		}
		// Both: linked; the account keeps its auth and password.
		set.EmailsVerified = true
		if p, err = r.SSO.UpdateProvider(admin(), p.ID, sso.Provider{Slug: p.Slug, Name: p.Name, Enabled: true, Settings: set}); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		if _, status, body, _ := casLogin(t, b, r.Base+"/sso/univ/login", "pmartin", "cas password 2"); status != 200 {
			t.Fatalf("linking by verified email: %d\n%s", status, body)
		}
		if got := b.me(t, r.Base); got != "paul" {
			t.Errorf("linked login is %q, want the local account paul", got)
		}
		if auth, _, _, _, _ := userRow(t, db, "paul"); auth != "local" {
			t.Errorf("a linked account became %s", auth)
		}
		if _, err := r.Accounts.Login(context.Background(), "paul", "local password 42", ""); err != nil {
			t.Errorf("the linked account lost its password: %v", err)
		}

		// JIT off: an unknown person is told to ask an administrator.
		set.CreateAccounts = false
		if _, err = r.SSO.UpdateProvider(admin(), p.ID, sso.Provider{Slug: p.Slug, Name: p.Name, Enabled: true, Settings: set}); err != nil {
			t.Fatal(err)
		}
		_, status, body, _ = casLogin(t, newBrowser(t), r.Base+"/sso/univ/login", "lbernard", "cas password 3")
		if status != http.StatusUnauthorized || !strings.Contains(body, "There is no account for you here: ask an administrator.") {
			t.Errorf("JIT off: %d\n%s", status, body)
		}
		if n := countRows(t, db, `SELECT count(*) FROM users WHERE username = 'lbernard'`); n != 0 {
			t.Error("JIT off created an account")
		}
	})
}

// TestCASMalformedAnswers: a CAS double (for error cases only) answers with broken XML, a
// failure, an HTTP error, and a response without a user; each is refused with a clear
// message and logs nobody in.
func TestCASMalformedAnswers(t *testing.T) {
	answers := map[string]struct {
		status int
		body   string
		want   string
	}{
		"malformed": {200, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>x</cas:user>`, "malformed XML"},
		"not-cas":   {200, `<html><body>Welcome</body></html>`, "malformed XML"},
		"failure": {200, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_SERVICE">bad service</cas:authenticationFailure></cas:serviceResponse>`,
			"INVALID_SERVICE: bad service"},
		"no-user": {200, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user> </cas:user></cas:authenticationSuccess></cas:serviceResponse>`,
			"names no user"},
		"empty":   {200, `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"></cas:serviceResponse>`, "neither authenticationSuccess"},
		"http500": {500, `oops`, "HTTP 500"},
	}
	double := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		a := answers[strings.TrimPrefix(req.URL.Query().Get("ticket"), "ST-")]
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	}))
	defer double.Close()
	db, _ := storetest.OpenSQLite(t)
	r := startRoster(t, db)
	p := casProvider(double.URL)
	if _, err := r.SSO.CreateProvider(admin(), p); err != nil {
		t.Fatal(err)
	}
	for name, a := range answers {
		c := newBrowser(t)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		if _, err := c.Get(r.Base + "/sso/univ/login"); err != nil {
			t.Fatal(err)
		}
		_, status, body := c.get(t, r.Base+"/sso/univ/cas?ticket="+url.QueryEscape("ST-"+name))
		if status != http.StatusUnauthorized || !strings.Contains(body, a.want) {
			t.Errorf("%s: %d, want 401 with %q:\n%s", name, status, a.want, body)
		}
		if c.me(t, r.Base) != "" {
			t.Errorf("%s: logged in", name)
		}
	}
	// No flow cookie at all: refused before the CAS server is asked.
	_, status, _ := newBrowser(t).get(t, r.Base+"/sso/univ/cas?ticket=ST-failure")
	if status != http.StatusGone {
		t.Errorf("a ticket without a flow: %d, want 410", status)
	}
	if n := countRows(t, db, `SELECT count(*) FROM users`); n != 0 {
		t.Errorf("%d accounts created from refused answers", n)
	}
}
