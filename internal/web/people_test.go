package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/invite"
	"roster/internal/mail"
)

// TestGroupAddPeopleAndPending: a group's page offers its administrators every way to add
// people and its pending invitations (with sub-groups); the list offers resend and cancel only
// on the invitations the person may manage (one merged with another administrator's is not
// theirs); a teacher's "cancel many" answers with the page, not 403.
func TestGroupAddPeopleAndPending(t *testing.T) {
	r := newRig(t)
	sys := authz.With(r.ctx, authz.System)
	admin := r.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	gaby := r.user(account.NewUser{Email: "gaby@example.org", FirstName: "Gaby", LastName: "Groupe"})
	ulysse := r.user(account.NewUser{Email: "ulysse@example.org", FirstName: "Ulysse", LastName: "Utilisateurs"})
	tess := r.user(account.NewUser{Email: "tess@example.org", FirstName: "Tess", LastName: "Teacher"})
	mk := func(parent int64, name string) int64 {
		t.Helper()
		g, err := r.groups.Create(sys, group.Group{ParentID: parent, Name: name, Visibility: group.Private})
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	acme := mk(0, "Acme")
	sales := mk(acme, "Équipe ventes")
	other := mk(0, "Autre société")
	for _, m := range []struct {
		g, u int64
		role string
	}{{acme, gaby.ID, group.GroupAdmin}, {acme, ulysse.ID, group.UserAdmin}} {
		if err := r.groups.AddMember(sys, m.g, m.u, m.role, ""); err != nil {
			t.Fatal(err)
		}
	}
	c, err := r.courses.Create(sys, course.Course{Shortname: "C1", Fullname: "Cours", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.courses.Enrol(sys, c.ID, course.EnrolRequest{UserIDs: []int64{tess.ID}, Role: course.Teacher}); err != nil {
		t.Fatal(err)
	}
	as := func(u *account.User) *authz.Principal { return r.accounts.PrincipalFor(u) }
	// Gaby invites two people into the sub-group; the platform administrator invited one of
	// them into another company first, so that invitation carries a grant Gaby may not manage.
	if _, err := r.invites.Invite(authz.With(r.ctx, as(admin)), invite.Request{Emails: "kim@x.org",
		Groups: []invite.Grant{{GroupID: other, Role: group.Learner}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.invites.Invite(authz.With(r.ctx, as(gaby)), invite.Request{Emails: "kim@x.org, Zoé Lefèvre <zoe@x.org>",
		Groups: []invite.Grant{{GroupID: sales, Role: group.Learner}}}); err != nil {
		t.Fatal(err)
	}

	page := fmt.Sprint("/groups/", acme)
	code, body, _ := r.call(gaby, "GET", page, nil)
	r.want(code, body, 200, `id="add-people"`, `href="/invitations/new?group=`, `id="add-paste"`, `id="pending-link"`)
	if strings.Contains(body, `id="add-create"`) {
		t.Error("a group administrator is offered to create accounts")
	}
	code, body, _ = r.call(ulysse, "GET", page+"?lang=fr", nil)
	r.want(code, body, 200, `id="add-create"`, "Ajouter des personnes", "Invitations en attente")
	pending := regexp.MustCompile(`href="(/invitations\?[^"]+)" id="pending-link"`).FindStringSubmatch(body)
	if pending == nil {
		t.Fatal("no pending link")
	}
	code, body, _ = r.call(gaby, "GET", strings.ReplaceAll(pending[1], "&amp;", "&"), nil)
	r.want(code, body, 200, "zoe@x.org", "kim@x.org")
	rows := map[string]string{}
	for _, m := range regexp.MustCompile(`(?s)<tr class="invitation" data-email="([^"]+)">(.*?)</tr>`).FindAllStringSubmatch(body, -1) {
		rows[m[1]] = m[2]
	}
	if !strings.Contains(rows["zoe@x.org"], "/resend") || !strings.Contains(rows["zoe@x.org"], "/cancel") {
		t.Errorf("Gaby's own invitation has no buttons:\n%s", rows["zoe@x.org"])
	}
	if strings.Contains(rows["kim@x.org"], "/resend") || strings.Contains(rows["kim@x.org"], "/cancel") ||
		!strings.Contains(rows["kim@x.org"], "not-yours") {
		t.Errorf("the merged invitation offers buttons that would answer 404:\n%s", rows["kim@x.org"])
	}
	// The administrator, who manages both, gets both.
	_, body, _ = r.call(admin, "GET", "/invitations", nil)
	if n := strings.Count(body, "/resend\""); n != 2 {
		t.Errorf("the platform administrator sees %d resend buttons, want 2", n)
	}

	// A teacher's "cancel many": the page with the outcome, in their language.
	code, body, _ = r.call(tess, "POST", "/invitations/cancel-many?lang=fr", url.Values{"emails": {"zoe@x.org"}})
	r.want(code, body, 200, `id="cancel-results"`, `id="no-invitations"`)
	code, body, _ = r.call(tess, "GET", "/invitations", nil)
	r.want(code, body, 200, `id="no-invitations"`)
	// Zoé's invitation is not the teacher's to cancel.
	code, body, _ = r.call(gaby, "GET", "/invitations?q=zoe", nil)
	r.want(code, body, 200, "zoe@x.org")
}

// TestLoginAndLinks: the login page says cookies are needed and tells a browser that refused
// them; the guest box stays after a wrong password; a reset link logs the person in (the old
// sessions end); message pages offer the login page to visitors only, and "forgotten password"
// on a used link; an invitation overtaken by an account says what to do.
func TestLoginAndLinks(t *testing.T) {
	r := newRig(t)
	sys := authz.With(r.ctx, authz.System)
	admin := r.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	hash, err := r.accounts.HashPassword(r.ctx, "violette lanterne port 7", "lea", "lea@example.org")
	if err != nil {
		t.Fatal(err)
	}
	lea := r.user(account.NewUser{Email: "lea@example.org", Username: "lea", FirstName: "Léa", LastName: "Fournier", PasswordHash: hash})
	if _, err := r.courses.Create(sys, course.Course{Shortname: "G", Fullname: "Guest course", Visible: true, GuestAccess: true}); err != nil {
		t.Fatal(err)
	}

	for _, lang := range []string{"en", "fr"} {
		code, body, _ := r.call(nil, "GET", "/login?lang="+lang, nil)
		r.want(code, body, 200, `id="cookies-note"`, "cookie")
		code, body, _ = r.call(nil, "POST", "/login?lang="+lang, url.Values{"login": {"lea"}, "password": {"wrong password here"}})
		r.want(code, body, 401, `href="/courses?guest=1"`)
		code, body, _ = r.call(nil, "GET", "/login?check=1&lang="+lang, nil)
		r.want(code, body, 200, `id="page-error"`, map[string]string{"en": "refused the cookie", "fr": "a refusé le cookie"}[lang])
	}
	// A login goes through the check, which sends a logged-in person on.
	_, _, loc := r.call(nil, "POST", "/login", url.Values{"login": {"lea"}, "password": {"violette lanterne port 7"}, "next": {"/courses"}})
	if loc != "/login?check=1&next=%2Fcourses&in=en" {
		t.Fatalf("after login: Location %q", loc)
	}
	if code, _, loc := r.call(lea, "GET", loc, nil); code != 303 || loc != "/courses" {
		t.Fatalf("the check sends a logged-in person to %d %q", code, loc)
	}

	// A reset link: the person is logged in with a new session, the old one is over.
	old, err := r.accounts.CreateSession(r.ctx, lea.ID, "192.0.2.1", "old browser")
	if err != nil {
		t.Fatal(err)
	}
	r.call(nil, "POST", "/password/forgot", url.Values{"login": {"lea"}})
	token := outboxToken(t, r, "/password/reset/")
	rec := r.send(nil, "POST", "/password/reset/"+token, url.Values{"password": {"nouveau mot de passe 8"}, "confirm": {"nouveau mot de passe 8"}})
	if rec.Code != 303 || !strings.HasPrefix(rec.Header().Get("Location"), "/login?check=1&next=%2F%3Fdone%3Dreset") {
		t.Fatalf("after the reset: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	var fresh string
	for _, ck := range rec.Result().Cookies() {
		if ck.Value != "" && ck.MaxAge >= 0 {
			fresh = ck.Value
		}
	}
	if fresh == "" {
		t.Fatal("no new session cookie after the reset")
	}
	if u, err := r.accounts.SessionUser(r.ctx, fresh); err != nil || u.ID != lea.ID {
		t.Fatalf("the new session: %v %v", u, err)
	}
	if _, err := r.accounts.SessionUser(r.ctx, old); err == nil {
		t.Error("the old session still works after a reset")
	}
	code, body, _ := r.call(lea, "GET", "/?done=reset&lang=fr", nil)
	r.want(code, body, 200, "vous êtes connecté")

	// The used link: "forgotten password", and the login page for a visitor only.
	code, body, _ = r.call(nil, "GET", "/password/reset/"+token, nil)
	r.want(code, body, http.StatusGone, `id="message-forgot"`, `id="message-login"`)
	code, body, _ = r.call(lea, "GET", "/password/reset/"+token, nil)
	r.want(code, body, http.StatusGone, `id="message-home"`)
	if strings.Contains(body, `id="message-login"`) {
		t.Error("a logged-in person is offered the login page")
	}

	// A page refused to a logged-in person: home, not the login page.
	code, body, _ = r.call(lea, "GET", "/admin/billing", nil)
	if code != http.StatusForbidden || !strings.Contains(body, `id="message-home"`) || strings.Contains(body, `id="message-login"`) {
		t.Errorf("a refused page for a logged-in person: %d\n%s", code, body)
	}

	// An invitation overtaken by an account: why, and what to do.
	if _, err := r.invites.Invite(authz.With(r.ctx, r.accounts.PrincipalFor(admin)), invite.Request{Emails: "marc@example.org"}); err != nil {
		t.Fatal(err)
	}
	inv := outboxToken(t, r, "/invitation/")
	r.user(account.NewUser{Email: "marc@example.org", FirstName: "Marc", LastName: "Dupont"})
	for _, lang := range []string{"en", "fr"} {
		code, body, _ = r.call(nil, "POST", "/invitation/"+inv+"?lang="+lang, url.Values{"first_name": {"Marc"}, "last_name": {"Dupont"},
			"password": {"un mot de passe solide 9"}, "confirm": {"un mot de passe solide 9"}})
		r.want(code, body, http.StatusConflict, "marc@example.org", `id="message-forgot"`, `id="message-login"`)
		if strings.Contains(body, `id="accept-submit"`) {
			t.Errorf("%s: the empty form again", lang)
		}
	}
}

// outboxToken is the token of the latest email holding a link that starts with prefix.
func outboxToken(t *testing.T, r *rig, prefix string) string {
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
