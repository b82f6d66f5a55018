package account

import (
	"context"
	"database/sql"
	"time"

	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
)

// One-time token purposes: each token serves exactly one flow, so a reset link can never be
// used to set up an account or the other way round.
const (
	purposeFirstAdmin    = "first_admin"
	purposePasswordReset = "password_reset"
	purposeAccountSetup  = "account_setup"
)

// issueToken stores a new one-time token for purpose within tx and returns it. userID 0 means
// no account (the first administrator); ttl 0 means no expiry.
func issueToken(ctx context.Context, tx *store.Tx, purpose string, userID int64, ttl time.Duration) (string, error) {
	token, hash := secret.New()
	var uid, expires any
	if userID != 0 {
		uid = userID
	}
	if ttl > 0 {
		expires = tx.Now.Add(ttl).Unix()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO one_time_tokens (token_hash, purpose, user_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, hash, purpose, uid, tx.Now.Unix(), expires); err != nil {
		return "", wrap(err, "insert token")
	}
	return token, nil
}

// errTokenGone is what every unusable token gives: unknown, used, expired or for another
// flow look the same, so a guesser learns nothing.
func errTokenGone() error {
	return errs.Coded(errs.Gone, "link_gone")
}

// peekToken returns the user of a usable token without using it up, for the page that shows
// the form. Errors: Gone.
func peekToken(ctx context.Context, q store.Querier, now time.Time, purpose, token string) (userID int64, err error) {
	var uid sql.NullInt64
	err = q.QueryRowContext(ctx, `SELECT user_id FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2
		AND used_at IS NULL AND (expires_at IS NULL OR expires_at > $3)`, secret.Hash(token), purpose, now.Unix()).Scan(&uid)
	if store.IsNoRows(err) {
		return 0, errTokenGone()
	}
	if err != nil {
		return 0, wrap(err, "peek token")
	}
	return uid.Int64, nil
}

// consumeToken uses up a token within tx and returns its user. The check and the marking are
// one UPDATE, so of two concurrent uses exactly one succeeds (the other's UPDATE waits for the
// row and then no longer matches). Errors: Gone.
func consumeToken(ctx context.Context, tx *store.Tx, purpose, token string) (userID int64, err error) {
	var uid sql.NullInt64
	err = tx.QueryRowContext(ctx, `UPDATE one_time_tokens SET used_at = $1
		WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND (expires_at IS NULL OR expires_at > $1)
		RETURNING user_id`, tx.Now.Unix(), secret.Hash(token), purpose).Scan(&uid)
	if store.IsNoRows(err) {
		return 0, errTokenGone()
	}
	if err != nil {
		return 0, wrap(err, "consume token")
	}
	return uid.Int64, nil
}

// revokeTokens uses up every outstanding token of the user for these purposes, e.g. the other
// reset links once the password has been changed.
func revokeTokens(ctx context.Context, tx *store.Tx, userID int64, purposes ...string) error {
	for _, p := range purposes {
		if _, err := tx.ExecContext(ctx, `UPDATE one_time_tokens SET used_at = $1
			WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL`, tx.Now.Unix(), userID, p); err != nil {
			return wrap(err, "revoke tokens")
		}
	}
	return nil
}
