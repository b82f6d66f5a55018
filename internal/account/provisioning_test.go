package account

import (
	"testing"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestSetIdentityTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		ada := mustCreate(t, s, NewUser{Email: "ada@example.org", Auth: AuthOIDC})
		bob := mustCreate(t, s, NewUser{Email: "bob@example.org", Auth: AuthOIDC})
		mustCreate(t, s, NewUser{Username: "ape", Email: "ape@example.org", Auth: AuthOIDC})
		set := func(id int64, in Identity) error {
			return db.Tx(bg, func(tx *store.Tx) error { return s.SetIdentityTx(bg, tx, id, in) })
		}
		if err := set(ada.ID, Identity{Username: " Ada.L ", Email: "Ada.L@Example.org", FirstName: "Ada ", LastName: "King",
			Language: "FR"}); err != nil {
			t.Fatal(err)
		}
		u, err := s.UserByID(bg, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "ada.l" || u.Email != "Ada.L@Example.org" || u.FirstName != "Ada" || u.LastName != "King" || u.Language != "fr" {
			t.Fatalf("identity not written: %+v", u)
		}
		var norm string
		db.QueryRowContext(bg, `SELECT email_norm FROM users WHERE id = $1`, ada.ID).Scan(&norm)
		if norm != "ada.l@example.org" {
			t.Fatalf("email_norm %q", norm)
		}
		// Taken username, look-alike, taken address, bad field, unknown account.
		for _, tc := range []struct {
			name  string
			in    Identity
			code  errs.Code
			field string
		}{
			{"username taken", Identity{Username: "bob@example.org", Email: "ada@example.org", FirstName: "A", LastName: "K"}, errs.Conflict, "username"},
			{"username looks taken", Identity{Username: "аре", Email: "ada@example.org", FirstName: "A", LastName: "K"}, errs.Conflict, "username"},
			{"address taken", Identity{Username: "ada", Email: "BOB@example.org", FirstName: "A", LastName: "K"}, errs.Conflict, "email"},
			{"bad address", Identity{Username: "ada", Email: "not an address", FirstName: "A", LastName: "K"}, errs.Invalid, "email"},
			{"no last name", Identity{Username: "ada", Email: "ada@example.org", FirstName: "A"}, errs.Invalid, "last_name"},
		} {
			err := set(ada.ID, tc.in)
			if errs.CodeOf(err) != tc.code || len(errs.As(err).Fields) == 0 || errs.As(err).Fields[0].Field != tc.field {
				t.Errorf("%s: got %v, want %s on %s", tc.name, err, tc.code, tc.field)
			}
		}
		if u, _ := s.UserByID(bg, ada.ID); u.Username != "ada.l" {
			t.Fatalf("a refused change was written: %+v", u)
		}
		wantCode(t, set(999999, Identity{Username: "x", Email: "x@example.org", FirstName: "X", LastName: "Y"}), errs.NotFound)
		// An unchanged shared address stays allowed; a newly shared one is allowed only with the setting.
		if err := s.SetSharedEmailAllowed(authz.With(bg, authz.System), true); err != nil {
			t.Fatal(err)
		}
		if err := set(bob.ID, Identity{Username: "bob", Email: "ada.l@example.org", FirstName: "Bob", LastName: "B"}); err != nil {
			t.Fatalf("shared address refused with the setting on: %v", err)
		}
		if err := s.SetSharedEmailAllowed(authz.With(bg, authz.System), false); err != nil {
			t.Fatal(err)
		}
		if err := set(bob.ID, Identity{Username: "bobby", Email: "ada.l@example.org", FirstName: "Bob", LastName: "B"}); err != nil {
			t.Fatalf("an address already shared, unchanged, refused: %v", err)
		}
	})
}

func TestScheduleAndCancelDeletionTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		u := mustCreate(t, s, NewUser{Email: "ada@example.org"})
		at := func() *time.Time { got, _ := s.UserByID(bg, u.ID); return got.DeleteAt }
		tx := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := db.Tx(bg, fn); err != nil {
				t.Fatal(err)
			}
		}
		first := clock.T.Add(48 * time.Hour).UTC()
		tx(func(tx *store.Tx) error { return s.ScheduleDeletionTx(bg, tx, u.ID, first) })
		if d := at(); d == nil || !d.Equal(first) {
			t.Fatalf("delete_at %v, want %v", d, first)
		}
		tx(func(tx *store.Tx) error { return s.ScheduleDeletionTx(bg, tx, u.ID, first.Add(time.Hour)) })
		if d := at(); d == nil || !d.Equal(first) {
			t.Fatalf("a later date replaced an earlier one: %v", d)
		}
		tx(func(tx *store.Tx) error { return s.CancelDeletionTx(bg, tx, u.ID) })
		if d := at(); d != nil {
			t.Fatalf("delete_at %v after cancel", d)
		}
	})
}
