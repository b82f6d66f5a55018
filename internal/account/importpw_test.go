package account

import (
	"strings"
	"testing"

	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestImportPassword: an import sets a local account's password hash, ending its sessions
// and using up its reset links; a single sign-on account is refused; undo puts the old hash
// back only while the imported one is still there; the undo token holds no new hash.
func TestImportPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		u := mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		sso := mustCreate(t, s, NewUser{Username: "bcas", Email: "b@example.org", Auth: AuthCAS})
		if _, err := s.CreateSession(bg, u.ID, "", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.RequestReset(bg, "amartin", ""); err != nil {
			t.Fatal(err)
		}
		hash, err := s.HashPassword(bg, "a-brand-new-passphrase", "amartin", "alice@example.org")
		if err != nil {
			t.Fatal(err)
		}
		var token string
		tx := func(fn func(tx *store.Tx) error) error { return db.Tx(bg, fn) }
		if err := tx(func(tx *store.Tx) error {
			_, err := s.ImportPasswordTx(bg, tx, sso.ID, hash)
			return err
		}); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("single sign-on account: %v", err)
		}
		if err := tx(func(tx *store.Tx) error {
			_, err := s.ImportPasswordTx(bg, tx, u.ID, "a-brand-new-passphrase")
			return err
		}); errs.CodeOf(err) != errs.Invalid {
			t.Fatalf("a password instead of a hash: %v", err)
		}
		if err := tx(func(tx *store.Tx) error {
			var err error
			token, err = s.ImportPasswordTx(bg, tx, u.ID, hash)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(token, hash) || !strings.HasPrefix(token, "$argon2id$") {
			t.Errorf("undo token %q", token)
		}
		var sessions, links int
		db.QueryRowContext(bg, `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID).Scan(&sessions)
		db.QueryRowContext(bg, `SELECT count(*) FROM one_time_tokens WHERE user_id = $1 AND used_at IS NULL`, u.ID).Scan(&links)
		if sessions != 0 || links != 0 {
			t.Errorf("%d sessions, %d unused links left", sessions, links)
		}
		if _, err := s.Login(bg, "amartin", "a-brand-new-passphrase", ""); err != nil {
			t.Errorf("login with the imported password: %v", err)
		}
		var restored bool
		if err := tx(func(tx *store.Tx) error {
			restored, err = s.UndoImportPasswordTx(bg, tx, u.ID, token)
			return err
		}); err != nil || !restored {
			t.Fatalf("undo: %v %v", restored, err)
		}
		if _, err := s.Login(bg, "amartin", goodPassword, ""); err != nil {
			t.Errorf("login with the old password: %v", err)
		}
		// The old password is back: the same token no longer matches.
		if err := tx(func(tx *store.Tx) error {
			restored, err = s.UndoImportPasswordTx(bg, tx, u.ID, token)
			return err
		}); err != nil || restored {
			t.Fatalf("undo twice: %v %v", restored, err)
		}
	})
}

// TestUndoImportPasswordAfterWrap: an import's fast hash, then wrapped by the task, or then
// upgraded to plain argon2id by its owner's login, is still the imported password: undo puts
// the old one back. A password set since (a reset) stays.
func TestUndoImportPasswordAfterWrap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		const imported = "an-imported-passphrase"
		for _, then := range []string{"wrapped", "login", "wrapped and login", "reset"} {
			name := strings.ReplaceAll(then, " ", "")
			u := mustCreate(t, s, NewUser{Username: name, Email: name + "@example.org"})
			hash, err := s.FastImportHash(imported, "", "")
			if err != nil {
				t.Fatal(err)
			}
			var token string
			if err := db.Tx(bg, func(tx *store.Tx) error {
				token, err = s.ImportPasswordTx(bg, tx, u.ID, hash)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(then, "wrapped") {
				if rep, err := s.WrapPasswords(bg); err != nil || rep.Wrapped != 1 {
					t.Fatalf("%s: wrap %+v %v", then, rep, err)
				}
			}
			if strings.Contains(then, "login") {
				if _, err := s.Login(bg, name, imported, ""); err != nil {
					t.Fatalf("%s: %v", then, err)
				}
				if h := storedHash(t, db, u.ID); !strings.HasPrefix(h, "$argon2id$") {
					t.Fatalf("%s: login left %s", then, h)
				}
			}
			if then == "reset" {
				h, _ := s.hasher.hashNow("a-password-of-their-own")
				db.ExecContext(bg, `UPDATE users SET password_hash = $1 WHERE id = $2`, h, u.ID)
			}
			var restored bool
			if err := db.Tx(bg, func(tx *store.Tx) error {
				restored, err = s.UndoImportPasswordTx(bg, tx, u.ID, token)
				return err
			}); err != nil || restored != (then != "reset") {
				t.Errorf("%s: undo restored=%v %v", then, restored, err)
			}
			if _, err := s.Login(bg, name, goodPassword, ""); (err == nil) != (then != "reset") {
				t.Errorf("%s: login with the old password after undo: %v", then, err)
			}
		}
	})
}
