package account

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestRequestResetNeverRevealsAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		sus := mustCreate(t, s, NewUser{Username: "suspended", Email: "sus@example.org"})
		db.ExecContext(bg, `UPDATE users SET status = 'suspended' WHERE id = $1`, sus.ID)
		for _, login := range []string{"nobody", "nobody@example.org", "suspended"} {
			if err := s.RequestReset(bg, login, "10.0.0.1"); err != nil {
				t.Fatalf("%q: %v", login, err)
			}
		}
		if rows := outbox(t, db); len(rows) != 0 {
			t.Fatalf("mail sent: %+v", rows)
		}
		wantCode(t, s.RequestReset(bg, " ", ""), errs.Invalid)

		mustCreate(t, s, NewUser{Username: "sso", Email: "sso@example.org", Auth: AuthCAS})
		err := s.RequestReset(bg, "SSO@example.org", "")
		if !errors.Is(err, ErrUseInstitutional) || errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("SSO account: %v", err)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		a := mustCreate(t, s, NewUser{Username: "amartin", Email: "Alice@Example.org", FirstName: "Alice", LastName: "Martin"})
		sess, _ := s.CreateSession(bg, a.ID, "", "")
		other, _ := s.CreateSession(bg, a.ID, "", "")

		if err := s.RequestReset(bg, "ALICE@example.org", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		rows := outbox(t, db)
		if len(rows) != 1 || rows[0].To != "Alice@Example.org" || rows[0].Template != "password_reset" {
			t.Fatalf("outbox %+v", rows)
		}
		_, token := linkIn(t, rows[0].Text, "https://roster.test/password/reset/")
		if len(token) != 43 {
			t.Fatalf("token %q", token)
		}
		var stored string
		db.QueryRowContext(bg, `SELECT token_hash FROM one_time_tokens WHERE purpose = 'password_reset'`).Scan(&stored)
		if stored != secret.Hash(token) {
			t.Fatal("the token itself is stored, or another hash")
		}
		if u, err := s.CheckResetToken(bg, token); err != nil || u.ID != a.ID {
			t.Fatalf("check: %v", err)
		}
		// A reset link is not a setup link.
		_, err := s.CheckAccountSetupToken(bg, token)
		wantCode(t, err, errs.Gone)

		// The policy applies, names the field, and a refused password does not use the link up.
		err = s.ResetPassword(bg, token, "amartin-is-me-2024")
		if e := errs.As(err); e.Code != errs.Invalid || e.Fields[0].Field != "password" {
			t.Fatalf("policy: %v", err)
		}
		clock.Advance(29 * time.Minute)
		const newPassword = "a-brand-new-passphrase"
		if err := s.ResetPassword(bg, token, newPassword); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.ResetPassword(bg, token, newPassword+"2"), errs.Gone)
		_, err = s.CheckResetToken(bg, token)
		wantCode(t, err, errs.Gone)
		for _, tok := range []string{sess, other} {
			_, err := s.SessionUser(bg, tok)
			wantCode(t, err, errs.Unauthorized)
		}
		if _, err := s.Login(bg, "amartin", goodPassword, ""); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("old password: %v", err)
		}
		if _, err := s.Login(bg, "amartin", newPassword, ""); err != nil {
			t.Fatalf("new password: %v", err)
		}
		if auditCount(t, db, "password.reset") != 1 || auditCount(t, db, "password.reset_request") != 1 {
			t.Fatal("audit events missing")
		}
	})
}

func TestResetLinkExpiresAndIsRateLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		for i := 0; i < maxResetsPerHour+2; i++ {
			if err := s.RequestReset(bg, "amartin", ""); err != nil {
				t.Fatal(err)
			}
		}
		rows := outbox(t, db)
		if len(rows) != maxResetsPerHour {
			t.Fatalf("%d mails, want %d", len(rows), maxResetsPerHour)
		}
		_, token := linkIn(t, rows[0].Text, "https://roster.test/password/reset/")
		clock.Advance(31 * time.Minute)
		_, err := s.CheckResetToken(bg, token)
		wantCode(t, err, errs.Gone)
		wantCode(t, s.ResetPassword(bg, token, "a-brand-new-passphrase"), errs.Gone)
		clock.Advance(30 * time.Minute)
		s.RequestReset(bg, "amartin", "")
		if n := len(outbox(t, db)); n != maxResetsPerHour+1 {
			t.Fatalf("after an hour: %d mails", n)
		}
		// The reset TTL comes from the configuration.
		s.cfg.ResetTTL = 5 * time.Minute
		s.RequestReset(bg, "amartin", "")
		rows = outbox(t, db)
		_, token = linkIn(t, rows[len(rows)-1].Text, "https://roster.test/password/reset/")
		clock.Advance(5*time.Minute + time.Second)
		_, err = s.CheckResetToken(bg, token)
		wantCode(t, err, errs.Gone)
	})
}

// TestResetTokenSingleUseUnderRace: two resets with the same link at once, exactly one wins.
func TestResetTokenSingleUseUnderRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		s.RequestReset(bg, "amartin", "")
		_, token := linkIn(t, outbox(t, db)[0].Text, "https://roster.test/password/reset/")
		const n = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.ResetPassword(bg, token, "racing-passphrase-"+strings.Repeat("x", i))
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				} else if !errs.Is(err, errs.Gone) {
					t.Errorf("loser: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d resets succeeded with one link", wins)
		}
		if n := auditCount(t, db, "password.reset"); n != 1 {
			t.Fatalf("%d audit events", n)
		}
	})
}

// TestResetLiftsLoginLock: a person locked out by someone guessing gets in after a reset.
func TestResetLiftsLoginLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		for i := 0; i <= loginRule.limit; i++ {
			s.Login(bg, "amartin", "wrong-password-123", "")
		}
		s.RequestReset(bg, "amartin", "")
		_, token := linkIn(t, outbox(t, db)[0].Text, "https://roster.test/password/reset/")
		if err := s.ResetPassword(bg, token, "a-brand-new-passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(bg, "amartin", "a-brand-new-passphrase", ""); err != nil {
			t.Fatal(err)
		}
	})
}
