package account

import (
	"testing"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestAccountSetup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		var link string
		// Creating the account and sending its link is one transaction.
		err := db.Tx(bg, func(tx *store.Tx) error {
			u, err := s.CreateUser(bg, tx, NewUser{Email: "new@example.org", FirstName: "Noa", LastName: "Petit"})
			if err != nil {
				return err
			}
			if u.HasPassword {
				t.Error("account created with a password")
			}
			link, err = s.IssueAccountSetup(bg, tx, u)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		rows := outbox(t, db)
		if len(rows) != 1 || rows[0].Template != "account_setup" || rows[0].To != "new@example.org" {
			t.Fatalf("outbox %+v", rows)
		}
		got, token := linkIn(t, rows[0].Text, "https://roster.test/account/setup/")
		if got != link {
			t.Fatalf("mailed %q, returned %q", got, link)
		}
		u, err := s.CheckAccountSetupToken(bg, token)
		if err != nil || u.Email != "new@example.org" {
			t.Fatalf("check: %v", err)
		}
		_, err = s.CheckResetToken(bg, token)
		wantCode(t, err, errs.Gone)
		wantCode(t, s.CompleteAccountSetup(bg, token, "short"), errs.Invalid)
		clock.Advance(AccountSetupTTL - time.Minute)
		if err := s.CompleteAccountSetup(bg, token, "my-first-passphrase"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.CompleteAccountSetup(bg, token, "my-first-passphrase"), errs.Gone)
		if _, err := s.Login(bg, "new@example.org", "my-first-passphrase", ""); err != nil {
			t.Fatal(err)
		}
		if auditCount(t, db, "account.setup") != 1 {
			t.Fatal("audit account.setup missing")
		}
	})
}

func TestAccountSetupExpiresAfterSevenDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		u := mustCreate(t, s, NewUser{Email: "new@example.org", Password: "", PasswordHash: ""})
		var link string
		db.Tx(bg, func(tx *store.Tx) error { var err error; link, err = s.IssueAccountSetup(bg, tx, u); return err })
		_, token := linkIn(t, link, "https://roster.test/account/setup/")
		clock.Advance(AccountSetupTTL + time.Second)
		_, err := s.CheckAccountSetupToken(bg, token)
		wantCode(t, err, errs.Gone)

		sso := mustCreate(t, s, NewUser{Email: "sso@example.org", Auth: AuthOIDC})
		err = db.Tx(bg, func(tx *store.Tx) error { _, err := s.IssueAccountSetup(bg, tx, sso); return err })
		wantCode(t, err, errs.Conflict)
	})
}
