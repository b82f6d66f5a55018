package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"roster/internal/testenv"
)

// longName is a realistic worst case: a 300-character name with accents, as an import or a
// paste can bring (tables must cut or wrap it, never stretch the page).
var longName = strings.Repeat("Marie-Hélène Château-Lefèvre d’Argenson ", 8)[:300]

// TestJourneyCompanyAdmin walks the company platform's documents, in French and English, at a
// laptop's and a phone's width: the platform's administrator makes two groups, reaches "Add
// people" from a group, invites by email (one of them with a 300-character name) versus
// creates an account, looks at billing, opens the group's pending invitations, re-sends one and
// cancels several at once; then the team's own administrator, made from the group's page,
// finds their people, their group and its pending invitations through their menu.
func TestJourneyCompanyAdmin(t *testing.T) {
	for _, lang := range []string{"fr", "en"} {
		t.Run(lang, func(t *testing.T) { companyJourney(t, lang) })
	}
}

func companyJourney(t *testing.T, lang string) {
	s := serve(t, sqliteEnv(t))
	setup := setupLink.FindString(s.Stdout.String())
	if setup == "" {
		t.Fatalf("no setup link printed: %q", s.Stdout.String())
	}
	ctx := browser(t)
	words := map[string]map[string]string{
		"fr": {"invited": "3 invitées", "created": "a été créé", "resent": "renvoyée", "cancelled": "Annulée"},
		"en": {"invited": "3 invited", "created": "was created", "resent": "sent again", "cancelled": "Cancelled"},
	}[lang]
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		step, cancel := context.WithTimeout(ctx, 40*time.Second)
		defer cancel()
		if err := chromedp.Do(step, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	do("set up the platform",
		chromedp.Navigate(setup+"?lang="+lang),
		chromedp.WaitVisible(`#first_name`),
		chromedp.SendKeys(`#first_name`, "Sophie"),
		chromedp.SendKeys(`#last_name`, "Ménard"),
		chromedp.SendKeys(`#email`, "sophie.menard@acme-industrie.fr"),
		chromedp.SendKeys(`#password`, "formation acme 2026 !"),
		chromedp.SendKeys(`#confirm`, "formation acme 2026 !"),
		chromedp.Click(`#setup-submit`),
		chromedp.WaitVisible(`#greeting`),
	)
	testenv.Shots(t, ctx, "home")
	do("open the menu",
		chromedp.Click(`#menu-button`),
		chromedp.WaitVisible(`#menu-billing`),
	)
	testenv.Shots(t, ctx, "menu")
	do("make a group from the menu",
		chromedp.Click(`#nav-groups`),
		chromedp.WaitVisible(`#group-create`),
		chromedp.SendKeys(`#group-create #name`, "Acme Industrie — Direction des ressources humaines"),
		chromedp.Click(`#group-create-submit`),
		chromedp.WaitVisible(`#add-people`),
		chromedp.Navigate(s.Base+"/groups"),
		chromedp.WaitVisible(`#group-create`),
		chromedp.SendKeys(`#group-create #name`, "Équipe A — Lyon"),
		chromedp.Click(`#group-create-submit`),
		chromedp.WaitVisible(`#add-people`),
	)
	testenv.Shots(t, ctx, "group")
	narrowest(t, ctx, "group")
	groupURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}

	do("invite by email from the group",
		chromedp.Click(`#add-invite`),
		chromedp.WaitVisible(`#emails`),
		chromedp.SendKeys(`#emails`, "Zoé Lefèvre <zoe.lefevre@acme-industrie.fr>\n"+longName+" <marie-helene@acme-industrie.fr>\nmarc.dupont@acme-industrie.fr\nkevin@acme"),
		chromedp.Click(`#invite-submit`),
		chromedp.WaitVisible(`#invite-results`),
	)
	if got := testenv.Text(t, ctx, `#invite-summary`); !strings.Contains(got, words["invited"]) {
		t.Errorf("invitation summary %q, want %q", got, words["invited"])
	}
	testenv.Shots(t, ctx, "invited")
	narrowest(t, ctx, "invited")

	do("create an account instead",
		chromedp.Click(`#menu-button`),
		chromedp.Click(`#menu-create`),
		chromedp.WaitVisible(`#external-form`),
		chromedp.SendKeys(`#last_name`, "Château-Lefèvre d’Argenson"),
		chromedp.SendKeys(`#first_name`, "Anaïs"),
		chromedp.SendKeys(`#email`, "anais@acme-industrie.fr"),
		chromedp.Click(`#external-submit`),
		chromedp.WaitVisible(`.notice`),
	)
	if got := testenv.Text(t, ctx, `.notice`); !strings.Contains(got, words["created"]) {
		t.Errorf("create notice %q", got)
	}
	testenv.Shots(t, ctx, "created")

	do("billing",
		chromedp.Click(`#menu-button`),
		chromedp.Click(`#menu-billing`),
		chromedp.WaitVisible(`#billing-show`),
	)
	testenv.Shots(t, ctx, "billing")

	do("the group's pending invitations",
		chromedp.Navigate(groupURL),
		chromedp.WaitVisible(`#pending-link`),
		chromedp.Click(`#pending-link`),
		chromedp.WaitVisible(`#invitations`),
	)
	if got := testenv.Text(t, ctx, `#invitations`); !strings.Contains(got, "zoe.lefevre@acme-industrie.fr") {
		t.Errorf("pending list lacks Zoé: %q", got)
	}
	testenv.Shots(t, ctx, "pending")
	narrowest(t, ctx, "pending")
	do("resend one",
		chromedp.Click(`tr[data-email="zoe.lefevre@acme-industrie.fr"] form[action$="/resend"] button`),
		chromedp.WaitVisible(`.notice`),
	)
	if got := testenv.Text(t, ctx, `.notice`); !strings.Contains(got, words["resent"]) {
		t.Errorf("resend notice %q", got)
	}
	do("cancel many",
		chromedp.SendKeys(`#cancel-emails`, "zoe.lefevre@acme-industrie.fr, marie-helene@acme-industrie.fr\npersonne@acme-industrie.fr"),
		chromedp.Submit(`#cancel-emails`),
		chromedp.WaitVisible(`#cancel-results`),
	)
	if got := testenv.Text(t, ctx, `#cancel-results`); strings.Count(got, words["cancelled"]) != 2 {
		t.Errorf("cancel results %q", got)
	}
	testenv.Shots(t, ctx, "cancelled")
	rest := testenv.Text(t, ctx, `#invitations`)
	if strings.Contains(rest, "zoe.lefevre") || !strings.Contains(rest, "marc.dupont") {
		t.Errorf("after cancelling, the list shows %q", rest)
	}

	// Every page of the administrator's menu, with this data, fits a phone.
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".menu-panel li a")).map(a => a.getAttribute("href"))`))
	if err != nil || len(links) < 15 {
		t.Fatalf("the menu's links: %v %v", links, err)
	}
	for _, l := range links {
		do("open "+l, chromedp.Navigate(s.Base+l), chromedp.WaitVisible(`main h1`))
		narrowest(t, ctx, l)
		if l == "/admin/users" || l == "/admin/mail" || l == "/admin/audit" {
			testenv.Shots(t, ctx, strings.ReplaceAll(strings.Trim(l, "/"), "/", "-"))
		}
	}

	// The team's own administrator: an account made from the group's "Add people", with the
	// user administrator's role and a password given now; then their menu, their people, their
	// group and its pending invitations.
	do("create the team's administrator from the group",
		chromedp.Navigate(groupURL),
		chromedp.WaitVisible(`#add-create`),
		chromedp.Click(`#add-create`),
		chromedp.WaitVisible(`#external-form`),
		chromedp.SendKeys(`#last_name`, "Roux"),
		chromedp.SendKeys(`#first_name`, "Camille"),
		chromedp.SendKeys(`#email`, "camille.roux@acme-industrie.fr"),
		chromedp.SetValue(`#role`, "user_admin"),
		chromedp.Click(`input[name="notify"]`),
		chromedp.SendKeys(`#password`, "responsable lyon 2026"),
		chromedp.SendKeys(`#confirm`, "responsable lyon 2026"),
		chromedp.Click(`#external-submit`),
		chromedp.WaitVisible(`.notice`),
		chromedp.Click(`#menu-button`),
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#login-submit`),
		chromedp.SendKeys(`#login`, "camille.roux@acme-industrie.fr"),
		chromedp.SendKeys(`#password`, "responsable lyon 2026"),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#greeting`),
		chromedp.Click(`#menu-button`),
		chromedp.WaitVisible(`#menu-invitations`),
	)
	for _, id := range []string{"menu-billing", "menu-imports", "nav-settings"} {
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#`+id+`").length`)); n != 0 {
			t.Errorf("the team's administrator is offered %s", id)
		}
	}
	testenv.Shots(t, ctx, "team-admin-menu")
	do("the team administrator's people",
		chromedp.Click(`#menu-users`),
		chromedp.WaitVisible(`#users`),
	)
	if got := testenv.Text(t, ctx, `#users`); !strings.Contains(got, "Roux") || strings.Contains(got, "Ménard") {
		t.Errorf("the team's people: %q", got)
	}
	testenv.Shots(t, ctx, "team-admin-people")
	do("the team administrator's pending invitations",
		chromedp.Click(`#menu-button`),
		chromedp.Click(`#nav-groups`),
		chromedp.WaitVisible(`a.group-link`),
		chromedp.Click(`a.group-link`),
		chromedp.WaitVisible(`#pending-link`),
		chromedp.Click(`#pending-link`),
		chromedp.WaitVisible(`#invitations`),
		chromedp.SendKeys(`#cancel-emails`, "marc.dupont@acme-industrie.fr"),
		chromedp.Submit(`#cancel-emails`),
		chromedp.WaitVisible(`#cancel-results`),
	)
	if got := testenv.Text(t, ctx, `#cancel-results`); !strings.Contains(got, words["cancelled"]) {
		t.Errorf("the team administrator's cancel: %q", got)
	}
	testenv.Shots(t, ctx, "team-admin-cancelled")
}

// narrowest checks the page at the narrowest width the pages are made for, 360 px (the shots
// are at 390 px): nothing may be wider than the window. The window goes back to 1366 px.
func narrowest(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if w > 360 {
		t.Errorf("%s at 360 px: the page is %d px wide", name, w)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatal(err)
	}
}
