package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/group"
	"roster/internal/store"
)

// TestGroupPages runs the group pages as a platform administrator, a group administrator and
// a learner: the tree with its counts, creating, adding a member through the preview (which
// must make the propagated memberships), the CSV, a refused move, removing, deleting, and the
// 403 for a group out of scope.
func TestGroupPages(t *testing.T) {
	rg := newRig(t)
	db, ctx, groups, create := rg.db, rg.ctx, rg.groups, rg.user
	sys := authz.With(ctx, authz.System)
	admin := create(account.NewUser{Email: "grace@example.org", Username: "grace", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	alice := create(account.NewUser{Email: "alice@example.org", Username: "alice", FirstName: "Alice", LastName: "Martin"})
	bob := create(account.NewUser{Email: "bob@example.org", Username: "bob", FirstName: "Bob", LastName: "Durand"})
	carol := create(account.NewUser{Email: "carol@example.org", Username: "carol", FirstName: "Carol", LastName: "Petit"})
	mk := func(parent int64, name, vis string) int64 {
		t.Helper()
		g, err := groups.Create(sys, group.Group{ParentID: parent, Name: name, Visibility: vis})
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	company := mk(0, "Company", group.Private)
	region := mk(company, "Region", group.Public)
	team := mk(region, "Team", group.Public)
	teamB := mk(region, "Team B", group.Public)
	for _, m := range []struct {
		g, u int64
		role string
	}{{team, bob.ID, group.GroupAdmin}, {teamB, carol.ID, group.Learner}} {
		if err := groups.AddMember(sys, m.g, m.u, m.role, ""); err != nil {
			t.Fatal(err)
		}
	}

	call := rg.send
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
	follow := func(as *account.User, rec *httptest.ResponseRecorder, parts ...string) string {
		t.Helper()
		want(rec, http.StatusSeeOther)
		loc, _, _ := strings.Cut(rec.Header().Get("Location"), "#") // a browser keeps the fragment
		return want(call(as, "GET", loc, nil), http.StatusOK, parts...)
	}
	gpath := func(id int64, rest string) string { return fmt.Sprint("/groups/", id, rest) }

	// The tree: every group, nested, with its member count and visibility.
	body := want(call(admin, "GET", "/groups", nil), 200, `id="nav-groups"`, "4 groups",
		gpath(company, `" class="group-link">Company</a>`), "Team B</a>", "1 member", "private", "public", `id="group-create"`)
	if i, j := strings.Index(body, ">Region<"), strings.Index(body, ">Team<"); i < 0 || j < i {
		t.Fatal("Team is not drawn under Region")
	}
	want(call(admin, "GET", "/groups?lang=fr", nil), 200, "Groupes", "1 membre", "privé", "Nouveau groupe")
	want(call(admin, "GET", "/groups", nil), 200, "Nouveau groupe") // the switch is saved on the account
	call(admin, "GET", "/?lang=en", nil)

	// Creating: an error beside its field, then a group shown on its page.
	want(call(admin, "POST", "/groups", url.Values{"name": {""}, "parent_id": {fmt.Sprint(company)}}), 422,
		"a group needs a name")
	want(call(admin, "POST", "/groups", url.Values{"name": {"Team"}, "parent_id": {fmt.Sprint(region)}}), 409,
		"already exists here")
	follow(admin, call(admin, "POST", "/groups", url.Values{"name": {"Annex"}, "visibility": {"public"},
		"parent_id": {fmt.Sprint(company)}}), "The group is created.", "<h1>Annex</h1>", ">Company</a>")

	// Adding through the preview: it says what the rule will do, and confirming does it.
	want(call(admin, "GET", gpath(team, "/members/add?login=nobody&role=learner"), nil), 422,
		"No account has the username or email &#34;nobody&#34;")
	body = want(call(admin, "GET", gpath(team, "/members/add?login=alice@example.org&role=learner"), nil), 200,
		"This will also make Alice Martin a learner of Region and Company.")
	if n, _ := memberCount(t, db, alice.ID); n != 0 {
		t.Fatal("the preview added something")
	}
	follow(admin, call(admin, "POST", gpath(team, "/members"), url.Values{"user_id": {fmt.Sprint(alice.ID)}, "role": {"learner"}}),
		"The member is added.", "alice@example.org")
	got := alicesGroups(t, db, alice.ID)
	if wantG := []string{"Company learner propagated", "Region learner propagated", "Team learner manual"}; !slices.Equal(got, wantG) {
		t.Fatalf("memberships %v, want %v", got, wantG)
	}
	want(call(admin, "GET", gpath(team, "/members/add?login=alice&role=learner"), nil), 200, "already has this role here")
	// The group above shows where the membership comes from, and offers no removal of it.
	body = want(call(admin, "GET", gpath(company, ""), nil), 200, "Martin Alice", "through", gpath(team, `">Team</a>`))
	if strings.Contains(body, "remove-member") {
		t.Fatal("a propagated membership offers a remove button")
	}
	want(call(admin, "GET", gpath(company, "?q=martin&role=learner"), nil), 200, "alice@example.org")
	body = want(call(admin, "GET", gpath(company, "?q=nobody"), nil), 200, "No member matches.")

	// CSV for people: a byte order mark, headers and values in the person's language.
	rec := call(admin, "GET", gpath(team, "/members.csv"), nil)
	if body := rec.Body.String(); !strings.HasPrefix(body, "\ufeffAccount number,Username,Email address,") ||
		!strings.Contains(body, ",Learner,Added by hand,") {
		t.Fatalf("csv for people: %q", body)
	}
	// CSV for machines (?headers=codes): an attachment with the header row and the members.
	rec = call(admin, "GET", gpath(team, "/members.csv?headers=codes"), nil)
	want(rec, 200)
	if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "user_id" || rows[0][2] != "email" {
		t.Fatalf("csv %v", rows)
	}
	if !slices.ContainsFunc(rows, func(r []string) bool { return r[2] == "alice@example.org" && r[5] == "learner" && r[6] == "manual" }) {
		t.Fatalf("csv lacks alice: %v", rows)
	}
	want(call(admin, "GET", gpath(team, "/members.csv?role=chief"), nil), 422, "unknown role")

	// Settings and moves: a move under its own sub-group is refused beside the select.
	follow(admin, call(admin, "POST", gpath(teamB, ""), url.Values{"name": {"Team Bravo"}, "idnumber": {"TB"},
		"description": {"The second team"}, "visibility": {"private"}}), "The group is saved.", "Team Bravo", "The second team")
	want(call(admin, "POST", gpath(region, "/move"), url.Values{"parent_id": {fmt.Sprint(team)}}), 422,
		`id="move-error">cannot move a group under its own sub-group`)

	// A group administrator sees the groups link, their group and what is below, never a sibling.
	want(call(bob, "GET", "/", nil), 200, `id="groups-link"`)
	body = want(call(bob, "GET", "/groups", nil), 200, ">Team</a>")
	if strings.Contains(body, "Team Bravo") || strings.Contains(body, ">Company<") {
		t.Fatalf("a group administrator sees groups out of scope:\n%s", body)
	}
	body = want(call(bob, "GET", gpath(team, ""), nil), 200, "Martin Alice", `id="member-add"`, `id="group-save"`)
	if strings.Contains(body, `id="group-move"`) || strings.Count(body, `value="user_admin"`) != 1 /* the role filter's */ {
		t.Fatal("a group administrator is offered to move the group or to grant user_admin")
	}
	want(call(bob, "GET", gpath(teamB, ""), nil), 403, "you may not see this group")
	want(call(bob, "GET", gpath(teamB, "/members.csv"), nil), 403)
	want(call(bob, "GET", gpath(teamB, "/members/add?login=alice&role=learner"), nil), 403)
	want(call(bob, "POST", gpath(teamB, "/members"), url.Values{"user_id": {fmt.Sprint(bob.ID)}, "role": {"learner"}}), 403)
	want(call(bob, "POST", gpath(team, "/delete"), url.Values{"confirm": {"yes"}}), 403)
	// A learner has no groups link and no group.
	if body := want(call(carol, "GET", "/", nil), 200); strings.Contains(body, `id="groups-link"`) {
		t.Fatal("a learner is shown the groups link")
	}
	want(call(carol, "GET", gpath(teamB, ""), nil), 403)

	// Removing the manual membership removes what it caused above.
	follow(admin, call(admin, "POST", gpath(team, "/members/remove"), url.Values{"user_id": {fmt.Sprint(alice.ID)},
		"role": {"learner"}, "source": {"manual"}}), "The membership is removed")
	if n, _ := memberCount(t, db, alice.ID); n != 0 {
		t.Fatalf("%d memberships left", n)
	}

	// Deleting: the confirmation says what goes; without the box ticked nothing happens.
	want(call(admin, "GET", gpath(region, "/delete"), nil), 200, "Delete the group Region", "2 sub-groups, at any depth",
		"2 memberships, of 2 people")
	want(call(admin, "POST", gpath(region, "/delete"), url.Values{}), 422, "Tick the box to confirm.")
	follow(admin, call(admin, "POST", gpath(region, "/delete"), url.Values{"confirm": {"yes"}}), "The group is deleted.", "<h1>Company</h1>")
	want(call(admin, "GET", gpath(team, ""), nil), 404)
}

// TestGroupRolesTranslated checks the role and visibility names the templates build with
// printf, which the catalog test cannot see.
func TestGroupRolesTranslated(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		for _, role := range group.Roles {
			if _, ok := c[lang]["groups.role."+role]; !ok {
				t.Errorf("%s: no name for role %s", lang, role)
			}
		}
	}
}

func memberCount(t *testing.T, db *store.DB, userID int64) (int, error) {
	t.Helper()
	var n int
	err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM group_members WHERE user_id = $1`, userID).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n, nil
}

// alicesGroups lists a person's memberships as "group role source", sorted.
func alicesGroups(t *testing.T, db *store.DB, userID int64) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT g.name, m.role, m.source_kind FROM group_members m
		JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.name`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g, role, src string
		if err := rows.Scan(&g, &role, &src); err != nil {
			t.Fatal(err)
		}
		out = append(out, g+" "+role+" "+src)
	}
	return out
}
