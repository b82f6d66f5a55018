package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/i18n"
	"roster/internal/site"
)

// TestNoEnglishOnFrenchAdminPages goes on where TestNoEnglishOnFrenchPages stops: the pages
// that only exist once something was done (an import applied and undone, a sync run and
// failed, a sign-in provider, a connected platform, custom profile fields), every page as
// each role (the refusals too), and every error code of the catalog, all in French.
func TestNoEnglishOnFrenchAdminPages(t *testing.T) {
	r := newRig(t)
	sys := authz.With(r.ctx, authz.System)
	if err := site.Configure(r.ctx, r.db, "fr", "Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	admin := r.user(account.NewUser{Email: "direction@univ.test", Username: "direction", FirstName: "Hélène", LastName: "Dubois", IsAdmin: true, Language: "fr"})
	prof := r.user(account.NewUser{Email: "prof@univ.test", Username: "jmartin", FirstName: "Jeanne", LastName: "Martin", Language: "fr"})
	etu := r.user(account.NewUser{Email: "etu@univ.test", Username: "lpetit", FirstName: "Louis", LastName: "Petit", Language: "fr"})
	resp := r.user(account.NewUser{Email: "rf@entreprise.test", Username: "rf", FirstName: "Camille", LastName: "Roux", Language: "fr"})
	cours, err := r.courses.Create(sys, course.Course{Shortname: "UE5", Fullname: "Langue vivante : anglais", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.courses.Enrol(sys, cours.ID, course.EnrolRequest{UserIDs: []int64{prof.ID}, Role: course.Teacher}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.courses.Enrol(sys, cours.ID, course.EnrolRequest{UserIDs: []int64{etu.ID}, Role: course.Student}); err != nil {
		t.Fatal(err)
	}
	agence, err := r.groups.Create(sys, group.Group{Name: "Agence de Lyon", IDNumber: "LYON", Visibility: group.Public})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.groups.AddMember(sys, agence.ID, resp.ID, group.UserAdmin, ""); err != nil {
		t.Fatal(err)
	}
	id := func(n int64) string { return fmt.Sprint(n) }
	must := func(code int, body string, want int) string {
		t.Helper()
		if code != want {
			t.Fatalf("status %d, want %d:\n%s", code, want, body)
		}
		return body
	}
	done := func(path string, form url.Values) { // a form that succeeds and goes on
		t.Helper()
		if code, body, _ := r.call(admin, "POST", path, form); code != 303 {
			t.Fatalf("POST %s: %d\n%s", path, code, body)
		}
	}

	// Custom profile fields: a text, a choice and a date, filled in on a person.
	for _, f := range []url.Values{
		{"key": {"faculte"}, "label": {"Faculté"}, "kind": {"text"}},
		{"key": {"site"}, "label": {"Site de rattachement"}, "kind": {"choice"}, "options": {"Lyon\nParis"}},
		{"key": {"entree"}, "label": {"Date d’entrée"}, "kind": {"date"}},
	} {
		done("/admin/profile-fields", f)
	}

	// A course role of the site's, named in both languages.
	done("/admin/course-roles", url.Values{"shortname": {"secretariat"}, "name": {"Secrétariat"}, "name_fr": {"Secrétariat pédagogique"},
		"name_en": {"Office"}, "base_role": {"non_editing_teacher"}})

	// A sign-in provider and a connected platform.
	code, body, _ := r.call(admin, "POST", "/admin/sso/new", url.Values{"kind": {"cas"}, "slug": {"ent"}, "name": {"ENT de l’université"},
		"cas_url": {"https://cas.univ.test/cas"}, "enabled": {"1"}, "rules": {"eduPersonAffiliation=staff -> LYON trainer"}})
	if code != 303 {
		t.Fatalf("sso provider: %d\n%s", code, body)
	}
	var ssoID int64
	if err := r.db.QueryRowContext(r.ctx, `SELECT id FROM sso_providers`).Scan(&ssoID); err != nil {
		t.Fatal(err)
	}
	code, body, _ = r.call(admin, "POST", "/admin/oidc-clients", url.Values{"name": {"Moodle de l’université"},
		"redirect_uris": {"https://moodle.univ.test/admin/oauth2callback.php"}, "grant_types": {"authorization_code"},
		"scopes": {"openid", "profile", "email"}, "group_id": {"0"}})
	must(code, body, 200)

	// An import with an error row, applied (valid rows only), then undone.
	preview := func(file string) string {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range map[string]string{"format": "tsv", "mode": "add_new"} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", "personnes.txt")
		fw.Write([]byte(file))
		mw.Close()
		req := httptest.NewRequest("POST", "/admin/imports/preview", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		rec := r.do(admin, req)
		return must(rec.Code, rec.Body.String(), 200)
	}
	body = preview("anne@univ.test\tAnne\tLeroy\tLYON\tlearner\tfr\n" + "marc@univ.test\tMarc\tBlanc\tLYON\ttrainer\tfr\n" +
		"zoe@univ.test\tZoé\tMorel\tINCONNU\tlearner\tfr\n")
	m := regexp.MustCompile(`name="token" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no import token:\n%s", body)
	}
	code, body, batch := r.call(admin, "POST", "/admin/imports/apply", url.Values{"token": {m[1]}, "valid_only": {"1"}})
	if code != 303 {
		t.Fatalf("import apply: %d\n%s", code, body)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, b, _ := r.call(admin, "GET", batch+"/progress", nil); !strings.Contains(b, `"applying"`) {
			break
		}
	}
	_, batchApplied, _ := r.call(admin, "GET", batch, nil)
	_, undoForm, _ := r.call(admin, "GET", batch+"/undo", nil)
	done(batch+"/undo", url.Values{})
	_, batchUndone, _ := r.call(admin, "GET", batch, nil)
	_, undoAgain, _ := r.call(admin, "POST", batch+"/undo", url.Values{})

	// A sync source that runs (dry, then for real) and then fails: its history.
	path := filepath.Join(t.TempDir(), "inscriptions.csv")
	if err := os.WriteFile(path, []byte("course,user,role\nUE5,lpetit,student\nUE5,fantome,student\nUE9,jmartin,teacher\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	done("/admin/sync", url.Values{"name": {"nuit"}, "kind": {"csv"}, "location": {path}, "action": {"suspend"},
		"threshold": {"10"}, "schedule": {"0 2 * * *"}, "enabled": {"1"}})
	var runs []string
	for _, dry := range []string{"1", "", ""} {
		if dry == "" && len(runs) == 2 {
			os.Remove(path)
		}
		code, body, loc := r.call(admin, "POST", "/admin/sync/nuit/run", url.Values{"dry": {dry}})
		if code != 303 {
			t.Fatalf("sync run: %d\n%s", code, body)
		}
		runs = append(runs, loc)
	}

	fc := newFrenchCheck(t, "Hélène", "Dubois", "Jeanne", "Martin", "Louis", "Petit", "Camille", "Roux", "direction", "jmartin",
		"lpetit", "rf", "UE5", "UE9", "Langue vivante : anglais", "Agence de Lyon", "LYON", "INCONNU", "Anne", "Leroy", "Marc", "Blanc",
		"Zoé", "Morel", "personnes.txt", "Faculté", "faculte", "Site de rattachement", "site", "Lyon", "Paris", "Date d’entrée", "entree",
		"ENT de l’université", "ent", "Moodle de l’université", "nuit", "fantome", "inscriptions.csv", path, "Europe/Paris",
		"eduPersonAffiliation=staff -> LYON trainer", "openid", "profile", "email", "Droit", "Lune", "pas-une-url", "secretariat", "Secrétariat", "Secrétariat pédagogique", "Office", "Scolarité", "Chef")
	check := func(what, body string) {
		t.Helper()
		if !strings.Contains(body, `<html lang="fr">`) {
			t.Errorf("%s: not a French page:\n%.300s", what, body)
			return
		}
		for _, p := range fc.problems(visibleText(t, body)) {
			t.Errorf("%s: %s", what, p)
		}
	}
	wantIn := func(what, body string, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(body, p) {
				t.Errorf("%s: the page lacks %q (the path was not taken):\n%s", what, p, body)
			}
		}
	}
	wantIn("import batch", batchApplied, "import-undo-link")
	check("import batch", batchApplied)
	wantIn("import undo form", undoForm, "import-undo-confirm")
	check("import undo form", undoForm)
	check("import batch undone", batchUndone)
	check("import undone twice", undoAgain)
	for _, run := range runs {
		_, body, _ := r.call(admin, "GET", run, nil)
		check("sync run "+run, body)
	}

	// Forms with their errors, on the pages that exist now.
	for _, v := range []struct {
		method, path string
		form         url.Values
		want         string
	}{
		{"POST", "/admin/users/" + id(etu.ID), url.Values{"first_name": {"Louis"}, "last_name": {"Petit"}, "email": {"etu@univ.test"},
			"username": {"lpetit"}, "cf_faculte": {"Droit"}, "cf_site": {"Lune"}, "cf_entree": {"31/02/2027"}}, "cf_entree"},
		{"POST", "/admin/users/" + id(etu.ID), url.Values{"first_name": {"Louis"}, "last_name": {"Petit"}, "email": {"etu@univ.test"},
			"username": {"lpetit"}, "cf_faculte": {"Droit"}, "cf_site": {"Lyon"}, "cf_entree": {"12/03/2027"}}, ""},
		{"POST", "/admin/sso/" + id(ssoID), url.Values{"kind": {"cas"}, "slug": {"ent"}, "name": {""}, "cas_url": {"pas-une-url"},
			"rules": {"n’importe quoi"}}, ""},
		{"POST", "/admin/sso/" + id(ssoID), url.Values{"kind": {"cas"}, "slug": {"ent"}, "name": {""}, "cas_url": {"pas-une-url"}}, ""},
		{"POST", "/admin/oidc-clients", url.Values{"name": {""}, "redirect_uris": {"pas-une-url"}}, ""},
		{"POST", "/admin/course-roles/secretariat/names", url.Values{"name": {""}}, "secretariat"},
		{"POST", "/admin/course-roles/teacher/names", url.Values{"name": {"Chef"}}, "prédéfini"},
		{"POST", "/admin/course-roles/secretariat/names", url.Values{"name": {"Secrétariat"}, "name_fr": {"Scolarité"}}, "Scolarité"},
		{"POST", "/admin/profile-fields", url.Values{"key": {"faculte"}, "label": {"Faculté"}, "kind": {"text"}}, ""},
		{"POST", "/admin/sync", url.Values{"name": {"nuit"}, "kind": {"csv"}, "location": {""}, "schedule": {"0 25 * * *"}}, ""},
	} {
		code, body, loc := r.call(admin, v.method, v.path, v.form)
		if code == 303 {
			_, body, _ = r.call(admin, "GET", loc, nil)
		}
		if v.want != "" {
			wantIn(v.method+" "+v.path, body, v.want)
		}
		check(v.method+" "+v.path, body)
	}
	// The date typed as dd/mm/yyyy is kept, and shown back that way.
	_, body, _ = r.call(admin, "GET", "/admin/users/"+id(etu.ID), nil)
	wantIn("user page", body, `value="12/03/2027"`)

	// Every page, as each role: what they may see, and the refusals, are French.
	pages := []string{"/", "/login", "/password/forgot", "/courses", "/courses/" + id(cours.ID), "/courses/" + id(cours.ID) + "/participants",
		"/courses/" + id(cours.ID) + "/invitations", "/courses/" + id(cours.ID) + "/methods", "/groups", "/groups/" + id(agence.ID), "/groups/" + id(agence.ID) + "/delete", "/groups/" + id(agence.ID) + "/members/add?logins=lpetit",
		"/invitations", "/invitations/new", "/external/new", "/admin/users", "/admin/users/" + id(etu.ID),
		"/admin/users/" + id(etu.ID) + "/delete", "/admin/profile-fields", "/admin/settings", "/admin/billing", "/admin/mail",
		"/admin/audit", "/admin/imports", batch, batch + "/undo", "/admin/course-roles", "/admin/oidc-clients", "/admin/sync",
		"/admin/sso", "/admin/sso/new", "/admin/sso/new?kind=oidc", "/admin/sso/" + id(ssoID), "/sso/ent/login?erreur=1",
		"/sso/inconnu/login", "/sso/ent/cas?ticket=ST-inconnu"}
	for _, as := range []*account.User{nil, etu, prof, resp, admin} {
		who := "anonyme"
		if as != nil {
			who = as.Username
		}
		for _, p := range pages {
			code, body, loc := r.call(as, "GET", p, nil)
			if code == 303 || code == 302 {
				if !strings.HasPrefix(loc, "/") {
					continue // to the identity provider
				}
				_, body, _ = r.call(as, "GET", loc, nil)
			}
			if strings.HasPrefix(body, "<!DOCTYPE") || strings.Contains(body, "<html") {
				check("GET "+p+" as "+who, body)
			} else {
				for _, pr := range fc.problems([]string{strings.TrimSpace(body)}) {
					t.Errorf("GET %s as %s (%d, not a page): %s", p, who, code, pr)
				}
			}
		}
	}

	// Every error code of the catalog, as a page shows it, with realistic parameters.
	sample := map[string]any{"group": "Agence de Lyon", "course": "Langue vivante : anglais", "email": "paul@entreprise.test",
		"name": "Agence de Lyon", "field": "faculte", "value": "Lune", "line": 3, "column": 2, "limit": 100, "min": 12, "max": 100,
		"count": 2, "n": 2, "date": "31/01/2027", "role": i18n.Label("label.course_role.student"), "login": "lpetit",
		"username": "lpetit", "user": "Louis Petit", "key": "faculte", "header": "faculte", "path": path, "file": "personnes.txt",
		"lang": "de", "languages": "en, fr", "list": "en, fr", "seconds": 30, "minutes": 5, "days": 14, "slug": "ent"}
	seen := map[string]bool{}
	for _, k := range i18n.Default().Keys("fr") {
		key, ok := strings.CutPrefix(k, "err.")
		if !ok {
			continue
		}
		if len(i18n.Default().Params(k)) == 0 && strings.Contains(strings.Join(i18n.Default().Texts("fr", k), ""), "%") {
			// A piece of other messages, with printf verbs: "(et 2 autres)".
			for _, pr := range fc.problems([]string{i18n.T("fr", k, 2)}) {
				t.Errorf("error %s: %s", key, pr)
			}
			continue
		}
		p := errs.P{}
		for _, name := range i18n.Default().Params(k) {
			v, ok := sample[name]
			if !ok {
				v = "Lyon" // a value a person typed
				if !seen[name] {
					seen[name] = true
				}
			}
			p[name] = v
		}
		l := Localizer{Lang: "fr"}
		for _, e := range []*errs.Error{errs.Coded(errs.Conflict, key, p), errs.FieldCode("email", key, p)} {
			page := &Page{L: l, Fields: map[string]string{}}
			showError(page, e)
			texts := []string{page.Error}
			for _, f := range page.Fields {
				texts = append(texts, f)
			}
			for _, pr := range fc.problems(texts) {
				t.Errorf("error %s: %s", key, pr)
			}
		}
	}
}
