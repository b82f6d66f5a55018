package account

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/GehirnInc/crypt/sha512_crypt"
	"golang.org/x/crypto/bcrypt"

	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestLoginByUsernameOrEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		a := mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		for _, login := range []string{"amartin", "AMartin", "Alice@Example.org "} {
			u, err := s.Login(bg, login, goodPassword, "10.0.0.1")
			if err != nil || u.ID != a.ID {
				t.Fatalf("%q: %v", login, err)
			}
			if u.LastLoginAt == nil || !u.LastLoginAt.Equal(clock.T) {
				t.Fatalf("last login %v", u.LastLoginAt)
			}
		}
		if n := auditCount(t, db, "login.success"); n != 3 {
			t.Fatalf("login.success events: %d", n)
		}
		if u, _ := s.UserByID(bg, a.ID); u.LastLoginAt == nil {
			t.Fatal("last_login_at not stored")
		}
	})
}

// TestLoginFailuresLookAlike: unknown login, wrong password, suspended account and SSO
// account all give the same code and message.
func TestLoginFailuresLookAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		sus := mustCreate(t, s, NewUser{Username: "suspended", Email: "sus@example.org"})
		db.ExecContext(bg, `UPDATE users SET status = 'suspended' WHERE id = $1`, sus.ID)
		mustCreate(t, s, NewUser{Username: "sso", Email: "sso@example.org", Auth: AuthCAS})
		var msgs []string
		for _, c := range [][2]string{{"nobody", goodPassword}, {"amartin", "wrong-password-123"}, {"suspended", goodPassword}, {"sso", goodPassword}, {"", "x"}} {
			_, err := s.Login(bg, c[0], c[1], "10.0.0.2")
			wantCode(t, err, errs.Unauthorized)
			msgs = append(msgs, errs.As(err).Message)
		}
		for _, m := range msgs {
			if m != "Wrong login or password" {
				t.Fatalf("messages differ: %q", msgs)
			}
		}
	})
}

// TestLoginCostUnknownVsWrong checks that an unknown login pays for one real argon2id check
// with the production parameters, exactly as a wrong password does, so that timing does not
// tell them apart. It counts the checks rather than timing them against each other, which
// load elsewhere on the machine would decide; the one timing bound is a floor, which load
// cannot break. BenchmarkLogin* give the figures.
func TestLoginCostUnknownVsWrong(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	s := NewService(db, Config{})
	mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
	for _, login := range []string{"amartin", "nobody-at-all"} {
		before := s.hasher.argonChecks.Load()
		start := time.Now()
		_, err := s.Login(bg, login, "wrong-password-123", "")
		d := time.Since(start)
		wantCode(t, err, errs.Unauthorized)
		if n := s.hasher.argonChecks.Load() - before; n != 1 {
			t.Errorf("login %q did %d argon2id checks, want 1", login, n)
		}
		if d < 10*time.Millisecond {
			t.Errorf("login %q took only %v: the argon2id check is missing or too cheap", login, d)
		}
	}
}

func TestLoginThrottlePerLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		fail := func() error { _, err := s.Login(bg, "amartin", "wrong-password-123", "10.0.0.3"); return err }
		for i := 0; i < loginRule.limit; i++ {
			wantCode(t, fail(), errs.Unauthorized)
		}
		// Locked: even the right password is not checked.
		_, err := s.Login(bg, "AMARTIN", goodPassword, "10.0.0.3")
		e := errs.As(err)
		if e.Code != errs.TooMany || e.RetryAfter != 60 || e.Message != "Too many failed attempts. Try again in 60 seconds." {
			t.Fatalf("locked: %+v", e)
		}
		clock.Advance(45 * time.Second)
		if e := errs.As(fail()); e.Code != errs.TooMany || e.RetryAfter != 15 {
			t.Fatalf("after 45s: %+v", e)
		}
		// The lock doubles with each further failure: 120 s, then 240 s.
		clock.Advance(16 * time.Second)
		wantCode(t, fail(), errs.Unauthorized)
		if e := errs.As(fail()); e.RetryAfter != 120 {
			t.Fatalf("second lock: %+v", e)
		}
		clock.Advance(121 * time.Second)
		wantCode(t, fail(), errs.Unauthorized)
		if e := errs.As(fail()); e.RetryAfter != 240 {
			t.Fatalf("third lock: %+v", e)
		}
		// Failures on an unknown login are throttled the same way.
		for i := 0; i < loginRule.limit; i++ {
			s.Login(bg, "ghost", "wrong-password-123", "10.0.0.4")
		}
		_, err = s.Login(bg, "ghost", "wrong-password-123", "10.0.0.4")
		wantCode(t, err, errs.TooMany)

		// Once the lock is over the right password gets in and the count is forgotten.
		clock.Advance(241 * time.Second)
		if _, err := s.Login(bg, "amartin", goodPassword, "10.0.0.3"); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		for i := 0; i < loginRule.limit-1; i++ {
			wantCode(t, fail(), errs.Unauthorized)
		}
	})
}

func TestLoginThrottleWindowForgets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		for i := 0; i < loginRule.limit-1; i++ {
			s.Login(bg, "amartin", "wrong-password-123", "")
		}
		clock.Advance(loginRule.window + time.Second)
		for i := 0; i < loginRule.limit-1; i++ {
			_, err := s.Login(bg, "amartin", "wrong-password-123", "")
			wantCode(t, err, errs.Unauthorized)
		}
	})
}

// TestLoginThrottleParallel fires 50 wrong attempts at once: exactly the limit (5) may check
// the password, the rest must be refused without checking it, on both databases.
func TestLoginThrottleParallel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			counts = map[errs.Code]int{}
		)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Login(bg, "amartin", "wrong-password-123", fmt.Sprintf("10.1.0.%d", i))
				mu.Lock()
				counts[errs.CodeOf(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if counts[errs.Unauthorized] != loginRule.limit || counts[errs.TooMany] != 50-loginRule.limit {
			t.Fatalf("outcomes %v: want %d password checks", counts, loginRule.limit)
		}
	})
}

// TestLoginThrottlePerAddress: 50 wrong passwords from an address (someone trying many
// accounts) slow further attempts from it, but lock nobody out: another person at that
// address, and the owner of a tried account, still log in with their right password.
func TestLoginThrottlePerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		mustCreate(t, s, NewUser{Username: "bdupont", Email: "bob@example.org"})
		// Successes from the address do not count against it.
		for i := 0; i < 3; i++ {
			if _, err := s.Login(bg, "amartin", goodPassword, "192.0.2.7"); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < ipRule.limit; i++ {
			login := fmt.Sprintf("user%d", i)
			if i == 0 {
				login = "bdupont"
			}
			_, err := s.Login(bg, login, "wrong-password-123", "192.0.2.7")
			wantCode(t, err, errs.Unauthorized)
		}
		for _, login := range []string{"amartin", "bob@example.org"} {
			start := time.Now()
			if _, err := s.Login(bg, login, goodPassword, "192.0.2.7"); err != nil {
				t.Fatalf("%s, right password, from the address that failed 50 times: %v", login, err)
			}
			if d := time.Since(start); d < baseAddressDelay {
				t.Errorf("%s: no delay (%v) from an address past its limit", login, d)
			}
		}
		// Further failures from the address wait longer and longer, up to the ceiling: the
		// i-th one after the limit waits at least addressDelay(limit+i) (a lower bound only:
		// on a busy machine the password check adds its own time).
		for i := 0; i < 3; i++ {
			start := time.Now()
			_, err := s.Login(bg, fmt.Sprintf("other%d", i), "wrong-password-123", "192.0.2.7")
			wantCode(t, err, errs.Unauthorized)
			if d, want := time.Since(start), addressDelay(ipRule.limit+i); d < want {
				t.Errorf("failure %d past the limit took %v, less than its delay %v", i, d, want)
			}
		}
		if addressDelay(ipRule.limit-1) != 0 || addressDelay(ipRule.limit) != baseAddressDelay ||
			addressDelay(ipRule.limit+1) != 2*baseAddressDelay || addressDelay(ipRule.limit+100) != maxAddressDelay {
			t.Errorf("delays: %v %v %v", addressDelay(ipRule.limit-1), addressDelay(ipRule.limit), addressDelay(ipRule.limit+100))
		}
		// Another address is not slowed; after the window the address is forgotten.
		start := time.Now()
		if _, err := s.Login(bg, "amartin", goodPassword, "192.0.2.8"); err != nil || time.Since(start) > baseAddressDelay+time.Second {
			t.Fatalf("from another address: %v", err)
		}
		clock.Advance(ipRule.window + time.Second)
		if n := addressDelayNow(t, s, "192.0.2.7"); n != 0 {
			t.Fatalf("after the window: delay %v", n)
		}
	})
}

// addressDelayNow returns the delay the next attempt from ip gets.
func addressDelayNow(t *testing.T, s *Service, ip string) time.Duration {
	t.Helper()
	start := time.Now()
	if err := s.slowAddress(bg, ip); err != nil {
		t.Fatal(err)
	}
	return time.Since(start).Truncate(baseAddressDelay)
}

// TestLoginThrottleOneCounterPerAccount: guesses by username and by email add up.
func TestLoginThrottleOneCounterPerAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		mustCreate(t, s, NewUser{Username: "amartin", Email: "alice@example.org"})
		for i := 0; i < loginRule.limit; i++ {
			login := "amartin"
			if i%2 == 1 {
				login = "Alice@Example.org"
			}
			_, err := s.Login(bg, login, "wrong-password-123", "")
			wantCode(t, err, errs.Unauthorized)
		}
		for _, login := range []string{"amartin", "alice@example.org"} {
			_, err := s.Login(bg, login, goodPassword, "")
			wantCode(t, err, errs.TooMany)
		}
	})
}

// TestLoginRehashesLegacyHashes: imported bcrypt and SHA-512 crypt hashes let their owner in
// once and are replaced by argon2id; weaker argon2id parameters are upgraded too.
func TestLoginRehashesLegacyHashes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		b, _ := bcrypt.GenerateFromPassword([]byte(goodPassword), bcrypt.MinCost)
		six, _ := sha512_crypt.New().Generate([]byte(goodPassword), []byte("$6$rounds=10000$abcdefgh"))
		weak := newHasher(argonParams{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
		weakHash, _ := weak.Hash(bg, goodPassword)
		for name, hash := range map[string]string{"2y": "$2y$" + string(b[4:]), "2a": "$2a$" + string(b[4:]),
			"2b": "$2b$" + string(b[4:]), "6": six, "argon2id-weak": weakHash} {
			u := mustCreate(t, s, NewUser{Username: "u" + strings.ReplaceAll(name, "-", ""), Email: name + "@example.org", PasswordHash: hash})
			if _, err := s.Login(bg, u.Username, "wrong-password-123", ""); !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("%s: wrong password: %v", name, err)
			}
			if storedHash(t, db, u.ID) != hash {
				t.Fatalf("%s: rehashed after a failure", name)
			}
			if _, err := s.Login(bg, u.Username, goodPassword, ""); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			h := storedHash(t, db, u.ID)
			if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("%s: not rehashed: %s", name, h)
			}
			if _, err := s.Login(bg, u.Username, goodPassword, ""); err != nil {
				t.Fatalf("%s: after rehash: %v", name, err)
			}
			if storedHash(t, db, u.ID) != h {
				t.Fatalf("%s: rehashed twice", name)
			}
		}
	})
}
