package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
)

// The bulk-write helper: one statement writes many rows, with the same text for every batch
// so that it is parsed and planned once.
//
// On SQLite a statement is "INSERT ... VALUES (?, ?), (?, ?), ..." of a fixed number of rows
// (about sqliteParams bind parameters; "?" binds by position, in linear time), prepared once
// in the transaction and reused for every full batch; the last, shorter batch has its own
// statement, kept likewise.
//
// On PostgreSQL it is "INSERT ... SELECT * FROM unnest($1::text[], $2::bigint[], ...)": one
// array parameter per column whatever the number of rows, encoded in binary by pgx, the text
// the same for every batch (pgx prepares it once per connection). PostgreSQL parses and plans
// a VALUES list tuple by tuple (about 20 µs a row, more than inserting it). COPY would be a
// little faster still, but it cannot say ON CONFLICT or RETURNING, and it needs the pgx
// connection under database/sql's transaction.

// ColType is the type of a column of a bulk write.
type ColType int

// The column types. Values are: Text, a string or nil; Int, an int64, an int or nil; Bool, a
// bool. Any other value is an error.
const (
	Text ColType = iota
	Int
	Bool
)

func (c ColType) pgArray() string {
	switch c {
	case Int:
		return "bigint[]"
	case Bool:
		return "boolean[]"
	}
	return "text[]"
}

// Insert describes a multi-row write: INSERT INTO Table (Columns...) VALUES ... Tail. Tail
// may hold ON CONFLICT and RETURNING clauses; RETURNING rows come in no particular order.
type Insert struct {
	Table   string
	Columns []string
	Types   []ColType // one a column
	Tail    string
}

// sqliteParams bounds the bind parameters of one SQLite statement.
const sqliteParams = 960

// pgRows is how many rows one PostgreSQL statement takes (the arrays' length). pgx encodes a
// statement's arrays into one message held until it is sent: 2,000 rows of an 18-column
// insert are a few megabytes, and the statements' fixed costs (a round trip, the sync
// triggers' per-statement work) stay a few percent of the rows'.
const pgRows = 2000

// BatchRows returns how many rows one statement of ins takes on d.
func (ins Insert) BatchRows(d Dialect) int {
	if d == Postgres {
		return pgRows
	}
	return max(1, sqliteParams/len(ins.Columns))
}

// sqlFor returns the statement's text for rows rows (SQLite) or for arrays (PostgreSQL).
func (ins Insert) sqlFor(d Dialect, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + ins.Table + " (" + strings.Join(ins.Columns, ", ") + ") ")
	if d == Postgres {
		b.WriteString("SELECT * FROM unnest(")
		for i, t := range ins.Types {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(i+1) + "::" + t.pgArray())
		}
		b.WriteString(")")
	} else {
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ins.Columns)), ", ") + ")"
		b.WriteString("VALUES ")
		for i := 0; i < rows; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
		}
	}
	if ins.Tail != "" {
		b.WriteString(" " + ins.Tail)
	}
	return b.String()
}

// Scanner is what a RETURNING row offers.
type Scanner interface{ Scan(dest ...any) error }

// InsertMany writes n rows: row(i, vals) fills vals (one value a column, see ColType) for row
// i; vals is reused from row to row. When ins has a RETURNING clause, scan (not nil) reads
// every returned row. It is the one place Roster writes many rows at once: owners call it
// (the single-row paths as well, with n = 1).
func (tx *Tx) InsertMany(ctx context.Context, ins Insert, n int, row func(i int, vals []any), scan func(Scanner) error) error {
	if len(ins.Types) != len(ins.Columns) {
		return fmt.Errorf("store: insert into %s: %d types for %d columns", ins.Table, len(ins.Types), len(ins.Columns))
	}
	if tx.Dialect == Postgres {
		return tx.insertPostgres(ctx, ins, n, row, scan)
	}
	return tx.insertSQLite(ctx, ins, n, row, scan)
}

func (tx *Tx) insertSQLite(ctx context.Context, ins Insert, n int, row func(int, []any), scan func(Scanner) error) error {
	cols := len(ins.Columns)
	per := ins.BatchRows(SQLite)
	args := make([]any, 0, per*cols)
	vals := make([]any, cols)
	for start := 0; start < n; start += per {
		rows := min(per, n-start)
		args = args[:0]
		for i := start; i < start+rows; i++ {
			if err := fill(ins, row, i, vals); err != nil {
				return err
			}
			args = append(args, vals...)
		}
		stmt, err := tx.stmt(ctx, ins.sqlFor(SQLite, rows))
		if err != nil {
			return fmt.Errorf("store: insert into %s: %w", ins.Table, err)
		}
		if err := runInsert(ctx, preparedStmt{stmt}, "", ins, args, scan); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) insertPostgres(ctx context.Context, ins Insert, n int, row func(int, []any), scan func(Scanner) error) error {
	cols := len(ins.Columns)
	vals := make([]any, cols)
	arrays := make([]any, cols)
	// One typed slice a column, allocated once and refilled for every batch (pgx has encoded
	// the previous batch when the statement returns): each value is appended without going
	// through an interface, and a call of many batches makes no garbage but the values.
	per := min(pgRows, n)
	ints := make([][]pgtype.Int8, cols)
	bools := make([][]bool, cols)
	texts := make([][]pgtype.Text, cols)
	for c, t := range ins.Types {
		switch t {
		case Int:
			ints[c] = make([]pgtype.Int8, 0, per)
		case Bool:
			bools[c] = make([]bool, 0, per)
		default:
			texts[c] = make([]pgtype.Text, 0, per)
		}
	}
	// pgx prepares the statement once per connection and keeps it (its statement cache, by
	// text): every batch of every transaction reuses it.
	query := ins.sqlFor(Postgres, 0)
	for start := 0; start < n; start += pgRows {
		rows := min(pgRows, n-start)
		for c := range cols {
			ints[c], bools[c], texts[c] = ints[c][:0], bools[c][:0], texts[c][:0]
		}
		for i := start; i < start+rows; i++ {
			if err := fill(ins, row, i, vals); err != nil {
				return err
			}
			for c, v := range vals {
				switch ins.Types[c] {
				case Int:
					x, ok := v.(int64)
					ints[c] = append(ints[c], pgtype.Int8{Int64: x, Valid: ok})
				case Bool:
					bools[c] = append(bools[c], v.(bool))
				default:
					s, ok := v.(string)
					texts[c] = append(texts[c], pgtype.Text{String: s, Valid: ok})
				}
			}
		}
		for c, t := range ins.Types {
			switch t {
			case Int:
				arrays[c] = ints[c]
			case Bool:
				arrays[c] = bools[c]
			default:
				arrays[c] = texts[c]
			}
		}
		if err := runInsert(ctx, tx.Tx, query, ins, arrays, scan); err != nil {
			return err
		}
	}
	return nil
}

// fill sets vals to row i, each value checked and converted (see value).
func fill(ins Insert, row func(int, []any), i int, vals []any) error {
	clear(vals)
	row(i, vals)
	for c, v := range vals {
		v, err := value(ins, c, v)
		if err != nil {
			return err
		}
		vals[c] = v
	}
	return nil
}

// value checks v against the column's type and returns it as the drivers take it: int64 or
// nil for Int, bool for Bool, string or nil for Text. SQLite would store text in an integer
// column, PostgreSQL's arrays would turn it into NULL: a wrong type is an error instead.
func value(ins Insert, c int, v any) (any, error) {
	switch ins.Types[c] {
	case Int:
		switch x := v.(type) {
		case nil, int64:
			return v, nil
		case int:
			return int64(x), nil
		case int32:
			return int64(x), nil
		}
	case Bool:
		if _, ok := v.(bool); ok {
			return v, nil
		}
	default:
		switch v.(type) {
		case nil, string:
			return v, nil
		}
	}
	return nil, fmt.Errorf("store: insert into %s: column %s: %T (%v) for %s", ins.Table, ins.Columns[c], v, v,
		strings.TrimSuffix(ins.Types[c].pgArray(), "[]"))
}

// querier is a transaction, or a prepared statement (its query text is "").
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// preparedStmt runs a *sql.Stmt as a querier.
type preparedStmt struct{ *sql.Stmt }

func (p preparedStmt) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return p.Stmt.ExecContext(ctx, args...)
}

func (p preparedStmt) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.Stmt.QueryContext(ctx, args...)
}

func runInsert(ctx context.Context, q querier, query string, ins Insert, args []any, scan func(Scanner) error) error {
	if scan == nil {
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("store: insert into %s: %w", ins.Table, err)
		}
		return nil
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: insert into %s: %w", ins.Table, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: insert into %s: %w", ins.Table, err)
	}
	return nil
}

// stmt returns the statement query prepared in this transaction, prepared on first use and
// reused by every later batch of the transaction. (Preparing on the DB instead would take a
// second connection while the transaction holds one: with every connection of the pool in a
// transaction, that waits forever.)
func (tx *Tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := tx.stmts[query]; ok {
		return s, nil
	}
	s, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if tx.stmts == nil {
		tx.stmts = map[string]*sql.Stmt{}
	}
	tx.stmts[query] = s
	return s, nil
}

// In returns " IN (SELECT value FROM json_each($from))" on SQLite and " = ANY($from::text[])"
// on PostgreSQL for keys, with the one argument to append (the keys as a JSON array on SQLite,
// an array on PostgreSQL): the statement is the same short text whatever the number of keys,
// so parsing it costs nothing (a list of hundreds of bind parameters took SQLite longer to
// parse than to answer), and each key is still looked up through the column's index. InSize
// is how many keys one call should take.
func (d Dialect) In(from int, keys []string) (string, []any) { return inArray(d, from, keys, "text") }

// InIDs is In for ids (bigint on PostgreSQL). A list of bind parameters also cost PostgreSQL
// a generic plan (after five runs of a prepared statement) that read whole tables.
func (d Dialect) InIDs(from int, ids []int64) (string, []any) { return inArray(d, from, ids, "bigint") }

// inArray is In and InIDs: keys as one array argument of PostgreSQL's type pgType, or one JSON
// array on SQLite.
func inArray[K string | int64](d Dialect, from int, keys []K, pgType string) (string, []any) {
	if keys == nil {
		keys = []K{} // "[]" and '{}', not "null" and NULL
	}
	if d == Postgres {
		return " = ANY($" + strconv.Itoa(from) + "::" + pgType + "[])", []any{keys}
	}
	b, _ := json.Marshal(keys) // strings or numbers: it cannot fail
	return " IN (SELECT value FROM json_each($" + strconv.Itoa(from) + "))", []any{string(b)}
}

// DialectOf returns the dialect of q, a *DB or a *Tx (ok false for another Querier).
func DialectOf(q Querier) (d Dialect, ok bool) {
	switch q := q.(type) {
	case *DB:
		return q.Dialect, true
	case *Tx:
		return q.Dialect, true
	}
	return SQLite, false
}

// InSize is how many keys one In list takes: a whole batch in one parameter (PostgreSQL may
// answer any IN list with a sequential scan, so there should be one per batch).
func (d Dialect) InSize() int {
	return 10000
}
