package sso_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"roster/internal/account"
	"roster/internal/api"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/httpx"
	"roster/internal/mail"
	"roster/internal/server"
	"roster/internal/sso"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
	"roster/internal/web"
)

// TestJourneyLogin walks the login documents in Chromium, in French and English, at a laptop's
// and a phone's width: a wrong password (the guest box stays), an external login that remembers
// the username, guest access, the forgotten password whose link logs the person in, and the
// institutional login through the real CAS server.
func TestJourneyLogin(t *testing.T) {
	casBase := startCAS(t, casPeople)
	for _, tc := range []struct{ lang, casUser, casPassword, greeting string }{
		{"fr", "jdupont", "cas password 1", "Bonjour, Jeanne"},
		{"en", "pmartin", "cas password 2", "Hello, Paul"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			db, _ := storetest.OpenSQLite(t)
			db.Now = time.Now
			base, accounts, svc := startRosterWithCourses(t, db)
			if _, err := svc.CreateProvider(admin(), casProvider(casBase)); err != nil {
				t.Fatal(err)
			}
			sys := authz.With(context.Background(), authz.System)
			if _, err := course.NewService(db, course.Config{BaseURL: base}).Create(sys, course.Course{Shortname: "DECOUVERTE",
				Fullname: "Découvrir la plateforme", Visible: true, GuestAccess: true}); err != nil {
				t.Fatal(err)
			}
			hash, err := accounts.HashPassword(context.Background(), "lanterne violette 42", "zlefevre", "zoe.lefevre@acme-industrie.fr")
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Tx(context.Background(), func(tx *store.Tx) error {
				_, err := accounts.CreateUser(context.Background(), tx, account.NewUser{Username: "zlefevre", Email: "zoe.lefevre@acme-industrie.fr",
					FirstName: "Zoé", LastName: "Lefèvre", Language: tc.lang, PasswordHash: hash})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			loginJourney(t, db, base, tc.lang, tc.casUser, tc.casPassword, tc.greeting)
		})
	}
}

func loginJourney(t *testing.T, db *store.DB, base, lang, casUser, casPassword, casGreeting string) {
	ctx := browser(t)
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		step, cancel := context.WithTimeout(ctx, 40*time.Second)
		defer cancel()
		if err := chromedp.Do(step, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string { t.Helper(); return testenv.Text(t, ctx, sel) }
	value := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("`+sel+`").value`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	logout := func() {
		t.Helper()
		do("log out", chromedp.Click(`#menu-button`), chromedp.Click(`#logout`), chromedp.WaitVisible(`#login-submit`))
	}

	do("the login page", chromedp.Navigate(base+"/login?lang="+lang), chromedp.WaitVisible(`#login-submit`))
	if !strings.Contains(text(`#cookies-note`), "cookie") {
		t.Errorf("the login page does not say cookies are needed")
	}
	testenv.Shots(t, ctx, "login")

	do("a wrong password",
		chromedp.SendKeys(`#login`, "zlefevre"),
		chromedp.SendKeys(`#password`, "pas le bon mot de passe"),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#page-error`),
		chromedp.WaitVisible(`a[href="/courses?guest=1"]`),
	)
	if value(`#login`) != "zlefevre" {
		t.Errorf("the username is lost after a wrong password")
	}
	testenv.Shots(t, ctx, "wrong-password")

	do("log in, remembering the username",
		chromedp.SendKeys(`#password`, "lanterne violette 42"),
		chromedp.Click(`input[name="remember"]`),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#greeting`),
	)
	if g := text(`#greeting`); !strings.Contains(g, "Zoé") {
		t.Errorf("greeting %q", g)
	}
	logout()
	if v := value(`#login`); v != "zlefevre" {
		t.Errorf("remembered username %q", v)
	}

	do("guest access", chromedp.Click(`a[href="/courses?guest=1"]`), chromedp.WaitVisible(`main h1`))
	if !strings.Contains(text(`main`), "Découvrir la plateforme") {
		t.Errorf("the guest does not see the course: %q", text(`main`))
	}
	testenv.Shots(t, ctx, "guest")

	do("forgotten password",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`#forgot-link`),
		chromedp.Click(`#forgot-link`),
		chromedp.WaitVisible(`#forgot-submit`),
		chromedp.SendKeys(`#login`, "zoe.lefevre@acme-industrie.fr"),
		chromedp.Click(`#forgot-submit`),
		chromedp.WaitVisible(`.notice`),
	)
	testenv.Shots(t, ctx, "forgot")
	reset := resetLinkIn(t, db)
	do("a new password through the link",
		chromedp.Navigate(reset),
		chromedp.WaitVisible(`#password`),
		chromedp.SendKeys(`#password`, "nouvelle lanterne 43"),
		chromedp.SendKeys(`#confirm`, "nouvelle lanterne 43"),
		chromedp.Click(`#password-submit`),
		chromedp.WaitVisible(`#greeting`),
	)
	testenv.Shots(t, ctx, "reset-logged-in")
	do("the used link", chromedp.Navigate(reset), chromedp.WaitVisible(`#page-error`))
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector("#message-forgot") && !document.querySelector("#message-login")`))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Errorf("a logged-in person on a used link: want 'forgotten password' and no 'back to the login page'")
	}
	testenv.Shots(t, ctx, "used-link")
	do("back home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(`#greeting`))
	logout()

	do("institutional login",
		chromedp.Click(`a.button[href="/sso/univ/login"]`),
		chromedp.WaitVisible(`#id_username`),
		chromedp.SendKeys(`#id_username`, casUser),
		chromedp.SendKeys(`#id_password`, casPassword),
		chromedp.Submit(`#id_password`),
	)
	// The answer goes through three pages (CAS, Roster's ticket check, home): a query made while
	// one of them replaces the other can lose its node, so the wait is asked again until home shows.
	deadline := time.Now().Add(40 * time.Second)
	for {
		step, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := chromedp.Do(step, chromedp.WaitVisible(`#greeting`))
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("institutional login: %v", err)
		}
	}
	if g := text(`#greeting`); !strings.Contains(g, casGreeting) {
		t.Errorf("after the institutional login, greeting %q, want %q", g, casGreeting)
	}
	testenv.Shots(t, ctx, "institutional")
}

var resetLinkRE = regexp.MustCompile(`http://\S+/password/reset/[A-Za-z0-9_-]{20,}`)

// resetLinkIn is the link of the latest reset email in the outbox (no SMTP server here).
func resetLinkIn(t *testing.T, db *store.DB) string {
	t.Helper()
	var body string
	if err := db.QueryRowContext(context.Background(), `SELECT text_body FROM outbox WHERE text_body LIKE '%/password/reset/%'
		ORDER BY id DESC LIMIT 1`).Scan(&body); err != nil {
		t.Fatalf("no reset email: %v", err)
	}
	body, err := mail.OpenLinks(db.Key, body)
	if err != nil {
		t.Fatal(err)
	}
	link := resetLinkRE.FindString(body)
	if link == "" {
		t.Fatalf("no reset link in %q", body)
	}
	return link
}

// startRosterWithCourses is startRoster with the courses wired too (the login page's guest box
// and the guest's course list need them).
func startRosterWithCourses(t *testing.T, db *store.DB) (string, *account.Service, *sso.Service) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	log := slog.New(slog.DiscardHandler)
	accounts := account.NewService(db, account.Config{BaseURL: base})
	svc := sso.NewService(db, accounts, sso.Config{BaseURL: base, Log: log})
	pages, err := web.New(web.Config{BaseURL: base}, web.Services{Log: log, DB: db, Accounts: accounts, SSO: svc,
		Courses: course.NewService(db, course.Config{BaseURL: base})})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Deps{Log: log, DB: db, Accounts: accounts, Web: pages,
		API: api.New(api.Config{}, api.Services{Log: log, DB: db, Accounts: accounts}), Metrics: httpx.NewMetrics()})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return base, accounts, svc
}

// TestJourneyCookiesRefused: a browser that refuses cookies is told so after logging in, in
// its language, instead of being sent back to the login page without a word.
func TestJourneyCookiesRefused(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	db.Now = time.Now
	base, accounts, _ := startRosterWithCourses(t, db)
	hash, err := accounts.HashPassword(context.Background(), "lanterne violette 42", "zlefevre", "zoe@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Tx(context.Background(), func(tx *store.Tx) error {
		_, err := accounts.CreateUser(context.Background(), tx, account.NewUser{Username: "zlefevre", Email: "zoe@example.org",
			FirstName: "Zoé", LastName: "Lefèvre", PasswordHash: hash})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Chromium with the "block all cookies" setting in its profile.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "Default"), 0o755); err != nil {
		t.Fatal(err)
	}
	prefs := `{"profile":{"default_content_setting_values":{"cookies":2}}}`
	if err := os.WriteFile(filepath.Join(dir, "Default", "Preferences"), []byte(prefs), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(testenv.ChromiumPath(t)),
		chromedp.UserDataDir(dir), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	for _, c := range []struct{ lang, want string }{{"fr", "a refusé le cookie"}, {"en", "refused the cookie"}} {
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/login?lang="+c.lang),
			chromedp.WaitVisible(`#login-submit`),
			chromedp.SendKeys(`#login`, "zlefevre"),
			chromedp.SendKeys(`#password`, "lanterne violette 42"),
			chromedp.Click(`#login-submit`),
			chromedp.WaitVisible(`#page-error`),
		)
		if err != nil {
			t.Fatalf("%s: %v", c.lang, err)
		}
		if got := testenv.Text(t, ctx, `#page-error`); !strings.Contains(got, c.want) {
			t.Errorf("%s: the page says %q", c.lang, got)
		}
	}
	testenv.Shots(t, ctx, "cookies-refused")
}
