package account

import (
	"context"
	"time"

	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
)

// Sessions are server-side rows: the cookie holds a random token and the database only its
// SHA-256, so logging out (or a password reset) really ends a session, and a stolen database
// copy holds no usable cookie. A session ends after SessionTTL without use or SessionMaxAge
// after login, whichever comes first.

// touchEvery is how stale last_seen_at may get before a request writes it again: writing on
// every request would turn every page view into a write.
const touchEvery = time.Minute

// maxUserAgent bounds what we keep of a client's User-Agent header.
const maxUserAgent = 400

func errNoSession() error {
	return errs.Coded(errs.Unauthorized, "session_ended")
}

// CreateSession starts a session for an active account and returns the cookie value.
// Errors: Unauthorized if the account is missing or suspended.
func (s *Service) CreateSession(ctx context.Context, userID int64, ip, userAgent string) (token string, err error) {
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	token, hash := secret.New()
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := userByID(ctx, tx, userID)
		if err != nil || u.Status != StatusActive {
			return errNoSession()
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES ($1, $2, $3, $3, $4, $5, $6)`, hash, userID, tx.Now.Unix(), s.sessionEnd(tx.Now, tx.Now).Unix(), ip, userAgent)
		return wrap(err, "insert session")
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// sessionEnd is when a session created at created and last used at seen ends.
func (s *Service) sessionEnd(created, seen time.Time) time.Time {
	end := seen.Add(s.cfg.SessionTTL)
	if limit := created.Add(s.cfg.SessionMaxAge); limit.Before(end) {
		end = limit
	}
	return end
}

// SessionUser returns the account of a session cookie, and extends the session's idle
// timeout (writing at most once a minute).
// Errors: Unauthorized if the session is unknown, ended or expired, or the account suspended.
func (s *Service) SessionUser(ctx context.Context, token string) (*User, error) {
	if token == "" {
		return nil, errNoSession()
	}
	now := s.now()
	hash := secret.Hash(token)
	var userID, created, seen int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, created_at, last_seen_at FROM sessions
		WHERE id_hash = $1 AND expires_at > $2`, hash, now.Unix()).Scan(&userID, &created, &seen)
	if store.IsNoRows(err) {
		return nil, errNoSession()
	}
	if err != nil {
		return nil, wrap(err, "session")
	}
	u, err := userByID(ctx, s.db, userID)
	if errs.Is(err, errs.NotFound) || (err == nil && u.Status != StatusActive) {
		return nil, errNoSession()
	}
	if err != nil {
		return nil, err
	}
	if now.Unix()-seen >= int64(touchEvery.Seconds()) {
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3`,
				tx.Now.Unix(), s.sessionEnd(store.Time(created), tx.Now).Unix(), hash)
			return wrap(err, "touch session")
		})
		if err != nil {
			return nil, err
		}
	}
	return u, nil
}

// SessionStart returns when the session of a cookie began: when its person logged in, which
// OpenID Connect calls auth_time (and max_age and prompt=login compare with).
// Errors: Unauthorized if the session is unknown, ended or expired.
func (s *Service) SessionStart(ctx context.Context, token string) (time.Time, error) {
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT created_at FROM sessions WHERE id_hash = $1 AND expires_at > $2`,
		secret.Hash(token), s.now().Unix()).Scan(&created)
	if store.IsNoRows(err) || token == "" {
		return time.Time{}, errNoSession()
	}
	if err != nil {
		return time.Time{}, wrap(err, "session")
	}
	return store.Time(created), nil
}

// EndSession ends the session of a cookie (logout). Ending an unknown session is not an error:
// logging out twice is harmless.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error { return s.EndSessionTx(ctx, tx, secret.Hash(token)) })
}

// EndSessionTx ends the session whose stored hash is idHash within tx (single logout knows a
// session only by its hash).
func (s *Service) EndSessionTx(ctx context.Context, tx *store.Tx, idHash string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return wrap(err, "end session")
}

// EndAllSessions ends every session of the user within tx except the one whose cookie is
// except (empty: all of them), e.g. after a password change or when the account is suspended.
func (s *Service) EndAllSessions(ctx context.Context, tx *store.Tx, userID int64, except string) error {
	keep := ""
	if except != "" {
		keep = secret.Hash(except)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, userID, keep)
	return wrap(err, "end sessions")
}

// Purge deletes what can no longer be used: expired sessions, one-time tokens used or expired
// more than a day ago (kept a day for support questions), and throttle rows whose window is
// long over. The background worker calls it now and then; nothing depends on it for
// correctness, since every read checks expiry itself.
func (s *Service) Purge(ctx context.Context) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		dayAgo := tx.Now.Add(-24 * time.Hour).Unix()
		idle := tx.Now.Add(-2 * loginRule.window).Unix()
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM sessions WHERE expires_at <= $1`, []any{now}},
			{`DELETE FROM one_time_tokens WHERE used_at < $1 OR expires_at < $1`, []any{dayAgo}},
			{`DELETE FROM login_throttle WHERE window_start < $1 AND locked_until < $1`, []any{idle}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return wrap(err, "purge")
			}
		}
		return nil
	})
}
