package bulk

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"roster/internal/store"
)

// maxParams bounds the bind parameters of one multi-row statement.
const maxParams = 400

// sqlBuf builds a statement with one bind parameter per value: "?" on SQLite (bound by
// position, in linear time; the driver and SQLite look "$N" names up in a list, which makes
// a statement with hundreds of them quadratic) and "$N" on PostgreSQL.
type sqlBuf struct {
	d    store.Dialect
	b    strings.Builder
	args []any
}

func newBuf(d store.Dialect, head string) *sqlBuf {
	q := &sqlBuf{d: d}
	q.b.WriteString(head)
	return q
}

// arg adds a value and returns its placeholder.
func (q *sqlBuf) arg(v any) string {
	q.args = append(q.args, v)
	if q.d == store.SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(len(q.args))
}

// tuple writes "(v1, v2, ...)" for vals (see value), preceded by ", " unless first.
func (q *sqlBuf) tuple(first bool, vals ...any) {
	if !first {
		q.b.WriteString(", ")
	}
	q.b.WriteByte('(')
	for i := 0; i < len(vals); i++ {
		if i > 0 {
			q.b.WriteString(", ")
		}
		q.value(vals[i])
	}
	q.b.WriteByte(')')
}

// value writes one value: text as a parameter, integers and NULL as literals (they cannot
// carry SQL, and every bind parameter costs).
func (q *sqlBuf) value(v any) {
	switch v := v.(type) {
	case sqlText:
		q.b.WriteString(string(v))
	case bigint:
		q.value(v.v)
	case nil:
		q.b.WriteString("NULL")
	case int64:
		q.b.WriteString(strconv.FormatInt(v, 10))
	case int:
		q.b.WriteString(strconv.Itoa(v))
	default:
		q.b.WriteString(q.arg(v))
	}
}

func (q *sqlBuf) add(s string) { q.b.WriteString(s) }

func (q *sqlBuf) String() string { return q.b.String() }

// sqlText is SQL written as is in a tuple.
type sqlText string

// bigint is an integer column's value that may be NULL (int64 or nil).
type bigint struct{ v any }

// inList returns "(p1, p2, ...)" for keys.
func (q *sqlBuf) inList(keys []string) {
	q.b.WriteByte('(')
	for i, k := range keys {
		if i > 0 {
			q.b.WriteString(", ")
		}
		q.b.WriteString(q.arg(k))
	}
	q.b.WriteByte(')')
}

// exec runs q in tx.
func (q *sqlBuf) exec(ctx context.Context, tx *store.Tx) (sql.Result, error) {
	return tx.ExecContext(ctx, q.String(), q.args...)
}

// query runs q in tx.
func (q *sqlBuf) query(ctx context.Context, tx *store.Tx) (*sql.Rows, error) {
	return tx.QueryContext(ctx, q.String(), q.args...)
}
