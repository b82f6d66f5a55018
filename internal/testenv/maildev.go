package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// MailDev is a running MailDev (maildev 2.2.1): an SMTP server that keeps every message it
// receives, and an HTTP API to read them back. It takes mail to any address, without
// authentication or TLS.
type MailDev struct {
	SMTPHost string // "127.0.0.1"
	SMTPPort int
	SMTPAddr string // SMTPHost:SMTPPort
	WebURL   string // base URL of the web UI and its API, e.g. "http://127.0.0.1:41234"

	client *http.Client
}

// MailAddress is one address of a header (From, To, Cc).
type MailAddress struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// MailMessage is a message as MailDev parsed it.
type MailMessage struct {
	ID      string
	Subject string // decoded
	Text    string // the text/plain part, "" if none
	HTML    string // the text/html part, "" if none
	From    []MailAddress
	To      []MailAddress
	Cc      []MailAddress
	Date    time.Time // the Date header, or the time of receipt when there is none
	// Headers has the message's headers by lower-case name, values decoded; a header given
	// twice has two values.
	Headers map[string][]string
	// EnvelopeFrom and EnvelopeTo are the SMTP MAIL FROM and RCPT TO addresses (Bcc included).
	EnvelopeFrom string
	EnvelopeTo   []string
}

// Header returns the first value of the header name (any case), or "".
func (m MailMessage) Header(name string) string {
	if v := m.Headers[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// SentTo reports whether address (any case) was a recipient: in the envelope, To or Cc.
func (m MailMessage) SentTo(address string) bool {
	all := append([]string(nil), m.EnvelopeTo...)
	for _, a := range append(append([]MailAddress(nil), m.To...), m.Cc...) {
		all = append(all, a.Address)
	}
	for _, a := range all {
		if strings.EqualFold(a, address) {
			return true
		}
	}
	return false
}

// StartMailDev starts the maildev at $ROSTER_TEST_MAILDEV on free ports of 127.0.0.1, keeping
// its mail in a temporary folder, and stops it when the test ends.
func StartMailDev(t testing.TB) *MailDev {
	t.Helper()
	bin := os.Getenv(EnvMailDev)
	if bin == "" {
		Require(t, "MailDev ("+EnvMailDev+")")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s=%s: %v", EnvMailDev, bin, err)
	}
	dir := t.TempDir()
	var lastErr error
	for range 3 { // a free port may be taken before maildev binds it: try again on new ports
		md, err := startMailDev(t, bin, dir)
		if err == nil {
			return md
		}
		lastErr = err
	}
	t.Fatalf("start maildev: %v", lastErr)
	return nil
}

func startMailDev(t testing.TB, bin, dir string) (*MailDev, error) {
	t.Helper()
	smtpPort, webPort := FreePort(t), FreePort(t)
	logPath := filepath.Join(dir, "maildev-"+strconv.Itoa(smtpPort)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin,
		"--smtp", strconv.Itoa(smtpPort), "--web", strconv.Itoa(webPort),
		"--ip", "127.0.0.1", "--web-ip", "127.0.0.1",
		"--mail-directory", filepath.Join(dir, "mail-"+strconv.Itoa(smtpPort)))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}

	md := &MailDev{
		SMTPHost: "127.0.0.1",
		SMTPPort: smtpPort,
		SMTPAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(smtpPort)),
		WebURL:   "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(webPort)),
		client:   &http.Client{Timeout: 10 * time.Second},
	}
	output := func() string { b, _ := os.ReadFile(logPath); return strings.TrimSpace(string(b)) }
	for deadline := time.Now().Add(15 * time.Second); ; {
		if md.ready() {
			t.Cleanup(stop)
			return md, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("maildev exited at start (%v); its output:\n%s", cmd.ProcessState, output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("maildev did not answer on %s and %s within 15s; its output:\n%s",
				md.SMTPAddr, md.WebURL, output())
		}
	}
}

// ready reports whether both the SMTP port and the HTTP API answer.
func (md *MailDev) ready() bool {
	c, err := net.DialTimeout("tcp", md.SMTPAddr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	resp, err := md.client.Get(md.WebURL + "/email")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Messages returns every message MailDev holds, oldest first.
func (md *MailDev) Messages(t testing.TB) []MailMessage {
	t.Helper()
	var raw []rawMessage
	if err := json.Unmarshal(md.do(t, "GET", "/email"), &raw); err != nil {
		t.Fatalf("maildev GET /email: %v", err)
	}
	msgs := make([]MailMessage, len(raw))
	for i, r := range raw {
		msgs[i] = r.message()
	}
	return msgs
}

// WaitFor polls until at least n messages were sent to address (see SentTo) and returns
// those messages, oldest first; it fails the test, listing the mailbox, after timeout.
func (md *MailDev) WaitFor(t testing.TB, address string, n int, timeout time.Duration) []MailMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		all := md.Messages(t)
		var mine []MailMessage
		for _, m := range all {
			if m.SentTo(address) {
				mine = append(mine, m)
			}
		}
		if len(mine) >= n {
			return mine
		}
		if time.Now().After(deadline) {
			var list strings.Builder
			for _, m := range all {
				fmt.Fprintf(&list, "\n  %q to %v", m.Subject, m.EnvelopeTo)
			}
			t.Fatalf("after %v, %d of %d messages to %s; the mailbox holds %d:%s",
				timeout, len(mine), n, address, len(all), list.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Source returns the raw message (headers and body, as received) with the given ID.
func (md *MailDev) Source(t testing.TB, id string) []byte {
	t.Helper()
	return md.do(t, "GET", "/email/"+id+"/source")
}

// DeleteAll removes every message from MailDev.
func (md *MailDev) DeleteAll(t testing.TB) {
	t.Helper()
	md.do(t, "DELETE", "/email/all")
}

// do sends one request to the API and returns the body of its 200 answer.
func (md *MailDev) do(t testing.TB, method, path string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, md.WebURL+path, nil)
	if err != nil {
		t.Fatalf("maildev %s %s: %v", method, path, err)
	}
	resp, err := md.client.Do(req)
	if err != nil {
		t.Fatalf("maildev %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("maildev %s %s: %s %v %s", method, path, resp.Status, err, bytes.TrimSpace(body))
	}
	return body
}
