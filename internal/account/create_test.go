package account

import (
	"fmt"
	"testing"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestEmailRaceHeldByDatabase: two writers, one address, on PostgreSQL. The first creates an
// account and holds its transaction open; the second, which can see nothing of it, tries the
// same address under another username and must wait, then be told the address is taken once
// the first commits. No lock in Roster's code: the unique index decides.
func TestEmailRaceHeldByDatabase(t *testing.T) {
	db, _ := storetest.OpenPostgres(t)
	s := newService(t, db)
	first := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Tx(bg, func(tx *store.Tx) error {
			_, err := s.insertUser(bg, tx, NewUser{Username: "one", Email: "same@example.org", FirstName: "A", LastName: "B",
				Auth: AuthLocal}, "")
			close(first)
			<-release
			return err
		})
	}()
	<-first
	second := make(chan error, 1)
	go func() {
		second <- db.Tx(bg, func(tx *store.Tx) error {
			_, err := s.insertUser(bg, tx, NewUser{Username: "two", Email: "Same@Example.org", FirstName: "A", LastName: "B",
				Auth: AuthLocal}, "")
			return err
		})
	}()
	select {
	case err := <-second:
		t.Fatalf("the second writer did not wait for the first: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	err := <-second
	if e := errs.As(err); e.Code != errs.Conflict || len(e.Fields) != 1 || e.Fields[0].Field != "email" ||
		e.Fields[0].Code != "already_taken" {
		t.Fatalf("second writer: %v, want Conflict already_taken on email", err)
	}
	var n int
	db.QueryRowContext(bg, `SELECT count(*) FROM users WHERE email_norm = 'same@example.org'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d accounts with the address", n)
	}
}

// TestCreateUsersTx: many accounts in one call, each taken row told apart, on both databases;
// accounts that shared an address before sharing was turned off keep it, and the address is
// still refused to a new one.
func TestCreateUsersTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "old", Email: "old@example.org"})
		var list []NewUser
		for i := range 700 { // more than one statement on SQLite
			list = append(list, NewUser{Username: fmt.Sprintf("u%03d", i), Email: fmt.Sprintf("u%03d@example.org", i),
				FirstName: "F", LastName: "L", Auth: AuthLocal, CustomFields: map[string]string{"n": fmt.Sprint(i)}})
		}
		list = append(list,
			NewUser{Username: "old", Email: "new@example.org", FirstName: "F", LastName: "L", Auth: AuthLocal},
			NewUser{Username: "other", Email: "OLD@example.org", FirstName: "F", LastName: "L", Auth: AuthLocal},
			NewUser{Username: "u000b", Email: "u000@example.org", FirstName: "F", LastName: "L", Auth: AuthLocal})
		var users []*User
		var failed []error
		if err := db.Tx(bg, func(tx *store.Tx) (err error) {
			users, failed, err = s.CreateUsersTx(bg, tx, list, 0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for i := range 700 {
			if failed[i] != nil || users[i] == nil || users[i].Username != list[i].Username || users[i].CustomFields["n"] != fmt.Sprint(i) {
				t.Fatalf("row %d: %+v %v", i, users[i], failed[i])
			}
		}
		for i, field := range []string{"username", "email", "email"} {
			e := errs.As(failed[700+i])
			if users[700+i] != nil || e.Code != errs.Conflict || len(e.Fields) != 1 || e.Fields[0].Field != field {
				t.Errorf("row %d: %v %v, want taken on %s", 700+i, users[700+i], failed[700+i], field)
			}
		}
		var events int
		db.QueryRowContext(bg, `SELECT count(*) FROM audit_events WHERE action = 'user.create'`).Scan(&events)
		if events != 701 {
			t.Errorf("%d user.create events, want 701", events)
		}

		// Shared, then not: the accounts sharing an address stay, a new one cannot take it.
		allowSharedEmail(t, s, true)
		mustCreate(t, s, NewUser{Username: "old2", Email: "old@example.org"})
		allowSharedEmail(t, s, false)
		err := db.Tx(bg, func(tx *store.Tx) error {
			_, err := s.CreateUser(bg, tx, NewUser{Username: "old3", Email: "old@example.org", FirstName: "F", LastName: "L"})
			return err
		})
		if e := errs.As(err); e.Code != errs.Conflict || len(e.Fields) != 1 || e.Fields[0].Field != "email" {
			t.Fatalf("third account on a shared address: %v", err)
		}
	})
}
