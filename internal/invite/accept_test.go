package invite

import (
	"strings"
	"sync"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestAcceptCreatesAccountAndAppliesGrants(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		company := r.group(0, "Company", group.Private)
		sales := r.group(company, "Sales", group.Public)
		if _, err := r.accounts.CreateProfileField(r.admin, account.ProfileField{Key: "employee", Label: "Employee number",
			Kind: account.FieldText}); err != nil {
			t.Fatal(err)
		}
		deleteAt := clock.T.Add(90 * 24 * time.Hour)
		res := r.invite(r.admin, Request{Emails: "Lin <Lin@X.org>", Groups: []Grant{{sales, group.Learner}, {sales, group.Trainer}},
			Language: "fr", DeleteAt: &deleteAt, CustomFields: map[string]string{"employee": "E42"}})
		token := r.lastToken("Lin@X.org")

		inv, err := r.s.Check(bg, token)
		if err != nil || inv.Email != "Lin@X.org" || inv.InviterName != "Grace Hopper" || len(inv.Groups) != 2 {
			t.Fatalf("check: %+v, %v", inv, err)
		}
		// Bad input changes nothing.
		_, err = r.s.Accept(bg, Acceptance{Token: token, FirstName: " ", LastName: "Wu", Password: goodPassword})
		wantField(t, err, "first_name")
		_, err = r.s.Accept(bg, Acceptance{Token: token, FirstName: "Lin", LastName: "Wu", Password: "short"})
		wantField(t, err, "password")
		if n := r.count(`SELECT count(*) FROM users WHERE email_norm = 'lin@x.org'`); n != 0 {
			t.Fatalf("a refused acceptance created %d accounts", n)
		}

		clock.Advance(time.Hour)
		u, err := r.s.Accept(bg, Acceptance{Token: token, FirstName: "Lin", LastName: "Wu", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		if u.Status != "active" || u.Email != "Lin@X.org" || u.Username != "lin@x.org" || u.Language != "fr" ||
			u.CustomFields["employee"] != "E42" || u.DeleteAt == nil || !u.DeleteAt.Equal(deleteAt) ||
			u.ActivatedAt == nil || !u.ActivatedAt.Equal(clock.T) {
			t.Errorf("user: %+v", u)
		}
		// Propagation: a learner of the public Sales is a learner of Company too.
		if got := strings.Join(r.memberships(u.ID), ","); got != "Company learner,Sales learner,Sales trainer" {
			t.Errorf("memberships: %s", got)
		}
		if _, err := r.accounts.Login(bg, "lin@x.org", goodPassword, "127.0.0.1"); err != nil {
			t.Errorf("login with the chosen password: %v", err)
		}
		items, _, _ := r.s.List(r.admin, Filter{})
		if len(items) != 0 {
			t.Errorf("still pending: %+v", items)
		}
		acc, _, _ := r.s.List(r.admin, Filter{Status: StatusAccepted})
		if len(acc) != 1 || acc[0].AcceptedUserID != u.ID || acc[0].ID != res[0].InvitationID {
			t.Errorf("accepted list: %+v", acc)
		}
		// The link works once.
		_, err = r.s.Accept(bg, Acceptance{Token: token, FirstName: "Lin", LastName: "Wu", Password: goodPassword})
		if e := wantCode(t, err, errs.Gone); !strings.Contains(e.Message, "already accepted") {
			t.Errorf("message: %s", e.Message)
		}
		_, err = r.s.Check(bg, "not-a-token")
		wantCode(t, err, errs.Gone)
	})
}

func TestAcceptTwiceConcurrentlyCreatesOneAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		r.invite(r.admin, Request{Emails: "twice@x.org"})
		token := r.lastToken("twice@x.org")
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			oks  int
			gone int
		)
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.s.Accept(bg, Acceptance{Token: token, FirstName: "T", LastName: "Wice", Password: goodPassword})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					oks++
				case errs.Is(err, errs.Gone):
					gone++
				default:
					t.Errorf("accept: %v", err)
				}
			}()
		}
		wg.Wait()
		if oks != 1 || gone != 1 {
			t.Errorf("%d accepted, %d gone", oks, gone)
		}
		if n := r.count(`SELECT count(*) FROM users WHERE email_norm = 'twice@x.org'`); n != 1 {
			t.Errorf("%d accounts", n)
		}
	})
}

func TestCancelledAndExpiredLinks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		res := r.invite(r.admin, Request{Emails: "c@x.org"})
		token := r.lastToken("c@x.org")
		if err := r.s.Cancel(r.admin, res[0].InvitationID); err != nil {
			t.Fatal(err)
		}
		_, err := r.s.Accept(bg, Acceptance{Token: token, FirstName: "C", LastName: "C", Password: goodPassword})
		if e := wantCode(t, err, errs.Gone); e.Message != "this invitation was cancelled" || IsExpired(err) {
			t.Errorf("cancelled: %v", err)
		}
		if n := r.count(`SELECT count(*) FROM users WHERE email_norm = 'c@x.org'`); n != 0 {
			t.Error("a cancelled invitation created an account")
		}

		// Valid until cancelled by default: a year later the link still works.
		r.invite(r.admin, Request{Emails: "old@x.org"})
		clock.Advance(365 * 24 * time.Hour)
		if _, err := r.s.Check(bg, r.lastToken("old@x.org")); err != nil {
			t.Errorf("without a lifetime: %v", err)
		}

		if err := r.s.SetLifetime(as(r.user("x", "X", "Y", false)), 7); !errs.Is(err, errs.Forbidden) {
			t.Errorf("set lifetime as nobody: %v", err)
		}
		wantField(t, r.s.SetLifetime(r.admin, -1), "lifetime_days")
		if err := r.s.SetLifetime(r.admin, 7); err != nil {
			t.Fatal(err)
		}
		r.invite(r.admin, Request{Emails: "e@x.org"})
		expired := r.lastToken("e@x.org")
		clock.Advance(6 * 24 * time.Hour)
		if _, err := r.s.Check(bg, expired); err != nil {
			t.Fatalf("day 6: %v", err)
		}
		clock.Advance(2 * 24 * time.Hour)
		_, err = r.s.Accept(bg, Acceptance{Token: expired, FirstName: "E", LastName: "E", Password: goodPassword})
		if !IsExpired(err) || !errs.Is(err, errs.Gone) {
			t.Fatalf("day 8: %v", err)
		}
		if items, _, _ := r.s.List(r.admin, Filter{Status: StatusExpired}); len(items) != 1 || items[0].Email != "e@x.org" {
			t.Errorf("expired list: %+v", items)
		}

		// "Send me a new one": neutral for anything, and a new link to the invited address.
		before := len(r.outbox())
		for _, tok := range []string{"", "nonsense", token} {
			if err := r.s.RequestNew(bg, tok); err != nil {
				t.Errorf("request new %q: %v", tok, err)
			}
		}
		if n := len(r.outbox()); n != before {
			t.Errorf("unknown or cancelled tokens sent %d mails", n-before)
		}
		if err := r.s.RequestNew(bg, expired); err != nil {
			t.Fatal(err)
		}
		mails := r.outbox()
		if len(mails) != before+1 || mails[len(mails)-1].To != "e@x.org" {
			t.Fatalf("outbox: %+v", mails[before:])
		}
		fresh := r.lastToken("e@x.org")
		if _, err := r.s.Check(bg, expired); err == nil || IsExpired(err) {
			t.Errorf("the expired link must be replaced: %v", err)
		}
		if _, err := r.s.Accept(bg, Acceptance{Token: fresh, FirstName: "E", LastName: "E", Password: goodPassword}); err != nil {
			t.Errorf("accept the new link: %v", err)
		}
		// Re-inviting an address whose invitation expired replaces it.
		r.invite(r.admin, Request{Emails: "f@x.org"})
		clock.Advance(8 * 24 * time.Hour)
		if res := r.invite(r.admin, Request{Emails: "f@x.org"}); res[0].Outcome != Invited {
			t.Errorf("re-invite after expiry: %+v", res)
		}
	})
}

func TestApplyPendingFor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db, clock)
		chem := r.group(0, "Chemistry", group.Private)
		r.invite(r.admin, Request{Emails: "sso@x.org", Groups: []Grant{{chem, group.Trainer}}})
		uid := r.user("sso", "S", "So", false)
		var n int
		err := db.Tx(bg, func(tx *store.Tx) error {
			var err error
			n, err = r.s.ApplyPendingFor(bg, tx, uid, "SSO@x.org")
			return err
		})
		if err != nil || n != 1 {
			t.Fatalf("apply: %d, %v", n, err)
		}
		if got := strings.Join(r.memberships(uid), ","); got != "Chemistry trainer" {
			t.Errorf("memberships: %s", got)
		}
		if c := r.count(`SELECT count(*) FROM invitations WHERE status = 'accepted' AND accepted_user_id = $1`, uid); c != 1 {
			t.Errorf("%d accepted", c)
		}
	})
}
