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
