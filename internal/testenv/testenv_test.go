package testenv_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	_ "github.com/jackc/pgx/v5/stdlib"

	"roster/internal/testenv"
)

func TestMailDevRoundTrip(t *testing.T) {
	md := testenv.StartMailDev(t)

	msg := "From: Roster <noreply@example.org>\r\n" +
		"To: Alice <alice@example.org>\r\n" +
		"Subject: =?utf-8?q?Welcome_=C3=BC?=\r\n" +
		"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n" +
		"List-Unsubscribe: <https://roster.example/u/1>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Open https://roster.example/invite/abc to join.\r\n"
	rcpt := []string{"alice@example.org", "hidden@example.org"}
	if err := smtp.SendMail(md.SMTPAddr, nil, "bounce@example.org", rcpt, []byte(msg)); err != nil {
		t.Fatal(err)
	}

	got := md.WaitFor(t, "ALICE@example.org", 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.Subject != "Welcome ü" {
		t.Errorf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "https://roster.example/invite/abc") || m.HTML != "" {
		t.Errorf("text %q, html %q", m.Text, m.HTML)
	}
	if len(m.From) != 1 || m.From[0] != (testenv.MailAddress{Name: "Roster", Address: "noreply@example.org"}) {
		t.Errorf("from %+v", m.From)
	}
	if len(m.To) != 1 || m.To[0].Address != "alice@example.org" || m.EnvelopeFrom != "bounce@example.org" {
		t.Errorf("to %+v, envelope from %q", m.To, m.EnvelopeFrom)
	}
	if want := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC); !m.Date.Equal(want) {
		t.Errorf("date %v, want %v", m.Date, want)
	}
	if h := m.Header("List-Unsubscribe"); h != "<https://roster.example/u/1>" {
		t.Errorf("List-Unsubscribe %q", h)
	}
	if !m.SentTo("hidden@example.org") { // Bcc: only in the envelope
		t.Errorf("envelope to %v lacks the Bcc", m.EnvelopeTo)
	}
	if src := string(md.Source(t, m.ID)); !strings.Contains(src, "Subject: =?utf-8?q?Welcome_=C3=BC?=") {
		t.Errorf("source:\n%s", src)
	}

	md.DeleteAll(t)
	if n := len(md.Messages(t)); n != 0 {
		t.Errorf("%d messages after DeleteAll", n)
	}
}

func TestMailDevHTMLOnly(t *testing.T) {
	md := testenv.StartMailDev(t)
	msg := "From: a@example.org\r\nTo: b@example.org\r\nSubject: html\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hi</p>\r\n"
	if err := smtp.SendMail(md.SMTPAddr, nil, "a@example.org", []string{"b@example.org"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	m := md.WaitFor(t, "b@example.org", 1, 10*time.Second)[0]
	if !strings.Contains(m.HTML, "<p>Hi</p>") || m.Date.IsZero() {
		t.Errorf("html %q, date %v", m.HTML, m.Date)
	}
}

func TestPostgresSchemasAreIsolated(t *testing.T) {
	a, b := openDB(t, testenv.PostgresURL(t)), openDB(t, testenv.PostgresURL(t))
	ctx := context.Background()

	if _, err := a.ExecContext(ctx, "CREATE TABLE things (id int)"); err != nil {
		t.Fatal(err)
	}
	// Several connections at once: the schema must be on every one, not only the first.
	var conns []*sql.Conn
	for range 3 {
		c, err := a.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		if _, err := c.ExecContext(ctx, fmt.Sprintf("INSERT INTO things VALUES (%d)", i)); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	if _, err := b.ExecContext(ctx, "SELECT * FROM things"); err == nil {
		t.Error("a table made in one test schema is visible from another")
	}
}

func TestPostgresSchemaDroppedAtCleanup(t *testing.T) {
	var schema string
	t.Run("user", func(t *testing.T) {
		db := openDB(t, testenv.PostgresURL(t))
		if err := db.QueryRow("SELECT current_schema()").Scan(&schema); err != nil || !strings.HasPrefix(schema, "t_") {
			t.Fatalf("current_schema() = %q, %v", schema, err)
		}
	})
	db := openDB(t, testenv.PostgresURL(t))
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %q still there (%d, %v)", schema, n, err)
	}
}

func openDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestChromiumRendersAPage(t *testing.T) {
	path := testenv.ChromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--dump-dom", "data:text/html,<p id=x>rendered</p>").Output()
	if err != nil || !strings.Contains(string(out), "rendered") {
		t.Fatalf("chromium --dump-dom: %v\n%s", err, out)
	}
}

func TestFreePort(t *testing.T) {
	port := testenv.FreePort(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// fakeTB records what Require did instead of stopping the test.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Fatalf(format string, a ...any) { f.fatal = fmt.Sprintf(format, a...) }
func (f *fakeTB) Skipf(format string, a ...any)  { f.skip = fmt.Sprintf(format, a...) }

func TestRequire(t *testing.T) {
	t.Setenv(testenv.EnvRequire, "1")
	f := &fakeTB{}
	testenv.Require(f, "Gizmo")
	if f.skip != "" || !strings.Contains(f.fatal, "Gizmo") || !strings.Contains(f.fatal, "scripts/test.sh") {
		t.Errorf("with %s=1: fatal %q, skip %q", testenv.EnvRequire, f.fatal, f.skip)
	}
	t.Setenv(testenv.EnvRequire, "")
	f = &fakeTB{}
	testenv.Require(f, "Gizmo")
	if f.fatal != "" || !strings.Contains(f.skip, "Gizmo") {
		t.Errorf("without %s: fatal %q, skip %q", testenv.EnvRequire, f.fatal, f.skip)
	}
}

// shotsTB records the errors Shots reports instead of failing the test.
type shotsTB struct {
	testing.TB
	errors []string
}

func (f *shotsTB) Errorf(format string, a ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, a...))
}

func TestShotsKeepsBothSizesAndCatchesAWidePage(t *testing.T) {
	t.Setenv("ROSTER_TEST_SHOTS", t.TempDir())
	ctx := testenv.Browser(t)
	const head = `data:text/html,<meta name=viewport content="width=device-width">`
	for _, c := range []struct {
		name, body string
		wide       bool
	}{
		{"narrow", `<p>Bonjour</p>`, false},
		{"wide", `<div style="width:900px">Une ligne trop large</div>`, true},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(head+c.body)); err != nil {
			t.Fatal(err)
		}
		f := &shotsTB{TB: t}
		testenv.Shots(f, ctx, c.name)
		if got := len(f.errors) > 0; got != c.wide {
			t.Errorf("%s page: errors %q", c.name, f.errors)
		}
		if c.wide && (len(f.errors) != 1 || !strings.Contains(f.errors[0], "390x844")) {
			t.Errorf("wide page: want one error at the phone's size, got %q", f.errors)
		}
		for _, size := range []string{"1366x768", "390x844"} {
			file := filepath.Join(testenv.ShotsDir(), t.Name()+"-"+c.name+"-"+size+".png")
			if b, err := os.ReadFile(file); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
				t.Errorf("%s: %v", file, err)
			}
		}
	}
}
