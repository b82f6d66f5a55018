package web

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/invite"
	"roster/internal/mail"
	"roster/internal/site"
)

// visibleText returns what a person reads on a page: the text nodes (outside script and
// style), and the attributes a browser shows (placeholder, title, aria-label, alt, the value
// of buttons).
func visibleText(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			if s := strings.TrimSpace(n.Data); s != "" {
				out = append(out, s)
			}
		case html.ElementNode:
			if n.Data == "script" || n.Data == "style" || n.Data == "code" {
				return
			}
			typ := ""
			for _, a := range n.Attr {
				if a.Key == "type" {
					typ = a.Val
				}
			}
			for _, a := range n.Attr {
				switch {
				case a.Key == "placeholder", a.Key == "title", a.Key == "aria-label", a.Key == "alt",
					a.Key == "value" && (typ == "submit" || typ == "button"):
					if s := strings.TrimSpace(a.Val); s != "" {
						out = append(out, s)
					}
				}
			}
			if n.Data == "textarea" { // what the person typed, shown back
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// TestNoEnglishOnFrenchPages renders the pages as each role, in French, with realistic data
// and their error paths forced, and fails on English: a sentence of the English catalog that
// the French one lacks, or an English word in what a person reads (text, placeholders,
// titles, labels of buttons). Every email template is checked the same way.
func TestNoEnglishOnFrenchPages(t *testing.T) {
	r := newRig(t)
	sys := authz.With(r.ctx, authz.System)
	// A French site: visitors without a language of their own get French pages.
	if err := site.Configure(r.ctx, r.db, "fr", "Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	// The people of the French documents: a platform administrator, a teacher, a student, an
	// external person added by the teacher, a training administrator of a group.
	admin := r.user(account.NewUser{Email: "direction@univ.test", Username: "direction", FirstName: "Hélène", LastName: "Dubois", IsAdmin: true, Language: "fr"})
	prof := r.user(account.NewUser{Email: "prof@univ.test", Username: "jmartin", FirstName: "Jeanne", LastName: "Martin", Language: "fr"})
	etu := r.user(account.NewUser{Email: "etu@univ.test", Username: "lpetit", FirstName: "Louis", LastName: "Petit", Language: "fr"})
	resp := r.user(account.NewUser{Email: "rf@entreprise.test", Username: "rf", FirstName: "Camille", LastName: "Roux", Language: "fr"})
	cours, err := r.courses.Create(sys, course.Course{Shortname: "UE5", Fullname: "Langue vivante : anglais", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		user int64
		role string
	}{{prof.ID, course.Teacher}, {etu.ID, course.Student}} {
		if _, err := r.courses.Enrol(sys, cours.ID, course.EnrolRequest{UserIDs: []int64{e.user}, Role: e.role}); err != nil {
			t.Fatal(err)
		}
	}
	siege, err := r.groups.Create(sys, group.Group{Name: "Siège", Visibility: group.Private})
	if err != nil {
		t.Fatal(err)
	}
	agence, err := r.groups.Create(sys, group.Group{ParentID: siege.ID, Name: "Agence de Lyon", Visibility: group.Public})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.groups.AddMember(sys, agence.ID, resp.ID, group.UserAdmin, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.groups.AddMember(sys, agence.ID, etu.ID, group.Learner, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.invites.Invite(authz.With(r.ctx, r.accounts.PrincipalFor(admin)), invite.Request{
		Emails: "Paul Girard <paul@entreprise.test>", Language: "fr",
		Groups: []invite.Grant{{GroupID: agence.ID, Role: group.Learner}}}); err != nil {
		t.Fatal(err)
	}

	// Links from the outbox: a password reset asked by the teacher, and the invitation.
	r.call(nil, "POST", "/password/forgot", url.Values{"login": {"jmartin"}})
	token := func(prefix string) string {
		t.Helper()
		var text string
		if err := r.db.QueryRowContext(r.ctx, `SELECT text_body FROM outbox WHERE text_body LIKE $1 ORDER BY id DESC LIMIT 1`,
			"%"+prefix+"%").Scan(&text); err != nil {
			t.Fatalf("no email with %s: %v", prefix, err)
		}
		text, err := mail.OpenLinks(r.db.Key, text)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(regexp.QuoteMeta(prefix) + `([A-Za-z0-9_-]{20,})`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no link %s in %q", prefix, text)
		}
		return m[1]
	}
	resetToken, invitationToken := token("/password/reset/"), token("/invitation/")
	tooShort := url.Values{"password": {"court"}, "confirm": {"court"}, "first_name": {"Paul"}, "last_name": {"Girard"}}

	// What the test typed: the only words a French page may show besides the catalogs'.
	fc := newFrenchCheck(t, "Hélène", "Dubois", "Jeanne", "Martin", "Louis", "Petit", "Camille", "Roux",
		"Paul", "Girard", "direction", "jmartin", "lpetit", "rf", "UE5", "Langue vivante : anglais", "Siège",
		"Agence de Lyon", "inconnu", "jeton-inconnu", "Mauvais Nom", "empereur", "couleur", "1x", "Lune/Tranquillité",
		"pas-une-adresse", "sans-arobase", "a@b", "Ann", "Lee", "Bob", "Durand", "UPdago", "Séance de jeudi",
		"La séance de jeudi a lieu en salle 12.", "Europe/Paris", "Libre", "clé", "marie@univ.test")
	id := func(n int64) string { return fmt.Sprint(n) }
	type visit struct {
		as     *account.User
		method string
		path   string
		form   url.Values
	}
	visits := []visit{
		{nil, "GET", "/login", nil},
		{nil, "POST", "/login", url.Values{"login": {"inconnu"}, "password": {"mauvais"}}},
		{nil, "GET", "/password/forgot", nil},
		{nil, "POST", "/password/forgot", url.Values{"login": {""}}},
		{nil, "GET", "/password/reset/jeton-inconnu", nil},
		{nil, "GET", "/account/setup/jeton-inconnu", nil},
		{nil, "GET", "/invitation/jeton-inconnu", nil},
		{nil, "GET", "/password/reset/" + resetToken, nil},
		{nil, "POST", "/password/reset/" + resetToken, tooShort},
		{nil, "POST", "/password/reset/" + resetToken + "?fin=1", url.Values{"password": {"violette lanterne port 7"}, "confirm": {"violette lanterne port 7"}}},
		{nil, "GET", "/invitation/" + invitationToken, nil},
		{nil, "POST", "/invitation/" + invitationToken, tooShort},
		{resp, "POST", "/groups/" + id(agence.ID) + "/members", url.Values{"login": {"inconnu"}, "add_role": {group.Learner}}},
		{prof, "POST", "/courses/" + id(cours.ID) + "/participants/bulk", url.Values{"action": {"unenrol"}}},
		{prof, "POST", "/courses/" + id(cours.ID) + "/enrol", url.Values{}},
		{admin, "POST", "/admin/course-roles", url.Values{"shortname": {"Mauvais Nom"}, "name": {""}, "base_role": {"empereur"}}},
		{admin, "POST", "/admin/profile-fields", url.Values{"key": {"1x"}, "label": {""}, "kind": {"couleur"}}},
		{admin, "POST", "/admin/sync", url.Values{"name": {""}}},
		{admin, "GET", "/", nil},
		{prof, "GET", "/", nil},
		{etu, "GET", "/", nil},
		{resp, "GET", "/", nil},
		{admin, "GET", "/admin/users", nil},
		{admin, "GET", "/admin/users/" + id(etu.ID), nil},
		{admin, "POST", "/admin/users/" + id(etu.ID), url.Values{"first_name": {""}, "last_name": {""}, "email": {"pas-une-adresse"}, "username": {""}}},
		{admin, "GET", "/admin/users/" + id(etu.ID) + "/delete", nil},
		{admin, "GET", "/admin/settings", nil},
		{admin, "POST", "/admin/settings", url.Values{"site_language": {"fr"}, "site_timezone": {"Lune/Tranquillité"}}},
		{admin, "GET", "/admin/billing", nil},
		{admin, "GET", "/admin/mail", nil},
		{admin, "GET", "/admin/audit", nil},
		{admin, "GET", "/admin/profile-fields", nil},
		{admin, "GET", "/admin/course-roles", nil},
		{admin, "GET", "/courses", nil},
		{admin, "POST", "/courses", url.Values{"shortname": {""}, "fullname": {""}}},
		{prof, "GET", "/courses/" + id(cours.ID), nil},
		{prof, "GET", "/courses/" + id(cours.ID) + "/participants", nil},
		{prof, "GET", "/courses/" + id(cours.ID) + "/participants?enrol=1", nil},
		{prof, "GET", "/courses/" + id(cours.ID) + "/invitations", nil},
		{prof, "POST", "/courses/" + id(cours.ID) + "/invitations", url.Values{"emails": {"sans-arobase, marie@univ.test"}}},
		{prof, "GET", "/courses/" + id(cours.ID) + "/methods", nil},
		{prof, "POST", "/courses/" + id(cours.ID) + "/methods", url.Values{"type": {"self"}, "name": {"Libre"}, "enrol_key": {"clé"}}},
		{prof, "POST", "/courses/" + id(cours.ID) + "/methods", url.Values{"type": {"group_sync"}}},
		{etu, "GET", "/courses", nil},
		{etu, "GET", "/", nil},
		{prof, "GET", "/", nil},
		{etu, "GET", "/courses/" + id(cours.ID) + "/participants", nil},
		{admin, "GET", "/groups", nil},
		{resp, "GET", "/groups", nil},
		{admin, "POST", "/groups", url.Values{"name": {""}, "parent_id": {id(siege.ID)}}},
		{resp, "GET", "/groups/" + id(agence.ID), nil},
		{etu, "GET", "/groups/" + id(siege.ID), nil},
		{admin, "GET", "/groups/" + id(siege.ID) + "/delete", nil},
		{admin, "GET", "/invitations", nil},
		{admin, "GET", "/invitations/new", nil},
		{admin, "POST", "/invitations/new", url.Values{"emails": {"sans-arobase, a@b, Paul <paul@entreprise.test>"},
			"groups": {id(agence.ID)}, "role": {group.Learner}, "language": {"fr"}}},
		{resp, "POST", "/invitations/new?as=rf", url.Values{"emails": {"x@entreprise.test"}, "groups": {id(siege.ID)}, "role": {group.Learner}}},
		{prof, "GET", "/external/new", nil},
		{prof, "POST", "/external/new", url.Values{"first_name": {""}, "last_name": {""}, "email": {"sans-arobase"}}},
		{admin, "GET", "/admin/imports", nil},
		{admin, "GET", "/admin/sync", nil},
		{admin, "GET", "/admin/sso", nil},
		{admin, "GET", "/admin/sso/new", nil},
	}
	// The error paths are taken: each of these pages shows this French message.
	forced := map[string]string{
		"POST /password/reset/" + resetToken:  "au moins 12 caractères",
		"POST /invitation/" + invitationToken: "au moins 12 caractères",
		"POST /invitations/new":               "il manque le @",
		"POST /external/new":                  "est obligatoire",
		"POST /courses":                       "un cours a besoin d’un nom abrégé",
		"POST /admin/settings":                "n’est pas un fuseau horaire",
		"POST /admin/users/" + id(etu.ID):     "n’est pas une adresse e-mail valide",
		"POST /admin/sync":                    "un nom de 1 à 100 caractères",
		"POST /login":                         "Identifiant ou mot de passe incorrect",
		"GET /invitation/" + invitationToken:  "Hélène Dubois",
	}
	// The detector itself: the English login page is full of English.
	if _, body, _ := r.call(nil, "GET", "/login?lang=en", nil); len(fc.problems(visibleText(t, body))) < 5 {
		t.Fatal("the English login page reads as French: the detector is broken")
	}
	for _, v := range visits {
		who := "anonymous"
		if v.as != nil {
			who = v.as.Username
		}
		code, body, loc := r.call(v.as, v.method, v.path, v.form)
		if code == 303 && loc != "" { // done: read the page it leads to
			_, body, _ = r.call(v.as, "GET", loc, nil)
		}
		if !strings.Contains(body, `<html lang="fr">`) {
			t.Errorf("%s %s as %s: not a French page", v.method, v.path, who)
			continue
		}
		if want, ok := forced[v.method+" "+v.path]; ok && !strings.Contains(body, want) {
			t.Errorf("%s %s as %s: the error path was not taken (no %q):\n%s", v.method, v.path, who, want, body)
		}
		for _, p := range fc.problems(visibleText(t, body)) {
			t.Errorf("%s %s as %s: %s", v.method, v.path, who, p)
		}
	}

	// An import preview with errors in its rows, as a French administrator.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"format": "moodle", "mode": "add_new", "paste": "email\tfirst name\tlast name\tgroups\troles\tlanguage\tdelete_at\r\n" +
		"ann@univ.test\tAnn\tLee\tinconnu\tlearner\tfr\r\n" + "bob@univ.test\tBob\tDurand\t\t\tde\t31-31-2027\r\n" +
		"etu@univ.test\tLouis\tPetit\t\t\tfr\r\n"} {
		mw.WriteField(k, v)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/admin/imports/preview", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := r.do(admin, req)
	if body := rec.Body.String(); !strings.Contains(body, "n’est pas disponible") {
		t.Errorf("import preview: the row errors were not shown in French:\n%s", body)
	} else {
		for _, p := range fc.problems(visibleText(t, body), "email", "first name", "last name", "groups", "roles", "language", "delete_at") {
			t.Errorf("POST /admin/imports/preview as direction: %s", p)
		}
	}

	// Every email template, in French, with realistic data.
	for _, m := range mail.SampleMessages() {
		m.Language = "fr"
		subject, text, htmlBody, err := mail.Render(m)
		if err != nil {
			t.Fatalf("%s: %v", m.Template, err)
		}
		texts := append([]string{subject}, strings.Split(text, "\n")...)
		texts = append(texts, visibleText(t, htmlBody)...)
		var clean []string
		for _, s := range texts {
			if s = strings.TrimSpace(s); s != "" {
				clean = append(clean, s)
			}
		}
		var values []string // the sample's data: names, addresses, links
		for _, v := range m.Data {
			switch v := v.(type) {
			case string:
				values = append(values, v)
			case []string:
				values = append(values, v...)
			}
		}
		for _, p := range fc.problems(clean, values...) {
			t.Errorf("email %s: %s", m.Template, p)
		}
	}
}
