package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roster/internal/authz"
	"roster/internal/sis"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestSyncRunsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db)
		r.exec(`INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ('bio', 'Biology', 0, 0)`)
		r.user("ann", "ann@example.org")
		src, err := sis.ReadCSV(strings.NewReader("course,user,role\nbio,ann,student\nbio,zed,student\n"), "n.csv")
		if err != nil {
			t.Fatal(err)
		}
		src.Name = "nightly"
		if _, err := sis.Run(context.Background(), db, src, sis.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		var out List[SyncRun]
		if code, body := r.do("admin", "GET", "/api/v1/sync/runs?source=nightly", "", &out); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		if len(out.Items) != 1 || out.Items[0].Added != 1 || out.Items[0].Skipped != 1 || out.Items[0].Status != "done" ||
			!strings.Contains(string(out.Items[0].Report), `"line":3`) {
			t.Errorf("runs: %+v", out.Items)
		}
		if code, _ := r.do("", "GET", "/api/v1/sync/runs", "", nil); code != 401 && code != 403 {
			t.Errorf("anonymous: %d", code)
		}
	})
}

func TestSyncSourcesAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db)
		mux := http.NewServeMux()
		New(Config{}, Services{Log: slog.New(slog.DiscardHandler), DB: db, Accounts: r.accounts, SIS: sis.NewService(db, r.accounts)}).Routes(mux)
		r.h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			ctx := req.Context()
			if p := r.who[req.Header.Get("X-As")]; p != nil {
				ctx = authz.With(ctx, p)
			}
			mux.ServeHTTP(w, req.WithContext(ctx))
		})
		r.exec(`INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ('bio', 'Biology', 0, 0)`)
		r.user("ann", "ann@example.org")
		path := filepath.Join(t.TempDir(), "e.csv")
		if err := os.WriteFile(path, []byte("course,user,role\nbio,ann,student\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"name": "nightly", "kind": "csv", "location": path})
		var src SyncSource
		if code, b := r.do("admin", "POST", "/api/v1/sync/sources", string(body), &src); code != 201 || !src.Enabled || src.Schedule != "0 2 * * *" {
			t.Fatalf("create: %d %s", code, b)
		}
		if code, b := r.do("admin", "POST", "/api/v1/sync/sources", `{"name":"db","kind":"sql","location":"postgres://u:pw@h/x","query":"SELECT 1"}`, &src); code != 201 ||
			strings.Contains(src.Location, "pw") {
			t.Fatalf("create sql: %d %s", code, b)
		}
		if code, b := r.do("admin", "POST", "/api/v1/sync/sources", `{"name":"bad","kind":"ftp","location":"x"}`, nil); code != 422 && code != 400 ||
			!strings.Contains(b, "kind") {
			t.Fatalf("bad kind: %d %s", code, b)
		}
		var rep SyncReport
		if code, b := r.do("admin", "POST", "/api/v1/sync/sources/nightly/run?dry_run=true", "", &rep); code != 200 || rep.Status != "dry_run" || rep.Added != 1 {
			t.Fatalf("dry run: %d %s", code, b)
		}
		if code, b := r.do("admin", "POST", "/api/v1/sync/sources/nightly/run", "", &rep); code != 200 || rep.Status != "done" || rep.Added != 1 {
			t.Fatalf("run: %d %s", code, b)
		}
		var list List[SyncSource]
		if code, b := r.do("admin", "GET", "/api/v1/sync/sources", "", &list); code != 200 || len(list.Items) != 2 ||
			list.Items[1].LastRun == nil || list.Items[1].LastRun.Status != "done" || strings.Contains(b, "pw@") {
			t.Fatalf("list: %d %s", code, b)
		}
		if code, _ := r.do("", "GET", "/api/v1/sync/sources", "", nil); code != 401 && code != 403 {
			t.Errorf("anonymous: %d", code)
		}
		if code, _ := r.do("admin", "POST", "/api/v1/sync/sources/nope/run", "", nil); code != 404 {
			t.Errorf("unknown: %d", code)
		}
		if code, _ := r.do("admin", "DELETE", "/api/v1/sync/sources/db", "", nil); code != 204 {
			t.Errorf("delete: %d", code)
		}
	})
}
