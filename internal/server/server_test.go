package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/api"
	"roster/internal/authz"
	"roster/internal/httpx"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/web"
)

// rig is a whole Roster HTTP handler over a fresh SQLite database, with one logged-in user.
type rig struct {
	handler http.Handler
	cookie  *http.Cookie
}

func newRig(tb testing.TB) *rig {
	tb.Helper()
	db, _ := storetest.OpenSQLite(tb)
	return newRigOn(tb, db)
}

func newRigOn(tb testing.TB, db *store.DB) *rig {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accounts := account.NewService(db, account.Config{BaseURL: "http://roster.test"})
	pages, err := web.New(web.Config{BaseURL: "http://roster.test"}, web.Services{Log: log, DB: db, Accounts: accounts})
	if err != nil {
		tb.Fatal(err)
	}
	h := New(Deps{Log: log, DB: db, Accounts: accounts, Web: pages, API: api.New(api.Config{}, api.Services{Log: log, DB: db, Accounts: accounts}),
		Metrics: httpx.NewMetrics()})
	ctx := authz.With(context.Background(), authz.System)
	var u *account.User
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		u, err = accounts.CreateUser(ctx, tx, account.NewUser{Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace",
			Password: "analytical engine 1843", IsAdmin: true})
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	token, err := accounts.CreateSession(ctx, u.ID, "127.0.0.1", "test")
	if err != nil {
		tb.Fatal(err)
	}
	return &rig{handler: h, cookie: &http.Cookie{Name: httpx.SessionCookie, Value: token}}
}

func (r *rig) get(path string, withCookie bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if withCookie {
		req.AddCookie(r.cookie)
	}
	rec := httptest.NewRecorder()
	r.handler.ServeHTTP(rec, req)
	return rec
}

func TestSessionPageAndRedirect(t *testing.T) {
	r := newRig(t)
	if rec := r.get("/", true); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Ada") {
		t.Fatalf("dashboard with a session: %d %s", rec.Code, rec.Body.String())
	}
	rec := r.get("/", false)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("dashboard without a session: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	// French for a French browser, English otherwise.
	req := httptest.NewRequest("GET", "/login", nil)
	req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
	fr := httptest.NewRecorder()
	r.handler.ServeHTTP(fr, req)
	if !strings.Contains(fr.Body.String(), "Compte externe") {
		t.Errorf("French login page expected")
	}
	// A stale cookie is dropped and the visitor is anonymous.
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: "stale"})
	stale := httptest.NewRecorder()
	r.handler.ServeHTTP(stale, req)
	if stale.Code != http.StatusSeeOther || !strings.Contains(stale.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("stale cookie: %d, Set-Cookie %q", stale.Code, stale.Header().Get("Set-Cookie"))
	}
}

func TestAdminMailNeedsAdmin(t *testing.T) {
	r := newRig(t)
	if rec := r.get("/admin/mail", true); rec.Code != 200 {
		t.Fatalf("admin mail page for an admin: %d", rec.Code)
	}
	if rec := r.get("/api/v1/mail", false); rec.Code != 401 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("anonymous API mail: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// BenchmarkSessionPage measures a session-authenticated page: cookie lookup, the user, the
// template, the middleware.
func BenchmarkSessionPage(b *testing.B) {
	r := newRig(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := r.get("/", true); rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkSessionPagePostgres is the same on PostgreSQL.
func BenchmarkSessionPagePostgres(b *testing.B) {
	db, _ := storetest.OpenPostgres(b)
	r := newRigOn(b, db)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := r.get("/", true); rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
