package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roster/internal/testenv"
)

// TestSecretKeyFileBesideSQLite: the first start creates the key file beside the database,
// readable by its owner only, and later starts read the same one; roster config never
// prints a key.
func TestSecretKeyFileBesideSQLite(t *testing.T) {
	env := sqliteEnv(t)
	keyFile := strings.TrimSuffix(strings.TrimPrefix(env["ROSTER_DB"], "sqlite:"), ".db") + ".key"
	if _, err := run(t, env, "", "migrate"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	first, _ := os.ReadFile(keyFile)
	if _, err := run(t, env, "", "migrate"); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(keyFile); string(again) != string(first) {
		t.Fatal("the key file changed at the second start")
	}
	out, err := run(t, env, "", "config")
	if err != nil || !strings.Contains(out, "secret-key = (key file "+keyFile+")") {
		t.Fatalf("config: %v\n%s", err, out)
	}
	// A key file others can read is refused.
	os.Chmod(keyFile, 0o644)
	if out, err := run(t, env, "", "migrate"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key file was used: %v\n%s", err, out)
	}

	env["ROSTER_SECRET_KEY"] = "an operator's own key, long enough to be one"
	out, err = run(t, env, "", "config")
	if err != nil || strings.Contains(out, "long enough") || !strings.Contains(out, "secret-key = (set)") {
		t.Fatalf("config with ROSTER_SECRET_KEY: %v\n%s", err, out)
	}
	env["ROSTER_SECRET_KEY"] = "short"
	if out, err := run(t, env, "", "migrate"); err == nil || !strings.Contains(err.Error(), "ROSTER_SECRET_KEY") {
		t.Fatalf("a short key was accepted: %v\n%s", err, out)
	}
}

// postgresEnv is the environment of a PostgreSQL cluster's instance: a fresh schema and the
// secret key every instance shares.
func postgresEnv(t *testing.T) map[string]string {
	return map[string]string{"ROSTER_DB": testenv.PostgresURL(t), "ROSTER_SECRET_KEY": "a key shared by every instance of the test cluster"}
}

// TestPostgresNeedsSecretKey: instances of a PostgreSQL cluster must share one key, so
// without ROSTER_SECRET_KEY(_FILE) Roster refuses to start and says what to do.
func TestPostgresNeedsSecretKey(t *testing.T) {
	env := map[string]string{"ROSTER_DB": testenv.PostgresURL(t)}
	out, err := run(t, env, "", "migrate")
	if err == nil || !strings.Contains(err.Error(), "ROSTER_SECRET_KEY") || !strings.Contains(err.Error(), "every instance") {
		t.Fatalf("started without a key: %v\n%s", err, out)
	}
	key := filepath.Join(t.TempDir(), "key")
	os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef0123456789\n"), 0o600)
	env["ROSTER_SECRET_KEY_FILE"] = key
	if out, err := run(t, env, "", "migrate"); err != nil {
		t.Fatalf("with ROSTER_SECRET_KEY_FILE: %v\n%s", err, out)
	}
}

// TestMetricsAddr: with --metrics-addr the metrics are served there, and not on the public
// listener.
func TestMetricsAddr(t *testing.T) {
	env := sqliteEnv(t)
	env["ROSTER_METRICS_ADDR"] = "127.0.0.1:0"
	s := serve(t, env)
	if s.Metrics == "" {
		t.Fatal("no metrics listener")
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + s.Metrics + "/metrics"); code != 200 || !strings.Contains(body, "roster_outbox_queued") {
		t.Fatalf("metrics listener: %d %s", code, body)
	}
	if code, _ := get(s.Base + "/metrics"); code == 200 {
		t.Fatal("metrics on the public listener too")
	}
}
