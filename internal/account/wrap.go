package account

// Imports do not wait for argon2id. An import of 10,000 people with passwords in clear would
// spend 10,000 × 27 ms of CPU hashing them (two minutes on two cores) before the first account
// exists. Instead the import stores a salted fast hash ($roster-fast$: PBKDF2-SHA256, a
// fraction of a millisecond), and the task account.password_wrap (WrapPasswords, every
// minute) wraps it in argon2id: argon2id of the fast hash, which needs no clear password.
// The same wrapping protects the bcrypt and SHA-512 crypt hashes imported from other systems
// at once, rather than at their owner's next login. Login verifies every form (Verify) and
// leaves plain argon2id behind.
//
// A wrapped hash is "$roster-wrap$" + the inner hash's settings (base64) + "$" + the
// argon2id PHC string of the whole inner hash. To check a password, the inner hash is
// computed again from its settings, then checked against the argon2id.

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/GehirnInc/crypt/sha512_crypt"
	"golang.org/x/crypto/argon2"

	"roster/internal/store"
)

const (
	fastPrefix = "$roster-fast$"
	wrapPrefix = "$roster-wrap$"
	// fastIterations: a few hundredths of a millisecond a hash (BenchmarkFastImportHash);
	// a copy of the database taken before the wrapping costs an attacker 100 rounds of
	// HMAC-SHA256 a guess instead of argon2id's 19 MiB, for the few minutes it lasts.
	// (1,000 rounds cost 4 s of CPU for 10,000 people, a third of the import's budget.)
	fastIterations = 100
)

// FastImportHash checks password against the policy for this username and email and returns
// a salted fast hash marked for wrapping in argon2id (see WrapPasswords), for
// NewUser.PasswordHash and ImportPasswordTx: what imports use, so that they do not wait for
// argon2id. Errors: Invalid naming "password" (the policy).
func (s *Service) FastImportHash(password, username, email string) (string, error) {
	if err := CheckPasswordPolicy(password, username, email); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", wrap(err, "password salt")
	}
	return fastHash(password, fastPrefix+"i="+strconv.Itoa(fastIterations)+"$"+base64.RawStdEncoding.EncodeToString(salt))
}

// fastHash computes the fast hash of password with the settings "$roster-fast$i=N$SALT".
func fastHash(password, settings string) (string, error) {
	rest, ok := strings.CutPrefix(settings, fastPrefix+"i=")
	n, salt64, ok2 := strings.Cut(rest, "$")
	iter, err := strconv.Atoi(n)
	if !ok || !ok2 || err != nil || iter < 1 || iter > 1_000_000 {
		return "", errors.New("fast hash: bad settings")
	}
	salt, err := base64.RawStdEncoding.DecodeString(salt64)
	if err != nil {
		return "", errors.New("fast hash: bad salt")
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil {
		return "", err
	}
	return settings + "$" + base64.RawStdEncoding.EncodeToString(key), nil
}

// innerSettings splits a wrappable hash into the settings that compute it again, or "" if
// it is not one (argon2id, a wrapped hash, nothing).
func innerSettings(hash string) string {
	switch {
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		if len(hash) != 60 {
			return ""
		}
		return hash[:29] // $2b$10$ and the 22 characters of the salt
	case strings.HasPrefix(hash, "$6$"), strings.HasPrefix(hash, fastPrefix):
		if i := strings.LastIndexByte(hash, '$'); i > 3 {
			return hash[:i]
		}
	}
	return ""
}

// innerHash computes the inner hash of password with settings from innerSettings.
func innerHash(password, settings string) (string, error) {
	switch {
	case strings.HasPrefix(settings, fastPrefix):
		return fastHash(password, settings)
	case strings.HasPrefix(settings, "$6$"):
		if r, ok := strings.CutPrefix(settings, "$6$rounds="); ok {
			n, _, _ := strings.Cut(r, "$")
			if rounds, err := strconv.Atoi(n); err != nil || rounds > 1_000_000 {
				return "", errors.New("sha512-crypt: rounds out of range")
			}
		}
		return sha512_crypt.New().Generate([]byte(password), []byte(settings))
	case strings.HasPrefix(settings, "$2"):
		return bcryptHash(password, settings)
	}
	return "", errors.New("not a wrappable hash")
}

// wrapHash wraps a fast, bcrypt or SHA-512 crypt hash in argon2id.
func (h *hasher) wrapHash(inner string) (string, error) {
	settings := innerSettings(inner)
	if settings == "" {
		return "", errors.New("not a wrappable hash")
	}
	outer, err := h.hashNow(inner)
	if err != nil {
		return "", err
	}
	return wrapPrefix + base64.RawStdEncoding.EncodeToString([]byte(settings)) + outer, nil
}

// verifyWrapped checks password against a wrapped hash; the argon2id check is counted.
func (h *hasher) verifyWrapped(hash, password string) bool {
	rest, _ := strings.CutPrefix(hash, wrapPrefix)
	i := strings.IndexByte(rest, '$')
	if i < 0 {
		return false
	}
	settings, err := base64.RawStdEncoding.DecodeString(rest[:i])
	if err != nil {
		return false
	}
	p, salt, key, err := parseArgon2id(rest[i:])
	if err != nil {
		return false
	}
	inner, err := innerHash(password, string(settings))
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(inner), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	h.argonChecks.Add(1)
	return subtle.ConstantTimeCompare(got, key) == 1
}

// lineageSalt is the argon2id salt of the hash a login puts in place of an imported one
// (fast, wrapped, bcrypt or SHA-512 crypt): derived from the imported hash's own salted
// settings, so that undoing the import can still tell that the account has the imported
// password (another password, set by a reset, gets a random salt). nil for other hashes.
func lineageSalt(imported string) []byte {
	settings := innerSettings(imported)
	if rest, ok := strings.CutPrefix(imported, wrapPrefix); ok {
		b64, _, _ := strings.Cut(rest, "$")
		raw, err := base64.RawStdEncoding.DecodeString(b64)
		if err != nil {
			return nil
		}
		settings = string(raw)
	}
	if settings == "" {
		return nil
	}
	sum := sha256.Sum256([]byte("roster-password-lineage\x00" + settings))
	return sum[:16]
}

// lineageOf names the imported hash a stored hash comes from, or "": its lineage salt, or,
// for plain argon2id, its salt (which a login's upgrade set to the lineage salt).
func lineageOf(hash string) string {
	if salt := lineageSalt(hash); salt != nil {
		return base64.RawStdEncoding.EncodeToString(salt)
	}
	if _, salt, _, err := parseArgon2id(hash); err == nil {
		return base64.RawStdEncoding.EncodeToString(salt)
	}
	return ""
}

// Rehash returns the argon2id hash that replaces hash at a login with password: with the
// lineage salt for an imported hash, a random one otherwise. It waits for a hashing slot.
func (h *hasher) Rehash(ctx context.Context, hash, password string) (string, error) {
	salt := lineageSalt(hash)
	if salt == nil {
		return h.Hash(ctx, password)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hashSalted(password, salt), nil
}

// verifyFast checks password against a fast hash.
func verifyFast(hash, password string) bool {
	got, err := fastHash(password, innerSettings(hash))
	return err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// unwrapped is the condition on users of a hash still to wrap: a fast hash, or an
// imported bcrypt or SHA-512 crypt one. (The same text as the partial index
// users_password_unwrapped, which SQLite uses only for a condition written as in its
// definition.)
const unwrapped = `(password_hash LIKE '$roster-fast$%' OR password_hash LIKE '$2%' OR password_hash LIKE '$6$%')`

// WrapReport says what one WrapPasswords did.
type WrapReport struct {
	Wrapped int
	Oldest  time.Duration // how long the oldest account waited (from its last update)
}

// WrapPasswords wraps in argon2id every fast, bcrypt and SHA-512 crypt hash, by batches of
// 100 accounts, until none is left or ctx ends. It hashes with the hashing slots that logins
// leave free (taking one only when it is free, never queueing before a login), as many at
// once as there are cores. A hash changed meanwhile (a login, a reset) is left as it is.
func (s *Service) WrapPasswords(ctx context.Context) (WrapReport, error) {
	var rep WrapReport
	after := int64(0)
	for ctx.Err() == nil {
		type todo struct {
			id         int64
			hash, wrap string
			updated    int64
		}
		rows, err := s.db.QueryContext(ctx, `SELECT id, password_hash, updated_at FROM users
			WHERE id > $1 AND `+unwrapped+` ORDER BY id LIMIT 100`, after)
		if err != nil {
			return rep, wrap(err, "passwords to wrap")
		}
		var batch []*todo
		for rows.Next() {
			t := &todo{}
			if err := rows.Scan(&t.id, &t.hash, &t.updated); err != nil {
				rows.Close()
				return rep, wrap(err, "passwords to wrap")
			}
			batch = append(batch, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return rep, wrap(err, "passwords to wrap")
		}
		if len(batch) == 0 {
			return rep, nil
		}
		after = batch[len(batch)-1].id
		next := make(chan *todo)
		var wg sync.WaitGroup
		for range min(runtime.GOMAXPROCS(0), cap(s.hasher.slots)) {
			wg.Go(func() {
				for t := range next {
					if !s.hasher.acquireIdle(ctx) {
						continue
					}
					t.wrap, _ = s.hasher.wrapHash(t.hash) // an unreadable hash stays as it is
					s.hasher.release()
				}
			})
		}
		for _, t := range batch {
			next <- t
		}
		close(next)
		wg.Wait()
		err = s.db.Tx(ctx, func(tx *store.Tx) error {
			for _, t := range batch {
				if t.wrap == "" {
					continue
				}
				res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`, t.wrap, t.id, t.hash)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					rep.Wrapped++
					rep.Oldest = max(rep.Oldest, tx.Now.Sub(time.Unix(t.updated, 0)))
				}
			}
			return nil
		})
		if err != nil {
			return rep, wrap(err, "wrap passwords")
		}
	}
	return rep, ctx.Err()
}

// acquireIdle takes a hashing slot that is free, waiting (without queueing before logins,
// which wait on the slots themselves) until one is or ctx ends.
func (h *hasher) acquireIdle(ctx context.Context) bool {
	for {
		select {
		case h.slots <- struct{}{}:
			h.inFlight.Add(1)
			return true
		default:
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
}
