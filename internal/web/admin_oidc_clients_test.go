package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/secret"
)

// TestAdminOIDCClients: a platform administrator registers a platform and sees its secret
// once (stored only as a hash), edits it, gives it a new secret and deletes it; a form error
// is shown on the field; anyone else is refused; the French page has its own words.
func TestAdminOIDCClients(t *testing.T) {
	r := newRig(t)
	adm := r.user(account.NewUser{Username: "root", FirstName: "Ada", LastName: "Admin", IsAdmin: true, Language: "en"})
	teacher := r.user(account.NewUser{Username: "tea", FirstName: "Tea", LastName: "Cher", Language: "en"})

	code, body, _ := r.call(adm, "GET", "/admin/oidc-clients", nil)
	r.want(code, body, http.StatusOK, "No platform is registered", "https://roster.test/.well-known/openid-configuration")

	form := url.Values{"name": {"Moodle"}, "redirect_uris": {"https://moodle.example.org/admin/oauth2callback.php\n"},
		"grant_types": {"authorization_code", "refresh_token"}, "scopes": {"openid", "profile", "email"}, "group_id": {"0"}}
	code, body, _ = r.call(adm, "POST", "/admin/oidc-clients", form)
	r.want(code, body, http.StatusOK, "Copy the secret now", "Moodle")
	m := regexp.MustCompile(`id="shown-secret">([^<]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret shown:\n%s", body)
	}
	var hash string
	var id int64
	if err := r.db.QueryRowContext(r.ctx, `SELECT id, secret_hash FROM oidc_clients`).Scan(&id, &hash); err != nil {
		t.Fatal(err)
	}
	if hash != secret.Hash(m[1]) {
		t.Errorf("stored %q, not the hash of the secret shown", hash)
	}
	code, body, _ = r.call(adm, "GET", "/admin/oidc-clients", nil)
	if strings.Contains(body, m[1]) {
		t.Error("the list shows the secret again")
	}

	// A bad redirect URI is an error on its field.
	form.Set("redirect_uris", "not a url")
	code, body, _ = r.call(adm, "POST", "/admin/oidc-clients", form)
	r.want(code, body, http.StatusUnprocessableEntity, `class="field-error"`, "not an absolute URL")

	// Edit, new secret, delete.
	path := "/admin/oidc-clients/" + itoa(int(id))
	form.Set("redirect_uris", "https://moodle.example.org/admin/oauth2callback.php")
	form.Set("name", "Moodle 2")
	code, body, loc := r.call(adm, "POST", path, form)
	if code != http.StatusSeeOther || loc != "/admin/oidc-clients?done=saved" {
		t.Fatalf("save: %d %s %s", code, loc, body)
	}
	code, body, _ = r.call(adm, "POST", path+"/secret", nil)
	r.want(code, body, http.StatusOK, "Copy the secret now")
	var hash2 string
	r.db.QueryRowContext(r.ctx, `SELECT secret_hash FROM oidc_clients`).Scan(&hash2)
	if hash2 == hash {
		t.Error("the new secret did not replace the old one")
	}

	// Others are refused.
	for _, c := range []struct{ method, path string }{{"GET", "/admin/oidc-clients"}, {"POST", "/admin/oidc-clients"},
		{"POST", path}, {"POST", path + "/secret"}, {"POST", path + "/delete"}} {
		if code, _, _ := r.call(teacher, c.method, c.path, form); code != http.StatusForbidden {
			t.Errorf("%s %s as a teacher: %d", c.method, c.path, code)
		}
	}

	// French.
	fr := r.user(account.NewUser{Username: "racine", FirstName: "Ada", LastName: "Admin", IsAdmin: true, Language: "fr"})
	code, body, _ = r.call(fr, "GET", "/admin/oidc-clients", nil)
	r.want(code, body, http.StatusOK, "Plateformes connectées", "Enregistrer une plateforme", "Connecter les personnes")
	code, body, _ = r.call(fr, "GET", "/", nil)
	r.want(code, body, http.StatusOK, `href="/admin/oidc-clients"`)

	code, body, loc = r.call(adm, "POST", path+"/delete", nil)
	if code != http.StatusSeeOther || loc != "/admin/oidc-clients?done=deleted" {
		t.Fatalf("delete: %d %s %s", code, loc, body)
	}
	var n int
	r.db.QueryRowContext(r.ctx, `SELECT COUNT(*) FROM oidc_clients`).Scan(&n)
	if n != 0 {
		t.Errorf("%d clients after delete", n)
	}
}
