package store_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestSchemasAgree checks that the SQLite and PostgreSQL migrations give the same tables and
// columns, so that one set of queries serves both.
func TestSchemasAgree(t *testing.T) {
	lite, _ := storetest.OpenSQLite(t)
	pg, _ := storetest.OpenPostgres(t)
	a, b := columns(t, lite), columns(t, pg)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("schemas differ:\nsqlite:   %v\npostgres: %v", a, b)
	}
	if len(a) < 10 {
		t.Fatalf("too few columns read: %v", a)
	}
}

func columns(t *testing.T, db *store.DB) []string {
	t.Helper()
	ctx := context.Background()
	var q string
	if db.Dialect == store.Postgres {
		q = `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = current_schema()`
	} else {
		q = `SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

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
