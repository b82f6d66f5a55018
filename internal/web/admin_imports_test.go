package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/bulk"
	"roster/internal/group"
	"roster/internal/httpx"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestImportPages runs an import through the pages as a platform administrator: a pasted
// file with an error (no Apply without "valid rows only"), an uploaded file previewed, applied
// in the background (progress polled), reported (page and CSV), undone (preview, confirm);
// the templates; and the checks (someone else's token, a non-administrator).
func TestImportPages(t *testing.T) {
	rg := newRig(t)
	db, ctx, groups, create := rg.db, rg.ctx, rg.groups, rg.user
	admin := create(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	admin2 := create(account.NewUser{Email: "alan@example.org", FirstName: "Alan", LastName: "Turing", IsAdmin: true})
	ada := create(account.NewUser{Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace"})
	if _, err := groups.Create(authz.With(ctx, authz.System), group.Group{Name: "Class A", IDNumber: "CLA"}); err != nil {
		t.Fatal(err)
	}
	do, get, post := rg.do, rg.get, rg.post
	multi := func(as *account.User, fields map[string]string, file string) *httptest.ResponseRecorder {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		if file != "" {
			fw, _ := mw.CreateFormFile("file", "people.txt")
			fw.Write([]byte(file))
		}
		mw.Close()
		req := httptest.NewRequest("POST", "/admin/imports/preview", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return do(as, req)
	}
	want := func(rec *httptest.ResponseRecorder, code int, parts ...string) string {
		t.Helper()
		body := rec.Body.String()
		if rec.Code != code {
			t.Fatalf("status %d, want %d:\n%s", rec.Code, code, body)
		}
		for _, p := range parts {
			if !strings.Contains(body, p) {
				t.Fatalf("page lacks %q:\n%s", p, body)
			}
		}
		return body
	}
	tokenRE := regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)

	want(get(admin, "/admin/imports"), 200, "New import", `enctype="multipart/form-data"`, "No import yet.", "template.xlsx")
	// The methods format and the user field of the flat file are offered, in French too.
	want(get(admin, "/admin/imports"), 200, `<option value="methods"`, "Enrolment methods (Moodle upload enrolment methods CSV)",
		`<select id="user_field" name="user_field">`, `<option value="idnumber"`)
	want(get(admin, "/admin/imports?lang=fr"), 200, "Méthodes d’inscription", "tout champ qui désigne un seul compte")
	get(admin, "/?lang=en") // the switch is saved on the account: back to English
	// A methods file previews through the page: a group sync of CLA is added to no course here.
	want(multi(admin, map[string]string{"format": "methods"}, "add,cohort,nope,CLA,0,,\n"), 200, `id="import-rows"`, `not found`)
	want(get(admin, "/"), 200, `href="/admin/imports"`)

	// A file that cannot be read comes back with why, by line and column, in the person's
	// language, and the form as it was.
	latin1 := "username,firstname,lastname,email\nbob,Jos\xe9,B,bob@x.org\n"
	want(multi(admin, map[string]string{"format": "moodle"}, latin1), 422, `id="import-file-problems"`,
		"Line 2, column 8: the text is not UTF-8", "The file cannot be read")
	want(multi(admin, map[string]string{"format": "moodle"}, "username,email\n\"bob,b@x.org\n"), 422,
		"Line 2, column", "a quote is not closed")
	get(admin, "/?lang=fr")
	want(multi(admin, map[string]string{"format": "moodle"}, latin1), 422,
		"Ligne 2, colonne 8\u00a0: le texte n’est pas en UTF-8", "Le fichier ne peut pas être lu")
	want(multi(admin, map[string]string{"format": "moodle"}, "username,shoesize\nbob,42\n"), 422, "Ligne 1")
	get(admin, "/?lang=en")

	// Pasted rows with an error: the preview says line, column and reason; Apply needs
	// "valid rows only".
	paste := "email\tfirst name\tlast name\tgroups\troles\tlanguage\tdelete_at\r\n" +
		"ann@x.org\tAnn\tAnn\tCLA\tlearner\tfr\r\n" +
		"bob@x.org\tBob\tBob\tCLA\tlearner\tde\r\n"
	body := want(multi(admin, map[string]string{"format": "moodle", "paste": paste, "mode": "add_new"}, ""), 200,
		"2 rows", "1 to create", "1 with errors", "Billable accounts added: 1.", `<td>3</td>`, `column &#34;language&#34;: language &#34;de&#34; is not available`, `is not available`,
		`name="valid_only" value="1" required`)
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no token")
	}
	body = want(post(admin, "/admin/imports/apply", url.Values{"token": {m[1]}}), 422, "nothing was applied")
	if n := count(t, db, `SELECT COUNT(*) FROM import_batches`); n != 0 {
		t.Fatalf("batches %d", n)
	}

	// Someone else's token, and a token used twice, are refused.
	m = tokenRE.FindStringSubmatch(body)
	want(post(admin2, "/admin/imports/apply", url.Values{"token": {m[1]}}), 410, "expired")

	// An uploaded file: previewed, then applied in the background.
	file := "cy@x.org\tCy\tCyan\tCLA\tlearner\ten\n" + "di@x.org\tDi\tDee\tCLA\ttrainer\tfr\n"
	body = want(multi(admin, map[string]string{"format": "tsv", "mode": "add_new", "notify": "1"}, file), 200,
		"2 to create", "Billable accounts added: 2.", `id="import-apply"`)
	if strings.Contains(body, `required`) {
		t.Fatal("valid-only asked for a file without errors")
	}
	m = tokenRE.FindStringSubmatch(body)
	other := httptest.NewRequest("POST", "/admin/imports/apply", strings.NewReader(url.Values{"token": {m[1]}}.Encode()))
	other.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	other.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: "another-session"})
	want(do(admin, other), 410, "expired") // the same person in another session
	rec := post(admin, "/admin/imports/apply", url.Values{"token": {m[1]}})
	want(rec, 303)
	loc := rec.Header().Get("Location")
	want(post(admin, "/admin/imports/apply", url.Values{"token": {m[1]}}), 410)
	var prog importProgress
	for deadline := time.Now().Add(10 * time.Second); ; {
		rec := get(admin, loc+"/progress")
		want(rec, 200)
		if rec.Header().Get("Content-Type") != "application/json" {
			t.Fatal(rec.Header())
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &prog); err != nil {
			t.Fatal(err)
		}
		if prog.Status != "applying" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if prog != (importProgress{Status: "applied", RowsDone: 2, RowsTotal: 2}) {
		t.Fatalf("progress %+v", prog)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM group_members m JOIN users u ON u.id = m.user_id WHERE u.email IN ('cy@x.org', 'di@x.org')`); n != 2 {
		t.Fatalf("memberships %d", n)
	}
	want(get(admin, loc), 200, "Applied", "2 created", "report.csv", `id="import-undo-link"`, "Create")
	rec = get(admin, loc+"/report.csv?headers=codes")
	csvBody := want(rec, 200, "\ufeffline,action,user_id,changes,messages\n1,create,")
	want(get(admin, loc+"/report.csv"), 200, "\ufeffLine,Action,Account id,Changes,Messages\n1,Create,")
	if !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment") || strings.Count(csvBody, "\n") != 3 {
		t.Fatalf("csv %q %v", csvBody, rec.Header())
	}
	want(get(admin, "/admin/imports"), 200, `<a href="/admin/imports/1">1</a>`, "Undo")

	// Undo: preview, then confirm.
	want(get(admin, loc+"/undo"), 200, "delete 2 accounts", "remove 2 group memberships", `id="import-undo-confirm"`)
	if n := count(t, db, `SELECT COUNT(*) FROM users WHERE email IN ('cy@x.org', 'di@x.org') AND deleted_at IS NULL`); n != 2 {
		t.Fatalf("undo preview wrote: %d", n)
	}
	rec = post(admin, loc+"/undo", url.Values{})
	want(rec, 303)
	want(get(admin, rec.Header().Get("Location")), 200, "The import is undone.", "Undone")
	if n := count(t, db, `SELECT COUNT(*) FROM users WHERE email IN ('cy@x.org', 'di@x.org') AND deleted_at IS NULL`); n != 0 {
		t.Fatalf("accounts left %d", n)
	}
	want(post(admin, loc+"/undo", url.Values{}), 409, "already undone")

	// In French.
	want(get(admin, "/admin/imports?lang=fr"), 200, "Nouvel import")
	get(admin, "/?lang=en") // the switch is saved on the account: back to English

	// The templates.
	rec = get(admin, "/admin/imports/template.csv?headers=codes")
	want(rec, 200, "\ufeffemail,first name,last name,groups,roles,language,delete_at\n", "Lovelace")
	// In the person's language: headers and example in French, the date as dd/mm/yyyy; the
	// French template pastes back as an import (its header row is recognised).
	want(get(admin, "/admin/imports/template.csv?lang=fr"), 200,
		"\ufeffadresse e-mail,prénom,nom,groupes,rôles,langue,date de suppression\n", "31/07/2030")
	body = want(multi(admin, map[string]string{"format": "tsv", "mode": "add_new",
		"paste": "adresse e-mail\tprénom\tnom\tgroupes\trôles\tlangue\tdate de suppression\nmarie.curie@exemple.fr\tMarie\tCurie\t\t\tfr\t31/07/2030\n"}, ""),
		200, "1 ligne")
	get(admin, "/?lang=en")
	rec = get(admin, "/admin/imports/template.xlsx?headers=codes")
	want(rec, 200)
	x, err := excelize.OpenReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows(x.GetSheetName(0))
	if err != nil || len(rows) != 2 || strings.Join(rows[0], ",") != "email,first name,last name,groups,roles,language,delete_at" {
		t.Fatalf("xlsx %v %v", rows, err)
	}

	// Updating the passwords of existing accounts: offered in English and French, kept with
	// the upload, announced row by row, applied as announced.
	want(get(admin, "/admin/imports"), 200, `name="update_passwords"`, "Update the passwords of existing accounts")
	want(get(admin, "/admin/imports?lang=fr"), 200, "Mettre à jour les mots de passe des comptes existants")
	body = want(multi(admin, map[string]string{"format": "moodle", "mode": "update_only", "update_passwords": "1"},
		"username,password\nada@example.org,Correct-Horse-Battery-9\n"), 200, "<code>password</code>\u00a0: sera changé", // the page is French since ?lang=fr
		`name="update_passwords" value="1" checked`)
	if strings.Contains(body, "Correct-Horse") {
		t.Fatal("the preview shows the password")
	}
	m = tokenRE.FindStringSubmatch(body)
	rec = post(admin, "/admin/imports/apply", url.Values{"token": {m[1]}})
	want(rec, 303)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := json.Unmarshal(get(admin, rec.Header().Get("Location")+"/progress").Body.Bytes(), &prog); err != nil {
			t.Fatal(err)
		}
		if prog.Status != "applying" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := rg.accounts.Login(ctx, "ada@example.org", "Correct-Horse-Battery-9", "192.0.2.1"); prog.Status != "applied" || err != nil {
		t.Fatalf("ada's imported password: %+v %v", prog, err)
	}

	// Not for everyone.
	want(get(ada, "/admin/imports"), 403)
	want(multi(ada, map[string]string{"paste": paste}, ""), 403)
	want(get(ada, loc+"/progress"), 403)
	want(get(ada, loc+"/report.csv"), 403)
	want(get(admin, "/admin/imports/99/progress"), 404)
	if rec := get(nil, "/admin/imports"); rec.Code != 303 {
		t.Fatalf("anonymous %d", rec.Code)
	}
}

func TestCSVCell(t *testing.T) {
	for in, out := range map[string]string{"=1+1": "'=1+1", "+x": "'+x", "-2": "'-2", "@SUM": "'@SUM", "ok": "ok", "": ""} {
		if got := csvCell(in); got != out {
			t.Errorf("%q: %q", in, got)
		}
	}
}

func count(t *testing.T, db *store.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(fmt.Errorf("%s: %w", q, err))
	}
	return n
}

func TestPreviewRows(t *testing.T) {
	var rows []bulk.RowResult
	for i := range importPageRows + 10 {
		a := bulk.ActCreate
		if i%1000 == 5 {
			a = bulk.ActError
		}
		rows = append(rows, bulk.RowResult{Line: i + 1, Action: a})
	}
	out, more := previewRows(rows)
	if len(out) != importPageRows+1 || more != 9 || out[len(out)-1].Line != importPageRows+6 {
		t.Fatalf("%d %d %+v", len(out), more, out[len(out)-1])
	}
}

// Instances keep no state of their own: behind a load balancer, a file previewed on one
// instance is applied by another, on one PostgreSQL database; an expired upload is purged.
func TestImportPreviewOnOneInstanceApplyOnAnother(t *testing.T) {
	db, clock := storetest.OpenPostgres(t)
	a, b := newRigOn(t, db, clock), newRigOn(t, db, clock)
	admin := a.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("format", "tsv")
	mw.WriteField("mode", "add_new")
	fw, _ := mw.CreateFormFile("file", "people.txt")
	// Over two chunks of storage, so that reading it back crosses a chunk boundary.
	var file strings.Builder
	for i := 0; file.Len() < 1<<20+1000; i++ {
		fmt.Fprintf(&file, "p%d@x.org\tFirst%d\tLast %s\n", i, i, strings.Repeat("x", 40))
	}
	fw.Write([]byte(file.String()))
	mw.Close()
	people := strings.Count(file.String(), "\n")
	req := httptest.NewRequest("POST", "/admin/imports/preview", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := a.do(admin, req)
	if rec.Code != 200 {
		t.Fatalf("preview on a: %d %s", rec.Code, rec.Body.String())
	}
	m := regexp.MustCompile(`name="token" value="([0-9a-f]+)"`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatal("no token")
	}
	rec = b.post(admin, "/admin/imports/apply", url.Values{"token": {m[1]}})
	if rec.Code != 303 {
		t.Fatalf("apply on b: %d %s", rec.Code, rec.Body.String())
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var status string
		if err := db.QueryRowContext(context.Background(), `SELECT status FROM import_batches`).Scan(&status); err != nil {
			t.Fatal(err)
		}
		// The upload is dropped once the apply has committed: wait for both.
		left := count(t, db, `SELECT COUNT(*) FROM import_uploads`)
		if status == "applied" && left == 0 {
			break
		}
		if status == "applied" && time.Now().After(deadline) {
			t.Fatalf("%d uploads left after the apply", left)
		}
		if status != "applied" && (status != "applying" || time.Now().After(deadline)) {
			t.Fatalf("import %s", status)
		}
	}
	if n := count(t, db, `SELECT COUNT(*) FROM users WHERE email LIKE '%@x.org'`); n != people {
		t.Fatalf("%d accounts, want %d", n, people)
	}
	// An upload never applied is purged once expired.
	svc := bulk.NewService(db, a.accounts, a.groups, a.courses)
	if _, err := svc.KeepUpload(context.Background(), strings.NewReader("x@y.org\tX\tY\n"), admin.ID, [32]byte{}, bulk.Options{}); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.PurgeUploads(context.Background()); n != 0 || err != nil {
		t.Fatalf("purged %d before expiry (%v)", n, err)
	}
	clock.Advance(bulk.UploadTTL)
	if n, err := svc.PurgeUploads(context.Background()); n != 1 || err != nil {
		t.Fatalf("purged %d (%v)", n, err)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM import_upload_chunks`); n != 0 {
		t.Fatalf("%d chunks left", n)
	}
}

// A failed apply's page says why, line by line, in the person's language, never only "0
// errors".
func TestImportFailureShown(t *testing.T) {
	rg := newRig(t)
	admin := rg.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	failure := `[{"line":12,"field":"email","code":"email_no_dot","message":"is not a valid email address: the domain has no dot"},` +
		`{"line":14,"code":"internal","message":"internal error"}]`
	if _, err := rg.db.ExecContext(rg.ctx, `INSERT INTO import_batches (id, format, options, status, created_at, rows_total, failure)
		VALUES (7, 'tsv', '{}', 'failed', 0, 20, $1)`, failure); err != nil {
		t.Fatal(err)
	}
	code, body, _ := rg.call(admin, "GET", "/admin/imports/7", nil)
	rg.want(code, body, 200, `id="import-failure"`, "nothing of it stayed applied", "Line 12, Email: is not a valid email address",
		"Line 14: Something went wrong on our side")
	get := rg.get(admin, "/admin/imports/7?lang=fr")
	rg.want(get.Code, get.Body.String(), 200, "rien n’en est resté appliqué", "Ligne 12, Adresse e-mail\u00a0: n’est pas une adresse e-mail valide")
}

// Pasting an address that has a pending invitation says, on its row, that the account will
// overtake the invitation, in the person's language.
func TestImportWarnsOfOvertakenInvitation(t *testing.T) {
	rg := newRig(t)
	admin := rg.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true, Language: "fr"})
	if _, err := rg.db.ExecContext(rg.ctx, `INSERT INTO invitations (email, email_norm, token_hash, created_at)
		VALUES ('zed@x.org', 'zed@x.org', 'h1', 0)`); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("paste", "zed@x.org\tZed\tZimmer\n")
	mw.Close()
	req := httptest.NewRequest("POST", "/admin/imports/preview", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := rg.do(admin, req)
	rg.want(rec.Code, rec.Body.String(), 200, `class="row-warning"`, "zed@x.org a une invitation en attente", `id="import-apply"`)
}
