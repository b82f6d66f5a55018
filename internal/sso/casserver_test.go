package sso_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"roster/internal/testenv"
)

// The real CAS peer: Debian's python3-django-cas-server (2.0.0), run by the system Python
// in a throw-away Django project (testdata/casserver) with SQLite in the test's temporary
// folder. scripts/test.sh installs the package and exports ROSTER_TEST_CAS_PYTHON.

// casPerson is a person the CAS server knows, with the attributes it releases.
type casPerson struct {
	Username   string         `json:"username"`
	Password   string         `json:"password"`
	Email      string         `json:"email"`
	FirstName  string         `json:"first_name"`
	LastName   string         `json:"last_name"`
	Attributes map[string]any `json:"attributes"`
}

// casPython is the interpreter that has the cas_server package.
func casPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("ROSTER_TEST_CAS_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if err := exec.Command(py, "-c", "import cas_server, django").Run(); err != nil {
		testenv.Require(t, "the CAS server (Debian's python3-django-cas-server, run by "+py+")")
	}
	return py
}

// startCAS runs a CAS server that knows people and allows every service under
// http://127.0.0.1:*/sso/ (single logout on, the attributes released), and returns its base
// URL, e.g. http://127.0.0.1:PORT/cas. It stops when the test ends.
func startCAS(t *testing.T, people []casPerson) string {
	t.Helper()
	py := casPython(t)
	dir := t.TempDir()
	files, _ := filepath.Glob("testdata/casserver/*.py")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "CAS_TEST_DIR=" + dir, "PYTHONPATH=" + dir,
		"DJANGO_SETTINGS_MODULE=casproject_settings", "PYTHONDONTWRITEBYTECODE=1"}
	run := func(stdin string, args ...string) {
		cmd := exec.Command(py, args...)
		cmd.Dir, cmd.Env, cmd.Stdin = dir, env, strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("CAS server set-up: %s %v: %v\n%s", py, args, err, out)
		}
	}
	run("", "-m", "django", "migrate", "-v0")
	ppl, _ := json.Marshal(people)
	run(string(ppl), "casproject_setup.py", `^http://127\.0\.0\.1:[0-9]+/sso/.*$`)

	port := testenv.FreePort(t)
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-m", "django", "runserver", "--noreload", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the CAS server: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Logf("CAS server log:\n%s", b)
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d/cas", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/login", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("the CAS server did not answer at %s in 30 s: %v\n%s", base, err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// casLogin starts a login at Roster's start URL, fills the CAS server's login form and
// follows the redirects back. It returns the final page and the service URL with the ticket
// that Roster was given.
func casLogin(t *testing.T, b *browserClient, start, username, password string) (final *url.URL, status int, body, ticketURL string) {
	t.Helper()
	b.visited = nil
	loginURL, code, page := b.get(t, start)
	if code != 200 || !strings.Contains(loginURL.Path, "/cas/login") {
		t.Fatalf("GET %s should end on the CAS login form, got %d at %s:\n%s", start, code, loginURL, page)
	}
	form := hiddenInputs(page)
	form.Set("username", username)
	form.Set("password", password)
	final, status, body = b.postForm(t, loginURL.Scheme+"://"+loginURL.Host+loginURL.Path, form)
	for _, u := range b.visited {
		if u.Query().Get("ticket") != "" {
			ticketURL = u.String()
		}
	}
	return final, status, body, ticketURL
}

// casLogout logs the browser out at the CAS server, which sends single-logout requests.
func casLogout(t *testing.T, b *browserClient, casBase string) {
	t.Helper()
	if _, code, body := b.get(t, casBase+"/logout"); code != 200 {
		t.Fatalf("CAS logout: %d\n%s", code, body)
	}
}
