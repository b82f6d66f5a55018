package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the migrations of a dialect in order. Each dialect has its own folder;
// a test checks that both give the same tables and columns.
func Migrations(d Dialect) ([]Migration, error) {
	dir := "migrations/" + d.String()
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name must start with a number and _", name)
		}
		body, err := fs.ReadFile(migrations, dir+"/"+name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("store: two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

// Migrate applies the migrations not yet applied, each in its own transaction. On PostgreSQL an
// advisory lock lets several instances start at once.
func (db *DB) Migrate(ctx context.Context) error { return db.migrateTo(ctx, math.MaxInt) }

// migrateTo applies the migrations not yet applied up to version last.
func (db *DB) migrateTo(ctx context.Context, last int) (err error) {
	ms, err := Migrations(db.Dialect)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7410001)`); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7410001)`)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	for _, m := range ms {
		if applied[m.Version] || m.Version > last {
			continue
		}
		rebuild := db.Dialect == SQLite && strings.Contains(m.SQL, autoincrementMarker)
		if rebuild {
			// Dropping a table during the rebuild must not run its ON DELETE actions: SQLite
			// ignores this pragma inside a transaction, so it is set on the connection first.
			if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
				return err
			}
			defer func() {
				if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); ferr != nil && err == nil {
					err = ferr
				}
			}()
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", m.Name, err)
		}
		if rebuild {
			if err := rebuildAutoincrement(ctx, tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("store: migration %s: %w", m.Name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, db.Now().Unix()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.Name, err)
		}
		if rebuild {
			if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`); err != nil {
				return err
			}
		}
	}
	return nil
}

// autoincrementMarker, a line of a SQLite migration, makes the runner rebuild every table whose
// id is an INTEGER PRIMARY KEY without AUTOINCREMENT after the migration's SQL. Without
// AUTOINCREMENT SQLite gives the next row max(id)+1, so deleting the newest group, account or
// token hands its id to the next one; ids leave the process (URLs, SCIM, API clients) and
// must never be reassigned (RFC 7643, 3.1). PostgreSQL identity columns never reuse a value.
const autoincrementMarker = "-- roster:sqlite-autoincrement"

var (
	intPK      = regexp.MustCompile(`(?i)\bid\s+INTEGER\s+PRIMARY\s+KEY\b`)
	autoinc    = regexp.MustCompile(`(?i)^\s*AUTOINCREMENT\b`)
	createName = regexp.MustCompile(`(?i)^\s*CREATE\s+TABLE\s+("[^"]+"|\S+)`)
)

// rebuildAutoincrement follows SQLite's procedure for schema changes ALTER TABLE cannot make
// (sqlite.org/lang_altertable.html, "other kinds of table schema changes"), within the
// migration's transaction and with foreign keys off: the triggers and views are kept aside and
// dropped, each table is copied into a new one declared with AUTOINCREMENT, the old one is
// dropped and the new one renamed, its indexes are created again, then the triggers and views;
// finally foreign_key_check must find nothing. Rows keep their ids, and sqlite_sequence starts
// at each table's largest id.
func rebuildAutoincrement(ctx context.Context, tx *sql.Tx) error {
	type object struct{ typ, name, sql string }
	read := func(q string, args ...any) ([]object, error) {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []object
		for rows.Next() {
			var o object
			if err := rows.Scan(&o.typ, &o.name, &o.sql); err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, rows.Err()
	}
	tables, err := read(`SELECT type, name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return err
	}
	others, err := read(`SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'view') AND sql IS NOT NULL ORDER BY rowid`)
	if err != nil {
		return err
	}
	for _, o := range others {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DROP %s %q`, strings.ToUpper(o.typ), o.name)); err != nil {
			return fmt.Errorf("drop %s %s: %w", o.typ, o.name, err)
		}
	}
	for _, t := range tables {
		loc := intPK.FindStringIndex(t.sql)
		if loc == nil || autoinc.MatchString(t.sql[loc[1]:]) {
			continue
		}
		m := createName.FindStringSubmatchIndex(t.sql)
		if m == nil {
			return fmt.Errorf("table %s: cannot read its definition", t.name)
		}
		tmp := t.name + "__autoincrement"
		def := t.sql[:loc[1]] + " AUTOINCREMENT" + t.sql[loc[1]:]
		def = def[:m[2]] + fmt.Sprintf("%q", tmp) + def[m[3]:]
		indexes, err := read(`SELECT type, name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL`, t.name)
		if err != nil {
			return err
		}
		for _, q := range []string{
			def,
			fmt.Sprintf(`INSERT INTO %q SELECT * FROM %q`, tmp, t.name),
			fmt.Sprintf(`DROP TABLE %q`, t.name),
			fmt.Sprintf(`ALTER TABLE %q RENAME TO %q`, tmp, t.name),
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("rebuild %s: %w", t.name, err)
			}
		}
		for _, ix := range indexes {
			if _, err := tx.ExecContext(ctx, ix.sql); err != nil {
				return fmt.Errorf("rebuild %s: index %s: %w", t.name, ix.name, err)
			}
		}
	}
	for _, o := range others {
		if _, err := tx.ExecContext(ctx, o.sql); err != nil {
			return fmt.Errorf("create %s %s again: %w", o.typ, o.name, err)
		}
	}
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fk int64
		_ = rows.Scan(&table, &rowid, &parent, &fk)
		return fmt.Errorf("rebuild: a row of %s refers to a missing row of %s", table, parent)
	}
	return rows.Err()
}
