package account

import (
	"testing"

	"roster/internal/store/storetest"
)

// BenchmarkHash is the cost of one argon2id hash with the production parameters; it is the
// figure the parameters in password.go are tuned by (20-50 ms).
func BenchmarkHash(b *testing.B) {
	h := newHasher(defaultParams, 1)
	for b.Loop() {
		if _, err := h.Hash(bg, "correct-lantern-orbit-42"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFastImportHash is the cost of an import's fast hash (policy check included), and
// BenchmarkWrapHash that of wrapping one in argon2id (the task's work for each account).
func BenchmarkFastImportHash(b *testing.B) {
	s := &Service{hasher: newHasher(defaultParams, 1)}
	for b.Loop() {
		if _, err := s.FastImportHash("correct-lantern-orbit-42", "amartin", "alice@example.org"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrapHash(b *testing.B) {
	h := newHasher(defaultParams, 1)
	s := &Service{hasher: h}
	fast, _ := s.FastImportHash("correct-lantern-orbit-42", "", "")
	for b.Loop() {
		if _, err := h.wrapHash(fast); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogin is a full successful login on SQLite: throttle, lookup, argon2id check and
// the transaction that records it. It should cost the hash and little more.
func BenchmarkLogin(b *testing.B) {
	db, _ := storetest.OpenSQLite(b)
	s := NewService(db, Config{})
	mustCreate(b, s, NewUser{Username: "amartin", Email: "alice@example.org"})
	for b.Loop() {
		if _, err := s.Login(bg, "amartin", goodPassword, "10.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionUser is what every session-authenticated request pays to know its user.
func BenchmarkSessionUser(b *testing.B) {
	db, _ := storetest.OpenSQLite(b)
	s := newService(b, db)
	u := mustCreate(b, s, NewUser{Username: "amartin", Email: "alice@example.org"})
	tok, err := s.CreateSession(bg, u.ID, "", "")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.SessionUser(bg, tok); err != nil {
			b.Fatal(err)
		}
	}
}
