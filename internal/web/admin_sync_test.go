package web

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/store"
)

// TestAdminSyncPage: a platform administrator creates a source, edits it, dry-runs and runs
// it, and reads the runs with their reports; a person without rights gets nothing.
func TestAdminSyncPage(t *testing.T) {
	rg := newRig(t)
	db, ctx, create := rg.db, rg.ctx, rg.user
	admin := create(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	ada := create(account.NewUser{Username: "ada", Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace"})
	if _, err := db.ExecContext(ctx, `INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ('bio', 'Biology', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "e.csv")
	if err := os.WriteFile(path, []byte("course,user,role\nbio,ada,student\nbio,ghost,student\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	call, want := rg.call, rg.want
	code, body, _ := call(admin, "GET", "/", nil)
	want(code, body, 200, `href="/admin/sync"`)
	code, body, _ = call(admin, "GET", "/admin/sync", nil)
	want(code, body, 200, "No source is configured yet.", `value="0 2 * * *"`)
	// A bad form keeps what was typed and names the field.
	form := url.Values{"name": {"nightly"}, "kind": {"csv"}, "location": {path}, "action": {"suspend"}, "threshold": {"10"},
		"schedule": {"0 25 * * *"}, "enabled": {"1"}}
	code, body, _ = call(admin, "POST", "/admin/sync", form)
	want(code, body, 422, "must be a cron schedule of 5 fields", `value="nightly"`)
	form.Set("schedule", "0 2 * * *")
	code, _, loc := call(admin, "POST", "/admin/sync", form)
	want(code, "", 303)
	code, body, _ = call(admin, "GET", loc, nil)
	want(code, body, 200, "The source nightly is saved.", `id="source-nightly"`, "Never run")
	code, body, _ = call(admin, "GET", "/admin/sync?edit=nightly&lang=fr", nil)
	want(code, body, 200, "Modifier la source nightly", `action="/admin/sync/nightly"`)
	call(admin, "GET", "/?lang=en", nil) // the switch is saved on the account: back to English
	form.Set("schedule", "30 3 * * 1-5")
	code, _, _ = call(admin, "POST", "/admin/sync/nightly", form)
	want(code, "", 303)

	code, _, loc = call(admin, "POST", "/admin/sync/nightly/run", url.Values{"dry": {"1"}})
	want(code, "", 303)
	code, body, _ = call(admin, "GET", loc, nil)
	want(code, body, 200, "Run done: nightly: 1 added", "Dry run", "1 skipped row", "e.csv:3", "unknown user")
	if n := countRows(t, db, `SELECT count(*) FROM course_enrolments`); n != 0 {
		t.Fatalf("a dry run enrolled %d", n)
	}
	code, _, _ = call(admin, "POST", "/admin/sync/nightly/run", url.Values{})
	want(code, "", 303)
	if n := countRows(t, db, `SELECT count(*) FROM course_enrolments`); n != 1 {
		t.Fatalf("enrolled %d", n)
	}
	code, body, _ = call(admin, "GET", "/admin/sync", nil)
	want(code, body, 200, "30 3 * * 1-5", `class="status-done"`)

	// A source that would remove more than the threshold: the run stops, and the page says
	// so on top, with why, never "run done"; the history marks the run stopped.
	create(account.NewUser{Username: "bob", Email: "bob@example.org", FirstName: "Bob", LastName: "Kahn"})
	if err := os.WriteFile(path, []byte("course,user,role\nbio,bob,student\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, loc = call(admin, "POST", "/admin/sync/nightly/run", url.Values{})
	want(code, "", 303)
	loc, _, _ = strings.Cut(loc, "#") // a browser does not send the fragment
	code, body, _ = call(admin, "GET", loc, nil)
	want(code, body, 200, `id="sync-warning"`, "The sync nightly stopped: the run would remove or suspend 1 of the",
		`class="status-stopped"`)
	if strings.Contains(body, "Run done") {
		t.Fatal("a stopped run reads as done")
	}
	code, body, _ = call(admin, "GET", loc+"&lang=fr", nil)
	want(code, body, 200, "La synchronisation nightly s’est arrêtée\u00a0: l’exécution retirerait ou suspendrait 1 des 1 inscriptions de la source")
	call(admin, "GET", "/?lang=en", nil)
	if n := countRows(t, db, `SELECT count(*) FROM course_enrolments WHERE status = 'active'`); n != 1 {
		t.Fatalf("a stopped run changed the enrolments: %d active", n)
	}

	// An unreadable source: the failure is shown with why.
	os.Remove(path)
	code, _, loc = call(admin, "POST", "/admin/sync/nightly/run", url.Values{})
	want(code, "", 303)
	code, body, _ = call(admin, "GET", loc, nil)
	want(code, body, 200, "could not be read", "no such file")

	// No rights, no page.
	for _, p := range []string{"/admin/sync"} {
		code, _, _ = call(ada, "GET", p, nil)
		if code != http.StatusForbidden {
			t.Fatalf("%s as a user: %d", p, code)
		}
	}
	code, _, _ = call(ada, "POST", "/admin/sync/nightly/run", url.Values{})
	if code != http.StatusForbidden {
		t.Fatalf("run as a user: %d", code)
	}
	code, _, loc = call(admin, "POST", "/admin/sync/nightly/delete", url.Values{})
	want(code, "", 303)
	code, body, _ = call(admin, "GET", loc, nil)
	want(code, body, 200, "The source nightly is deleted")
}

func countRows(t *testing.T, db *store.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
