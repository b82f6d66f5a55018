package account

import (
	"encoding/base64"
	"testing"
	"time"

	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		a := mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		tok, err := s.CreateSession(bg, a.ID, "10.0.0.1", "Firefox")
		if err != nil {
			t.Fatal(err)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(raw) != 32 {
			t.Fatalf("cookie %q is not 32 bytes of base64url", tok)
		}
		var stored string
		db.QueryRowContext(bg, `SELECT id_hash FROM sessions`).Scan(&stored)
		if stored != secret.Hash(tok) || len(stored) != 64 {
			t.Fatalf("stored %q", stored)
		}
		if u, err := s.SessionUser(bg, tok); err != nil || u.ID != a.ID {
			t.Fatalf("SessionUser: %v", err)
		}
		_, err = s.SessionUser(bg, tok+"x")
		wantCode(t, err, errs.Unauthorized)

		lastSeen := func() int64 {
			var v int64
			db.QueryRowContext(bg, `SELECT last_seen_at FROM sessions WHERE id_hash = $1`, secret.Hash(tok)).Scan(&v)
			return v
		}
		// last_seen_at is written at most once a minute.
		start := clock.T.Unix()
		clock.Advance(30 * time.Second)
		s.SessionUser(bg, tok)
		if lastSeen() != start {
			t.Fatal("touched within the minute")
		}
		clock.Advance(31 * time.Second)
		s.SessionUser(bg, tok)
		if lastSeen() != clock.T.Unix() {
			t.Fatal("not touched after a minute")
		}
		// Use keeps it alive past the idle timeout of 12 hours...
		for i := 0; i < 3; i++ {
			clock.Advance(11 * time.Hour)
			if _, err := s.SessionUser(bg, tok); err != nil {
				t.Fatalf("active session ended: %v", err)
			}
		}
		// ...but 12 idle hours end it.
		clock.Advance(12*time.Hour + time.Second)
		_, err = s.SessionUser(bg, tok)
		wantCode(t, err, errs.Unauthorized)
	})
}

func TestSessionMaxAgeSuspensionAndLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		a := mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		tok, _ := s.CreateSession(bg, a.ID, "", "")
		for i := 0; i < 7*24/11; i++ {
			clock.Advance(11 * time.Hour)
			s.SessionUser(bg, tok)
		}
		clock.Advance(11 * time.Hour) // past 7 days since login
		_, err := s.SessionUser(bg, tok)
		wantCode(t, err, errs.Unauthorized)

		t1, _ := s.CreateSession(bg, a.ID, "", "")
		t2, _ := s.CreateSession(bg, a.ID, "", "")
		t3, _ := s.CreateSession(bg, a.ID, "", "")
		if err := s.EndSession(bg, t1); err != nil {
			t.Fatal(err)
		}
		_, err = s.SessionUser(bg, t1)
		wantCode(t, err, errs.Unauthorized)
		if err := db.Tx(bg, func(tx *store.Tx) error { return s.EndAllSessions(bg, tx, a.ID, t2) }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(bg, t2); err != nil {
			t.Fatalf("kept session: %v", err)
		}
		_, err = s.SessionUser(bg, t3)
		wantCode(t, err, errs.Unauthorized)

		db.ExecContext(bg, `UPDATE users SET status = 'suspended' WHERE id = $1`, a.ID)
		_, err = s.SessionUser(bg, t2)
		wantCode(t, err, errs.Unauthorized)
		_, err = s.CreateSession(bg, a.ID, "", "")
		wantCode(t, err, errs.Unauthorized)
		if err := s.Purge(bg); err != nil {
			t.Fatal(err)
		}
	})
}
