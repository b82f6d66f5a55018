// Package testenv gives tests the real peers Roster talks to: a fresh PostgreSQL schema, a
// MailDev SMTP server with its HTTP API, and a Chromium binary. scripts/test.sh installs them
// and exports the ROSTER_TEST_* variables read here.
//
// A test whose peer is missing skips, so `go test ./...` works on a bare machine; with
// ROSTER_TEST_REQUIRE=1 (set by scripts/test.sh, and so by CI) it fails instead, so a broken
// set-up cannot pass as green.
package testenv

import (
	"net"
	"os"
	"testing"
)

// Environment variables read by this package; scripts/test.sh exports all of them.
const (
	EnvRequire  = "ROSTER_TEST_REQUIRE"  // "1": a missing peer fails the test instead of skipping it
	EnvPostgres = "ROSTER_TEST_POSTGRES" // base URL of a PostgreSQL database the tests may use
	EnvMailDev  = "ROSTER_TEST_MAILDEV"  // path of the maildev executable
	EnvChromium = "ROSTER_TEST_CHROMIUM" // path of the Chromium executable
)

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// Require stops the test because what (a peer such as "PostgreSQL") is missing: it fails when
// ROSTER_TEST_REQUIRE=1, and skips otherwise.
func Require(t testing.TB, what string) {
	t.Helper()
	const how = "run scripts/test.sh, which installs it and exports the ROSTER_TEST_* variables"
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s is missing and %s=1: %s", what, EnvRequire, how)
		return // for a testing.TB whose Fatalf returns
	}
	t.Skipf("%s is missing (%s)", what, how)
}

// ChromiumPath returns the Chromium executable to drive: $ROSTER_TEST_CHROMIUM, or
// /usr/bin/chromium. A path that was set but does not exist fails the test.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	path := os.Getenv(EnvChromium)
	if path == "" {
		path = DefaultChromium
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv(EnvChromium) != "" {
			t.Fatalf("%s=%s: %v", EnvChromium, path, err)
		}
		Require(t, "Chromium ("+DefaultChromium+")")
	}
	return path
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process may
// take it before the caller binds it; prefer listening on port 0 where the code allows it.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
