package web

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
)

// TestSiteLanguageAndTimeZone: the admin settings page sets the site's language and time zone;
// a visitor whose browser asks for English then meets French pages, dates are shown in the
// site's zone, a bad zone is refused in the page's language, and only platform administrators
// may change them.
func TestSiteLanguageAndTimeZone(t *testing.T) {
	r := newRig(t)
	admin := r.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	ann := r.user(account.NewUser{Email: "ann@example.org", FirstName: "Ann", LastName: "Lee"})

	english := func(path string) string {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
		return r.do(nil, req).Body.String()
	}
	if !strings.Contains(english("/login"), `<html lang="en">`) {
		t.Fatal("before a site language, the browser's decides")
	}
	code, body, _ := r.call(ann, "GET", "/admin/settings", nil)
	r.want(code, body, 403)
	code, body, _ = r.call(ann, "POST", "/admin/settings", url.Values{"site_language": {"fr"}})
	r.want(code, body, 403)

	code, body, _ = r.call(admin, "GET", "/admin/settings?lang=fr", nil)
	r.want(code, body, 200, "Langue du site", `id="site_timezone"`)
	code, body, _ = r.call(admin, "POST", "/admin/settings", url.Values{"site_language": {"fr"}, "site_timezone": {"Mars/Olympus"}})
	r.want(code, body, 422, "n’est pas un fuseau horaire")
	code, body, loc := r.call(admin, "POST", "/admin/settings", url.Values{"site_language": {"fr"}, "site_timezone": {"Europe/Paris"}})
	r.want(code, body, 303)
	code, body, _ = r.call(admin, "GET", loc, nil)
	r.want(code, body, 200, "Les réglages sont enregistrés.", `value="Europe/Paris"`)

	if !strings.Contains(english("/login"), `<html lang="fr">`) {
		t.Error("the site's language is not used for a visitor without one")
	}
	// The audit page shows the settings change at 10:00 in Paris (the clock reads 09:00 UTC),
	// as a French date.
	code, body, _ = r.call(admin, "GET", "/admin/audit", nil)
	r.want(code, body, 200, "site.settings")
	at := r.clock.Now().In(mustZone(t, "Europe/Paris")).Format("02/01/2006 15:04")
	r.want(code, body, 200, at)
}

// TestLanguageSwitchIsSaved: the header's switch, for a logged-in person, is saved on their
// account, so the next pages (and their emails) follow it.
func TestLanguageSwitchIsSaved(t *testing.T) {
	r := newRig(t)
	ann := r.user(account.NewUser{Email: "ann@example.org", FirstName: "Ann", LastName: "Lee"})
	r.get(ann, "/?lang=fr")
	u, err := r.accounts.UserByID(r.ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Language != "fr" {
		t.Fatalf("language %q after the switch", u.Language)
	}
	code, body, _ := r.call(u, "GET", "/", nil)
	r.want(code, body, 200, `<html lang="fr">`)
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestParticipantsExportInLanguage: the participants download speaks the person's language
// (headers, roles, methods, statuses, dates) with a byte order mark for spreadsheets;
// ?headers=codes keeps the machine headers and values.
func TestParticipantsExportInLanguage(t *testing.T) {
	r := newRig(t)
	sys := authz.With(r.ctx, authz.System)
	prof := r.user(account.NewUser{Email: "prof@univ.test", FirstName: "Jeanne", LastName: "Martin", Language: "fr"})
	etu := r.user(account.NewUser{Email: "etu@univ.test", FirstName: "Louis", LastName: "Petit"})
	c, err := r.courses.Create(sys, course.Course{Shortname: "UE5", Fullname: "Anglais", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		user int64
		role string
	}{{prof.ID, course.Teacher}, {etu.ID, course.Student}} {
		if _, err := r.courses.Enrol(sys, c.ID, course.EnrolRequest{UserIDs: []int64{e.user}, Role: e.role}); err != nil {
			t.Fatal(err)
		}
	}
	path := fmt.Sprintf("/courses/%d/participants/download?format=csv", c.ID)
	code, body, _ := r.call(prof, "GET", path, nil)
	if code != 200 || !strings.HasPrefix(body, "\ufeffPrénom,Nom,Adresse e-mail,") ||
		!strings.Contains(body, "Étudiant") || !strings.Contains(body, "Inscription manuelle") || !strings.Contains(body, "Actif") {
		t.Fatalf("French export: %d %q", code, body)
	}
	code, body, _ = r.call(prof, "GET", path+"&headers=codes", nil)
	if code != 200 || !strings.HasPrefix(body, "first_name,last_name,email,") || !strings.Contains(body, "student") ||
		!strings.Contains(body, ",manual,active,") {
		t.Fatalf("machine export: %d %q", code, body)
	}
}

// TestFrenchDateFields: on French pages a date field is text read and shown as dd/mm/yyyy
// (the browser would draw type=date in its own locale); English pages keep type=date.
func TestFrenchDateFields(t *testing.T) {
	r := newRig(t)
	admin := r.user(account.NewUser{Email: "direction@univ.test", FirstName: "Hélène", LastName: "Dubois", IsAdmin: true, Language: "fr"})
	etu := r.user(account.NewUser{Email: "etu@univ.test", FirstName: "Louis", LastName: "Petit"})
	path := fmt.Sprint("/admin/users/", etu.ID)
	code, body, _ := r.call(admin, "GET", path, nil)
	r.want(code, body, 200, `name="delete_at" type="text"`, `placeholder="jj/mm/aaaa"`)
	code, body, _ = r.call(admin, "POST", path, url.Values{"first_name": {"Louis"}, "last_name": {"Petit"},
		"email": {"etu@univ.test"}, "username": {etu.Username}, "delete_at": {"31/1/2027"}})
	if code != 303 {
		t.Fatalf("save: %d %s", code, body)
	}
	u, err := r.accounts.UserByID(r.ctx, etu.ID)
	if err != nil || u.DeleteAt == nil || !u.DeleteAt.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("delete_at %v %v", u.DeleteAt, err)
	}
	code, body, _ = r.call(admin, "GET", path, nil)
	r.want(code, body, 200, `value="31/01/2027"`)
	code, body, _ = r.call(admin, "GET", path+"?lang=en", nil)
	r.want(code, body, 200, `name="delete_at" type="date" value="2027-01-31"`)
}

// TestCourseRoleNamesPerLanguage: built-in course roles are named by the catalog; a role an
// administrator creates has a name per language.
func TestCourseRoleNamesPerLanguage(t *testing.T) {
	r := newRig(t)
	admin := r.user(account.NewUser{Email: "direction@univ.test", FirstName: "Hélène", LastName: "Dubois", IsAdmin: true, Language: "fr"})
	code, body, _ := r.call(admin, "POST", "/admin/course-roles", url.Values{"shortname": {"secretariat"}, "name": {"Secretariat"},
		"name_fr": {"Secrétariat"}, "base_role": {"non_editing_teacher"}})
	if code != 303 {
		t.Fatalf("create: %d %s", code, body)
	}
	code, body, _ = r.call(admin, "GET", "/admin/course-roles", nil)
	r.want(code, body, 200, "<td>Secrétariat</td>", "<td>Enseignant non éditeur</td>", "<td>Étudiant</td>")
	code, body, _ = r.call(admin, "GET", "/admin/course-roles?lang=en", nil)
	r.want(code, body, 200, "<td>Secretariat</td>", "<td>Non-editing teacher</td>")
}
