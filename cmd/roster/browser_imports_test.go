package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"roster/internal/testenv"
)

// The platform administrator's bulk journeys, in French and in English, each ending with a
// laptop's and a phone's screenshot: paste many accounts (a bad line, then fixed), import a
// file that cannot be read then a good one and undo it, change an address, and a sync that
// the threshold stops.
func TestBrowserAdminBulkJourneys(t *testing.T) {
	for _, lang := range []string{"fr", "en"} {
		t.Run(lang, func(t *testing.T) {
			j := startAdminJourney(t, lang)
			// Each journey in a browser of its own (a browser lives three minutes at most).
			for _, jr := range []struct {
				name string
				walk func(*testing.T)
			}{{"paste", j.paste}, {"import_undo", j.importUndo}, {"change_address", j.changeAddress}, {"sync_stopped", j.syncStopped}} {
				t.Run(jr.name, func(t *testing.T) {
					j.login(t)
					jr.walk(t)
				})
			}
		})
	}
}

// adminJourney is a served Roster with a logged-in platform administrator in a browser.
type adminJourney struct {
	lang string
	base string
	ctx  context.Context
	dir  string
	// say picks the French or the English of a text the page must show.
	say func(fr, en string) string
}

func startAdminJourney(t *testing.T, lang string) *adminJourney {
	env := sqliteEnv(t)
	const password = adminPassword
	for _, u := range [][]string{{"grace@example.org", "Grace", "Hopper", "--admin"}, {"bob@example.org", "Bob", "Kahn", ""}} {
		args := []string{"user", "add", "--email", u[0], "--first-name", u[1], "--last-name", u[2], "--password-stdin"}
		if u[3] != "" {
			args = append(args, u[3])
		}
		if out, err := run(t, env, password+"\n", args...); err != nil {
			t.Fatalf("user add: %v: %s", err, out)
		}
	}
	token, err := run(t, env, "", "token", "create", "--name", "setup")
	if err != nil {
		t.Fatalf("token create: %v: %s", err, token)
	}
	s := serve(t, env)
	api := func(path string, body any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", s.Base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
	}
	api("/api/v1/groups", map[string]any{"name": "Équipe A", "visibility": "private"})
	api("/api/v1/courses", map[string]any{"shortname": "BIO-1", "fullname": "Biologie cellulaire"})
	return &adminJourney{lang: lang, base: s.Base, dir: t.TempDir(), say: func(fr, en string) string {
		if lang == "fr" {
			return fr
		}
		return en
	}}
}

// login starts a browser and logs the administrator in, in the journey's language.
func (j *adminJourney) login(t *testing.T) {
	j.ctx = browser(t)
	j.do(t, "log in",
		chromedp.Navigate(j.base+"/login?lang="+j.lang),
		chromedp.WaitVisible(`#login-submit`),
		chromedp.SendKeys(`#login`, "grace@example.org"),
		chromedp.SendKeys(`#password`, adminPassword),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#greeting`),
		chromedp.Navigate(j.base+"/?lang="+j.lang), // saved on the account
		chromedp.WaitVisible(`#greeting`),
	)
}

const adminPassword = "correct horse battery staple"

// see fails unless the element sel shows every part.
func (j *adminJourney) see(t *testing.T, sel string, parts ...string) string {
	t.Helper()
	got := text(t, j.ctx, sel)
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Fatalf("%s lacks %q:\n%s", sel, p, got)
		}
	}
	return got
}

func (j *adminJourney) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(j.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func (j *adminJourney) file(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(j.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// paste: rows pasted from a spreadsheet name their group by name and their role in French;
// line 3's address has a dotless domain: the preview says so on its line and nothing can
// be applied; fixed, the rows apply.
func (j *adminJourney) paste(t *testing.T) {
	rows := "email\tprénom\tnom\tgroupes\trôles\n" +
		"ann." + j.lang + "@example.org\tAnn\tLee\tÉquipe A\tapprenante\n" +
		"dan." + j.lang + "@acme\tDan\tDoe\tÉquipe A\tformateur\n"
	j.do(t, "paste and preview",
		chromedp.Navigate(j.base+"/admin/imports"),
		chromedp.WaitVisible(`#paste`),
		chromedp.SetValue(`#paste`, rows),
		chromedp.Click(`#import-preview-button`),
		chromedp.WaitVisible(`#import-rows`),
	)
	j.see(t, `#import-rows tr.import-error`, "3", j.say("Erreur", "Error"), j.say("le domaine n’a pas de point", "the domain has no dot"))
	j.see(t, `#import-apply-form`, j.say("corrigez-les", "fix them")) // no plain Apply with an error
	testenv.Shots(t, j.ctx, "paste-error")
	j.do(t, "fix and apply",
		chromedp.SetValue(`#paste`, strings.Replace(rows, "@acme", "@acme.example", 1)),
		chromedp.Click(`#import-preview-button`),
		chromedp.WaitVisible(`#import-apply`),
		chromedp.Click(`#import-apply`),
		chromedp.WaitVisible(`#import-report-csv`), // the batch page, once applied (the preview has totals too)
	)
	j.see(t, `#import-status`, j.say("Appliqué", "Applied"))
	j.see(t, `#import-totals`, "2")
	testenv.Shots(t, j.ctx, "paste-applied")
}

// importUndo: a file saved in Latin-1 comes back with the line and column; the same file in
// UTF-8 applies; Undo takes it back.
func (j *adminJourney) importUndo(t *testing.T) {
	bad := j.file(t, "latin1.csv", "username,firstname,lastname,email\nzoe"+j.lang+",Zo\xe9,Zed,zoe."+j.lang+"@example.org\n")
	good := j.file(t, "utf8.csv", "username,firstname,lastname,email\nzoe"+j.lang+",Zoé,Zed,zoe."+j.lang+"@example.org\n")
	j.do(t, "a file that is not UTF-8",
		chromedp.Navigate(j.base+"/admin/imports"),
		chromedp.WaitVisible(`#file`),
		chromedp.SetUploadFiles(`#file`, []string{bad}),
		chromedp.Click(`#import-preview-button`),
		chromedp.WaitVisible(`#import-file-problems`),
	)
	j.see(t, `#import-file-problems`, j.say("Ligne 2, colonne 9", "Line 2, column 9"), "UTF-8")
	j.see(t, `.error`, j.say("Le fichier ne peut pas être lu", "The file cannot be read"))
	testenv.Shots(t, j.ctx, "import-not-utf8")
	j.do(t, "the good file, applied, undone",
		chromedp.SetUploadFiles(`#file`, []string{good}),
		chromedp.Click(`#import-preview-button`),
		chromedp.WaitVisible(`#import-apply`),
		chromedp.Click(`#import-apply`),
		chromedp.WaitVisible(`#import-undo-link`),
		chromedp.Click(`#import-undo-link`),
		chromedp.WaitVisible(`#import-undo-confirm`),
		chromedp.Click(`#import-undo-confirm`),
		chromedp.WaitVisible(`.notice`),
	)
	j.see(t, `#import-status`, j.say("Annulé", "Undone"))
	testenv.Shots(t, j.ctx, "import-undone")
}

// changeAddress: the administrator finds Bob, types a dotless address (refused beside the
// field), then a good one, confirms "from A to B", and the account has it.
func (j *adminJourney) changeAddress(t *testing.T) {
	newAddr := "robert." + j.lang + "@example.org"
	j.do(t, "find Bob, a bad address",
		chromedp.Navigate(j.base+"/admin/users?q=bob"),
		chromedp.WaitVisible(`#users`),
		chromedp.Click(`#users a[href^="/admin/users/"]`),
		chromedp.WaitVisible(`#user-save`),
		chromedp.SetValue(`#email`, "bob@intranet"),
		chromedp.Click(`#user-save`),
		chromedp.WaitVisible(`.field-error`),
	)
	j.see(t, `.field-error`, j.say("le domaine n’a pas de point", "the domain has no dot"))
	j.do(t, "a good address, confirmed",
		chromedp.SetValue(`#email`, newAddr),
		chromedp.Click(`#user-save`),
		chromedp.WaitVisible(`#email-confirm`),
	)
	j.see(t, `#email-confirm`, "bob", newAddr)
	testenv.Shots(t, j.ctx, "address-confirm")
	// The saved page is the one without the confirmation (the page asking it may carry a
	// notice too).
	j.do(t, "confirm", chromedp.Click(`#email-confirm-button`), chromedp.WaitNotPresent(`#email-confirm`), chromedp.WaitVisible(`.notice`))
	if v, err := chromedp.Run(j.ctx, chromedp.Value(`#email`)); err != nil || v != newAddr {
		t.Fatalf("the address after saving: %q %v", v, err)
	}
	testenv.Shots(t, j.ctx, "address-saved")
}

// syncStopped: a nightly source with a threshold of 10 %; a first run enrols Bob, a second
// from a file that no longer lists him would remove every enrolment: it stops, and the page
// says so on top, with why.
func (j *adminJourney) syncStopped(t *testing.T) {
	src := j.file(t, "nightly.csv", "course,user,role\nBIO-1,bob@example.org,student\n")
	j.do(t, "a source, a first run",
		chromedp.Navigate(j.base+"/admin/sync"),
		chromedp.WaitVisible(`#sync-form`),
		chromedp.SendKeys(`#name`, "nightly"),
		chromedp.SetValue(`#location`, src),
		chromedp.SetValue(`#threshold`, "10"),
		chromedp.Click(`#sync-save`),
		chromedp.WaitVisible(`#source-nightly`),
		chromedp.Click(`#source-nightly .run-now`),
		chromedp.WaitVisible(`#sync-runs`),
	)
	j.see(t, `#sync-runs`, j.say("Terminée", "Done"))
	j.file(t, "nightly.csv", "course,user,role\nBIO-1,grace@example.org,student\n")
	j.do(t, "a run the threshold stops",
		chromedp.Click(`#source-nightly .run-now`),
		chromedp.WaitVisible(`#sync-warning`),
	)
	j.see(t, `#sync-warning`, "nightly", j.say("s’est arrêtée", "stopped"), "10")
	j.see(t, `#sync-runs`, j.say("Arrêtée (seuil)", "Stopped (threshold)"))
	if notice, _ := chromedp.Run(j.ctx, chromedp.Evaluate[bool](`!!document.querySelector(".notice")`)); notice {
		t.Error("a stopped run also shows a notice")
	}
	testenv.Shots(t, j.ctx, "sync-stopped")
}
