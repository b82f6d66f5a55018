package account

import (
	"strings"
	"testing"

	"github.com/GehirnInc/crypt/sha512_crypt"
	"golang.org/x/crypto/bcrypt"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestBcryptHashAgrees: our bcrypt from settings gives x/crypto's hash and PHP's $2y$ one.
func TestBcryptHashAgrees(t *testing.T) {
	for _, pw := range []string{"Imported-Passw0rd!", "", strings.Repeat("long", 18)} {
		b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil && pw != "" {
			t.Fatal(err)
		}
		if err != nil {
			continue
		}
		if got, err := bcryptHash(pw, string(b[:29])); err != nil || got != string(b) {
			t.Errorf("%q: %s, want %s (%v)", pw, got, b, err)
		}
	}
	php := "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
	if got, err := bcryptHash("rasmuslerdorf", php[:29]); err != nil || got != php {
		t.Errorf("PHP vector: %s (%v)", got, err)
	}
	for _, bad := range []string{"$2b$99$.vGA1O9wmRjrwAVXD98HNO", "$2b$10$short", "$2b10$.vGA1O9wmRjrwAVXD98HNOg"} {
		if _, err := bcryptHash("x", bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestFastHashWrapped: an import's fast hash holds no password and verifies; every
// wrappable form (fast, bcrypt, SHA-512 crypt) wrapped in argon2id verifies the right
// password only, asks to be replaced, and needs an argon2id check.
func TestFastHashWrapped(t *testing.T) {
	h := newHasher(cheapParams, 2)
	s := &Service{hasher: h}
	pw := "Imported-Passw0rd!"
	fast, err := s.FastImportHash(pw, "amartin", "a@example.org")
	if err != nil || !strings.HasPrefix(fast, fastPrefix) || strings.Contains(fast, pw) || !knownHash(fast) {
		t.Fatalf("fast hash %q (%v)", fast, err)
	}
	if _, err := s.FastImportHash("short", "", ""); err == nil {
		t.Error("the policy is not checked")
	}
	b, _ := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	six, _ := sha512_crypt.New().Generate([]byte(pw), []byte("$6$rounds=5000$moodlesalt$"))
	for name, inner := range map[string]string{"fast": fast, "2y": "$2y$" + string(b[4:]), "6": six} {
		if ok, rehash, _ := h.Verify(bg, inner, pw); !ok || !rehash {
			t.Errorf("%s before wrapping: ok=%v rehash=%v", name, ok, rehash)
		}
		w, err := h.wrapHash(inner)
		if err != nil || !strings.HasPrefix(w, wrapPrefix) || strings.Contains(w, inner) || !knownHash(w) {
			t.Fatalf("%s wrapped: %q (%v)", name, w, err)
		}
		before := h.argonChecks.Load()
		if ok, rehash, _ := h.Verify(bg, w, pw); !ok || !rehash {
			t.Errorf("%s wrapped: ok=%v rehash=%v", name, ok, rehash)
		}
		if h.argonChecks.Load() != before+1 {
			t.Errorf("%s wrapped: checked without argon2id", name)
		}
		for _, wrong := range []string{pw + "x", "", strings.ToLower(pw)} {
			if ok, _, _ := h.Verify(bg, w, wrong); ok {
				t.Errorf("%s wrapped: %q accepted", name, wrong)
			}
		}
		// A tampered wrapped hash matches nothing.
		if ok, _, _ := h.Verify(bg, w[:len(w)-4]+"AAAA", pw); ok {
			t.Errorf("%s: tampered hash accepted", name)
		}
	}
	if _, err := h.wrapHash("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw"); err == nil {
		t.Error("argon2id wrapped again")
	}
}

// TestWrapPasswords: the task wraps the fast, bcrypt and SHA-512 crypt hashes of accounts
// (an imported argon2id and an account without password stay as they are); the people log
// in with their password after it, ending with plain argon2id.
func TestWrapPasswords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		pw := "Imported-Passw0rd!"
		fast, _ := s.FastImportHash(pw, "", "")
		b, _ := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		six, _ := sha512_crypt.New().Generate([]byte(pw), []byte("$6$moodlesalt$"))
		argon, _ := s.hasher.hashNow(pw)
		ids := map[string]int64{}
		for name, h := range map[string]string{"fast": fast, "bcrypt": string(b), "six": six, "argon": argon} {
			ids[name] = mustCreate(t, s, NewUser{Username: name, Email: name + "@example.org", PasswordHash: h}).ID
		}
		ids["sso"] = mustCreate(t, s, NewUser{Username: "sso", Email: "sso@example.org", Auth: AuthCAS}).ID
		rep, err := s.WrapPasswords(bg)
		if err != nil || rep.Wrapped != 3 {
			t.Fatalf("wrapped %+v, %v", rep, err)
		}
		for name, id := range ids {
			h := storedHash(t, db, id)
			switch name {
			case "argon":
				if h != argon {
					t.Errorf("argon2id hash changed: %s", h)
				}
			case "sso":
				if h != "" {
					t.Errorf("sso account got %q", h)
				}
			default:
				if !strings.HasPrefix(h, wrapPrefix) {
					t.Errorf("%s: %s", name, h)
				}
			}
		}
		if rep, err := s.WrapPasswords(bg); err != nil || rep.Wrapped != 0 {
			t.Errorf("second run %+v, %v", rep, err)
		}
		for _, name := range []string{"fast", "bcrypt", "six"} {
			if _, err := s.Login(bg, name, pw+"x", ""); err == nil {
				t.Errorf("%s: wrong password accepted", name)
			}
			if _, err := s.Login(bg, name, pw, ""); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if h := storedHash(t, db, ids[name]); !strings.HasPrefix(h, "$argon2id$") {
				t.Errorf("%s after login: %s", name, h)
			}
		}
	})
}
