package bulk

import (
	"strings"
	"testing"

	"roster/internal/store"
)

func TestSQLBufMultiRowInsert(t *testing.T) {
	build := func(d store.Dialect) *sqlBuf {
		q := newBuf(d, `INSERT INTO t (a, b, c, d) VALUES `)
		q.tuple(true, "x", int64(1), sqlText("'k'"), bigint{nil})
		q.tuple(false, "y", 2, sqlText("'k'"), bigint{int64(3)})
		q.add(` ON CONFLICT DO NOTHING RETURNING a`)
		return q
	}
	q := build(store.SQLite)
	if got, want := q.String(), `INSERT INTO t (a, b, c, d) VALUES (?, 1, 'k', NULL), (?, 2, 'k', 3) ON CONFLICT DO NOTHING RETURNING a`; got != want {
		t.Errorf("sqlite:\n got %s\nwant %s", got, want)
	}
	if len(q.argv()) != 2 {
		t.Errorf("sqlite args %v", q.argv())
	}

	q = build(store.Postgres)
	want := `INSERT INTO t (a, b, c, d) SELECT c0, c1, 'k', c3 FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(c0, c1, c3) ON CONFLICT DO NOTHING RETURNING a`
	if got := q.String(); got != want || q.String() != want {
		t.Errorf("postgres:\n got %s\nwant %s", got, want)
	}
	args := q.argv()
	if len(args) != 4 { // the exec mode, then one array per column
		t.Fatalf("postgres args %v", args)
	}
	if text := args[1].([]string); strings.Join(text, ",") != "x,y" {
		t.Errorf("text column %v", text)
	}
	if ints := args[3].([]*int64); ints[0] != nil || *ints[1] != 3 {
		t.Errorf("bigint column %v", ints)
	}
	if q.err != nil {
		t.Error(q.err)
	}

	bad := newBuf(store.Postgres, `INSERT INTO t (a) VALUES `)
	bad.tuple(true, int64(1))
	bad.tuple(false, "one")
	if bad.err == nil {
		t.Error("text in a column of integers: no error")
	}
}

func TestSQLBufIn(t *testing.T) {
	q := newBuf(store.SQLite, `SELECT k FROM t WHERE k`)
	q.in([]string{"a", "b"})
	if got := q.String(); got != `SELECT k FROM t WHERE k IN (?, ?)` {
		t.Error(got)
	}
	q = newBuf(store.Postgres, `SELECT k FROM t WHERE k`)
	q.in([]string{"a", "b"})
	if got := q.String(); got != `SELECT k FROM t WHERE k = ANY($1::text[])` || len(q.argv()) != 2 {
		t.Error(got, q.argv())
	}
}
