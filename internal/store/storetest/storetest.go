// Package storetest runs one test body against every database Roster supports: SQLite always,
// PostgreSQL when ROSTER_TEST_POSTGRES is set (scripts/test.sh sets it).
package storetest

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// ProcessCPU is the CPU time this process has used so far (user and system).
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BackendCPU is the CPU time used so far by the PostgreSQL server processes serving the live
// connections named app (OpenPostgresNamed), read from /proc: 0 on SQLite, for app "", or
// when the server is not on this machine. On a busy machine benchmarks report it beside the
// wall time, which is mostly waiting for a core.
func BackendCPU(t testing.TB, db *store.DB, app string) time.Duration {
	if app == "" || db.Dialect != store.Postgres {
		return 0
	}
	rows, err := db.QueryContext(context.Background(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sum time.Duration
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return 0
		}
		// After the command (in parentheses): utime and stime are the 12th and 13th fields,
		// in clock ticks (USER_HZ, 100 a second on Linux).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			return 0
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		sum += time.Duration(u+s) * 10 * time.Millisecond
	}
	return sum
}
