package account

import (
	"context"
	"strconv"

	"roster/internal/audit"
	"roster/internal/errs"
	"roster/internal/store"
)

// errWrongLogin is the one answer for an unknown login, a wrong password, a suspended account
// and an account that logs in elsewhere (single sign-on): the same code and words, so that
// the answer does not reveal which accounts exist.
func errWrongLogin() error { return errs.Coded(errs.Unauthorized, "wrong_login") }

// Login checks a login (username or email) and password from a client address and returns
// the account. It does not create a session: the web layer calls CreateSession with a fresh
// token at every login, so a session id fixed before login is never promoted.
//
// Order matters: the attempt is counted (throttle.go: per account, per address) before the
// password is checked, so that parallel attempts cannot get around the limit; unknown logins
// are checked against a dummy argon2id hash so that they take as long as known ones; the hash runs outside any
// transaction, so a slow hash never holds a database lock. On success one transaction clears
// the throttle, records last_login_at, upgrades an older hash to argon2id and records
// "login.success".
//
// Errors: Unauthorized "Wrong login or password"; TooMany with RetryAfter, without checking the
// password; Unavailable if the context ends while waiting for a hashing slot.
func (s *Service) Login(ctx context.Context, login, password, ip string) (*User, error) {
	norm := normLogin(login)
	if norm == "" || password == "" {
		return nil, errWrongLogin()
	}
	u, err := s.UserByLogin(ctx, s.db, norm)
	if errs.Is(err, errs.NotFound) {
		u = nil
	} else if err != nil {
		return nil, err
	}
	key := "?" + norm // an unknown login: a counter of its own, so that locking reveals nothing
	if u != nil {
		key = strconv.FormatInt(u.ID, 10) // username and email: one counter
	}
	if err := s.reserve(ctx, loginRule, reserveLogin, key); err != nil {
		return nil, err
	}
	if ip != "" {
		if err := s.slowAddress(ctx, ip); err != nil {
			return nil, err
		}
	}
	if u == nil {
		if err := s.hasher.VerifyDummy(ctx, password); err != nil {
			return nil, err
		}
		return nil, s.failed(ctx, ip)
	}
	var ok, rehash bool
	if u.passwordHash == "" {
		err = s.hasher.VerifyDummy(ctx, password)
	} else {
		ok, rehash, err = s.hasher.Verify(ctx, u.passwordHash, password)
	}
	if err != nil {
		return nil, err
	}
	if !ok || u.Status != StatusActive || u.Auth != AuthLocal {
		return nil, s.failed(ctx, ip)
	}
	newHash := u.passwordHash
	if rehash {
		if newHash, err = s.hasher.Rehash(ctx, u.passwordHash, password); err != nil {
			return nil, err
		}
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := clearThrottle(ctx, tx, loginRule, key); err != nil {
			return err
		}
		// The hash is replaced only if it did not change meanwhile (a reset in between wins).
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = $1,
			password_hash = CASE WHEN password_hash = $2 THEN $3 ELSE password_hash END WHERE id = $4`,
			tx.Now.Unix(), u.passwordHash, newHash, u.ID); err != nil {
			return wrap(err, "record login")
		}
		t := tx.Now
		u.LastLoginAt = &t
		return audit.Record(ctx, tx, audit.Event{Action: "login.success", TargetType: "user",
			TargetID: strconv.FormatInt(u.ID, 10), IP: ip, Details: map[string]any{"rehashed": rehash}})
	})
	if err != nil {
		return nil, wrap(err, "login")
	}
	u.passwordHash = newHash
	return u, nil
}

// failed counts a wrong password from ip and returns the one answer for it.
func (s *Service) failed(ctx context.Context, ip string) error {
	if err := s.addressFailed(ctx, ip); err != nil {
		return err
	}
	return errWrongLogin()
}
