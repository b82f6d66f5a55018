package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/httpx"
	"roster/internal/testenv"
)

// TestBrowserFrenchDateField: in Chromium, a French page's date profile field reads and
// shows dd/mm/yyyy (a browser would draw type=date in its own locale, mm/dd/yyyy here), and
// the value is stored as yyyy-mm-dd.
func TestBrowserFrenchDateField(t *testing.T) {
	r := newRig(t)
	admin := r.user(account.NewUser{Username: "direction", FirstName: "Hélène", LastName: "Dubois", IsAdmin: true, Language: "fr"})
	etu := r.user(account.NewUser{Username: "lpetit", Email: "etu@univ.test", FirstName: "Louis", LastName: "Petit", Language: "fr"})
	if code, body, _ := r.call(admin, "POST", "/admin/profile-fields", url.Values{"key": {"entree"}, "label": {"Date d’entrée"},
		"kind": {"date"}}); code != 303 {
		t.Fatalf("profile field: %d\n%s", code, body)
	}
	// The pages as the administrator, as the session middleware would run them.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := authz.With(req.Context(), r.accounts.PrincipalFor(admin))
		r.mux.ServeHTTP(w, req.WithContext(httpx.WithUser(ctx, admin)))
	}))
	defer srv.Close()

	ctx := testenv.Browser(t)
	page := srv.URL + "/admin/users/" + itoa(int(etu.ID))
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(`#cf_entree`)); err != nil {
		t.Fatal(err)
	}
	attr := func(name string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.AttributeValue(`#cf_entree`, name))
		if err != nil {
			t.Fatal(err)
		}
		return v.Value
	}
	typ, placeholder := attr("type"), attr("placeholder")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(`#cf_entree`, "12/03/2027"),
		chromedp.Click(`#user-save`),
		chromedp.WaitVisible(`.notice`),
		chromedp.Navigate(page),
		chromedp.WaitVisible(`#cf_entree`),
	); err != nil {
		t.Fatal(err)
	}
	value, err := chromedp.Run(ctx, chromedp.Value(`#cf_entree`))
	if err != nil {
		t.Fatal(err)
	}
	if typ != "text" || placeholder != "jj/mm/aaaa" || value != "12/03/2027" {
		t.Fatalf("date field: type %q, placeholder %q, value %q", typ, placeholder, value)
	}
	u, err := r.accounts.UserByID(authz.With(r.ctx, authz.System), etu.ID)
	if err != nil || u.CustomFields["entree"] != "2027-03-12" {
		t.Fatalf("stored %q (%v)", u.CustomFields["entree"], err)
	}
	if strings.Contains(value, "-") {
		t.Fatalf("shown as %q", value)
	}
}
