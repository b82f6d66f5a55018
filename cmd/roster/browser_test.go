package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"roster/internal/testenv"
)

// browser starts a headless Chromium for the test.
func browser(t *testing.T) context.Context { return testenv.Browser(t) }

var resetLink = regexp.MustCompile(`http://\S+/password/reset/[A-Za-z0-9_-]{43,}`)

// TestBrowserSetupLogoutForgotResetLogin walks what a new platform's first administrator does:
// open the setup link, create the account, log out, use "forgotten password", read the email
// from the SMTP server, reset the password and log in with it.
func TestBrowserSetupLogoutForgotResetLogin(t *testing.T) {
	md := testenv.StartMailDev(t)
	env := sqliteEnv(t)
	env["ROSTER_SMTP"] = "smtp://" + md.SMTPAddr
	env["ROSTER_MAIL_FROM"] = "Roster Test <roster@example.org>"
	s := serve(t, env)
	link := setupLink.FindString(s.Stdout.String())
	if link == "" {
		t.Fatalf("no setup link printed: %q", s.Stdout.String())
	}
	ctx := browser(t)
	const email = "grace@example.org"
	err := chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(`#first_name`),
		chromedp.SendKeys(`#first_name`, "Grace"),
		chromedp.SendKeys(`#last_name`, "Hopper"),
		chromedp.SendKeys(`#email`, email),
		chromedp.SendKeys(`#password`, "first admin password 1"),
		chromedp.SendKeys(`#confirm`, "first admin password 1"),
		chromedp.Click(`#setup-submit`),
		chromedp.WaitVisible(`#greeting`),
	)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	greeting := text(t, ctx, `#greeting`)
	err = chromedp.Do(ctx,
		chromedp.Click(`#menu-button`),
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#forgot-link`),
		chromedp.Click(`#forgot-link`),
		chromedp.WaitVisible(`#forgot-submit`),
		chromedp.SendKeys(`#login`, email),
		chromedp.Click(`#forgot-submit`),
		chromedp.WaitVisible(`.notice`),
	)
	if err != nil {
		t.Fatalf("logout, forgot: %v", err)
	}
	notice := text(t, ctx, `.notice`)
	if !strings.Contains(greeting, "Grace") {
		t.Errorf("dashboard greeting = %q", greeting)
	}
	if !strings.Contains(notice, "If this matches an account") && !strings.Contains(notice, "Si cela correspond") {
		t.Errorf("forgot notice = %q", notice)
	}

	msgs := md.WaitFor(t, email, 1, 20*time.Second)
	body := msgs[len(msgs)-1].Text
	reset := resetLink.FindString(body)
	if reset == "" {
		t.Fatalf("no reset link in the email:\n%s", body)
	}
	if !strings.Contains(body, "Grace") {
		t.Errorf("the email does not greet by first name:\n%s", body)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(reset),
		chromedp.WaitVisible(`#password`),
		chromedp.SendKeys(`#password`, "second admin password 2"),
		chromedp.SendKeys(`#confirm`, "second admin password 2"),
		chromedp.Click(`#password-submit`),
		// The link logs the person in; they log out and in again with the new password.
		chromedp.WaitVisible(`#greeting`),
		chromedp.Click(`#menu-button`),
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#login-submit`),
		chromedp.SendKeys(`#login`, "GRACE@example.org"),
		chromedp.SendKeys(`#password`, "second admin password 2"),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#greeting`),
	)
	if err != nil {
		t.Fatalf("reset and log in: %v", err)
	}
	after := text(t, ctx, `#greeting`)
	if !strings.Contains(after, "Grace") {
		t.Errorf("after login, greeting = %q", after)
	}

	// The link worked once: opening it again says so.
	if err := chromedp.Do(ctx, chromedp.Navigate(reset), chromedp.WaitVisible(`.error`)); err != nil {
		t.Fatalf("reopen the used link: %v", err)
	}
	gone := text(t, ctx, `.error`)
	if gone == "" {
		t.Error("a used reset link must say it no longer works")
	}
}

// text returns the visible text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string { return testenv.Text(t, ctx, sel) }
