package sso_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/text/language"

	"roster/internal/account"
	"roster/internal/sso"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// The real OpenID provider: zitadel/oidc's example OP (github.com/zitadel/oidc/v3,
// example/server/exampleop), in process, with its in-memory storage, one web client
// registered with Roster's redirect URI, and test people read from a users file.

const (
	opClientID     = "roster"
	opClientSecret = "roster-client-secret"
)

// opPeople are the people of the provider: Alice's email is verified, Bob's is not.
var opPeople = map[string]*storage.User{
	"id-alice": {ID: "id-alice", Username: "alice", Password: "op password 1", FirstName: "Alice", LastName: "Martin",
		Email: "alice.martin@op.example", EmailVerified: true},
	"id-bob": {ID: "id-bob", Username: "bob", Password: "op password 2", FirstName: "Bob", LastName: "Durand",
		Email: "bob.durand@op.example", EmailVerified: false},
}

// startOP runs the example OP on a free port of 127.0.0.1 with the issuer
// http://localhost:PORT/, accepting redirectURI for the client "roster". It returns the issuer.
func startOP(t *testing.T, redirectURI string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := fmt.Sprintf("http://localhost:%d/", ln.Addr().(*net.TCPAddr).Port)
	people := map[string]*storage.User{}
	for id, u := range opPeople {
		v := *u
		v.PreferredLanguage = language.French
		people[id] = &v
	}
	b, _ := json.Marshal(people)
	usersFile := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(usersFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := storage.StoreFromFile(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	client := storage.WebClient(opClientID, opClientSecret, redirectURI)
	st := storage.NewStorageWithClients(users, map[string]*storage.Client{client.GetID(): client})
	// SetupServer makes its logger the process default; a quiet one keeps test output clean.
	router := exampleop.SetupServer(issuer, st, slog.New(slog.NewTextHandler(discard{}, nil)), false)
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return issuer
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// oidcProvider is the configuration docs/sso.md shows for OpenID Connect.
func oidcProvider(issuer string) sso.Provider {
	return sso.Provider{Kind: sso.KindOIDC, Slug: "op", Name: "Partner login", Enabled: true,
		Settings: sso.Settings{Issuer: issuer, ClientID: opClientID, ClientSecret: opClientSecret,
			Scopes: []string{"openid", "profile", "email"}, CreateAccounts: true}}
}

// opLogin starts a login at Roster, fills the provider's login form and follows the
// redirects back, unless stop says to stop at a URL (returned as final, not fetched).
func opLogin(t *testing.T, b *browserClient, start, username, password string) (*url.URL, int, string) {
	t.Helper()
	loginURL, code, page := b.get(t, start)
	if code != 200 || !strings.HasPrefix(loginURL.Path, "/login/username") {
		t.Fatalf("GET %s should end on the provider's login form, got %d at %s:\n%s", start, code, loginURL, page)
	}
	form := hiddenInputs(page)
	form.Set("username", username)
	form.Set("password", password)
	return b.postForm(t, loginURL.Scheme+"://"+loginURL.Host+"/login/username", form)
}

// TestOIDCAgainstZitadelOP: a real authorization-code + PKCE login creates the account
// (auth oidc) from the claims; the second finds it by subject; replaying the callback, a
// changed state and a callback in another browser are refused.
func TestOIDCAgainstZitadelOP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		db.Now = time.Now
		r := startRoster(t, db)
		issuer := startOP(t, r.Base+"/sso/op/callback")
		if _, err := r.SSO.CreateProvider(admin(), oidcProvider(issuer)); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		final, status, body := opLogin(t, b, r.Base+"/sso/op/login", "alice", "op password 1")
		if status != 200 || final.Path != "/" {
			t.Fatalf("login ended at %s with %d:\n%s", final, status, body)
		}
		if got := b.me(t, r.Base); got != "alice" {
			t.Fatalf("/api/v1/me says %q", got)
		}
		auth, email, first, last, lang := userRow(t, db, "alice")
		if auth != "oidc" || email != "alice.martin@op.example" || first != "Alice" || last != "Martin" || lang != "fr" {
			t.Errorf("account created as %s %s %s %s %s", auth, email, first, last, lang)
		}
		var callback string
		for _, u := range b.visited {
			if strings.HasPrefix(u.String(), r.Base+"/sso/op/callback") {
				callback = u.String()
			}
		}
		if callback == "" {
			t.Fatal("the callback was not seen")
		}
		q, _ := url.ParseQuery(strings.SplitN(callback, "?", 2)[1])
		if q.Get("code") == "" || q.Get("state") == "" {
			t.Fatalf("callback without code or state: %s", callback)
		}
		// The flow row keeps hashes, never the state or the nonce.
		if n := countRows(t, db, `SELECT count(*) FROM sso_flows WHERE state_hash = $1`, q.Get("state")); n != 0 {
			t.Error("the state is stored in clear")
		}

		// Replaying the callback: the flow is used up.
		if _, status, body := b.get(t, callback); status != http.StatusGone {
			t.Errorf("replayed callback: %d\n%s", status, body)
		}

		// A second login: the same account.
		b2 := newBrowser(t)
		if _, status, body := opLogin(t, b2, r.Base+"/sso/op/login", "alice", "op password 1"); status != 200 {
			t.Fatalf("second login: %d\n%s", status, body)
		}
		if n := countRows(t, db, `SELECT count(*) FROM sso_identities`); n != 1 {
			t.Errorf("%d identities after two logins of one person", n)
		}

		// State mismatch: stop at the callback, change the state, then send it.
		b3 := newBrowser(t)
		b3.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), r.Base+"/sso/op/callback") {
				return http.ErrUseLastResponse
			}
			return nil
		}
		loginURL, _, page := b3.get(t, r.Base+"/sso/op/login")
		form := hiddenInputs(page)
		form.Set("username", "alice")
		form.Set("password", "op password 1")
		resp, err := b3.PostForm(loginURL.Scheme+"://"+loginURL.Host+"/login/username", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		good := resp.Header.Get("Location")
		if !strings.HasPrefix(good, r.Base+"/sso/op/callback") {
			t.Fatalf("expected a redirect to the callback, got %d %s", resp.StatusCode, good)
		}
		gu, _ := url.Parse(good)
		gq := gu.Query()
		gq.Set("state", gq.Get("state")+"x")
		gu.RawQuery = gq.Encode()
		if _, status, body := b3.get(t, gu.String()); status != http.StatusGone || !strings.Contains(body, "Start again") {
			t.Errorf("state mismatch: %d\n%s", status, body)
		}
		// The genuine callback in another browser (no flow cookie): refused too.
		if _, status, _ := newBrowser(t).get(t, good); status != http.StatusGone {
			t.Errorf("callback in another browser: %d", status)
		}
		// And in the right browser it still works: the mismatch did not use the flow.
		if _, status, body := b3.get(t, good); status != 200 {
			t.Errorf("the genuine callback after a mismatch: %d\n%s", status, body)
		}
	})
}

// TestOIDCUnverifiedEmailIsNotLinked: Bob's provider does not vouch for his email, so his
// login does not take over the local account with that email, even with linking on.
func TestOIDCUnverifiedEmailIsNotLinked(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	db.Now = time.Now
	r := startRoster(t, db)
	issuer := startOP(t, r.Base+"/sso/op/callback")
	p := oidcProvider(issuer)
	p.Settings.LinkByEmail = true
	if _, err := r.SSO.CreateProvider(admin(), p); err != nil {
		t.Fatal(err)
	}
	mustLocal(t, r, "bob.local", "bob.durand@op.example")
	mustLocal(t, r, "alice.local", "alice.martin@op.example")

	_, status, body := opLogin(t, newBrowser(t), r.Base+"/sso/op/login", "bob", "op password 2")
	if status != http.StatusUnauthorized || !strings.Contains(body, "Ask an administrator to link it") {
		t.Errorf("unverified email: %d\n%s", status, body)
	}
	// Alice's email is verified and linking is on: linked to her local account.
	b := newBrowser(t)
	if _, status, body := opLogin(t, b, r.Base+"/sso/op/login", "alice", "op password 1"); status != 200 {
		t.Fatalf("verified email: %d\n%s", status, body)
	}
	if got := b.me(t, r.Base); got != "alice.local" {
		t.Errorf("verified email logged in as %q", got)
	}
}

// mustLocal creates a local account with a password.
func mustLocal(t *testing.T, r *rig, username, email string) {
	t.Helper()
	err := r.DB.Tx(context.Background(), func(tx *store.Tx) error {
		_, err := r.Accounts.CreateUser(context.Background(), tx, account.NewUser{Username: username, Email: email,
			FirstName: "Local", LastName: "Person", Password: "local password 42"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
