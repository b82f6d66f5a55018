package web

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
)

// TestParticipantsPageHidesIdentity: with users.show_identity set to names only, a teacher's
// participants page, its search, its downloads and the "write to the selection" page show no
// address of someone whose account the teacher may not see, and say so in English and French.
func TestParticipantsPageHidesIdentity(t *testing.T) {
	rg := newRig(t)
	ctx := rg.ctx
	admin := rg.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	tess := rg.user(account.NewUser{Email: "tess@example.org", FirstName: "Tess", LastName: "Teacher"})
	stu := rg.user(account.NewUser{Email: "stu.secret@example.org", FirstName: "Stu", LastName: "Dent"})
	sys := authz.With(ctx, authz.System)
	c, err := rg.courses.Create(sys, course.Course{Shortname: "MINE", Fullname: "My course", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	for u, role := range map[int64]string{tess.ID: course.Teacher, stu.ID: course.Student} {
		if _, err := rg.courses.Enrol(sys, c.ID, course.EnrolRequest{UserIDs: []int64{u}, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rg.accounts.SetShowIdentity(authz.With(ctx, rg.accounts.PrincipalFor(admin)), nil); err != nil {
		t.Fatal(err)
	}
	base := "/courses/" + strconv.FormatInt(c.ID, 10) + "/participants"
	for lang, hidden := range map[string]string{"en": ">hidden<", "fr": ">masquée<"} {
		code, body, _ := rg.call(tess, "GET", base+"?lang="+lang, nil)
		rg.want(code, body, 200, "Dent", hidden)
		if strings.Contains(body, "stu.secret") {
			t.Errorf("%s: the page shows a hidden address", lang)
		}
	}
	code, body, _ := rg.call(tess, "GET", base+"?q=stu.secret", nil)
	rg.want(code, body, 200)
	if strings.Contains(body, "Dent") {
		t.Error("a search by a hidden address finds the person")
	}
	for _, f := range []string{"csv", "json"} {
		code, body, _ := rg.call(tess, "GET", base+"/download?format="+f, nil)
		rg.want(code, body, 200, "Dent")
		if strings.Contains(body, "stu.secret") {
			t.Errorf("the %s download shows a hidden address", f)
		}
	}
	code, body, _ = rg.call(tess, "POST", base+"/bulk?lang=fr", url.Values{"action": {"mailto"},
		"user": {strconv.FormatInt(stu.ID, 10)}})
	rg.want(code, body, 200, `id="hidden-addresses"`, "1 personne sélectionnée a une adresse que vous ne pouvez pas voir")
	if strings.Contains(body, "stu.secret") {
		t.Error("the message page shows a hidden address")
	}
	// A platform administrator sees it.
	code, body, _ = rg.call(admin, "GET", base, nil)
	rg.want(code, body, 200, "stu.secret@example.org")
}
