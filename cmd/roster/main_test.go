package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutine and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run runs one roster command to completion with env and stdin, returning its output.
func run(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	m := NewMain()
	var out, errOut syncBuffer
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(stdin), &out, &errOut
	m.Getenv = func(k string) string { return env[k] }
	err := m.Run(context.Background(), args)
	m.Close()
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// running is a running `roster serve`.
type running struct {
	Base    string
	Stdout  *syncBuffer
	Metrics string // the --metrics-addr listener's address, if any
}

// serve starts the real program on a free port, as the binary would run, and stops it (with
// a graceful shutdown) when the test ends.
func serve(t *testing.T, env map[string]string) *running {
	t.Helper()
	m := NewMain()
	out := &syncBuffer{}
	m.Stdout, m.Stderr = out, io.Discard
	m.Getenv = func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}) }()
	select {
	case <-m.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped at start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start in 30 s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("serve did not shut down")
		}
		m.Close()
	})
	return &running{Base: "http://" + m.Addr, Stdout: out, Metrics: m.MetricsAddr}
}

var setupLink = regexp.MustCompile(`http://\S+/setup/[A-Za-z0-9_-]{43,}`)

func sqliteEnv(t *testing.T) map[string]string {
	return map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(t.TempDir(), "roster.db")}
}

func TestServePrintsSetupLinkAndServesHealth(t *testing.T) {
	s := serve(t, sqliteEnv(t))
	link := setupLink.FindString(s.Stdout.String())
	if link == "" {
		t.Fatalf("no setup link printed; stdout: %q", s.Stdout.String())
	}
	if !strings.HasPrefix(link, s.Base+"/setup/") {
		t.Errorf("setup link %s does not start with the base URL %s", link, s.Base)
	}
	// The metrics are for platform administrators (see TestMetricsAddr for their own listener).
	if resp, err := http.Get(s.Base + "/metrics"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != 401 {
		t.Errorf("anonymous GET /metrics: %d, want 401", resp.StatusCode)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/login": "External account"} {
		resp, err := http.Get(s.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("setup link answers %d", resp.StatusCode)
	}
}

func TestUserAddAndTokenCreate(t *testing.T) {
	env := sqliteEnv(t)
	out, err := run(t, env, "correct horse battery staple\n", "user", "add", "--email", "ada@example.org",
		"--first-name", "Ada", "--last-name", "Lovelace", "--admin", "--password-stdin")
	if err != nil {
		t.Fatalf("user add: %v: %s", err, out)
	}
	if !regexp.MustCompile(`^\d+\n$`).MatchString(out) {
		t.Fatalf("user add should print the id alone, got %q", out)
	}
	out, err = run(t, env, "", "user", "add", "--email", "ada@example.org", "--first-name", "Ada", "--last-name", "Other",
		"--username", "ADA@example.org")
	if err == nil {
		t.Fatalf("a second account with a taken username must fail, got %q", out)
	}
	token, err := run(t, env, "", "token", "create", "--name", "ci")
	if err != nil {
		t.Fatalf("token create: %v: %s", err, token)
	}
	token = strings.TrimSpace(token)
	if len(token) < 43 {
		t.Fatalf("token too short: %q", token)
	}
	if out, err := run(t, env, "", "token", "create"); err == nil {
		t.Fatalf("token create without --name must fail: %q", out)
	}

	s := serve(t, env)
	if setupLink.MatchString(s.Stdout.String()) {
		t.Error("a setup link was printed although an account exists")
	}
	call := func(auth string) int {
		req, _ := http.NewRequest("GET", s.Base+"/api/v1/mail", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call("Bearer " + token); got != 200 {
		t.Errorf("GET /api/v1/mail with the token: %d", got)
	}
	if got := call("Bearer " + token + "x"); got != 401 {
		t.Errorf("GET /api/v1/mail with a wrong token: %d, want 401", got)
	}
	if got := call(""); got != 401 {
		t.Errorf("GET /api/v1/mail anonymous: %d, want 401", got)
	}
	// The API login: the same answer for a wrong password and an unknown login.
	login := func(body string) (int, string) {
		resp, err := http.Post(s.Base+"/api/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	c1, b1 := login(`{"login":"ada@example.org","password":"wrong password here"}`)
	c2, b2 := login(`{"login":"nobody@example.org","password":"wrong password here"}`)
	if c1 != 401 || c1 != c2 || b1 != b2 {
		t.Errorf("login answers differ: %d %s / %d %s", c1, b1, c2, b2)
	}
	if c, b := login(`{"login":"ADA@example.org","password":"correct horse battery staple"}`); c != 200 || !strings.Contains(b, `"username"`) {
		t.Errorf("login by email, any case: %d %s", c, b)
	}
	if c, b := login(`{"login":"ada","passwd":"x"}`); c != 422 || !strings.Contains(b, `"field":"passwd"`) {
		t.Errorf("unknown field must be named: %d %s", c, b)
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	s := serve(t, sqliteEnv(t))
	req, _ := http.NewRequest("POST", s.Base+"/login", strings.NewReader("login=a&password=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST /login: %d, want 403", resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", s.Base+"/login", strings.NewReader("login=a&password=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("same-origin POST /login with a wrong password: %d, want 401", resp.StatusCode)
	}
}
