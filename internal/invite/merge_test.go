package invite

import (
	"strings"
	"testing"

	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestInviteAgainMergesGrants: inviting an address that already has a pending invitation adds
// the new groups and roles to it (the person gets them all on accepting). A caller who may
// not manage that invitation learns neither its id, nor its date, nor its other groups; their
// list shows it with their own groups only.
func TestInviteAgainMergesGrants(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		north := r.group(0, "North", group.Private)
		south := r.group(0, "South", group.Private)
		east := r.group(0, "East", group.Private)
		ann := r.user("ann", "Ann", "Archer", false)
		bob := r.user("bob", "Bob", "Brown", false)
		r.member(north, ann, group.GroupAdmin)
		r.member(south, bob, group.GroupAdmin)

		first := r.invite(as(ann), Request{Emails: "Kim@X.org", Groups: []Grant{{north, group.Learner}}})
		if first[0].Outcome != Invited || first[0].InvitationID == 0 {
			t.Fatalf("first: %+v", first)
		}
		id := first[0].InvitationID
		mails := len(r.outbox())

		// Bob, of the sibling group, invites the same address.
		again := r.invite(as(bob), Request{Emails: "kim@x.org", Groups: []Grant{{south, group.Trainer}}})
		got := again[0]
		if got.Outcome != AlreadyInvited || got.InvitationID != 0 || got.UserID != 0 || !got.GrantsAdded || got.CourseNotAdded {
			t.Errorf("to someone who may not manage it: %+v", got)
		}
		if !strings.Contains(got.Message, "someone else") || !strings.Contains(got.Message, "added") ||
			strings.Contains(got.Message, "North") || strings.ContainsAny(got.Message, "0123456789") {
			t.Errorf("message %q must say the groups were added, and nothing of the other invitation", got.Message)
		}
		if n := r.count(`SELECT count(*) FROM invitation_groups WHERE invitation_id = $1`, id); n != 2 {
			t.Errorf("the invitation carries %d grants, want 2", n)
		}
		if n := r.count(`SELECT count(*) FROM invitations`); n != 1 {
			t.Errorf("%d invitations", n)
		}
		if n := len(r.outbox()); n != mails {
			t.Errorf("merging must not send a mail: %d, want %d", n, mails)
		}
		if n := r.count(`SELECT count(*) FROM audit_events WHERE action = 'invitation.grants_add' AND target_id = $1`, idStr(id)); n != 1 {
			t.Errorf("%d grants_add audit events", n)
		}

		// Each side lists it with its own group only.
		for who, want := range map[int64]string{ann: "North", bob: "South"} {
			items, _, err := r.s.List(as(who), Filter{})
			if err != nil || len(items) != 1 || items[0].ID != id {
				t.Fatalf("list of %d: %+v %v", who, items, err)
			}
			var names []string
			for _, g := range items[0].Groups {
				names = append(names, g.GroupName)
			}
			if strings.Join(names, ",") != want {
				t.Errorf("list of %d shows the groups %v, want %s", who, names, want)
			}
		}
		// The invitation now grants roles in two branches: neither side alone manages it (its
		// link would carry the other side's grants), a platform administrator does.
		if _, err := r.s.Get(as(bob), id); err == nil {
			t.Error("bob may open an invitation that also grants roles in North")
		}
		if _, err := r.s.FreshLink(as(ann), id); err == nil {
			t.Error("ann may copy the link of an invitation that also grants roles in South")
		}
		res, err := r.s.CancelMany(as(bob), "kim@x.org")
		if err != nil || res[0].Outcome != NotInvited || res[0].InvitationID != 0 {
			t.Errorf("bob cancelling: %+v %v", res, err)
		}

		// A caller who may manage it sees the id; a grant it has already is not added twice.
		again = r.invite(r.admin, Request{Emails: "kim@x.org", Groups: []Grant{{north, group.Learner}, {east, group.Learner}}})
		if again[0].Outcome != AlreadyInvited || again[0].InvitationID != id || !strings.Contains(again[0].Message, "added") {
			t.Errorf("platform administrator: %+v", again[0])
		}
		again = r.invite(r.admin, Request{Emails: "kim@x.org", Groups: []Grant{{north, group.Learner}}})
		if again[0].InvitationID != id || strings.Contains(again[0].Message, "added") || again[0].GrantsAdded {
			t.Errorf("nothing new: %+v", again[0])
		}

		// Accepting gives every grant.
		u, err := r.s.Accept(bg, Acceptance{Token: r.lastToken("kim@x.org"), FirstName: "Kim", LastName: "Lee", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(r.memberships(u.ID), ","); got != "East learner,North learner,South trainer" {
			t.Errorf("memberships after accepting: %s", got)
		}
	})
}
