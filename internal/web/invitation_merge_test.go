package web

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/group"
	"roster/internal/invite"
)

// TestInviteAnInvitedAddressFromAnotherGroup: a group administrator who invites an address
// that someone of another group invited is told, in their language, that the groups were
// added to an invitation made by someone else; the page offers no link to that invitation and
// names neither its id nor its group.
func TestInviteAnInvitedAddressFromAnotherGroup(t *testing.T) {
	r := newRig(t)
	admin := r.user(account.NewUser{Email: "grace@example.org", FirstName: "Grace", LastName: "Hopper", IsAdmin: true})
	bob := r.user(account.NewUser{Email: "bob@example.org", FirstName: "Bob", LastName: "Brown"})
	ctx := authz.With(r.ctx, r.accounts.PrincipalFor(admin))
	north, err := r.groups.Create(ctx, group.Group{Name: "Northgroup", Visibility: group.Private})
	if err != nil {
		t.Fatal(err)
	}
	south, err := r.groups.Create(ctx, group.Group{Name: "Southgroup", Visibility: group.Private})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.groups.AddMember(ctx, south.ID, bob.ID, group.GroupAdmin, ""); err != nil {
		t.Fatal(err)
	}
	first, err := r.invites.Invite(ctx, invite.Request{Emails: "kim@x.org", Groups: []invite.Grant{{GroupID: north.ID, Role: group.Learner}}})
	if err != nil || first[0].Outcome != invite.Invited {
		t.Fatalf("first: %+v %v", first, err)
	}
	id := strconv.FormatInt(first[0].InvitationID, 10)
	for _, c := range []struct{ lang, role, text string }{
		{"en", group.Learner, "Invited already by someone else."},
		{"fr", group.Trainer, "Déjà invitée par quelqu’un d’autre."},
	} {
		lang, text := c.lang, c.text
		code, body, _ := r.call(bob, "POST", "/invitations/new?lang="+lang, url.Values{"emails": {"kim@x.org"},
			"group_id": {strconv.FormatInt(south.ID, 10)}, "role": {c.role}})
		r.want(code, body, 200, `id="invite-results"`, text, `class="grants-added"`)
		if strings.Contains(body, "/invitations/"+id+"/") || strings.Contains(body, "/invitations/0/") || strings.Contains(body, "Northgroup") {
			t.Errorf("%s: the page tells of the other invitation:\n%s", lang, body)
		}
	}
	// The platform administrator, who manages it, gets the resend button.
	code, body, _ := r.call(admin, "POST", "/invitations/new", url.Values{"emails": {"kim@x.org"},
		"group_id": {strconv.FormatInt(south.ID, 10)}, "role": {group.GroupAdmin}})
	r.want(code, body, 200, "/invitations/"+id+"/resend", `class="grants-added"`)
}
