package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roster/internal/store"
)

// TestServeRollsBackInterruptedImport simulates a crash during an import (the batch left
// applying, with the rows of its first transaction committed) and checks that `roster serve`
// rolls it back at start: the accounts it created are gone and the batch says interrupted.
func TestServeRollsBackInterruptedImport(t *testing.T) {
	env := sqliteEnv(t)
	file := filepath.Join(t.TempDir(), "people.tsv")
	if err := os.WriteFile(file, []byte("ann@x.org\tAnn\tA\nbob@x.org\tBob\tB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, env, "", "import", file, "--format", "tsv", "--apply"); err != nil || !strings.Contains(out, "created 2") {
		t.Fatalf("import: %v %s", err, out)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, env["ROSTER_DB"])
	if err != nil {
		t.Fatal(err)
	}
	// The crash: as if the process had died before marking the batch applied.
	if _, err := db.ExecContext(ctx, `UPDATE import_batches SET status = 'applying', applied_at = NULL, rows_done = 1, alive_until = 0`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	serve(t, env)
	db, err = store.Open(ctx, env["ROSTER_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var status string
	var users int
	if err := db.QueryRowContext(ctx, `SELECT status FROM import_batches`).Scan(&status); err != nil || status != "interrupted" {
		t.Fatalf("status %q %v", status, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email IN ('ann@x.org', 'bob@x.org') AND deleted_at IS NULL`).Scan(&users); err != nil || users != 0 {
		t.Fatalf("users %d %v", users, err)
	}
}
