package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/GehirnInc/crypt/sha512_crypt"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"roster/internal/errs"
)

// argonParams are the argon2id cost parameters written into every new hash.
type argonParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen int
	KeyLen  uint32
}

// defaultParams follow OWASP's first argon2id recommendation (19 MiB, 2 passes, 1 lane).
// Measured on the development machine (2 cores, Go 1.26): about 26 ms per hash
// (BenchmarkHash), inside the 20-50 ms the issue asks for. 3 passes cost 35 ms and 64 MiB
// with 1 pass 59 ms; we keep the cheaper memory figure because HashConcurrency hashes may
// run at once. Raising them later is safe: older hashes are upgraded at the next login.
var defaultParams = argonParams{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// HashMemoryKiB is the memory one password hash takes, for sizing HashConcurrency.
const HashMemoryKiB = 19456

// hasher computes and checks password hashes, never more than cap(slots) at once, so that a
// storm of logins queues instead of allocating 19 MiB per request until memory runs out.
type hasher struct {
	params argonParams
	slots  chan struct{}

	inFlight, peak atomic.Int64 // observed by tests
	argonChecks    atomic.Int64 // argon2id verifications done, observed by tests

	dummyOnce sync.Once
	dummy     string
}

func newHasher(p argonParams, concurrency int) *hasher {
	return &hasher{params: p, slots: make(chan struct{}, concurrency)}
}

// acquire waits for a free slot, or for ctx to end.
func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return errs.Coded(errs.Unavailable, "busy")
	}
	n := h.inFlight.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return nil
}

func (h *hasher) release() {
	h.inFlight.Add(-1)
	<-h.slots
}

// Hash returns the argon2id hash of password in the PHC string format
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH (unpadded standard base64), as other tools read it.
func (h *hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hashNow(password)
}

func (h *hasher) hashNow(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", wrap(err, "password salt")
	}
	return h.hashSalted(password, salt), nil
}

// hashSalted is hashNow with the salt given.
func (h *hasher) hashSalted(password string, salt []byte) string {
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches hash, which may be argon2id, bcrypt ($2a$, $2b$,
// $2y$), SHA-512 crypt ($6$, Moodle's format), an import's fast hash or a wrapped one (see
// wrap.go), and whether the hash should be replaced by a fresh argon2id one (another scheme,
// or weaker parameters than today's). An empty or unrecognised hash matches nothing.
func (h *hasher) Verify(ctx context.Context, hash, password string) (ok, rehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		p, salt, key, perr := parseArgon2id(hash)
		if perr != nil {
			return false, false, nil
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
		h.argonChecks.Add(1)
		ok = subtle.ConstantTimeCompare(got, key) == 1
		return ok, ok && (p.Memory < h.params.Memory || p.Time < h.params.Time), nil
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		// $2y$ is PHP's name for the fixed $2a$ algorithm; x/crypto/bcrypt only knows $2a$/$2b$.
		// bcrypt.CompareHashAndPassword compares in constant time.
		if strings.HasPrefix(hash, "$2y$") {
			hash = "$2b$" + hash[4:]
		}
		ok = bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
		return ok, ok, nil
	case strings.HasPrefix(hash, "$6$"):
		ok = verifySHA512Crypt(hash, password)
		return ok, ok, nil
	case strings.HasPrefix(hash, wrapPrefix):
		ok = h.verifyWrapped(hash, password)
		return ok, ok, nil
	case strings.HasPrefix(hash, fastPrefix):
		// A wrong password costs what it costs under argon2id, so that the time of the
		// answer does not tell a just-imported account from another.
		if ok = verifyFast(hash, password); !ok {
			p := h.params
			argon2.IDKey([]byte(password), []byte("roster-fast-miss"), p.Time, p.Memory, p.Threads, p.KeyLen)
		}
		return ok, ok, nil
	}
	return false, false, nil
}

// VerifyDummy spends the time of one argon2id check and matches nothing. Login calls it for
// unknown logins and accounts without a password, so that timing does not tell them apart.
func (h *hasher) VerifyDummy(ctx context.Context, password string) error {
	h.dummyOnce.Do(func() {
		h.dummy, _ = h.hashNow("not a password anyone has: " + rand.Text())
	})
	_, _, err := h.Verify(ctx, h.dummy, password)
	return err
}

// verifySHA512Crypt checks a SHA-512 crypt hash ($6$[rounds=N$]salt$hash, Moodle's format
// since 4.3 uses rounds=10000). We regenerate the hash from its settings and compare in
// constant time ourselves, because the library's own Verify mis-parses hashes that carry
// "rounds=" (it takes the hash part for the salt). Rounds above a million are refused rather
// than computed: no real system uses them and they would stall a hashing slot.
func verifySHA512Crypt(hash, password string) bool {
	i := strings.LastIndexByte(hash, '$')
	if i <= len("$6$") {
		return false
	}
	settings := hash[:i]
	if r, ok := strings.CutPrefix(settings, "$6$rounds="); ok {
		n, _, _ := strings.Cut(r, "$")
		if rounds, err := strconv.Atoi(n); err != nil || rounds > 1_000_000 {
			return false
		}
	}
	got, err := sha512_crypt.New().Generate([]byte(password), []byte(settings))
	return err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// parseArgon2id splits a PHC argon2id string into its parameters, salt and key.
func parseArgon2id(s string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(s, "$") // "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("argon2id: malformed hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("argon2id: unsupported version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("argon2id: bad parameters: %w", err)
	}
	// Refuse absurd costs from a tampered or foreign hash rather than allocate them.
	if p.Memory == 0 || p.Memory > 1<<20 || p.Time == 0 || p.Time > 20 || p.Threads == 0 {
		return p, nil, nil, fmt.Errorf("argon2id: parameters out of range")
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, err
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, fmt.Errorf("argon2id: bad key")
	}
	return p, salt, key, nil
}

// knownHash reports whether s is a hash Verify understands, for accounts imported with one.
func knownHash(s string) bool {
	for _, prefix := range []string{"$argon2id$", "$2a$", "$2b$", "$2y$", "$6$", fastPrefix, wrapPrefix} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
