// Package storetest runs one test body against every database Roster supports: SQLite always,
// PostgreSQL when ROSTER_TEST_POSTGRES is set (scripts/test.sh sets it).
package storetest

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/testenv"
)

// Clock is a settable clock for tests: expiry is tested by moving it, never by sleeping.
type Clock struct{ T time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.T }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.T = c.T.Add(d) }

// Each runs fn once per database, as sub-tests "sqlite" and "postgres", each on a fresh,
// migrated database whose clock is the returned Clock.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB, clock *Clock)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		db, clock := OpenSQLite(t)
		fn(t, db, clock)
	})
	t.Run("postgres", func(t *testing.T) {
		db, clock := OpenPostgres(t)
		fn(t, db, clock)
	})
}

// OpenSQLite opens a fresh, migrated SQLite database in a temporary folder.
func OpenSQLite(t testing.TB) (*store.DB, *Clock) {
	t.Helper()
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "roster.db"))
}

// OpenPostgres opens a fresh, migrated PostgreSQL schema (or fails/skips per testenv).
func OpenPostgres(t testing.TB) (*store.DB, *Clock) {
	t.Helper()
	return open(t, testenv.PostgresURL(t))
}

// OpenPostgresNamed is OpenPostgres with the connections' application_name set to app, so
// that a benchmark can find its backends in pg_stat_activity.
func OpenPostgresNamed(t testing.TB, app string) (*store.DB, *Clock) {
	t.Helper()
	return open(t, testenv.PostgresURL(t)+"&application_name="+url.QueryEscape(app))
}

func open(t testing.TB, dsn string) (*store.DB, *Clock) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &Clock{T: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	db.Now = clock.Now
	db.Key = secret.NewKey()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db, clock
}
