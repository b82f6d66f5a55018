package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	netmail "net/mail"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"roster/internal/authz"
	"roster/internal/billing"
	"roster/internal/mail"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/testenv"
)

// The fault suite: the real binary, built once, runs as `roster serve` child processes that the
// tests kill with SIGKILL at set points (mid-delivery, mid-import), then start again; an SMTP
// sink in the test counts each Message-ID. It checks the promises of docs/operations.md:
// mail is delivered at least once, and again only for the messages in flight at the kill;
// an import killed midway leaves nothing billable and the file imported again gives exactly
// its people.

var rosterBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if rosterBin.dir != "" {
		os.RemoveAll(rosterBin.dir)
	}
	os.Exit(code)
}

// binary builds cmd/roster once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	rosterBin.once.Do(func() {
		rosterBin.dir, rosterBin.err = os.MkdirTemp("", "roster-fault-")
		if rosterBin.err != nil {
			return
		}
		rosterBin.path = filepath.Join(rosterBin.dir, "roster")
		out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", rosterBin.path, ".").CombinedOutput()
		if err != nil {
			rosterBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if rosterBin.err != nil {
		t.Fatal(rosterBin.err)
	}
	return rosterBin.path
}

// child is one `roster serve` process.
type child struct {
	cmd  *exec.Cmd
	base string
	out  *syncBuffer
	done chan struct{}
}

// start runs `roster serve` with env on a free port and waits until /healthz answers 200.
func start(t *testing.T, env map[string]string) *child {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cmd := exec.Command(binary(t), "serve", "--addr", addr)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "ROSTER_SECRET_KEY=" + faultKey}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := &child{cmd: cmd, base: "http://" + addr, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { c.kill() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-c.done:
			t.Fatalf("roster serve stopped at start:\n%s", c.out.String())
		default:
		}
		if resp, err := http.Get(c.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("roster serve not healthy after 30 s:\n%s", c.out.String())
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// faultKey is the secret key of every process of the fault suite (ROSTER_SECRET_KEY), so that
// what one seals the others open, as in a cluster.
const faultKey = "the key every instance of the fault suite shares"

// faultDB is a fresh database for the children: a SQLite file or a PostgreSQL schema, migrated.
func faultDB(t *testing.T, dialect string) (string, *store.DB) {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "roster.db")
	if dialect == "postgres" {
		dsn = testenv.PostgresURL(t)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if db.Key, err = secret.ParseKey(faultKey); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return dsn, db
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFaultMailSIGKILL queues 2,000 emails and kills a serving instance with SIGKILL in the
// middle of their delivery, on SQLite and PostgreSQL, with one instance (started again after
// the kill) and with two (one killed, then started again): every message arrives, and the
// messages that arrive twice are at most those in flight at the kill (one per lane of the
// killed worker, mail.Worker.Lanes = 4).
func TestFaultMailSIGKILL(t *testing.T) {
	t.Parallel()
	const total, inFlight = 2000, 4
	for _, c := range []struct {
		dialect   string
		instances int
		killAt    int64
	}{
		{"sqlite", 1, 300}, {"sqlite", 2, 1100}, {"postgres", 1, 1500}, {"postgres", 2, 700},
	} {
		t.Run(fmt.Sprintf("%s/%d", c.dialect, c.instances), func(t *testing.T) {
			t.Parallel()
			dsn, db := faultDB(t, c.dialect)
			ctx := context.Background()
			err := db.Tx(ctx, func(tx *store.Tx) error {
				for i := range total {
					if err := mail.Enqueue(ctx, tx, mail.Message{Template: "account_setup", To: fmt.Sprintf("p%d@example.org", i),
						Language: "fr", Data: map[string]any{"FirstName": "P", "Username": fmt.Sprint("p", i),
							"Link": fmt.Sprintf("http://roster.test/account/setup/T%d", i)}}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sink := startMessageIDSink(t)
			sink.delay.Store(int64(2 * time.Millisecond))
			env := map[string]string{"ROSTER_DB": dsn, "ROSTER_SMTP": "smtp://" + sink.addr,
				"ROSTER_MAIL_FROM": "Roster <roster@example.org>"}
			var kids []*child
			for range c.instances {
				kids = append(kids, start(t, env))
			}
			began := time.Now()
			for sink.received.Load() < c.killAt {
				if time.Since(began) > 60*time.Second {
					t.Fatalf("only %d received", sink.received.Load())
				}
				time.Sleep(time.Millisecond)
			}
			kids[0].kill()
			killedAt := sink.received.Load()
			restarted := start(t, env)
			var sent int
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				sent = count(t, db, `SELECT count(*) FROM outbox WHERE status = 'sent'`)
				if sent == total && sink.distinct() == total || time.Now().After(deadline) {
					break
				}
			}
			time.Sleep(300 * time.Millisecond) // anything sent again late arrives now
			received, distinct := sink.received.Load(), sink.distinct()
			t.Logf("%s, %d instance(s): %d queued, killed after %d received; %d delivered in %v, %d distinct, %d duplicates",
				c.dialect, c.instances, total, killedAt, received, time.Since(began).Round(100*time.Millisecond), distinct,
				received-int64(distinct))
			if distinct != total || sent != total {
				t.Fatalf("lost mail: %d distinct Message-IDs received, %d recorded sent, of %d", distinct, sent, total)
			}
			if dup := received - int64(distinct); dup > inFlight {
				t.Fatalf("%d duplicates, more than the %d messages in flight", dup, inFlight)
			}
			restarted.kill()
		})
	}
}

// TestFaultImportSIGKILL imports a file through the API and kills the server with SIGKILL
// after its first transactions committed: nothing of the run is billable; started again, the
// same file imports exactly its people (once the killed run's lease is over, the new run rolls
// it back, deleting its accounts for good), and a second run changes nothing.
// ROSTER_FAULT_IMPORT_ROWS sets the file's size (20,000 by default; docs/operations.md gives
// the figures of a 100,000-row run).
func TestFaultImportSIGKILL(t *testing.T) {
	t.Parallel()
	rows := 20000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_FAULT_IMPORT_ROWS")); err == nil && v > 0 {
		rows = v
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn, db := faultDB(t, dialect)
			env := map[string]string{"ROSTER_DB": dsn, "ROSTER_SECRET_KEY": faultKey}
			if out, err := run(t, env, "correct horse battery staple\n", "user", "add", "--email", "admin@example.org",
				"--first-name", "Ada", "--last-name", "Admin", "--admin", "--password-stdin"); err != nil {
				t.Fatalf("user add: %v %s", err, out)
			}
			token, err := run(t, env, "", "token", "create", "--name", "fault")
			if err != nil {
				t.Fatal(err)
			}
			token = strings.TrimSpace(token)
			var file bytes.Buffer
			for i := range rows {
				fmt.Fprintf(&file, "p%d@x.org\tFirst%d\tLast%d\n", i, i, i)
			}
			importFile := func(base string) (int, map[string]any) {
				req, _ := http.NewRequest("POST", base+"/api/v1/imports?format=tsv&mode=apply", bytes.NewReader(file.Bytes()))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
				if err != nil {
					return 0, nil
				}
				defer resp.Body.Close()
				var body map[string]any
				json.NewDecoder(resp.Body).Decode(&body)
				return resp.StatusCode, body
			}
			billable := func() int {
				r, err := billing.MonthReport(authz.With(context.Background(), authz.System), db, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return r.Billable
			}

			kid := start(t, env)
			began := time.Now()
			go importFile(kid.base)
			for {
				var done int
				err := db.QueryRowContext(context.Background(), `SELECT rows_done FROM import_batches WHERE status = 'applying'`).Scan(&done)
				if err == nil && done >= rows/4 { // a quarter committed, as in the 25,000 of 100,000
					break
				}
				if n := count(t, db, `SELECT count(*) FROM import_batches WHERE status = 'applied'`); n > 0 {
					t.Fatal("the import finished before the kill: make the file larger")
				}
				if time.Since(began) > 2*time.Minute {
					t.Fatal("the import did not start")
				}
				time.Sleep(5 * time.Millisecond)
			}
			kid.kill()
			killed := time.Now()
			held := count(t, db, `SELECT count(*) FROM users WHERE created_by_import IS NOT NULL`)
			if held == 0 || held >= rows {
				t.Fatalf("killed with %d accounts created: not midway", held)
			}
			if n := billable(); n != 1 {
				t.Fatalf("billable after the kill: %d, want 1 (the administrator)", n)
			}

			kid = start(t, env)
			var status int
			var rep map[string]any
			for { // while the killed run's lease holds, another import is refused (409)
				status, rep = importFile(kid.base)
				if status != http.StatusConflict || time.Since(killed) > time.Minute {
					break
				}
				time.Sleep(time.Second)
			}
			if status != 200 || rep["applied"] != true {
				t.Fatalf("import again: %d %v", status, rep["summary"])
			}
			t.Logf("%s: %d rows, killed with %d accounts created after %v; imported again %v after the kill",
				dialect, rows, held, killed.Sub(began).Round(100*time.Millisecond), time.Since(killed).Round(100*time.Millisecond))
			if n := billable(); n != rows+1 {
				t.Fatalf("billable %d, want the %d people of the file and the administrator", n, rows)
			}
			if n := count(t, db, `SELECT count(*) FROM users`); n != rows+1 {
				t.Fatalf("%d account rows (erased ones included), want %d", n, rows+1)
			}
			status, rep = importFile(kid.base)
			if sm, _ := rep["summary"].(map[string]any); status != 200 || sm["created"] != float64(0) || sm["updated"] != float64(0) {
				t.Fatalf("second run: %d %v", status, rep["summary"])
			}
			if n := billable(); n != rows+1 {
				t.Fatalf("billable %d after a second run", n)
			}
			if n := count(t, db, `SELECT count(*) FROM import_batches WHERE status = 'interrupted'`); n != 1 {
				t.Fatalf("%d interrupted batches, want 1", n)
			}
		})
	}
}

// messageIDSink is an SMTP server (RFC 5321 over TCP) that counts the messages it accepts
// and each Message-ID.
type messageIDSink struct {
	addr     string
	received atomic.Int64
	delay    atomic.Int64
	mu       sync.Mutex
	ids      map[string]int
}

func startMessageIDSink(t *testing.T) *messageIDSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &messageIDSink{addr: ln.Addr().String(), ids: map[string]int{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *messageIDSink) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func (s *messageIDSink) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	w := bufio.NewWriter(c)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	if !reply("220 sink ready") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
		switch verb {
		case "EHLO":
			reply("250-sink", "250-8BITMIME", "250 SMTPUTF8")
		case "HELO", "MAIL", "RCPT", "RSET", "NOOP":
			reply("250 ok")
		case "DATA":
			reply("354 go on")
			msg, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			time.Sleep(time.Duration(s.delay.Load()))
			m, err := netmail.ReadMessage(bytes.NewReader(msg))
			if err != nil {
				reply("554 unreadable")
				continue
			}
			io.Copy(io.Discard, m.Body)
			s.mu.Lock()
			s.ids[m.Header.Get("Message-ID")]++
			s.mu.Unlock()
			s.received.Add(1)
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// TestFaultSyncSIGKILL kills `roster sync` with SIGKILL after its first transaction of
// enrolments committed: the next run, once the killed run's lease is over, completes the work
// (exactly the enrolments of the file), the killed run is recorded as abandoned, and a run
// after that changes nothing.
func TestFaultSyncSIGKILL(t *testing.T) {
	t.Parallel()
	const courses, users = 100, 1000 // 100,000 enrolments, applied 20,000 per transaction
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn, db := faultDB(t, dialect)
			ctx := context.Background()
			err := db.Tx(ctx, func(tx *store.Tx) error {
				for c := 1; c <= courses; c++ {
					if _, err := tx.ExecContext(ctx, `INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ($1, $1, 0, 0)`,
						fmt.Sprint("c", c)); err != nil {
						return err
					}
				}
				for s := 1; s <= users; s += 500 {
					var vals []string
					for i := s; i < s+500 && i <= users; i++ {
						vals = append(vals, fmt.Sprintf("('u%d', '', '', 0, 0)", i))
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO users (username, email, email_norm, created_at, updated_at) VALUES `+
						strings.Join(vals, ",")); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var csv bytes.Buffer
			csv.WriteString("course,user,role\n")
			for c := 1; c <= courses; c++ {
				for u := 1; u <= users; u++ {
					fmt.Fprintf(&csv, "c%d,u%d,student\n", c, u)
				}
			}
			path := filepath.Join(t.TempDir(), "export.csv")
			if err := os.WriteFile(path, csv.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			sync := func() *exec.Cmd {
				cmd := exec.Command(binary(t), "sync", "--source", "csv:"+path)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "ROSTER_DB=" + dsn, "ROSTER_SECRET_KEY=" + faultKey}
				return cmd
			}
			first := sync()
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- first.Wait() }()
			for began := time.Now(); ; time.Sleep(5 * time.Millisecond) {
				if count(t, db, `SELECT count(*) FROM course_enrolments`) > 0 {
					break
				}
				select {
				case err := <-exited:
					t.Fatalf("the sync ended before the kill (%v): make the file larger", err)
				default:
				}
				if time.Since(began) > 2*time.Minute {
					t.Fatal("the sync did not start")
				}
			}
			first.Process.Signal(syscall.SIGKILL)
			<-exited
			killed := time.Now()
			midway := count(t, db, `SELECT count(*) FROM course_enrolments`)
			if midway >= courses*users {
				t.Fatalf("killed after the whole sync (%d enrolments)", midway)
			}
			var out []byte
			for { // while the killed run's lease holds, a new run is refused
				out, err = sync().CombinedOutput()
				if err == nil || !strings.Contains(string(out), "under way") || time.Since(killed) > time.Minute {
					break
				}
				time.Sleep(time.Second)
			}
			if err != nil {
				t.Fatalf("sync again: %v %s", err, out)
			}
			t.Logf("%s: killed with %d of %d enrolments; completed %v after the kill: %s", dialect, midway, courses*users,
				time.Since(killed).Round(100*time.Millisecond), strings.TrimSpace(string(out)))
			if n := count(t, db, `SELECT count(*) FROM course_enrolments WHERE status = 'active'`); n != courses*users {
				t.Fatalf("%d enrolments, want %d", n, courses*users)
			}
			if n := count(t, db, `SELECT count(*) FROM sync_runs WHERE status = 'failed' AND message LIKE 'abandoned%'`); n != 1 {
				t.Fatalf("%d abandoned runs, want 1", n)
			}
			out, err = sync().CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "added 0, changed 0, removed 0") {
				t.Fatalf("a run after: %v %s", err, out)
			}
		})
	}
}
