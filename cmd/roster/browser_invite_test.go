package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"roster/internal/testenv"
)

var invitationLink = regexp.MustCompile(`http://\S+/invitation/[A-Za-z0-9_-]{43,}`)

// TestBrowserInviteAcceptLogin walks an invitation end to end: the first administrator
// invites two addresses from the page, the invitation arrives at the SMTP server, the person
// opens the link in Chromium, gives names and a password, is logged in, logs in again with
// that password, and the administrator's pending list no longer shows them.
func TestBrowserInviteAcceptLogin(t *testing.T) {
	md := testenv.StartMailDev(t)
	env := sqliteEnv(t)
	env["ROSTER_SMTP"] = "smtp://" + md.SMTPAddr
	env["ROSTER_MAIL_FROM"] = "Roster Test <roster@example.org>"
	s := serve(t, env)
	setup := setupLink.FindString(s.Stdout.String())
	if setup == "" {
		t.Fatalf("no setup link printed: %q", s.Stdout.String())
	}
	ctx := browser(t)
	const (
		adminEmail = "grace@example.org"
		adminPass  = "first admin password 1"
		annPass    = "violet harbour lantern 7"
	)
	err := chromedp.Do(ctx,
		chromedp.Navigate(setup),
		chromedp.WaitVisible(`#first_name`),
		chromedp.SendKeys(`#first_name`, "Grace"),
		chromedp.SendKeys(`#last_name`, "Hopper"),
		chromedp.SendKeys(`#email`, adminEmail),
		chromedp.SendKeys(`#password`, adminPass),
		chromedp.SendKeys(`#confirm`, adminPass),
		chromedp.Click(`#setup-submit`),
		chromedp.WaitVisible(`#greeting`),
		chromedp.Navigate(s.Base+"/invitations/new"),
		chromedp.WaitVisible(`#emails`),
		chromedp.SendKeys(`#emails`, "Ann Lee <ann@example.org>, bob@example.org"),
		chromedp.Click(`#invite-submit`),
		chromedp.WaitVisible(`#invite-results`),
	)
	if err != nil {
		t.Fatalf("set up, invite: %v", err)
	}
	if summary := text(t, ctx, `#invite-summary`); !strings.HasPrefix(summary, "2 ") {
		t.Errorf("invitation summary = %q", summary)
	}

	msgs := md.WaitFor(t, "ann@example.org", 1, 20*time.Second)
	body := msgs[len(msgs)-1].Text
	link := invitationLink.FindString(body)
	if link == "" {
		t.Fatalf("no invitation link in the email:\n%s", body)
	}
	if !strings.Contains(body, "Grace Hopper") {
		t.Errorf("the email does not name who invites:\n%s", body)
	}
	md.WaitFor(t, "bob@example.org", 1, 20*time.Second)

	err = chromedp.Do(ctx,
		chromedp.Click(`#menu-button`),
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#login-submit`),
		chromedp.Navigate(link),
		chromedp.WaitVisible(`#accept-submit`),
		chromedp.SetValue(`#first_name`, "Ann"),
		chromedp.SetValue(`#last_name`, "Lee"),
		chromedp.SendKeys(`#password`, annPass),
		chromedp.SendKeys(`#confirm`, annPass),
		chromedp.Click(`#accept-submit`),
		chromedp.WaitVisible(`#greeting, .error, .field-error`),
	)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	if page := text(t, ctx, `main`); !strings.Contains(page, "Ann") || strings.Contains(page, "Create my account") {
		t.Fatalf("after accepting:\n%s", page)
	}
	if g := text(t, ctx, `#greeting`); !strings.Contains(g, "Ann") {
		t.Errorf("after accepting, greeting = %q", g)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`#menu-button`),
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#login-submit`),
		chromedp.SendKeys(`#login`, "ann@example.org"),
		chromedp.SendKeys(`#password`, annPass),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#greeting`),
	)
	if err != nil {
		t.Fatalf("log in as the invited person: %v", err)
	}
	if g := text(t, ctx, `#greeting`); !strings.Contains(g, "Ann") {
		t.Errorf("after login, greeting = %q", g)
	}
	// The link worked once.
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(`.error`)); err != nil {
		t.Fatalf("reopen the link: %v", err)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(`#menu-button`),
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#login-submit`),
		chromedp.SendKeys(`#login`, adminEmail),
		chromedp.SendKeys(`#password`, adminPass),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#greeting`),
		chromedp.Click(`#invitations-link`),
		chromedp.WaitVisible(`#invitations`),
	)
	if err != nil {
		t.Fatalf("the administrator's pending list: %v", err)
	}
	pending := text(t, ctx, `#invitations`)
	if strings.Contains(pending, "ann@example.org") || !strings.Contains(pending, "bob@example.org") {
		t.Errorf("pending list:\n%s", pending)
	}
}
