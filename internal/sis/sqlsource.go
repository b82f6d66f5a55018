package sis

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"roster/internal/errs"
)

// SQLTimeout bounds the query of a SQL source (its statement_timeout).
var SQLTimeout = 5 * time.Minute

// ReadSQL runs query against the external PostgreSQL database at dsn (a postgres:// URL) in a
// read-only transaction with a statement timeout, and reads its rows as a source: the columns
// course, user and role, and optionally group, starts and ends (dates, times or Unix
// seconds), email, first_name and last_name (for creating accounts). Rows are named
// "sql", line = the row's position. A query that fails or lacks a column is an error (that
// names the column) and nothing is applied.
func ReadSQL(ctx context.Context, dsn, query string) (*Source, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return nil, fmt.Errorf("sis: sql source: the location must be a postgres:// URL")
	}
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("sis: sql source: the query is empty")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sis: sql source %s: %w", MaskURL(dsn), err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sis: sql source %s: %w", MaskURL(dsn), err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", SQLTimeout.Milliseconds())); err != nil {
		return nil, fmt.Errorf("sis: sql source: %w", err)
	}
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sis: sql source: query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("sis: sql source: %w", err)
	}
	col := map[string]int{}
	for i, c := range cols {
		col[strings.ToLower(c)] = i
	}
	for _, need := range []string{"course", "user", "role"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("sis: sql source: the query returns no column %q (it must return course, user and role; got %s)", need, strings.Join(cols, ", "))
		}
	}
	const file = "sql"
	src := &Source{Name: "sql"}
	in := interner{}
	vals := make([]any, len(cols))
	cells := make([]sql.NullString, len(cols))
	for i := range vals {
		vals[i] = &cells[i]
	}
	get := func(name string) string {
		if i, ok := col[name]; ok {
			return strings.TrimSpace(cells[i].String)
		}
		return ""
	}
	line := 0
	for rows.Next() {
		line++
		if err := rows.Scan(vals...); err != nil {
			return nil, fmt.Errorf("sis: sql source: row %d: %w", line, err)
		}
		bad := func(key string, p errs.P) { src.Issues = append(src.Issues, newIssue(file, line, key, p)) }
		row := Row{File: file, Line: line, Course: in.get(get("course")), User: get("user"), Role: in.get(get("role")), Group: in.get(get("group"))}
		var empty []string
		for _, f := range []string{"course", "user", "role"} {
			if get(f) == "" {
				empty = append(empty, f)
			}
		}
		if len(empty) > 0 {
			bad("sync_empty_columns", errs.P{"columns": strings.Join(empty, ", ")})
			continue
		}
		if row.Starts, err = parseSQLDate(get("starts")); err != nil {
			bad("sync_bad_date", errs.P{"column": "starts", "detail": err.Error()})
			continue
		}
		if row.Ends, err = parseSQLDate(get("ends")); err != nil {
			bad("sync_bad_date", errs.P{"column": "ends", "detail": err.Error()})
			continue
		}
		row.Person = personOf(row.User, get("email"), get("first_name"), get("last_name"), "")
		src.Rows = append(src.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sis: sql source: %w", err)
	}
	return src, nil
}

// parseSQLDate reads a date column as text: what parseDate reads, and PostgreSQL's text form
// of a timestamp ("2026-09-01 00:00:00+00").
func parseSQLDate(s string) (int64, error) {
	if n, err := parseDate(s); err == nil {
		return n, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05Z07", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), nil
		}
	}
	return parseDate(s)
}

// MaskURL hides the password of a URL (as the configuration's listing does).
func MaskURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
