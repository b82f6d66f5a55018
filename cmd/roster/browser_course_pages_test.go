package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"roster/internal/testenv"
)

// The course pages' journeys, each in French and in English, each ending with the laptop's
// and the phone's screenshots (testenv.Shots): (a) a teacher adds an external person and
// enrols people and a cohort; (b) participants, filters, message, export, cohort sync and
// self-enrolment; (c) invitations from a course session before and after it opens.

const journeyPassword = "correct horse battery staple"

// courseWorld is a running Roster with people, a course taught by Tess, and a cohort (group)
// "L1 Histoire" where Tess is trainer and Carl and Cléo are learners.
type courseWorld struct {
	t      *testing.T
	s      *running
	token  string
	ids    map[string]string // by email
	course string
	cohort string
}

func newCourseWorld(t *testing.T, courseBody map[string]any) *courseWorld {
	t.Helper()
	env := sqliteEnv(t)
	w := &courseWorld{t: t, ids: map[string]string{}}
	for _, p := range [][3]string{{"tess@example.org", "Tess", "Teacher"}, {"ada@example.org", "Ada", "Lovelace"},
		{"alan@example.org", "Alan", "Turing"}, {"carl@example.org", "Carl", "Cohort"}, {"cleo@example.org", "Cléo", "Cohorte"},
		{"lou@example.org", "Lou", "Learner"}} {
		out, err := run(t, env, journeyPassword+"\n", "user", "add", "--email", p[0], "--first-name", p[1], "--last-name", p[2], "--password-stdin")
		if err != nil {
			t.Fatalf("user add %s: %v: %s", p[0], err, out)
		}
		w.ids[p[0]] = strings.TrimSpace(out)
	}
	tok, err := run(t, env, "", "token", "create", "--name", "journeys")
	if err != nil {
		t.Fatalf("token create: %v: %s", err, tok)
	}
	w.token = strings.TrimSpace(tok)
	w.s = serve(t, env)
	w.course = w.newCourse(courseBody)
	w.cohort = w.api("POST", "/api/v1/groups", map[string]any{"name": "L1 Histoire", "visibility": "private"})["id"].(string)
	for mail, role := range map[string]string{"tess@example.org": "trainer", "carl@example.org": "learner", "cleo@example.org": "learner"} {
		w.api("PUT", "/api/v1/groups/"+w.cohort+"/members/"+w.ids[mail], map[string]any{"role": role})
	}
	return w
}

// newCourse creates a course taught by Tess and returns its id.
func (w *courseWorld) newCourse(body map[string]any) string {
	w.t.Helper()
	id := w.api("POST", "/api/v1/courses", body)["id"].(string)
	w.api("POST", "/api/v1/courses/"+id+"/enrolments", map[string]any{"user_ids": []string{w.ids["tess@example.org"]}, "role": "teacher"})
	return id
}

// api calls the JSON API with the setup token and fails on an error status.
func (w *courseWorld) api(method, path string, body any) map[string]any {
	w.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, w.s.Base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		w.t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out
}

// login logs the person in and sets their language.
func (w *courseWorld) login(ctx context.Context, email, lang string) {
	w.t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(w.s.Base+"/login?lang="+lang),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, email),
		chromedp.SendKeys(`#password`, journeyPassword),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#greeting`),
		chromedp.Navigate(w.s.Base+"/?lang="+lang),
		chromedp.WaitVisible(`#greeting`),
	)
	if err != nil {
		w.t.Fatalf("log in as %s: %v", email, err)
	}
}

// words are what the journeys read, by language.
var words = map[string]map[string]string{
	"fr": {"teacher": "Enseignant", "student": "Étudiant", "nobody": "Choisissez au moins une personne ou un groupe.",
		"held": "Retenue jusqu’à l’ouverture du cours", "enrolled": "Vous êtes inscrit à ce cours.", "wrong key": "clé d’inscription incorrecte",
		"first name": "Prénom"},
	"en": {"teacher": "Teacher", "student": "Student", "nobody": "Choose at least one person or group.",
		"held": "Held until the course opens", "enrolled": "You are enrolled in this course.", "wrong key": "wrong enrolment key",
		"first name": "First name"},
}

func bothLanguages(t *testing.T, journey func(t *testing.T, lang string)) {
	for _, lang := range []string{"fr", "en"} {
		t.Run(lang, func(t *testing.T) { journey(t, lang) })
	}
}

// TestBrowserTeacherAddsExternalAndEnrolsCohort: Tess adds an external person from her
// dashboard into her course, opens the course from the dashboard, tries "Enrol" with nobody
// picked (the error shows in the dialog), then enrols Ada by name and the cohort; she stays a
// teacher (the cohort's trainers are not enrolled), its learners become students.
func TestBrowserTeacherAddsExternalAndEnrolsCohort(t *testing.T) {
	bothLanguages(t, func(t *testing.T, lang string) {
		w := newCourseWorld(t, map[string]any{"shortname": "HIST-101", "fullname": "Histoire de l’informatique"})
		ctx := testenv.Browser(t)
		w.login(ctx, "tess@example.org", lang)
		err := chromedp.Do(ctx,
			chromedp.SendKeys(`#ext_last_name`, "Externe"),
			chromedp.SendKeys(`#ext_first_name`, "Eve"),
			chromedp.SendKeys(`#ext_email`, "eve@partner.example"),
			js(`document.querySelector("#ext_course").value = "`+w.course+`"`),
			chromedp.Click(`#external-add`),
			chromedp.WaitVisible(`.notice`),
			chromedp.Navigate(w.s.Base+"/"),
			chromedp.WaitVisible(`#my-course-list a`),
			chromedp.Click(`#my-course-list a`),
			chromedp.WaitVisible(`#enrol-link`),
			chromedp.Click(`#enrol-link`),
			chromedp.WaitVisible(`#enrol-submit`),
			chromedp.Click(`#enrol-submit`),
			chromedp.WaitVisible(`#enrol-error`),
		)
		if err != nil {
			t.Fatalf("external person, then enrol nobody: %v", err)
		}
		if got := text(t, ctx, `#enrol-error`); !strings.Contains(got, words[lang]["nobody"]) {
			t.Errorf("enrol with nobody: %q", got)
		}
		testenv.Shots(t, ctx, "dialog")
		err = chromedp.Do(ctx,
			chromedp.SendKeys(`#enrol-search`, "lovel"),
			chromedp.WaitVisible(`#enrol-results .enrol-hit`),
			chromedp.Click(`#enrol-results .enrol-hit`),
			chromedp.WaitVisible(`#enrol-picked input[type=checkbox]`),
			chromedp.Click(`#enrol-groups input[name=group]`),
			chromedp.Click(`#enrol-submit`),
			chromedp.WaitVisible(`.notice`),
		)
		if err != nil {
			t.Fatalf("enrol Ada and the cohort: %v", err)
		}
		rows := text(t, ctx, `#participants tbody`)
		for _, who := range []string{"Eve Externe", "Ada Lovelace", "Carl Cohort", "Cléo Cohorte", "Tess Teacher"} {
			if !strings.Contains(rows, who) {
				t.Errorf("participants lack %s:\n%s", who, rows)
			}
		}
		tess, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#participants tr.participant")]
			.find(r => r.textContent.includes("Tess Teacher")).querySelector(".roles").textContent.trim()`))
		if err != nil || tess != words[lang]["teacher"] {
			t.Errorf("Tess's roles = %q (%v), want only %q", tess, err, words[lang]["teacher"])
		}
		testenv.Shots(t, ctx, "enrolled")
	})
}

// TestBrowserParticipantsCohortSyncSelfEnrol: Tess adds a cohort sync and a self-enrolment
// with a key from the course's methods page, filters the participants by role, sends them a
// message and downloads the list; then Lou finds the course, gives a wrong key (the error is
// beside the field) and the right one.
func TestBrowserParticipantsCohortSyncSelfEnrol(t *testing.T) {
	bothLanguages(t, func(t *testing.T, lang string) {
		w := newCourseWorld(t, map[string]any{"shortname": "HIST-102", "fullname": "Histoire moderne"})
		w.api("POST", "/api/v1/courses/"+w.course+"/enrolments", map[string]any{"user_ids": []string{w.ids["ada@example.org"]}, "role": "student"})
		ctx := testenv.Browser(t)
		w.login(ctx, "tess@example.org", lang)
		err := chromedp.Do(ctx,
			chromedp.Navigate(w.s.Base+"/courses/"+w.course),
			chromedp.WaitVisible(`#methods-link`),
			chromedp.Click(`#methods-link`),
			chromedp.WaitVisible(`#add-group-sync`),
			chromedp.Click(`#add-group-sync summary`),
			js(`document.querySelector("#gs-group").value = "`+w.cohort+`"`),
			chromedp.Click(`#gs-submit`),
			chromedp.WaitVisible(`.notice`),
			chromedp.Click(`#add-self summary`),
			chromedp.SendKeys(`#self-name`, "Inscription libre"),
			chromedp.SendKeys(`#self-key`, "sesame"),
			chromedp.Click(`#self-submit`),
			chromedp.WaitVisible(`tr.method-self`),
		)
		if err != nil {
			t.Fatalf("add the methods: %v", err)
		}
		if got := text(t, ctx, `tr.method-group_sync`); !strings.Contains(got, "2") {
			t.Errorf("the cohort sync enrolled: %q", got)
		}
		testenv.Shots(t, ctx, "methods")

		err = chromedp.Do(ctx,
			// Each click loads a page: wait for the new page (its body has no mark) before
			// the next click, so that it never lands on a node of the page being left.
			js(`document.body.dataset.before = "course"`),
			chromedp.Click(`#course-link`),
			chromedp.WaitVisible(`body:not([data-before]) #participants-link`),
			js(`document.body.dataset.before = "participants"`),
			chromedp.Click(`#participants-link`),
			chromedp.WaitVisible(`body:not([data-before]) #filters`),
			js(`document.querySelector("#f-role").value = "student"; document.body.dataset.before = "filter"`),
			chromedp.Click(`#filter-submit`),
			chromedp.WaitVisible(`body:not([data-before]) #participants`),
		)
		if err != nil {
			t.Fatalf("filter: %v", err)
		}
		if got := text(t, ctx, `#participants-count`); !strings.Contains(got, "3") {
			t.Errorf("students: %q", got)
		}
		err = chromedp.Do(ctx,
			chromedp.Click(`#select-all`),
			js(`document.querySelector("#bulk-action").value = "message"`),
			chromedp.SendKeys(`#bulk-subject`, "Bienvenue"),
			chromedp.SendKeys(`#bulk-body`, "Le cours commence lundi."),
			chromedp.Click(`#bulk-submit`),
			chromedp.WaitVisible(`.notice`),
		)
		if err != nil {
			t.Fatalf("message: %v", err)
		}
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`fetch(document.querySelector("#download-csv").href, {credentials: "same-origin"}).then(r => r.text())`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) != 4 || strings.TrimPrefix(rows[0][0], "\ufeff") != words[lang]["first name"] {
			t.Errorf("csv (%v): %v", err, rows)
		}
		testenv.Shots(t, ctx, "participants")

		// Lou, who is in no course, enrols herself.
		ctx2 := testenv.Browser(t)
		w.login(ctx2, "lou@example.org", lang)
		err = chromedp.Do(ctx2,
			chromedp.Click(`#my-courses-link`),
			chromedp.WaitVisible(`#self-open a`),
			chromedp.Click(`#self-open a`),
			chromedp.WaitVisible(`#self-enrol`),
			chromedp.SendKeys(`#self-enrol input[name=key]`, "wrong"),
			chromedp.Click(`#self-enrol .self-submit`),
			chromedp.WaitVisible(`#self-enrol .field-error`),
		)
		if err != nil {
			t.Fatalf("wrong key: %v", err)
		}
		if got := text(t, ctx2, `#self-enrol .field-error`); !strings.Contains(got, words[lang]["wrong key"]) {
			t.Errorf("wrong key: %q", got)
		}
		err = chromedp.Do(ctx2,
			js(`document.querySelector("#self-enrol input[name=key]").value = "sesame"`),
			chromedp.Click(`#self-enrol .self-submit`),
			chromedp.WaitVisible(`.notice`),
		)
		if err != nil {
			t.Fatalf("self-enrol: %v", err)
		}
		if got := text(t, ctx2, `.notice`); got != words[lang]["enrolled"] {
			t.Errorf("after self-enrolment: %q", got)
		}
		testenv.Shots(t, ctx2, "self-enrolled")
	})
}

// TestBrowserInviteFromCourseBeforeAndAfterItOpens: the course opens in a few seconds. Tess
// invites two addresses from it: they are held, shown with the opening date, without
// "resend"; she cancels one. Once the course has opened, an invitation is sent at once and
// may be re-sent; the dialog's "add email addresses" leads to the same list.
func TestBrowserInviteFromCourseBeforeAndAfterItOpens(t *testing.T) {
	bothLanguages(t, func(t *testing.T, lang string) {
		w := newCourseWorld(t, map[string]any{"shortname": "HIST-103", "fullname": "Histoire ancienne"})
		ctx := testenv.Browser(t)
		w.login(ctx, "tess@example.org", lang)
		// The session opens in a while: long enough for the steps before, on a loaded machine.
		opens := time.Now().Add(45 * time.Second).UTC().Truncate(time.Second)
		w.course = w.newCourse(map[string]any{"shortname": "SESSION-1", "fullname": "Session de printemps", "starts_at": opens})
		err := chromedp.Do(ctx,
			chromedp.Navigate(w.s.Base+"/courses/"+w.course),
			chromedp.WaitVisible(`#invite-link`),
		)
		if err != nil {
			t.Fatalf("the course page: %v", err)
		}
		testenv.Shots(t, ctx, "course")
		err = chromedp.Do(ctx,
			chromedp.Click(`#invite-link`),
			chromedp.WaitVisible(`#held-note`),
			chromedp.SendKeys(`#invite-emails`, "ann@example.org\nbob@example.org"),
			chromedp.Click(`#invite-submit`),
			chromedp.WaitVisible(`#invite-results`),
		)
		if err != nil {
			t.Fatalf("invite before the course opens: %v", err)
		}
		list := text(t, ctx, `#invitations`)
		if strings.Count(list, words[lang]["held"]) != 2 {
			t.Errorf("held invitations:\n%s", list)
		}
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#invitations .resend").length`)); n != 0 {
			t.Errorf("held invitations offer resend (%d)", n)
		}
		testenv.Shots(t, ctx, "held")
		err = chromedp.Do(ctx,
			js(`document.body.dataset.before = "cancel"`),
			chromedp.Click(`tr[data-email="bob@example.org"] .cancel`),
			chromedp.WaitVisible(`body:not([data-before]) .notice`),
		)
		if err != nil {
			t.Fatalf("cancel: %v", err)
		}
		if got := text(t, ctx, `tr[data-email="bob@example.org"] .state`); strings.Contains(got, words[lang]["held"]) {
			t.Errorf("bob after cancel: %q", got)
		}

		time.Sleep(time.Until(opens) + time.Second)
		err = chromedp.Do(ctx,
			chromedp.Navigate(w.s.Base+"/courses/"+w.course+"/participants?enrol=1"),
			chromedp.WaitVisible(`#enrol-emails`),
			chromedp.SendKeys(`#enrol-emails`, "cy@example.org"),
			chromedp.Click(`#enrol-invite-submit`),
			chromedp.WaitVisible(`#invite-results`),
		)
		if err != nil {
			t.Fatalf("invite after the course opened: %v", err)
		}
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#held-note").length`)); n != 0 {
			t.Error("the open course still says invitations are held")
		}
		err = chromedp.Do(ctx,
			js(`document.body.dataset.before = "resend"`),
			chromedp.Click(`tr[data-email="cy@example.org"] .resend`),
			chromedp.WaitVisible(`body:not([data-before]) .notice`),
		)
		if err != nil {
			t.Fatalf("resend: %v", err)
		}
		if got := text(t, ctx, `tr[data-email="cy@example.org"] td:nth-child(4)`); got != "2" {
			t.Errorf("cy sent %q times, want 2", got)
		}
		testenv.Shots(t, ctx, "sent")
	})
}
