package account

import (
	"context"
	"regexp"
	"sync"
	"testing"

	"github.com/GehirnInc/crypt/sha512_crypt"
	"golang.org/x/crypto/bcrypt"
)

func TestArgon2idPHCFormatAndVerify(t *testing.T) {
	h := newHasher(defaultParams, 2)
	hash, err := h.Hash(bg, "hunter2 but longer")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(hash) {
		t.Fatalf("not a PHC argon2id string: %s", hash)
	}
	if ok, rehash, _ := h.Verify(bg, hash, "hunter2 but longer"); !ok || rehash {
		t.Fatalf("right password: ok=%v rehash=%v", ok, rehash)
	}
	if ok, _, _ := h.Verify(bg, hash, "hunter2 but longe"); ok {
		t.Fatal("wrong password accepted")
	}
	// A hash with weaker parameters than today's verifies and asks to be upgraded.
	weak, _ := newHasher(cheapParams, 1).Hash(bg, "pw")
	if ok, rehash, _ := h.Verify(bg, weak, "pw"); !ok || !rehash {
		t.Fatalf("weak hash: ok=%v rehash=%v", ok, rehash)
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$x$y$z", "$1$abc$def"} {
		if ok, _, err := h.Verify(bg, bad, "pw"); ok || err != nil {
			t.Fatalf("%q: ok=%v err=%v", bad, ok, err)
		}
	}
}

func TestLegacyHashesVerifyAndAskForRehash(t *testing.T) {
	h := newHasher(cheapParams, 2)
	pw := "Imported-Passw0rd!"
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	six, err := sha512_crypt.New().Generate([]byte(pw), []byte("$6$rounds=5000$moodlesalt$"))
	if err != nil {
		t.Fatal(err)
	}
	sixDefault, _ := sha512_crypt.New().Generate([]byte(pw), []byte("$6$shortsalt$"))
	for name, hash := range map[string]string{
		"2a": "$2a$" + string(b[4:]), "2b": "$2b$" + string(b[4:]), "2y": "$2y$" + string(b[4:]),
		"6 rounds": six, "6": sixDefault,
	} {
		if ok, rehash, err := h.Verify(bg, hash, pw); !ok || !rehash || err != nil {
			t.Errorf("%s: ok=%v rehash=%v err=%v", name, ok, rehash, err)
		}
		if ok, _, _ := h.Verify(bg, hash, pw+"x"); ok {
			t.Errorf("%s: wrong password accepted", name)
		}
		if !knownHash(hash) {
			t.Errorf("%s: not recognised for import", name)
		}
	}
}

// TestHashConcurrencyIsBounded fires 500 verifications at once, as 500 simultaneous logins
// would, and checks that no more than N hashes ever ran together.
func TestHashConcurrencyIsBounded(t *testing.T) {
	const n = 3
	h := newHasher(argonParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, n)
	hash, _ := h.Hash(bg, "pw")
	var wg sync.WaitGroup
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				h.Verify(bg, hash, "pw")
			} else {
				h.VerifyDummy(bg, "pw")
			}
		}()
	}
	wg.Wait()
	if p := h.peak.Load(); p > n || p < 1 {
		t.Fatalf("peak hashes in flight = %d, want 1..%d", p, n)
	}
	if h.inFlight.Load() != 0 {
		t.Fatal("slots leaked")
	}
	// A caller that gives up while waiting gets Unavailable, not a hang.
	for i := 0; i < n; i++ {
		h.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := h.Hash(ctx, "pw"); err == nil {
		t.Fatal("want an error when no slot frees up")
	}
}

func TestDefaultHashConcurrency(t *testing.T) {
	s := NewService(nil, Config{})
	if c := cap(s.hasher.slots); c < 2 {
		t.Fatalf("concurrency %d", c)
	}
	if s.cfg.ResetTTL.Minutes() != 30 || s.cfg.SessionTTL.Hours() != 12 {
		t.Fatalf("defaults: %+v", s.cfg)
	}
}

// TestKnownLegacyVectors checks against hashes made by other software: the SHA-crypt
// specification's examples and PHP's documented password_hash example ($2y$).
func TestKnownLegacyVectors(t *testing.T) {
	h := newHasher(cheapParams, 1)
	for _, c := range []struct{ hash, pw string }{
		{"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", "Hello world!"},
		{"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!"},
		{"$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf"},
	} {
		if ok, _, _ := h.Verify(bg, c.hash, c.pw); !ok {
			t.Errorf("%s does not verify", c.hash)
		}
	}
}
