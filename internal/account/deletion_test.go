package account

import (
	"strings"
	"testing"
	"time"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestDeletionJob: with the clock, a week before its date the platform administrators are
// told (once); on the date the account is anonymised (once); an account whose date was
// moved is left alone; a date already past is announced first and carried out a run later.
func TestDeletionJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Email: "admin@example.org", FirstName: "Root", LastName: "Admin", IsAdmin: true})
		mustCreate(t, s, NewUser{Username: "admin2", IsAdmin: true}) // no email: not mailed
		day := 24 * time.Hour
		date := clock.T.Add(10 * day)
		a := mustCreate(t, s, NewUser{Email: "a@example.org"})
		b := mustCreate(t, s, NewUser{Email: "b@example.org"})
		moved := mustCreate(t, s, NewUser{Email: "moved@example.org"})
		for _, u := range []*User{a, b, moved} {
			if _, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{DeleteAt: &date}); err != nil {
				t.Fatal(err)
			}
		}
		run := func(want DeletionReport) {
			t.Helper()
			rep, err := s.RunDeletions(bg)
			if err != nil || rep != want {
				t.Fatalf("at %s: got %+v, want %+v (%v)", clock.T, rep, want, err)
			}
		}
		run(DeletionReport{}) // ten days before: nothing
		clock.Advance(3*day - time.Second)
		run(DeletionReport{}) // a second more than a week before: nothing
		clock.Advance(time.Second)
		run(DeletionReport{Noticed: 3, Messages: 1})
		run(DeletionReport{}) // idempotent
		mails := outbox(t, db)
		if len(mails) != 1 || mails[0].To != "admin@example.org" || mails[0].Template != "deletion_notice" ||
			!strings.Contains(mails[0].Text, "3 accounts") || !strings.Contains(mails[0].Text, date.Format("January 2, 2006")) {
			t.Fatalf("notice %+v", mails)
		}
		// Moving a date cancels its notice: it is announced again a week before the new date.
		later := date.Add(30 * day)
		if _, err := s.UpdateUser(adminCtx, moved.ID, UserUpdate{DeleteAt: &later}); err != nil {
			t.Fatal(err)
		}
		clock.T = date.Add(-time.Second)
		run(DeletionReport{})
		clock.T = date
		run(DeletionReport{Deleted: 2})
		run(DeletionReport{})
		checkAnonymised(t, db, a.ID, date)
		checkAnonymised(t, db, b.ID, date)
		if u, err := s.UserByID(bg, moved.ID); err != nil || u.Email != "moved@example.org" {
			t.Fatalf("moved account: %v %+v", err, u)
		}
		if n := auditCount(t, db, "user.delete"); n != 2 {
			t.Fatalf("user.delete events: %d", n)
		}

		// A date set in the near future and then reached without a notice (here: by setting
		// it directly) is announced first and carried out at the next run.
		late := mustCreate(t, s, NewUser{Email: "late@example.org"})
		mustExec(t, db, `UPDATE users SET delete_at = $1 WHERE id = $2`, clock.T.Add(-time.Hour).Unix(), late.ID)
		run(DeletionReport{Noticed: 1, Messages: 1})
		clock.Advance(day)
		run(DeletionReport{Deleted: 1})
		checkAnonymised(t, db, late.ID, clock.T)
	})
}
