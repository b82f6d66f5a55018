package web

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/group"
)

var menuLink = regexp.MustCompile(`<li><a href="([^"]+)" id="([^"]+)">`)

// TestMenuByRole: the header's menu of each kind of person lists exactly what they may do, and
// every link it offers opens a page (200), in both languages; a user administrator reaches
// their people's list, and from it a person's page.
func TestMenuByRole(t *testing.T) {
	rg := newRig(t)
	ctx, create := rg.ctx, rg.user
	sys := authz.With(ctx, authz.System)
	admin := create(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	gadmin := create(account.NewUser{Email: "gaby@example.org", FirstName: "Gaby", LastName: "Groupe"})
	uadmin := create(account.NewUser{Email: "ulysse@example.org", FirstName: "Ulysse", LastName: "Utilisateurs"})
	teacher := create(account.NewUser{Email: "tess@example.org", FirstName: "Tess", LastName: "Teacher"})
	learner := create(account.NewUser{Email: "lea@example.org", FirstName: "Léa", LastName: "Apprenante"})
	g, err := rg.groups.Create(sys, group.Group{Name: "Équipe A", Visibility: group.Private})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		u    *account.User
		role string
	}{{gadmin, group.GroupAdmin}, {uadmin, group.UserAdmin}, {learner, group.Learner}} {
		if err := rg.groups.AddMember(sys, g.ID, m.u.ID, m.role, ""); err != nil {
			t.Fatal(err)
		}
	}
	c, err := rg.courses.Create(sys, course.Course{Shortname: "C1", Fullname: "Cours", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rg.courses.Enrol(sys, c.ID, course.EnrolRequest{UserIDs: []int64{teacher.ID}, Role: course.Teacher}); err != nil {
		t.Fatal(err)
	}

	admin_ := []string{"menu-home", "menu-courses", "nav-groups", "menu-users", "menu-invite", "menu-create", "menu-invitations",
		"menu-imports", "menu-sync", "menu-sso", "menu-mail", "menu-billing", "menu-audit", "menu-platforms",
		"menu-profile-fields", "menu-course-roles", "nav-settings"}
	for _, tc := range []struct {
		name string
		as   *account.User
		want []string
	}{
		{"platform admin", admin, admin_},
		{"user admin", uadmin, []string{"menu-home", "menu-courses", "nav-groups", "menu-users", "menu-invite", "menu-create", "menu-invitations"}},
		{"group admin", gadmin, []string{"menu-home", "menu-courses", "nav-groups", "menu-users", "menu-invite", "menu-invitations"}},
		{"teacher", teacher, []string{"menu-home", "menu-courses", "menu-invitations"}},
		{"learner", learner, []string{"menu-home", "menu-courses"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, lang := range []string{"en", "fr"} {
				code, body, _ := rg.call(tc.as, "GET", "/?lang="+lang, nil)
				rg.want(code, body, http.StatusOK, `id="menu-button"`, `action="/logout"`)
				var ids []string
				_, panel, _ := strings.Cut(body, `class="menu-panel"`)
				panel, _, _ = strings.Cut(panel, "</nav>")
				for _, m := range menuLink.FindAllStringSubmatch(panel, -1) {
					ids = append(ids, m[2])
					if lang == "en" { // every link opens a page for this person
						if code, page, _ := rg.call(tc.as, "GET", m[1], nil); code != http.StatusOK {
							t.Errorf("%s: %s answers %d:\n%.600s", tc.name, m[1], code, page)
						}
					}
				}
				if !slices.Equal(ids, tc.want) {
					t.Errorf("%s (%s): menu %v, want %v", tc.name, lang, ids, tc.want)
				}
				if lang == "fr" && !strings.Contains(body, "Mon compte") {
					t.Errorf("the French menu is not in French")
				}
			}
		})
	}

	// The user administrator's people: searchable, each linking to the person's page.
	code, body, _ := rg.call(uadmin, "GET", "/admin/users?q=apprenante", nil)
	rg.want(code, body, http.StatusOK, "Apprenante")
	if strings.Contains(body, "Teacher") {
		t.Errorf("a user administrator sees someone outside their groups:\n%s", body)
	}
	href := regexp.MustCompile(`href="(/admin/users/\d+)"`).FindStringSubmatch(body)
	if href == nil {
		t.Fatalf("no link to the person's page:\n%s", body)
	}
	code, body, _ = rg.call(uadmin, "GET", href[1], nil)
	rg.want(code, body, http.StatusOK, "lea@example.org")

	// Nobody logged in: no menu.
	code, body, _ = rg.call(nil, "GET", "/login", nil)
	rg.want(code, body, http.StatusOK, `id="login-submit"`)
	if strings.Contains(body, `id="menu-button"`) {
		t.Error("the login page shows the menu")
	}
}
