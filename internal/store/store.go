// Package store opens Roster's database (SQLite or PostgreSQL), applies migrations and runs
// transactions. Both databases share one SQL dialect for nearly everything ($1 placeholders,
// ON CONFLICT, RETURNING); the few differences live here.
//
// Times are stored as Unix seconds (UTC) in BIGINT columns in both databases, so that every
// comparison and expiry check is the same SQL on both.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"roster/internal/secret"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect tells which database a DB talks to.
type Dialect int

// The two databases Roster runs on.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// ILike is the case-insensitive LIKE operator of the dialect.
func (d Dialect) ILike() string {
	if d == Postgres {
		return "ILIKE"
	}
	return "LIKE"
}

// OrderedList is a scalar subquery that folds expr, over the rows of from (a "FROM ... WHERE
// ..." clause), into one text in the order of orderBy: integers joined by commas, or, with
// asJSON, a JSON array (for text). One row instead of one row a value: reading 100,000 keys
// this way costs a tenth of reading them row by row through the driver.
//
// SQLite: group_concat over a subquery sorted by its ORDER BY, which keeps that order (the
// aggregate's own ORDER BY, from 3.44, sorts again and costs three times as much);
// PostgreSQL: the aggregate's ORDER BY.
func (d Dialect) OrderedList(expr, from, orderBy string, asJSON bool) string {
	if d == Postgres {
		if asJSON {
			return "(SELECT COALESCE(json_agg(" + expr + " ORDER BY " + orderBy + "), '[]') " + from + ")"
		}
		return "(SELECT COALESCE(string_agg(CAST(" + expr + " AS TEXT), ',' ORDER BY " + orderBy + "), '') " + from + ")"
	}
	agg := "COALESCE(group_concat(x), '')"
	if asJSON {
		agg = "json_group_array(x)"
	}
	return "(SELECT " + agg + " FROM (SELECT " + expr + " AS x " + from + " ORDER BY " + orderBy + "))"
}

// IntList is an aggregate that folds the integers expr of a group of rows into one text,
// joined by commas, in no particular order (empty for none): for a caller that orders or merges
// them itself, where an ordered aggregate would cost a sort (PostgreSQL sorts for the
// aggregate's ORDER BY even when an index already gives the order).
func (d Dialect) IntList(expr string) string {
	if d == Postgres {
		return "COALESCE(string_agg(CAST(" + expr + " AS TEXT), ','), '')"
	}
	return "COALESCE(group_concat(" + expr + "), '')"
}

// TextList is IntList for texts: an aggregate joining the texts expr of a group of rows with
// commas, in no particular order (empty for none).
func (d Dialect) TextList(expr string) string {
	if d == Postgres {
		return "COALESCE(string_agg(" + expr + ", ','), '')"
	}
	return "COALESCE(group_concat(" + expr + "), '')"
}

// SkipLocked is the clause that takes the rows a SELECT reads for update, skipping those another
// transaction holds (PostgreSQL). SQLite's write transaction holds the whole database: "".
func (d Dialect) SkipLocked() string {
	if d == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// Querier is what both *sql.DB and *sql.Tx offer; read-only helpers take it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database with its dialect and the clock every transaction reads.
type DB struct {
	*sql.DB
	Dialect Dialect
	// Now is the clock. Tests replace it to move time without sleeping.
	Now func() time.Time
	// Key seals what a copy of the database must not give away (the links of emails waiting
	// in the outbox). It is held outside the database; the program sets it after Open.
	Key *secret.Key
}

// Open connects to "sqlite:PATH" or a "postgres://" URL. It does not migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var (
		db      *sql.DB
		dialect Dialect
		err     error
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("store: empty SQLite path in %q", dsn)
		}
		if err := checkSQLitePath(path); err != nil {
			return nil, err
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		// Statement journals (every multi-row write in a transaction keeps one, to undo the
		// statement alone) and temporary sort tables in memory: in a file, each page a bulk
		// insert touches was written to it with two system calls.
		q.Add("_pragma", "temp_store(MEMORY)")
		// A page cache of 16 MiB a connection (SQLite's default is 2 MiB): a bulk insert into
		// a table of hundreds of thousands of rows and its indexes re-read most pages it
		// touched from the file otherwise (pages are allocated as used).
		q.Add("_pragma", "cache_size(-16384)")
		// A checkpoint (copying the log into the database, with two fsyncs) every 40 MB of
		// log rather than every 4 MB: a nightly sync's transactions otherwise each pay one.
		q.Add("_pragma", "wal_autocheckpoint(10000)")
		// Reads of the database file through a memory map (up to 1 GiB of it; pages past that,
		// and those still in the log, are read as before): the connections share the system's
		// copy of each page, where each connection's page cache otherwise reads and copies every
		// page it touches once more. A connection new to the pool, or to a table, pays for
		// that: reading 200,000 memberships cost three times as much on a connection that had
		// not read them yet. Writes still go through the log.
		q.Add("_pragma", "mmap_size(1073741824)")
		q.Set("_txlock", "immediate")
		db, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		dialect = SQLite
		if err == nil {
			db.SetMaxOpenConns(8)
			db.SetMaxIdleConns(8)
			db.SetConnMaxIdleTime(0)
		}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err = sql.Open("pgx", dsn)
		dialect = Postgres
		if err == nil {
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(20)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("store: database %q: expected sqlite:PATH or postgres://URL", dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		if dialect == Postgres {
			return nil, fmt.Errorf("store: cannot connect to PostgreSQL (%w): is it running and reachable, and are the "+
				"host, port, user and database of --db (ROSTER_DB) right?", err)
		}
		return nil, fmt.Errorf("store: cannot open the SQLite database %s (%w): check that the file is a Roster "+
			"database and that its folder is writable", strings.TrimPrefix(dsn, "sqlite:"), err)
	}
	return &DB{DB: db, Dialect: dialect, Now: time.Now}, nil
}

// Tx is one transaction with the instant it started: every rule inside it reads Now, so a
// transaction sees one consistent time.
type Tx struct {
	*sql.Tx
	Dialect     Dialect
	Now         time.Time
	Key         *secret.Key          // the database's Key
	stmts       map[string]*sql.Stmt // InsertMany's statements, prepared in the transaction
	afterCommit []func()
}

// AfterCommit runs fn once the transaction has committed (for instance to wake a worker).
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// Tx runs fn in a transaction and commits if it returns nil; otherwise it rolls back and
// returns fn's error. Everything a user action changes, including the emails and audit events
// it causes, goes through one call.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, Dialect: db.Dialect, Now: db.Now().UTC().Truncate(time.Second), Key: db.Key}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// Unix converts a time to the stored form.
func Unix(t time.Time) int64 { return t.Unix() }

// NullUnix converts an optional time to the stored form (NULL for nil or zero).
func NullUnix(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.Unix()
}

// Time converts a stored time back.
func Time(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// NullTime converts a stored optional time back (nil for NULL).
func NullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := Time(n.Int64)
	return &t
}

// IsNoRows reports whether err is sql.ErrNoRows.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Placeholders returns "$from, $from+1, ..." for n values, for IN lists.
func Placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

// checkSQLitePath says in plain words why a SQLite database could not be opened at path, with
// the remedy, rather than SQLite's "unable to open database file (14)": a missing folder, a
// read-only file system, no permission, a full disk. SQLite writes the file and its -wal and
// -shm files beside it, so the folder must be writable.
func checkSQLitePath(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store: the folder %s of the SQLite database does not exist: create it (mkdir -p %s) "+
			"or give --db sqlite:PATH in a folder that exists", dir, dir)
	case err != nil:
		return fmt.Errorf("store: cannot read the folder %s of the SQLite database: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("store: %s is not a folder: give --db sqlite:PATH in a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".roster-write-check-*")
	if err == nil {
		f.Close()
		os.Remove(f.Name())
		if _, err = os.Stat(path); err == nil {
			var db *os.File
			if db, err = os.OpenFile(path, os.O_RDWR, 0); err == nil {
				db.Close()
				return nil
			}
		} else if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		dir = path
	}
	return explainWrite(dir, err)
}

// explainWrite turns the failure to write dir (or the database file) into a message with the
// cause and the remedy.
func explainWrite(dir string, err error) error {
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("store: the file system holding %s is read-only: mount it read-write, or give --db "+
			"sqlite:PATH on a writable disk", dir)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("store: no permission to write %s (the database and its -wal and -shm files live in "+
			"its folder): give the user running roster write access, or choose another folder", dir)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("store: the disk holding %s is full: free some space", dir)
	}
	return fmt.Errorf("store: cannot write %s: %w", dir, err)
}
