package account

import (
	"context"
	"strings"
	"testing"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/mail"
	"roster/internal/store"
)

// cheapParams make hashing fast in tests that are not about its cost.
var cheapParams = argonParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const goodPassword = "correct-lantern-orbit-42"

var bg = context.Background()

// newService returns a service over db with cheap hashing.
func newService(t testing.TB, db *store.DB) *Service {
	t.Helper()
	s := NewService(db, Config{BaseURL: "https://roster.test/"})
	s.hasher = newHasher(cheapParams, 4)
	return s
}

// mustCreate creates a local account with goodPassword.
func mustCreate(t testing.TB, s *Service, in NewUser) *User {
	t.Helper()
	if in.FirstName == "" {
		in.FirstName, in.LastName = "Ada", "Lovelace"
	}
	if in.Password == "" && in.PasswordHash == "" && (in.Auth == "" || in.Auth == AuthLocal) {
		in.Password = goodPassword
	}
	var u *User
	err := s.db.Tx(bg, func(tx *store.Tx) error {
		var err error
		u, err = s.CreateUser(bg, tx, in)
		return err
	})
	if err != nil {
		t.Fatalf("create %+v: %v", in, err)
	}
	return u
}

// wantCode fails unless err carries code.
func wantCode(t testing.TB, err error, code errs.Code) {
	t.Helper()
	if errs.CodeOf(err) != code || err == nil {
		t.Fatalf("want %s, got %v", code, err)
	}
}

type outboxRow struct{ To, Template, Text string }

func outbox(t testing.TB, db *store.DB) []outboxRow {
	t.Helper()
	rows, err := db.QueryContext(bg, `SELECT to_addr, template, text_body FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.To, &r.Template, &r.Text); err != nil {
			t.Fatal(err)
		}
		if r.Text, err = mail.OpenLinks(db.Key, r.Text); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// linkIn returns the link starting with prefix in text, and its token.
func linkIn(t testing.TB, text, prefix string) (link, token string) {
	t.Helper()
	i := strings.Index(text, prefix)
	if i < 0 {
		t.Fatalf("no link %s in %q", prefix, text)
	}
	link = strings.Fields(text[i:])[0]
	return link, strings.TrimPrefix(link, prefix)
}

func auditCount(t testing.TB, db *store.DB, action string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(bg, `SELECT count(*) FROM audit_events WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func storedHash(t testing.TB, db *store.DB, id int64) string {
	t.Helper()
	var h string
	if err := db.QueryRowContext(bg, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

var adminCtx = authz.With(bg, authz.System)

// allowSharedEmail sets the platform setting that lets accounts share an email.
func allowSharedEmail(t testing.TB, s *Service, on bool) {
	t.Helper()
	if err := s.SetSharedEmailAllowed(adminCtx, on); err != nil {
		t.Fatal(err)
	}
}
