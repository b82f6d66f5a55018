package bulk

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"roster/internal/store"
)

// maxParams bounds the bind parameters of one multi-row statement on SQLite.
const maxParams = 400

// pgRows is how many rows one multi-row insert takes on PostgreSQL, where the statement has
// one array parameter per column whatever its number of rows (see tuple).
const pgRows = 5000

// rowsPer returns how many rows, of params bind parameters each, one multi-row statement takes.
func rowsPer(d store.Dialect, params int) int {
	if d == store.Postgres {
		return pgRows
	}
	return maxParams / params
}

// sqlBuf builds a statement. On SQLite a multi-row insert is "VALUES (...), (...)" with one
// bind parameter per text value ("?": bound by position, in linear time; the driver and
// SQLite look "$N" names up in a list, which makes a statement with hundreds of them
// quadratic), integers and NULL written as literals.
//
// On PostgreSQL the same calls build "SELECT ... FROM unnest($1::text[], $2::bigint[], ...)":
// one array parameter per column. PostgreSQL parses and plans a VALUES list tuple by tuple
// (about 20 µs a row, more than inserting it), and a statement whose text differs every
// time (literals, row counts) can never be reused; the unnest form is short, the same for
// every batch, and pgx encodes the arrays in binary.
type sqlBuf struct {
	d    store.Dialect
	b    strings.Builder
	args []any
	// PostgreSQL multi-row inserts: the tuples' values by column, and what follows them.
	cols []pgColumn
	tail strings.Builder
	sql  string // built by String
	err  error
}

// pgColumn is one column of a PostgreSQL multi-row insert: a literal (sqlText, the same in
// every row), or an array of text or of nullable bigint.
type pgColumn struct {
	lit   string
	text  []string
	ints  []*int64
	isInt bool
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

// tuple writes "(v1, v2, ...)" for vals (see value), preceded by ", " unless first. The
// statement's head must end in "VALUES ". On PostgreSQL the values go to column arrays.
func (q *sqlBuf) tuple(first bool, vals ...any) {
	if q.d == store.Postgres {
		q.pgTuple(vals)
		return
	}
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

func (q *sqlBuf) pgTuple(vals []any) {
	if q.cols == nil {
		q.cols = make([]pgColumn, len(vals))
		for i, v := range vals {
			switch v := v.(type) {
			case sqlText:
				q.cols[i].lit = string(v)
			case bigint, int64, int, nil:
				q.cols[i].isInt = true
			}
		}
	}
	if len(vals) != len(q.cols) {
		q.err = fmt.Errorf("bulk: tuple of %d values for %d columns", len(vals), len(q.cols))
		return
	}
	for i, v := range vals {
		c := &q.cols[i]
		if b, ok := v.(bigint); ok {
			v = b.v
		}
		if _, ok := v.(sqlText); ok {
			if string(v.(sqlText)) != c.lit {
				q.err = fmt.Errorf("bulk: column %d: literal %s where another row has %q", i+1, v, c.lit)
			}
			continue
		}
		if c.isInt {
			switch v := v.(type) {
			case nil:
				c.ints = append(c.ints, nil)
			case int64:
				c.ints = append(c.ints, &v)
			case int:
				n := int64(v)
				c.ints = append(c.ints, &n)
			default:
				q.err = fmt.Errorf("bulk: column %d: %T in a column of integers", i+1, v)
			}
			continue
		}
		if rv := reflect.ValueOf(v); c.lit == "" && rv.Kind() == reflect.String {
			c.text = append(c.text, rv.String())
		} else {
			q.err = fmt.Errorf("bulk: column %d: %T in a column of text", i+1, v)
		}
	}
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

func (q *sqlBuf) add(s string) {
	if q.cols != nil {
		q.tail.WriteString(s)
		return
	}
	q.b.WriteString(s)
}

func (q *sqlBuf) String() string {
	if q.cols == nil {
		return q.b.String()
	}
	if q.sql != "" {
		return q.sql
	}
	var sel, from, names strings.Builder
	for i, c := range q.cols {
		if i > 0 {
			sel.WriteString(", ")
		}
		if c.lit != "" {
			sel.WriteString(c.lit)
			continue
		}
		if from.Len() > 0 {
			from.WriteString(", ")
			names.WriteString(", ")
		}
		name := "c" + strconv.Itoa(i)
		sel.WriteString(name)
		names.WriteString(name)
		if c.isInt {
			from.WriteString(q.arg(c.ints) + "::bigint[]")
		} else {
			from.WriteString(q.arg(c.text) + "::text[]")
		}
	}
	head := strings.TrimSuffix(strings.TrimRight(q.b.String(), " \n\t"), "VALUES")
	q.sql = head + "SELECT " + sel.String() + " FROM unnest(" + from.String() + ") AS u(" + names.String() + ")" + q.tail.String()
	return q.sql
}

// sqlText is SQL written as is in a tuple.
type sqlText string

// bigint is an integer column's value that may be NULL (int64 or nil).
type bigint struct{ v any }

// in writes " IN (p1, p2, ...)" for keys on SQLite and " = ANY($n::text[])" on PostgreSQL:
// one array parameter, so the statement is the same short text whatever the number of keys.
func (q *sqlBuf) in(keys []string) {
	if q.d == store.Postgres {
		q.b.WriteString(" = ANY(" + q.arg(keys) + "::text[])")
		return
	}
	q.b.WriteString(" IN (")
	for i, k := range keys {
		if i > 0 {
			q.b.WriteString(", ")
		}
		q.b.WriteString(q.arg(k))
	}
	q.b.WriteByte(')')
}

// lookupSize is how many keys one lookup (see in) takes: lookupChunk bind parameters on
// SQLite, a whole batch in one array on PostgreSQL. PostgreSQL may well answer a lookup of
// many keys with a sequential scan of users (it did for the IN lists of 300 keys too: 1,859
// of them by 30,000 users into a 100,000-row import, each longer as the table grew), so
// there should be one per batch rather than one per 300 keys.
func lookupSize(d store.Dialect) int {
	if d == store.Postgres {
		return 10000
	}
	return lookupChunk
}

// argv returns the statement's arguments for database/sql (after String, which adds the
// arrays of a multi-row insert). On PostgreSQL they start with pgx.QueryExecModeExec: the
// statement goes unnamed, parsed and planned for the values it runs with, in one round trip.
// (pgx's default mode prepares and caches a named statement per distinct text first, an
// extra round trip; the statements here are short to parse, and before the unnest form
// their texts never repeated.)
func (q *sqlBuf) argv() []any {
	if q.d == store.Postgres {
		return append([]any{pgx.QueryExecModeExec}, q.args...)
	}
	return q.args
}

// exec runs q in tx.
func (q *sqlBuf) exec(ctx context.Context, tx *store.Tx) (sql.Result, error) {
	if q.err != nil {
		return nil, q.err
	}
	return tx.ExecContext(ctx, q.String(), q.argv()...)
}

// query runs q in tx.
func (q *sqlBuf) query(ctx context.Context, tx *store.Tx) (*sql.Rows, error) {
	if q.err != nil {
		return nil, q.err
	}
	return tx.QueryContext(ctx, q.String(), q.argv()...)
}
