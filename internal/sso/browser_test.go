package sso_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

// browser starts a headless Chromium for the test.
func browser(t *testing.T) context.Context { return testenv.Browser(t) }

// TestBrowserOIDCLogin: in Chromium, the provider's button on Roster's login page, the
// provider's own login form with its test user, and back on Roster logged in, with an
// account created with auth oidc.
func TestBrowserOIDCLogin(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	db.Now = time.Now
	r := startRoster(t, db)
	issuer := startOP(t, r.Base+"/sso/op/callback")
	if _, err := r.SSO.CreateProvider(admin(), oidcProvider(issuer)); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(r.Base+"/login"),
		chromedp.WaitVisible(`a.button[href="/sso/op/login"]`),
		chromedp.Click(`a.button[href="/sso/op/login"]`),
		chromedp.WaitVisible(`#username`),
		chromedp.SendKeys(`#username`, "alice"),
		chromedp.SendKeys(`#password`, "op password 1"),
		chromedp.Click(`button[type="submit"]`),
		chromedp.WaitVisible(`#greeting`),
	)
	if err != nil {
		t.Fatalf("OIDC login in Chromium: %v", err)
	}
	greeting, err := chromedp.Run(ctx, chromedp.Text(`#greeting`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(greeting, "Alice") {
		t.Errorf("greeting after login = %q", greeting)
	}
	if auth, email, _, _, _ := userRow(t, db, "alice"); auth != "oidc" || email != "alice.martin@op.example" {
		t.Errorf("account: auth %s, email %s", auth, email)
	}
}

// TestBrowserCASLogin: the same through the real CAS server's login page.
func TestBrowserCASLogin(t *testing.T) {
	casBase := startCAS(t, casPeople)
	db, _ := storetest.OpenSQLite(t)
	db.Now = time.Now
	r := startRoster(t, db)
	if _, err := r.SSO.CreateProvider(admin(), casProvider(casBase)); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(r.Base+"/login"),
		chromedp.WaitVisible(`a.button[href="/sso/univ/login"]`),
		chromedp.Click(`a.button[href="/sso/univ/login"]`),
		chromedp.WaitVisible(`#id_username`),
		chromedp.SendKeys(`#id_username`, "jdupont"),
		chromedp.SendKeys(`#id_password`, "cas password 1"),
		chromedp.Submit(`#id_password`),
		chromedp.WaitVisible(`#greeting`),
	)
	if err != nil {
		t.Fatalf("CAS login in Chromium: %v", err)
	}
	greeting, err := chromedp.Run(ctx, chromedp.Text(`#greeting`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(greeting, "Jeanne") {
		t.Errorf("greeting after login = %q", greeting)
	}
	if auth, _, _, _, lang := userRow(t, db, "jdupont"); auth != "cas" || lang != "fr" {
		t.Errorf("account: auth %s, language %s", auth, lang)
	}
}
