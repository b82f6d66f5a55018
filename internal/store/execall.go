package store

import (
	"context"
	"strconv"
	"strings"
)

// Stmt is one SQL statement with its arguments, its placeholders numbered from $1.
type Stmt struct {
	SQL  string
	Args []any
}

// ExecAll runs statements that write and return nothing (INSERT, UPDATE, DELETE without
// RETURNING), in order, within tx. On PostgreSQL they go to the server in one round trip, as
// the data-modifying WITH clauses of one statement: each then sees the database as it was
// before that statement, so none may read what another of the same call writes (a foreign
// key between their rows holds: it is checked at the end). On SQLite, in the process, each
// runs in turn. Placeholders outside string literals are renumbered; the statements must
// not use "$" otherwise.
func (tx *Tx) ExecAll(ctx context.Context, stmts ...Stmt) error {
	if tx.Dialect != Postgres || len(stmts) == 1 {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.SQL, s.Args...); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		b    strings.Builder
		args []any
	)
	for i, s := range stmts {
		q := renumber(s.SQL, len(args))
		args = append(args, s.Args...)
		switch {
		case i == len(stmts)-1:
			b.WriteString(q)
		case i == 0:
			b.WriteString("WITH w0 AS (" + q + ") ")
		default:
			b.WriteString(", w" + strconv.Itoa(i) + " AS (" + q + ") ")
		}
	}
	_, err := tx.ExecContext(ctx, b.String(), args...)
	return err
}

// renumber adds by to the number of every $n placeholder of q outside '...' literals.
func renumber(q string, by int) string {
	if by == 0 {
		return q
	}
	var b strings.Builder
	quoted := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '$' && !quoted && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(q[i+1 : j])
			b.WriteString("$" + strconv.Itoa(n+by))
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
