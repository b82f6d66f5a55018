package store_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestInsertMany(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE bulk_t (k TEXT PRIMARY KEY, n BIGINT, flag BOOLEAN NOT NULL, note TEXT)`); err != nil {
			t.Fatal(err)
		}
		ins := store.Insert{Table: "bulk_t", Columns: []string{"k", "n", "flag", "note"},
			Types: []store.ColType{store.Text, store.Int, store.Bool, store.Text}, Tail: "ON CONFLICT DO NOTHING RETURNING k"}
		// More rows than one statement takes on either database, so that full batches and a
		// shorter last one both run.
		n := ins.BatchRows(db.Dialect)*2 + 7
		fill := func(from int) func(int, []any) {
			return func(i int, v []any) {
				i += from
				v[0] = fmt.Sprintf("k%05d", i)
				if i%3 != 0 { // every third n and note stay NULL
					v[1] = i
					v[3] = fmt.Sprintf("note %d", i)
				}
				v[2] = i%2 == 0
			}
		}
		write := func(from, count int) []string {
			var got []string
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				return tx.InsertMany(ctx, ins, count, fill(from), func(r store.Scanner) error {
					var k string
					err := r.Scan(&k)
					got = append(got, k)
					return err
				})
			}); err != nil {
				t.Fatal(err)
			}
			sort.Strings(got)
			return got
		}
		if got := write(0, n); len(got) != n || got[0] != "k00000" || got[n-1] != fmt.Sprintf("k%05d", n-1) {
			t.Fatalf("first write returned %d rows (%v...), want %d", len(got), got[:min(3, len(got))], n)
		}
		// Overlapping rows: ON CONFLICT DO NOTHING returns only the new ones.
		if got := write(n-5, 10); len(got) != 5 || got[0] != fmt.Sprintf("k%05d", n) {
			t.Fatalf("second write returned %v, want the 5 new rows", got)
		}
		var count, nulls, flags, sum int64
		if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) - count(n), sum(CASE WHEN flag THEN 1 ELSE 0 END), sum(coalesce(n, 0))
			FROM bulk_t`).Scan(&count, &nulls, &flags, &sum); err != nil {
			t.Fatal(err)
		}
		var wantNulls, wantFlags, wantSum int64
		for i := range n + 5 {
			if i%3 == 0 {
				wantNulls++
			} else {
				wantSum += int64(i)
			}
			if i%2 == 0 {
				wantFlags++
			}
		}
		if count != int64(n+5) || nulls != wantNulls || flags != wantFlags || sum != wantSum {
			t.Errorf("table holds %d rows, %d NULL, %d flags, sum %d; want %d, %d, %d, %d", count, nulls, flags, sum,
				n+5, wantNulls, wantFlags, wantSum)
		}
		var note string
		db.QueryRowContext(ctx, `SELECT note FROM bulk_t WHERE k = 'k00004'`).Scan(&note)
		if note != "note 4" {
			t.Errorf("note of k00004: %q", note)
		}

		// Without ON CONFLICT a duplicate is a unique violation, and the batch is not written.
		plain := ins
		plain.Tail = ""
		err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.InsertMany(ctx, plain, 2, func(i int, v []any) { v[0], v[2] = fmt.Sprintf("dup%d", i*0)+"x", true }, nil)
		})
		if !store.IsUnique(err) {
			t.Errorf("duplicate keys: %v, want a unique violation", err)
		}
		// A value of the wrong type is refused, not written as something else.
		err = db.Tx(ctx, func(tx *store.Tx) error {
			return tx.InsertMany(ctx, plain, 1, func(i int, v []any) { v[0], v[1], v[2] = "typed", "seven", true }, nil)
		})
		if err == nil {
			var got any
			db.QueryRowContext(ctx, `SELECT n FROM bulk_t WHERE k = 'typed'`).Scan(&got)
			t.Errorf("text in an integer column written as %v", got)
		}
	})
}

func TestIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		ctx := context.Background()
		for i, sql := range []string{`SELECT key FROM settings WHERE key`, `SELECT key FROM settings WHERE value = $1 AND key`} {
			if _, err := db.ExecContext(ctx, `DELETE FROM settings`); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"a", "b", "c"} {
				if _, err := db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, 'v')`, k); err != nil {
					t.Fatal(err)
				}
			}
			var args []any
			if i == 1 {
				args = append(args, "v")
			}
			in, keys := db.Dialect.In(len(args)+1, []string{"a", "c", "z"})
			rows, err := db.QueryContext(ctx, sql+in+` ORDER BY key`, append(args, keys...)...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var k string
				rows.Scan(&k)
				got = append(got, k)
			}
			rows.Close()
			if fmt.Sprint(got) != "[a c]" {
				t.Errorf("%s%s: %v", sql, in, got)
			}
		}
	})
}
