package store

import "strings"

// The few text matches whose SQL differs between the databases, and row locks.

// Match is a substring test: the value contains, starts with or ends with a string.
type Match int

// The substring tests.
const (
	Contains Match = iota
	Prefix
	Suffix
)

// Pattern returns how a text expression matches s by m in this dialect: expr + " " + op +
// " " + (a parameter holding pattern) + escape. Case-insensitive tests are LIKE in both
// databases (callers lower-case both sides); a case-sensitive one is LIKE on PostgreSQL and
// GLOB on SQLite, whose LIKE ignores ASCII case. The wildcards of s are escaped.
func (d Dialect) Pattern(m Match, s string, caseSensitive bool) (op, pattern, escape string) {
	if caseSensitive && d == SQLite {
		s = strings.NewReplacer(`*`, `[*]`, `?`, `[?]`, `[`, `[[]`).Replace(s)
		return "GLOB", wildcards(m, s, "*"), ""
	}
	s = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
	return "LIKE", wildcards(m, s, "%"), ` ESCAPE '\'`
}

func wildcards(m Match, s, any string) string {
	switch m {
	case Contains:
		return any + s + any
	case Prefix:
		return s + any
	}
	return any + s
}

// PrefixRange returns a condition that bounds expr to the strings starting with s, which an
// index on expr can seek, to put beside the Prefix pattern: SQLite does not seek one under
// its case-insensitive LIKE. It is "" on PostgreSQL and for an empty s. arg adds a parameter
// and returns its placeholder.
func (d Dialect) PrefixRange(expr, s string, arg func(any) string) string {
	if d != SQLite || s == "" {
		return ""
	}
	// Every string that starts with s sorts before s+"\xff" (0xff never occurs in UTF-8).
	return expr + " >= " + arg(s) + " AND " + expr + " < " + arg(s+"\xff")
}

// ForUpdateOf is the clause that locks the rows a SELECT reads from the table named alias
// until the transaction ends: " FOR UPDATE OF alias" on PostgreSQL, "" on SQLite, whose
// write transactions hold the whole database already.
func (d Dialect) ForUpdateOf(alias string) string {
	if d == Postgres {
		return " FOR UPDATE OF " + alias
	}
	return ""
}
