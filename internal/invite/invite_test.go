package invite

import (
	"strings"
	"sync"
	"testing"
	"time"

	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestInviteOutcomes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		chem := r.group(0, "Chemistry", group.Private)
		existing := r.user("ada", "Ada", "Lovelace", false)

		res := r.invite(r.admin, Request{Emails: "new@x.org, NEW@x.org; \"Bob, B.\" <bob@x.org>\nbroken ada@example.org c@intranet",
			Groups: []Grant{{chem, group.Learner}}, Language: "fr"})
		if got, want := outcomes(res), "new@x.org invited, bob@x.org invited, broken invalid, ada@example.org already_active, "+
			"c@intranet invalid"; got != want {
			t.Fatalf("outcomes:\n got %s\nwant %s", got, want)
		}
		if res[1].Name != "Bob, B." || res[2].Message != "missing @" || res[3].UserID != existing || res[4].Message == "" {
			t.Errorf("results: %+v", res)
		}
		mails := r.outbox()
		if len(mails) != 2 || mails[0].To != "new@x.org" || mails[0].Template != "invitation" ||
			!strings.Contains(mails[0].Text, "Grace Hopper") || !strings.Contains(mails[0].Text, "Chemistry") {
			t.Fatalf("outbox: %+v", mails)
		}
		// French, as asked.
		if !strings.Contains(mails[1].Text, "invitation") || strings.Contains(mails[1].Text, "Hello") {
			t.Errorf("not in French:\n%s", mails[1].Text)
		}

		again := r.invite(r.admin, Request{Emails: "Bob@X.org", Groups: []Grant{{chem, group.Trainer}}})
		if again[0].Outcome != AlreadyInvited || again[0].InvitationID != res[1].InvitationID {
			t.Errorf("again: %+v", again)
		}
		if n := len(r.outbox()); n != 2 {
			t.Errorf("already invited must not send: %d mails", n)
		}

		// The one-step offer for already_active: add the account to the groups instead.
		if err := r.s.AddExisting(r.admin, []int64{res[3].UserID}, []Grant{{chem, group.Learner}}); err != nil {
			t.Fatal(err)
		}
		if got := r.memberships(existing); strings.Join(got, ",") != "Chemistry learner" {
			t.Errorf("memberships: %q", got)
		}
		if n := r.count(`SELECT count(*) FROM audit_events WHERE action = 'invitation.create'`); n != 2 {
			t.Errorf("%d audit events", n)
		}
	})
}

func TestInviteBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		chem := r.group(0, "Chemistry", group.Private)
		past := clock.T.Add(-time.Hour)
		for _, c := range []struct {
			req   Request
			field string
		}{
			{Request{Emails: " ,; "}, "emails"},
			{Request{Emails: "a@x.org", Groups: []Grant{{chem + 100, group.Learner}}}, "groups[0].group_id"},
			{Request{Emails: "a@x.org", Groups: []Grant{{chem, "boss"}}}, "groups[0].role"},
			{Request{Emails: "a@x.org", Groups: []Grant{{chem, ""}}}, "groups[0].role"},
			{Request{Emails: "a@x.org", Groups: []Grant{{0, group.Learner}}}, "groups[0].group_id"},
			{Request{Emails: "a@x.org", Language: "de"}, "language"},
			{Request{Emails: "a@x.org", DeleteAt: &past}, "delete_at"},
			{Request{Emails: "a@x.org", CourseID: 7}, "course_id"},
			{Request{Emails: "a@x.org", CustomFields: map[string]string{"": "x"}}, "custom_fields"},
			{Request{Emails: "a@x.org", CustomFields: map[string]string{"shoe_size": "44"}}, "custom_fields.shoe_size"},
		} {
			_, err := r.s.Invite(r.admin, c.req)
			wantField(t, err, c.field)
		}
		_, err := r.s.Invite(bg, Request{Emails: "a@x.org"})
		wantCode(t, err, errs.Unauthorized)
		if n := r.count(`SELECT count(*) FROM invitations`) + len(r.outbox()); n != 0 {
			t.Errorf("bad input wrote %d rows", n)
		}
	})
}

func TestInvitePermissions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		sci := r.group(0, "Science", group.Private)
		chem := r.group(sci, "Chemistry", group.Public)
		arts := r.group(0, "Arts", group.Private)
		boss := r.user("boss", "Group", "Admin", false)
		r.member(sci, boss, group.GroupAdmin)
		ctx := as(boss)

		// In scope: the group and below.
		res := r.invite(ctx, Request{Emails: "a@x.org", Groups: []Grant{{chem, group.Learner}, {sci, group.Trainer}}})
		if res[0].Outcome != Invited {
			t.Fatalf("%+v", res)
		}
		// Out of scope, or a role above the caller's: Forbidden naming group and role.
		_, err := r.s.Invite(ctx, Request{Emails: "b@x.org", Groups: []Grant{{chem, group.Learner}, {arts, group.Learner}}})
		e := wantCode(t, err, errs.Forbidden)
		// A group the caller may not see is not named, and never by its id.
		if strings.Contains(e.Message, idStr(arts)) || !strings.Contains(e.Message, "Learner") || e.Fields[0].Field != "groups[1]" ||
			e.Key != "forbidden_invite_to_hidden_group" || e.Fields[0].Code != e.Key {
			t.Errorf("message: %q %+v", e.Message, e.Fields)
		}
		if fr := e.In("fr"); !strings.Contains(fr, "ce groupe") || !strings.Contains(fr, "Apprenant") {
			t.Errorf("in French: %q", fr)
		}
		_, err = r.s.Invite(ctx, Request{Emails: "b@x.org", Groups: []Grant{{chem, group.UserAdmin}}})
		e = wantCode(t, err, errs.Forbidden)
		if !strings.Contains(e.Message, `“Chemistry”`) || !strings.Contains(e.Message, "User administrator") {
			t.Errorf("message: %q", e.Message)
		}
		_, err = r.s.Invite(ctx, Request{Emails: "b@x.org"})
		wantCode(t, err, errs.Forbidden)
		if n := r.count(`SELECT count(*) FROM invitations`); n != 1 {
			t.Errorf("%d invitations", n)
		}

		// The list is scoped: the group admin sees Science's tree, not Arts.
		r.invite(r.admin, Request{Emails: "arts@x.org", Groups: []Grant{{arts, group.Learner}}})
		r.invite(r.admin, Request{Emails: "nogroup@x.org"})
		items, _, err := r.s.List(ctx, Filter{})
		if err != nil || len(items) != 1 || items[0].Email != "a@x.org" {
			t.Fatalf("scoped list: %+v, %v", items, err)
		}
		all, _, _ := r.s.List(r.admin, Filter{})
		if len(all) != 3 {
			t.Errorf("admin list: %d", len(all))
		}
		_, _, err = r.s.List(ctx, Filter{GroupID: arts})
		wantCode(t, err, errs.Forbidden)
		_, _, err = r.s.List(as(r.user("nobody", "No", "Body", false)), Filter{})
		wantCode(t, err, errs.Forbidden)

		// Managing another scope's invitation is refused as if it did not exist; its own works.
		err = r.s.Cancel(ctx, all[1].ID)
		wantCode(t, err, errs.NotFound)
		if err := r.s.Resend(ctx, items[0].ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInviteConcurrentSameAddress(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		chem := r.group(0, "Chemistry", group.Private)
		const n = 50
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			outcomes = map[string]int{}
			ids      = map[int64]bool{}
		)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := r.s.Invite(r.admin, Request{Emails: "same@x.org", Groups: []Grant{{chem, group.Learner}}})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("invite: %v", err)
					return
				}
				outcomes[res[0].Outcome]++
				ids[res[0].InvitationID] = true
			}()
		}
		wg.Wait()
		if outcomes[Invited] != 1 || outcomes[AlreadyInvited] != n-1 || len(ids) != 1 {
			t.Errorf("outcomes %v, ids %v", outcomes, ids)
		}
		if c := r.count(`SELECT count(*) FROM invitations`); c != 1 {
			t.Errorf("%d invitations", c)
		}
		if c := len(r.outbox()); c != 1 {
			t.Errorf("%d emails", c)
		}
	})
}
