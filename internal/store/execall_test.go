package store_test

import (
	"context"
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestExecAll: several writes in one call land as if run one by one, placeholders renumbered
// and literals left alone; an error in any rolls the transaction back.
func TestExecAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.ExecAll(ctx,
				store.Stmt{SQL: `INSERT INTO settings (key, value) VALUES ($1, $2)`, Args: []any{"a", "one"}},
				store.Stmt{SQL: `INSERT INTO settings (key, value) VALUES ($1, '$1 stays') , ($2, $3)`, Args: []any{"b", "c", "three"}},
				store.Stmt{SQL: `INSERT INTO settings (key, value) VALUES ($2, $1)`, Args: []any{"four", "d"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		rows, err := db.QueryContext(ctx, `SELECT key, value FROM settings WHERE key IN ('a', 'b', 'c', 'd')`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, v string
			rows.Scan(&k, &v)
			got[k] = v
		}
		rows.Close()
		if got["a"] != "one" || got["b"] != "$1 stays" || got["c"] != "three" || got["d"] != "four" || len(got) != 4 {
			t.Fatalf("settings %v", got)
		}
		err = db.Tx(ctx, func(tx *store.Tx) error {
			return tx.ExecAll(ctx,
				store.Stmt{SQL: `INSERT INTO settings (key, value) VALUES ($1, $2)`, Args: []any{"e", "five"}},
				store.Stmt{SQL: `INSERT INTO settings (key, value) VALUES ($1, $2)`, Args: []any{"a", "again"}})
		})
		if !store.IsUnique(err) {
			t.Fatalf("duplicate key: %v", err)
		}
		var n int
		db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = 'e'`).Scan(&n)
		if n != 0 {
			t.Fatal("a failed call left a row")
		}
	})
}
