package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURL returns a URL to a fresh, empty schema of the database at $ROSTER_TEST_POSTGRES,
// dropped with everything in it when the test ends. The schema is selected by the query
// parameter search_path, which pgx (sql.Open("pgx", url), pgx.Connect, pgxpool) sends as a
// run-time parameter on every connection it opens, so unqualified names land in the schema.
//
// Close every connection to it before the test ends (register the Close with t.Cleanup after
// calling PostgresURL): a transaction left open would hold up the drop.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		Require(t, "PostgreSQL ("+EnvPostgres+")")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL, got %q (%v)", EnvPostgres, base, err)
	}
	schema := "t_" + randomHex(8)
	if err := execSQL(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("PostgreSQL at %s=%s: %v", EnvPostgres, base, err)
	}
	t.Cleanup(func() {
		if err := execSQL(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema (a connection left in a transaction?): %v", err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// execSQL runs one statement on a connection of its own, giving up after 30 s.
func execSQL(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b)
}
