package oidcp_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"roster/internal/account"
	"roster/internal/api"
	"roster/internal/authz"
	"roster/internal/httpx"
	"roster/internal/oidcp"
	"roster/internal/server"
	"roster/internal/store"
	"roster/internal/web"
)

// rig is Roster's real HTTP stack (server.New with the web pages, the API and the OpenID
// provider, as `roster serve` builds it) on a free port of 127.0.0.1, over one test database.
type rig struct {
	t        testing.TB
	DB       *store.DB
	Accounts *account.Service
	OP       *oidcp.Provider
	Base     string
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// offsetClock is the database clock of these tests: real time (the op package checks JWT
// times against the real clock), moved forward by Skip to expire tokens.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *offsetClock) Skip(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

func startRoster(t testing.TB, db *store.DB, cfg oidcp.Config) *rig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	log := quietLog()
	accounts := account.NewService(db, account.Config{BaseURL: base})
	cfg.BaseURL, cfg.Log = base, log
	op, err := oidcp.New(db, accounts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Config{BaseURL: base}, web.Services{Log: log, DB: db, Accounts: accounts, OIDC: op})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Deps{Log: log, DB: db, Accounts: accounts, Web: pages, OIDC: op,
		API: api.New(api.Config{}, api.Services{Log: log, DB: db, Accounts: accounts, OIDC: op}), Metrics: httpx.NewMetrics()})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &rig{t: t, DB: db, Accounts: accounts, OP: op, Base: base}
}

// admin is a context acting as a platform administrator.
func admin() context.Context { return authz.With(context.Background(), authz.System) }

// user creates an active account with a password.
func (r *rig) user(username, first, last, email, lang string, isAdmin bool) *account.User {
	r.t.Helper()
	var u *account.User
	err := r.DB.Tx(admin(), func(tx *store.Tx) error {
		var err error
		u, err = r.Accounts.CreateUser(admin(), tx, account.NewUser{Username: username, Email: email, FirstName: first,
			LastName: last, Language: lang, Password: "a long test passphrase", IsAdmin: isAdmin})
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return u
}

// client registers a client.
func (r *rig) client(in oidcp.ClientInput) (*oidcp.Client, string) {
	r.t.Helper()
	c, sec, err := r.OP.CreateClient(admin(), in)
	if err != nil {
		r.t.Fatal(err)
	}
	return c, sec
}

func ptr[T any](v T) *T { return &v }

// session returns an HTTP client logged in to Roster as u, that does not follow redirects.
func (r *rig) session(u *account.User) *http.Client {
	r.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if u != nil {
		tok, err := r.Accounts.CreateSession(context.Background(), u.ID, "127.0.0.1", "test")
		if err != nil {
			r.t.Fatal(err)
		}
		base, _ := url.Parse(r.Base)
		jar.SetCookies(base, []*http.Cookie{{Name: httpx.SessionCookie, Value: tok, Path: "/"}})
	}
	return c
}

// authorize follows the redirects of an authorization request in a logged-in client until
// they leave Roster, and returns the final Location (the client's redirect URI with the code
// or the error), or the status and body of a page Roster answered with.
func (r *rig) authorize(c *http.Client, authURL string) (loc *url.URL, status int, body string) {
	r.t.Helper()
	next := authURL
	for range 10 {
		resp, err := c.Get(next)
		if err != nil {
			r.t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		l := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || l == "" {
			return nil, resp.StatusCode, string(b)
		}
		u, err := resp.Request.URL.Parse(l)
		if err != nil {
			r.t.Fatal(err)
		}
		if u.Host != resp.Request.URL.Host {
			return u, resp.StatusCode, ""
		}
		next = u.String()
	}
	r.t.Fatal("too many redirects")
	return nil, 0, ""
}

// rp is a relying party made of coreos/go-oidc and x/oauth2, as a course platform would use
// them: it starts the code flow with PKCE, checks state and nonce, verifies the ID token and
// reads userinfo.
type rp struct {
	t        *testing.T
	Base     string
	conf     oauth2.Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier

	mu      sync.Mutex
	flows   map[string][2]string // state -> nonce, PKCE verifier
	Tokens  *oauth2.Token
	IDToken *oidc.IDToken
	Claims  map[string]any
	Info    map[string]any
}

// newRP listens on a free port; register its RedirectURI before calling setup.
func newRP(t *testing.T) (*rp, net.Listener) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &rp{t: t, Base: "http://" + ln.Addr().String(), flows: map[string][2]string{}}, ln
}

func (p *rp) RedirectURI() string { return p.Base + "/callback" }

func (p *rp) start(ln net.Listener, issuer, clientID, secret string, scopes []string) {
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		p.t.Fatalf("discovery: %v", err)
	}
	p.provider = prov
	p.verifier = prov.Verifier(&oidc.Config{ClientID: clientID})
	p.conf = oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: prov.Endpoint(), RedirectURL: p.RedirectURI(),
		Scopes: scopes}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		// ?prompt=login or ?max_age=N are passed on to the authorization request.
		var opts []oauth2.AuthCodeOption
		for _, k := range []string{"prompt", "max_age"} {
			if v := r.URL.Query().Get(k); v != "" {
				opts = append(opts, oauth2.SetAuthURLParam(k, v))
			}
		}
		http.Redirect(w, r, p.authURL(opts...), http.StatusFound)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		if err := p.finish(r.Context(), r.URL.Query()); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><p id="who">%v %v %v</p>`, p.Info["sub"], p.Info["email"], p.Info["name"])
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	p.t.Cleanup(func() { srv.Close() })
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// authURL begins a flow.
func (p *rp) authURL(opts ...oauth2.AuthCodeOption) string {
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	p.mu.Lock()
	p.flows[state] = [2]string{nonce, verifier}
	p.mu.Unlock()
	return p.conf.AuthCodeURL(state, append(opts, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))...)
}

// finish is the callback: state, code exchange with the verifier, ID token, nonce, userinfo.
func (p *rp) finish(ctx context.Context, q url.Values) error {
	p.mu.Lock()
	flow, ok := p.flows[q.Get("state")]
	delete(p.flows, q.Get("state"))
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("unknown state (error %q)", q.Get("error"))
	}
	tok, err := p.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(flow[1]))
	if err != nil {
		return fmt.Errorf("exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("id token: %w", err)
	}
	if idt.Nonce != flow[0] {
		return fmt.Errorf("nonce %q", idt.Nonce)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return err
	}
	ui, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	var info map[string]any
	if err := ui.Claims(&info); err != nil {
		return err
	}
	p.mu.Lock()
	p.Tokens, p.IDToken, p.Claims, p.Info = tok, idt, claims, info
	p.mu.Unlock()
	return nil
}

// tokenCall posts a form to the token endpoint, with the client's credentials in a Basic
// header when id is set, and returns the status and the decoded answer.
func tokenCall(t testing.TB, base, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+oidcp.PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{"body": string(b)}
	}
	return resp.StatusCode, out
}
