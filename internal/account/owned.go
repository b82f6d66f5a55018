package account

import (
	"context"
	"strconv"
	"strings"

	"roster/internal/store"
)

// Writes other packages make to the account's tables, through the account package, which
// owns them (docs/tables.md). None checks a permission or records an audit event: the
// caller has checked its rights and records what it did.

// SetSettingTx sets a platform setting of the settings table; "" removes it.
func SetSettingTx(ctx context.Context, tx *store.Tx, key, value string) error {
	if value == "" {
		_, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = $1`, key)
		return wrap(err, "remove setting "+key)
	}
	return setSetting(ctx, tx, key, value)
}

// RecordLoginTx notes that the person of account id has just logged in (single sign-on).
func RecordLoginTx(ctx context.Context, tx *store.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = $1 WHERE id = $2`, tx.Now.Unix(), id)
	return wrap(err, "record login")
}

// SetAuthTx makes account id log in with auth: AuthLocal (a password, set through an
// account-setup link), or a single sign-on method, which drops the password and voids the
// unused links that would set one.
func SetAuthTx(ctx context.Context, tx *store.Tx, id int64, auth string) error {
	if auth == AuthLocal {
		_, err := tx.ExecContext(ctx, `UPDATE users SET auth = 'local', updated_at = $1 WHERE id = $2`, tx.Now.Unix(), id)
		return wrap(err, "convert to local")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET auth = $1, password_hash = '', updated_at = $2 WHERE id = $3`,
		auth, tx.Now.Unix(), id); err != nil {
		return wrap(err, "convert to sso")
	}
	_, err := tx.ExecContext(ctx, `UPDATE one_time_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL
		AND purpose IN ('password_reset', 'account_setup')`, tx.Now.Unix(), id)
	return wrap(err, "revoke links")
}

// Profile is what an identity provider says of a person, for RefreshProfileTx: an empty
// field keeps what the account has.
type Profile struct {
	Email, FirstName, LastName, Language string
}

// RefreshProfileTx gives account id the username (checked by the caller) and what p gives.
// Errors: Conflict on "username" or "email" (taken; on PostgreSQL the transaction is then
// aborted).
func RefreshProfileTx(ctx context.Context, tx *store.Tx, id int64, username string, p Profile) error {
	shared := "email_shared"
	if p.Email != "" {
		on, err := sharedForWrite(ctx, tx)
		if err != nil {
			return err
		}
		shared = "CASE WHEN email_norm = $3 THEN email_shared ELSE " + strconv.FormatBool(on) + " END"
	}
	_, err := tx.ExecContext(ctx, `UPDATE users SET username = $1,
		email_shared = `+shared+`,
		email = CASE WHEN $2 = '' THEN email ELSE $2 END,
		email_norm = CASE WHEN $2 = '' THEN email_norm ELSE $3 END,
		first_name = CASE WHEN $4 = '' THEN first_name ELSE $4 END,
		last_name = CASE WHEN $5 = '' THEN last_name ELSE $5 END,
		language = CASE WHEN $6 = '' THEN language ELSE $6 END,
		updated_at = $7 WHERE id = $8`,
		username, p.Email, strings.ToLower(p.Email), p.FirstName, p.LastName, p.Language, tx.Now.Unix(), id)
	if store.IsUnique(err) {
		return takenOnUpdate(err)
	}
	return wrap(err, "refresh user")
}
