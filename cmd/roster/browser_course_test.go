package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserTeacherEnrolsFiltersDownloads walks what a teacher does on a course: open it,
// enrol two people through the "Enrol users" dialog (searching as one types), filter the
// participants by role and download the table as CSV.
func TestBrowserTeacherEnrolsFiltersDownloads(t *testing.T) {
	env := sqliteEnv(t)
	const password = "correct horse battery staple"
	addUser := func(email, first, last string) string {
		t.Helper()
		out, err := run(t, env, password+"\n", "user", "add", "--email", email, "--first-name", first, "--last-name", last,
			"--password-stdin")
		if err != nil {
			t.Fatalf("user add %s: %v: %s", email, err, out)
		}
		return strings.TrimSpace(out)
	}
	teacher := addUser("tess@example.org", "Tess", "Teacher")
	addUser("ada@example.org", "Ada", "Lovelace")
	addUser("alan@example.org", "Alan", "Turing")
	addUser("grace@example.org", "Grace", "Hopper") // not enrolled
	token, err := run(t, env, "", "token", "create", "--name", "setup")
	if err != nil {
		t.Fatalf("token create: %v: %s", err, token)
	}
	token = strings.TrimSpace(token)
	s := serve(t, env)

	api := func(path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", s.Base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	c := api("/api/v1/courses", map[string]any{"shortname": "HIST-101", "fullname": "History of computing"})
	id := c["id"].(string)
	api("/api/v1/courses/"+id+"/enrolments", map[string]any{"user_ids": []string{teacher}, "role": "teacher"})

	ctx := browser(t)
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.Base+"/login"),
		chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`#login`, "tess@example.org"),
		chromedp.SendKeys(`#password`, password),
		chromedp.Click(`#login-submit`),
		chromedp.WaitVisible(`#my-courses-link`),
		chromedp.Click(`#my-courses-link`),
		chromedp.WaitVisible(`#courses`),
		chromedp.Click(`#courses a`),
		chromedp.WaitVisible(`#participants-link`),
		chromedp.Click(`#participants-link`),
		chromedp.WaitVisible(`#enrol-open`),
		chromedp.Click(`#enrol-open`),
		chromedp.WaitVisible(`#enrol-search`),
		chromedp.SendKeys(`#enrol-search`, "lovel"),
		chromedp.WaitVisible(`#enrol-results .enrol-hit`),
		chromedp.Click(`#enrol-results .enrol-hit`),
		chromedp.WaitVisible(`#enrol-picked input[type=checkbox]`),
		js(`document.querySelector("#enrol-search").value = ""`),
		chromedp.SendKeys(`#enrol-search`, "alan@"),
		poll(`document.querySelector("#enrol-results .enrol-hit") !== null &&
			document.querySelector("#enrol-results .enrol-hit").textContent.includes("alan@example.org")`),
		chromedp.Click(`#enrol-results .enrol-hit`),
		poll(`document.querySelectorAll("#enrol-picked input:checked").length === 2`),
		chromedp.Click(`#enrol-submit`),
		chromedp.WaitVisible(`.notice`),
	)
	if err != nil {
		t.Fatalf("enrol through the dialog: %v", err)
	}
	if got := text(t, ctx, `#participants-count`); !strings.Contains(got, "3") {
		t.Fatalf("after enrolling two people: %q", got)
	}
	err = chromedp.Do(ctx,
		js(`document.querySelector("#f-role").value = "student"; document.body.dataset.before = "filter"`),
		chromedp.Click(`#filter-submit`),
		chromedp.WaitVisible(`body:not([data-before]) #participants`),
	)
	if err != nil {
		t.Fatalf("filter by role: %v", err)
	}
	names := text(t, ctx, `#participants tbody`)
	if !strings.Contains(names, "Ada Lovelace") || !strings.Contains(names, "Alan Turing") || strings.Contains(names, "Tess") {
		t.Fatalf("students: %q", names)
	}
	// Download the CSV the link points at, with the page's session.
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(document.querySelector("#download-csv").href, {credentials: "same-origin"}).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("the download is not CSV: %v\n%s", err, body)
	}
	// The person's download: their language's headers (the byte order mark is read away by the
	// browser's text decoder).
	if got := fmt.Sprint(rows); len(rows) != 3 || strings.TrimPrefix(rows[0][0], "\ufeff") != "First name" || !strings.Contains(got, "ada@example.org") ||
		!strings.Contains(got, "alan@example.org") || strings.Contains(got, "tess@") {
		t.Fatalf("csv = %s", got)
	}
}

// poll waits until a JavaScript condition holds.
func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr)(ctx, t)
		return err
	})
}

// js runs a JavaScript statement in the page.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr+"; true")(ctx, t)
		return err
	})
}
