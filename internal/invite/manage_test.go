package invite

import (
	"strings"
	"testing"
	"time"

	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestFollowInvitations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		sci := r.group(0, "Science", group.Private)
		chem := r.group(sci, "Chemistry", group.Private)
		arts := r.group(0, "Arts", group.Private)
		a := r.invite(r.admin, Request{Emails: "a@x.org b@x.org", Groups: []Grant{{sci, group.Learner}}})
		clock.Advance(time.Minute)
		c := r.invite(r.admin, Request{Emails: "Carol <c@x.org>", Groups: []Grant{{chem, group.Learner}}})
		r.invite(r.admin, Request{Emails: "d@x.org", Groups: []Grant{{arts, group.Learner}}})

		list := func(f Filter) []string {
			t.Helper()
			items, _, err := r.s.List(r.admin, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, i := range items {
				out = append(out, i.Email)
			}
			return out
		}
		if got := strings.Join(list(Filter{}), " "); got != "d@x.org c@x.org b@x.org a@x.org" {
			t.Errorf("platform: %s", got)
		}
		if got := strings.Join(list(Filter{GroupID: sci}), " "); got != "b@x.org a@x.org" {
			t.Errorf("group: %s", got)
		}
		if got := strings.Join(list(Filter{GroupID: sci, Subgroups: true}), " "); got != "c@x.org b@x.org a@x.org" {
			t.Errorf("group and sub-groups: %s", got)
		}
		if got := strings.Join(list(Filter{Q: "CAROL"}), " "); got != "c@x.org" {
			t.Errorf("q: %s", got)
		}
		items, next, err := r.s.List(r.admin, Filter{Limit: 3})
		if err != nil || len(items) != 3 || next == "" {
			t.Fatalf("page 1: %d %q %v", len(items), next, err)
		}
		rest, next2, _ := r.s.List(r.admin, Filter{Limit: 3, Cursor: next})
		if len(rest) != 1 || next2 != "" || rest[0].Email != "a@x.org" {
			t.Errorf("page 2: %+v %q", rest, next2)
		}
		first := items[1] // c@x.org
		if first.InviterName != "Grace Hopper" || first.SentCount != 1 || first.LastDelivery != "queued" ||
			first.LastSentAt == nil || len(first.Groups) != 1 || first.Groups[0].GroupName != "Chemistry" {
			t.Errorf("row: %+v", first)
		}
		_, _, err = r.s.List(r.admin, Filter{Status: "lost"})
		wantField(t, err, "status")

		// Resend: a new link, counted; the older link stops working.
		old := r.lastToken("c@x.org")
		if err := r.s.Resend(r.admin, c[0].InvitationID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.s.Check(bg, old); !errs.Is(err, errs.Gone) {
			t.Errorf("old link after resend: %v", err)
		}
		if _, err := r.s.Check(bg, r.lastToken("c@x.org")); err != nil {
			t.Errorf("new link: %v", err)
		}
		inv, _ := r.s.Get(r.admin, c[0].InvitationID)
		if inv.SentCount != 2 {
			t.Errorf("sent count %d", inv.SentCount)
		}

		// A fresh link to copy: not emailed, and the emailed one stops working.
		mails := len(r.outbox())
		link, err := r.s.FreshLink(r.admin, c[0].InvitationID)
		if err != nil || !strings.HasPrefix(link, "https://roster.test/invitation/") {
			t.Fatalf("fresh link %q, %v", link, err)
		}
		if len(r.outbox()) != mails {
			t.Error("a fresh link must not be emailed")
		}
		if _, err := r.s.Check(bg, r.lastToken("c@x.org")); !errs.Is(err, errs.Gone) {
			t.Errorf("emailed link after a fresh one: %v", err)
		}
		if _, err := r.s.Check(bg, strings.TrimPrefix(link, "https://roster.test/invitation/")); err != nil {
			t.Errorf("fresh link: %v", err)
		}

		// Resend all of a group: Science's two, not Chemistry's.
		n, err := r.s.ResendAll(r.admin, sci)
		if err != nil || n != 2 {
			t.Errorf("resend all: %d, %v", n, err)
		}

		// Change the address: the old one is cancelled, the new one invited with the same grants.
		moved, err := r.s.ChangeAddress(r.admin, a[0].InvitationID, "A.New@x.org")
		if err != nil || moved.Outcome != Invited {
			t.Fatalf("change address: %+v, %v", moved, err)
		}
		nw, _ := r.s.Get(r.admin, moved.InvitationID)
		if nw.Email != "A.New@x.org" || len(nw.Groups) != 1 || nw.Groups[0].GroupID != sci || nw.SentCount != 1 {
			t.Errorf("new invitation: %+v", nw)
		}
		old2, _ := r.s.Get(r.admin, a[0].InvitationID)
		if old2.Status != StatusCancelled {
			t.Errorf("old invitation: %s", old2.Status)
		}
		_, err = r.s.ChangeAddress(r.admin, moved.InvitationID, "b@x.org")
		wantCode(t, err, errs.Conflict)
		_, err = r.s.ChangeAddress(r.admin, moved.InvitationID, "nope")
		wantField(t, err, "email")
		_, err = r.s.ChangeAddress(r.admin, a[0].InvitationID, "z@x.org")
		wantCode(t, err, errs.Conflict)

		// Cancel many: one outcome per address.
		res, err := r.s.CancelMany(r.admin, "b@x.org, C@X.ORG, nobody@x.org, junk")
		if err != nil {
			t.Fatal(err)
		}
		if got := outcomes(res); got != "b@x.org cancelled, C@X.ORG cancelled, nobody@x.org not_invited, junk invalid" {
			t.Errorf("cancel many: %s", got)
		}
		if got := strings.Join(list(Filter{}), " "); got != "A.New@x.org d@x.org" {
			t.Errorf("pending after all that: %s", got)
		}
		// Cancelling twice is fine; cancelling an accepted one is not.
		if err := r.s.Cancel(r.admin, c[0].InvitationID); err != nil {
			t.Errorf("cancel again: %v", err)
		}
		if err := r.s.Resend(r.admin, c[0].InvitationID); !errs.Is(err, errs.Conflict) {
			t.Errorf("resend cancelled: %v", err)
		}
		if n := r.count(`SELECT count(*) FROM audit_events WHERE action IN ('invitation.send', 'invitation.link',
			'invitation.cancel', 'invitation.change_address')`); n < 7 {
			t.Errorf("only %d audit events", n)
		}
	})
}
