package web

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/invite"
	"roster/internal/store"
)

// formCase is one submission of a form that must fail with a message the person reads: beside
// the field (class="field-error") or at the top of the page (id="page-error"), in the page's
// language, on a page that is not empty (it still has its form or its links).
type formCase struct {
	as     string // who submits: a key of the people map below; "" is a visitor
	path   string // POST path; {course}, {group}, {user}, {reset}, {setup}, {invitation} are filled in
	form   url.Values
	en, fr string // a piece of the message in each language ("" checks only that one is shown)
	// where, if set, is the element that shows the errors instead of a field or the top (the
	// per-address results of a pasted list).
	where string
}

// formCases are the forms of the pages, submitted empty and with bad values. Add a row for each
// new form (or a new way of getting one wrong).
var formCases = []formCase{
	{"", "/login", url.Values{}, "Wrong login or password", "Identifiant ou mot de passe incorrect", ""},
	{"", "/password/forgot", url.Values{"login": {""}}, "equired", "bligatoire", ""},
	{"", "/password/reset/{reset}", url.Values{}, "equired", "bligatoire", ""},
	{"", "/password/reset/{reset}", url.Values{"password": {"court"}, "confirm": {"court"}}, "12", "12", ""},
	{"", "/password/reset/{reset}", url.Values{"password": {"long enough password 1"}, "confirm": {"another one"}}, "", "", ""},
	{"", "/password/reset/unknown-token", url.Values{}, "does not work any more", "ne fonctionne plus", ""},
	{"", "/account/setup/{setup}", url.Values{}, "equired", "bligatoire", ""},
	{"", "/invitation/{invitation}", url.Values{}, "equired", "bligatoire", ""},
	{"", "/invitation/{invitation}", url.Values{"first_name": {strings.Repeat("é", 300)}, "last_name": {"Lefèvre"}, "password": {"court"}, "confirm": {"court"}}, "", "", ""},
	{"", "/setup/unknown-token", url.Values{}, "", "", ""},
	{"admin", "/admin/users/{user}", url.Values{}, "", "", ""},
	{"admin", "/admin/users/{user}", url.Values{"first_name": {"Zoé"}, "last_name": {"Lefèvre"}, "email": {"pas-une-adresse"}, "username": {"zoe"}}, "valid email", "adresse e-mail valide", ""},
	{"admin", "/admin/profile-fields", url.Values{}, "", "", ""},
	{"admin", "/admin/profile-fields", url.Values{"key": {"1x"}, "label": {""}, "kind": {"couleur"}}, "", "", ""},
	{"admin", "/admin/settings", url.Values{"site_language": {"fr"}, "site_timezone": {"Lune/Tranquillité"}}, "time zone", "fuseau horaire", ""},
	{"admin", "/admin/course-roles", url.Values{}, "", "", ""},
	{"admin", "/admin/course-roles", url.Values{"shortname": {"Mauvais Nom"}, "name": {""}, "base_role": {"empereur"}}, "", "", ""},
	{"admin", "/admin/oidc-clients", url.Values{}, "", "", ""},
	{"admin", "/admin/sync", url.Values{"name": {""}}, "", "", ""},
	{"admin", "/courses", url.Values{}, "", "", ""},
	{"admin", "/courses", url.Values{"shortname": {strings.Repeat("x", 300)}, "fullname": {"Cours"}}, "", "", ""},
	{"admin", "/invitations/new", url.Values{}, "", "", ""},
	{"admin", "/invitations/new", url.Values{"emails": {"sans-arobase, a@b"}, "group_id": {"{group}"}, "role": {group.Learner}}, "2 invalid", "2 invalides", `id="invite-results"`},
	{"admin", "/invitations/cancel-many", url.Values{}, "", "", ""},
	{"admin", "/invitations/lifetime", url.Values{"lifetime_days": {"beaucoup"}}, "", "", ""},
	{"admin", "/external/new", url.Values{}, "equired", "bligatoire", ""},
	{"admin", "/external/new", url.Values{"first_name": {"Zoé"}, "last_name": {"Lefèvre"}, "email": {"sans-arobase"}}, "", "", ""},
	{"admin", "/groups", url.Values{"name": {""}}, "", "", ""},
	{"admin", "/groups/{group}", url.Values{"name": {""}}, "", "", ""},
	{"admin", "/groups/{group}", url.Values{"name": {strings.Repeat("Équipe ", 50)}}, "", "", ""},
	{"gadmin", "/groups/{group}/members", url.Values{"login": {"personne"}, "add_role": {group.Learner}}, "", "", ""},
	{"gadmin", "/groups/{group}/members", url.Values{}, "", "", ""},
	{"teacher", "/external/new", url.Values{"first_name": {""}, "last_name": {""}, "email": {"sans-arobase"}, "quick": {"1"}}, "", "", ""},
}

var (
	fieldOrPageError = regexp.MustCompile(`class="field-error"[^>]*>[^<]+<|id="page-error">[^<]+<`)
	emptyMain        = regexp.MustCompile(`(?s)<main>\s*<h1>[^<]*</h1>\s*</main>`)
)

// TestFormsShowTheirErrors submits every form of formCases, in English and in French, and
// checks that the answer is a page (not a redirect, not an empty page) that shows the error.
func TestFormsShowTheirErrors(t *testing.T) {
	r := newRig(t)
	sys := authz.With(r.ctx, authz.System)
	people := map[string]*account.User{
		"admin":   r.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true}),
		"gadmin":  r.user(account.NewUser{Email: "gaby@example.org", FirstName: "Gaby", LastName: "Groupe"}),
		"teacher": r.user(account.NewUser{Email: "tess@example.org", FirstName: "Tess", LastName: "Teacher"}),
	}
	zoe := r.user(account.NewUser{Email: "zoe@example.org", Username: "zoe", FirstName: "Zoé", LastName: "Lefèvre"})
	g, err := r.groups.Create(sys, group.Group{Name: "Équipe A", Visibility: group.Private})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.groups.AddMember(sys, g.ID, people["gadmin"].ID, group.GroupAdmin, ""); err != nil {
		t.Fatal(err)
	}
	c, err := r.courses.Create(sys, course.Course{Shortname: "C1", Fullname: "Cours", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.courses.Enrol(sys, c.ID, course.EnrolRequest{UserIDs: []int64{people["teacher"].ID}, Role: course.Teacher}); err != nil {
		t.Fatal(err)
	}
	r.call(nil, "POST", "/password/forgot", url.Values{"login": {"zoe"}})
	if _, err := r.invites.Invite(authz.With(r.ctx, r.accounts.PrincipalFor(people["admin"])), invite.Request{
		Emails: "Marc Dupont <marc@example.org>", Groups: []invite.Grant{{GroupID: g.ID, Role: group.Learner}}}); err != nil {
		t.Fatal(err)
	}
	setup := ""
	if err := r.db.Tx(r.ctx, func(tx *store.Tx) error {
		link, err := r.accounts.IssueSetupLink(r.ctx, tx, zoe.ID)
		setup = link[strings.LastIndex(link, "/")+1:]
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{course}", fmt.Sprint(c.ID), "{group}", fmt.Sprint(g.ID), "{user}", fmt.Sprint(zoe.ID),
		"{reset}", outboxToken(t, r, "/password/reset/"), "{setup}", setup, "{invitation}", outboxToken(t, r, "/invitation/"))

	for _, fc := range formCases {
		form := url.Values{}
		for k, vs := range fc.form {
			for _, v := range vs {
				form.Add(k, fill.Replace(v))
			}
		}
		path := fill.Replace(fc.path)
		for _, lang := range []string{"en", "fr"} {
			name := fmt.Sprintf("%s %s %v (%s)", fc.as, fc.path, fc.form, lang)
			code, body, loc := r.call(people[fc.as], "POST", path+"?lang="+lang, form)
			switch {
			case code == 303:
				t.Errorf("%s: redirected to %s instead of showing the error", name, loc)
				continue
			case code >= 500:
				t.Errorf("%s: %d", name, code)
				continue
			case fc.where == "" && !fieldOrPageError.MatchString(body), fc.where != "" && !strings.Contains(body, fc.where):
				t.Errorf("%s: %d, no error shown:\n%s", name, code, body)
				continue
			case emptyMain.MatchString(body):
				t.Errorf("%s: an empty page:\n%s", name, body)
			}
			want := map[string]string{"en": fc.en, "fr": fc.fr}[lang]
			if want != "" && !strings.Contains(body, want) {
				t.Errorf("%s: the page lacks %q:\n%s", name, want, body)
			}
		}
	}
}

// TestUnshownFieldErrorsGoOnTop: a field's message that the page does not show beside a field
// (the form has no such field) goes to the top, named by the field's label when there is one.
func TestUnshownFieldErrorsGoOnTop(t *testing.T) {
	p := &Page{L: Localizer{Lang: "fr"}, Error: "Rien n’a été enregistré.",
		Fields: map[string]string{"email": "a déjà un compte", "first_name": "est obligatoire", "zz_unknown": "ne va pas"}}
	if !unshownFieldErrors(p, []byte(`<p class="field-error">est obligatoire</p>`)) {
		t.Fatal("nothing moved")
	}
	if want := "Rien n’a été enregistré. Adresse e-mail\u00a0: a déjà un compte ne va pas"; p.Error != want {
		t.Errorf("top = %q, want %q", p.Error, want)
	}
	if len(p.Fields) != 1 || p.Fields["first_name"] == "" {
		t.Errorf("fields left: %v", p.Fields)
	}
	if unshownFieldErrors(p, []byte(`<p class="field-error">est obligatoire</p>`)) {
		t.Error("moved again")
	}
}
