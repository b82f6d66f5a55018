package sso_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/api"
	"roster/internal/authz"
	"roster/internal/httpx"
	"roster/internal/server"
	"roster/internal/sso"
	"roster/internal/store"
	"roster/internal/web"
)

// rig is Roster's real HTTP stack (server.New with the web pages and the API, as `roster
// serve` builds it) on a free port, over one test database.
type rig struct {
	DB       *store.DB
	Accounts *account.Service
	SSO      *sso.Service
	Base     string
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startRoster(t *testing.T, db *store.DB) *rig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	log := quietLog()
	accounts := account.NewService(db, account.Config{BaseURL: base})
	svc := sso.NewService(db, accounts, sso.Config{BaseURL: base, Log: log})
	pages, err := web.New(web.Config{BaseURL: base}, web.Services{Log: log, DB: db, Accounts: accounts, SSO: svc})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Deps{Log: log, DB: db, Accounts: accounts, Web: pages,
		API: api.New(api.Config{}, api.Services{Log: log, DB: db, Accounts: accounts}), Metrics: httpx.NewMetrics()})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &rig{DB: db, Accounts: accounts, SSO: svc, Base: base}
}

// admin is a context acting as a platform administrator.
func admin() context.Context { return authz.With(context.Background(), authz.System) }

// browserClient is an HTTP client with a cookie jar that records every URL it visits.
type browserClient struct {
	*http.Client
	visited []*url.URL
}

func newBrowser(t *testing.T) *browserClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browserClient{}
	b.Client = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			b.visited = append(b.visited, req.URL)
			if len(via) > 15 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	return b
}

// get fetches a page and returns its final URL, status and body.
func (b *browserClient) get(t *testing.T, u string) (*url.URL, int, string) {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.Request.URL, resp.StatusCode, string(body)
}

func (b *browserClient) postForm(t *testing.T, u string, form url.Values) (*url.URL, int, string) {
	t.Helper()
	resp, err := b.PostForm(u, form)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.Request.URL, resp.StatusCode, string(body)
}

// me returns the username Roster's API sees for this client's session, "" when anonymous.
func (b *browserClient) me(t *testing.T, base string) string {
	t.Helper()
	resp, err := b.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return ""
	}
	var out struct {
		User struct {
			Username string `json:"username"`
		} `json:"user"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET /api/v1/me: %d: %v", resp.StatusCode, err)
	}
	return out.User.Username
}

// userByUsername reads the account row the way a test wants to check it.
func userRow(t *testing.T, db *store.DB, username string) (auth, email, first, last, lang string) {
	t.Helper()
	err := db.QueryRowContext(context.Background(), `SELECT auth, email, first_name, last_name, language FROM users WHERE username = $1`,
		username).Scan(&auth, &email, &first, &last, &lang)
	if err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return
}

func countRows(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func hiddenInputs(page string) url.Values {
	v := url.Values{}
	for _, chunk := range strings.Split(page, "<input")[1:] {
		tag := chunk[:strings.Index(chunk, ">")]
		if !strings.Contains(tag, `type="hidden"`) {
			continue
		}
		v.Set(attr(tag, "name"), attr(tag, "value"))
	}
	return v
}

func attr(tag, name string) string {
	i := strings.Index(tag, name+`="`)
	if i < 0 {
		return ""
	}
	rest := tag[i+len(name)+2:]
	return htmlUnescape(rest[:strings.Index(rest, `"`)])
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&quot;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}
