package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

func TestTxCommitRollbackAndUnique(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		insert := func(tx *store.Tx, key string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)`, key, "v")
			return err
		}
		boom := errors.New("boom")
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := insert(tx, "a"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want boom, got %v", err)
		}
		var n int
		db.QueryRowContext(ctx, `SELECT count(*) FROM settings`).Scan(&n)
		if n != 0 {
			t.Fatalf("rolled-back insert is visible: %d rows", n)
		}
		committed := false
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			if tx.Now != clock.T {
				t.Errorf("tx.Now = %v, want the injected clock %v", tx.Now, clock.T)
			}
			tx.AfterCommit(func() { committed = true })
			return insert(tx, "a")
		}); err != nil {
			t.Fatal(err)
		}
		if !committed {
			t.Fatal("AfterCommit did not run")
		}
		err = db.Tx(ctx, func(tx *store.Tx) error { return insert(tx, "a") })
		if !store.IsUnique(err) {
			t.Fatalf("duplicate key: want a unique violation, got %v", err)
		}
	})
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
	})
}

// Ids leave the process (URLs, SCIM, API clients): a deleted row's id is never given to a new
// one, on either database.
func TestIDsNeverReused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		for _, c := range []struct{ table, insert string }{
			{"groups", `INSERT INTO groups (name, idnumber, description, visibility, created_at, updated_at)
				VALUES ('G', '', '', 'public', 0, 0) RETURNING id`},
			{"users", `INSERT INTO users (username, email, email_norm, first_name, last_name, created_at, updated_at)
				VALUES ('u', 'u@x.org', 'u@x.org', 'U', 'U', 0, 0) RETURNING id`},
		} {
			var first, second int64
			if err := db.QueryRowContext(ctx, c.insert).Scan(&first); err != nil {
				t.Fatalf("%s: %v", c.table, err)
			}
			if _, err := db.ExecContext(ctx, `DELETE FROM `+c.table+` WHERE id = $1`, first); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, c.insert).Scan(&second); err != nil {
				t.Fatal(err)
			}
			if second == first {
				t.Errorf("%s: the deleted row's id %d was given again", c.table, first)
			}
		}
	})
}

// An existing SQLite database gets AUTOINCREMENT by a rebuild of its tables that keeps every
// row, the rows that refer to them (no ON DELETE CASCADE fires), the indexes and the triggers.
func TestAutoincrementRebuildKeepsData(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.MigrateTo(db, ctx, 14); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 1; i <= 3; i++ {
		exec(`INSERT INTO users (id, username, email, email_norm, first_name, last_name, created_at, updated_at)
			VALUES ($1, $2, '', '', 'F', 'L', 0, 0)`, i, fmt.Sprint("user", i))
		exec(`INSERT INTO groups (id, name, idnumber, description, visibility, created_at, updated_at)
			VALUES ($1, $2, '', '', 'public', 0, 0)`, i, fmt.Sprint("group", i))
		exec(`INSERT INTO group_paths (ancestor_id, descendant_id, depth) VALUES ($1, $1, 0)`, i)
		exec(`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
			VALUES ($1, $1, 'learner', 'manual', 0, 0)`, i)
	}
	exec(`DELETE FROM groups WHERE id = 3`) // deleted before the upgrade: its id cannot be known
	before := count(`SELECT count(*) FROM group_members`)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM group_members`); n != before || n != 2 {
		t.Fatalf("memberships %d, want %d", n, before)
	}
	if n := count(`SELECT count(*) FROM users`); n != 3 {
		t.Fatalf("users %d", n)
	}
	if n := count(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND sql LIKE '%INTEGER PRIMARY KEY,%'`); n != 0 {
		t.Fatalf("%d tables still without AUTOINCREMENT", n)
	}
	if n := count(`SELECT count(*) FROM sqlite_master WHERE type = 'trigger'`); n == 0 {
		t.Fatal("the triggers were lost")
	}
	if n := count(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'outbox_due'`); n != 1 {
		t.Fatal("the indexes were lost")
	}
	var fk int
	if err := db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys %d %v", fk, err)
	}
	newGroup := func() int64 {
		t.Helper()
		var id int64
		if err := db.QueryRowContext(ctx, `INSERT INTO groups (name, idnumber, description, visibility, created_at, updated_at)
			VALUES ('new', '', '', 'public', 0, 0) RETURNING id`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	id := newGroup()
	exec(`DELETE FROM groups WHERE id = $1`, id)
	if again := newGroup(); again == id || id < 3 {
		t.Fatalf("group ids %d then %d", id, again)
	}
	// Foreign keys still act after the rebuild.
	exec(`DELETE FROM users WHERE id = 1`)
	if n := count(`SELECT count(*) FROM group_members WHERE user_id = 1`); n != 0 {
		t.Fatal("ON DELETE CASCADE no longer acts")
	}
}

// At start, a database that cannot be opened is explained with its cause and remedy.
func TestOpenSaysWhy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "missing", "roster.db"))
	if err == nil || !strings.Contains(err.Error(), "does not exist: create it") {
		t.Fatalf("missing folder: %v", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, "sqlite:"+filepath.Join(file, "roster.db")); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Fatalf("file as folder: %v", err)
	}
	for errno, want := range map[syscall.Errno]string{syscall.EROFS: "is read-only: mount it read-write",
		syscall.EACCES: "no permission to write", syscall.ENOSPC: "is full"} {
		err := store.ExplainWrite("/srv/roster", &fs.PathError{Op: "open", Path: "/srv/roster/x", Err: errno})
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "/srv/roster") {
			t.Errorf("%v: %v", errno, err)
		}
	}
	_, err = store.Open(ctx, fmt.Sprintf("postgres://roster@127.0.0.1:%d/none?sslmode=disable&connect_timeout=2", testenv.FreePort(t)))
	if err == nil || !strings.Contains(err.Error(), "is it running") {
		t.Fatalf("PostgreSQL down: %v", err)
	}
}
