package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
	"roster/internal/errs"
)

// IsUnique reports whether err is a unique-constraint violation, by SQLSTATE on PostgreSQL and
// by extended result code on SQLite, never by message text.
func IsUnique(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || lite.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// UniqueOn reports whether err is a unique-constraint violation on column of table: by the
// constraint or index name on PostgreSQL (which must contain the column's name, as Roster's
// do: users_username_key, users_email_unique), by the columns SQLite names.
func UniqueOn(err error, table, column string) bool {
	if !IsUnique(err) {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.TableName == table && strings.Contains(pg.ConstraintName, strings.TrimSuffix(column, "_norm"))
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		// "UNIQUE constraint failed: users.email_norm" (SQLite gives the columns, not the index).
		msg := lite.Error()
		cols := msg[strings.LastIndex(msg, "failed: ")+len("failed: "):]
		for _, c := range strings.Split(cols, ", ") {
			if strings.HasPrefix(c, table+"."+column) {
				return true
			}
		}
	}
	return false
}

// IsForeignKey reports whether err is a foreign-key violation.
func IsForeignKey(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23503"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

func init() { errs.SetUnavailable(IsUnavailable) }

// IsUnavailable reports whether err means that the database cannot be reached or cannot
// write for now, not that the request or our code is wrong: SQLite's disk full, I/O error,
// busy, cannot open, read-only; PostgreSQL's connection failures (class 08), insufficient
// resources (class 53: 53100 disk full, 53300 too many connections), shutdown and "cannot
// connect now" (57P01-57P03), and a connection that broke or could not be made. The HTTP
// layer answers these with 503 and Retry-After (errs.Unavailable).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_READONLY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_PROTOCOL:
			return true
		}
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return strings.HasPrefix(pg.Code, "08") || strings.HasPrefix(pg.Code, "53") ||
			pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &connect), errors.As(err, &opErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case pgconn.Timeout(err) && !errors.Is(err, context.Canceled):
		return true
	}
	return false
}
