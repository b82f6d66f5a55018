package server

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/api"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/httpx"
	"roster/internal/store"
	"roster/internal/testenv"
	"roster/internal/web"
)

func handlerOn(tb testing.TB, db *store.DB) http.Handler {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accounts := account.NewService(db, account.Config{BaseURL: "http://roster.test"})
	pages, err := web.New(web.Config{BaseURL: "http://roster.test"}, web.Services{Log: log, DB: db, Accounts: accounts})
	if err != nil {
		tb.Fatal(err)
	}
	return New(Deps{Log: log, DB: db, Accounts: accounts, Web: pages,
		API:     api.New(api.Config{}, api.Services{Log: log, DB: db, Accounts: accounts, Groups: group.NewService(db)}),
		Metrics: httpx.NewMetrics()})
}

func do(h http.Handler, method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// With the database gone, health says so whatever the headers, and the API and the pages
// answer 503 with Retry-After instead of 500.
func TestDatabaseUnreachable(t *testing.T) {
	dead := fmt.Sprintf("postgres://roster@127.0.0.1:%d/none?sslmode=disable&connect_timeout=2", testenv.FreePort(t))
	sqlDB, err := sql.Open("pgx", dead)
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	h := handlerOn(t, &store.DB{DB: sqlDB, Dialect: store.Postgres, Now: time.Now})
	for _, hdr := range [][]string{nil, {"Authorization", "Bearer whatever"}, {"Cookie", httpx.SessionCookie + "=abc"}} {
		for _, path := range []string{"/healthz", "/readyz"} {
			rec := do(h, "GET", path, "", hdr...)
			if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "database unreachable") {
				t.Errorf("%s with %v: %d %q", path, hdr, rec.Code, rec.Body.String())
			}
		}
		if rec := do(h, "GET", "/livez", "", hdr...); rec.Code != 200 {
			t.Errorf("/livez with %v: %d", hdr, rec.Code)
		}
	}
	for _, c := range []struct {
		path string
		hdr  []string
	}{
		{"/api/v1/me", []string{"Authorization", "Bearer whatever"}},
		{"/", []string{"Cookie", httpx.SessionCookie + "=abc"}},
		{"/login", nil},
	} {
		rec := do(h, "GET", c.path, "", c.hdr...)
		if c.path == "/login" && rec.Code == 200 {
			continue // the login form itself needs no database
		}
		if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s: %d %q (Retry-After %q)", c.path, rec.Code, rec.Body.String(), rec.Header().Get("Retry-After"))
		}
	}
}

// A database that cannot take a write (here SQLite held by another writer: SQLITE_BUSY; a
// full disk gives SQLITE_FULL, mapped the same way) fails the health check and answers writes
// with 503 and Retry-After.
func TestDatabaseCannotWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "roster.db")
	setup, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r := newRigOn(t, setup)
	cookie := r.cookie
	setup.Close()

	q := url.Values{}
	q.Add("_pragma", "busy_timeout(200)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	sqlDB, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	h := handlerOn(t, &store.DB{DB: sqlDB, Dialect: store.SQLite, Now: time.Now})
	if rec := do(h, "GET", "/healthz", ""); rec.Code != 200 {
		t.Fatalf("healthy: %d %s", rec.Code, rec.Body.String())
	}

	blocker, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close()
	conn, err := blocker.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `ROLLBACK`)

	rec := do(h, "GET", "/healthz", "", "Authorization", "Bearer whatever")
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "cannot write") || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("health while writes fail: %d %q", rec.Code, rec.Body.String())
	}
	rec = do(h, "POST", "/api/v1/groups", `{"name": "Blocked"}`, "Cookie", cookie.Name+"="+cookie.Value, "Content-Type", "application/json")
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "unavailable") {
		t.Fatalf("write while the database cannot write: %d %q", rec.Code, rec.Body.String())
	}
	// A login then is not "wrong password": 503, said in the reader's language.
	rec = do(h, "POST", "/login?lang=fr", url.Values{"login": {"ada@example.org"}, "password": {"analytical engine 1843"}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded", "Accept-Language", "fr")
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "momentanément indisponible") {
		t.Fatalf("login while the database cannot write: %d %q", rec.Code, rec.Body.String())
	}
}

// SQLite's "disk full" (here: the database may not grow past its size) is Unavailable.
func TestDiskFullIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "full.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE filler (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA max_page_count = 3`); err != nil {
		t.Fatal(err)
	}
	var full error
	for range 100 {
		if _, full = db.ExecContext(ctx, `INSERT INTO filler VALUES (zeroblob(3000))`); full != nil {
			break
		}
	}
	if full == nil || !store.IsUnavailable(full) || errs.CodeOf(errs.Wrap(full, "write")) != errs.Unavailable ||
		errs.As(full).RetryAfter == 0 {
		t.Fatalf("disk full: %v", full)
	}
	if store.IsUnavailable(sql.ErrNoRows) || errs.CodeOf(fmt.Errorf("plain")) != errs.Internal {
		t.Fatal("ordinary errors are not Unavailable")
	}
}
