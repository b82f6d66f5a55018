package account

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"

	"roster/internal/audit"
	"roster/internal/errs"
	"roster/internal/store"
)

// ImportPasswordTx sets, within tx, the password of an existing local account to hash (from
// FastImportHash or HashPassword), for an import with the "update passwords" option: every session of the
// account ends, its reset and account-setup links are used up, and "user.password_import" is
// recorded. It returns an undo token for UndoImportPasswordTx: the hash it replaced, a
// fingerprint of the new one and, for an imported hash, its lineage (never the password).
// Errors: NotFound (no such account, or deleted), Invalid naming "password" (the account logs
// in with single sign-on).
func (s *Service) ImportPasswordTx(ctx context.Context, tx *store.Tx, userID int64, hash string) (string, error) {
	if !knownHash(hash) {
		return "", errs.Field("password", "is not a password hash")
	}
	var old, auth string
	err := tx.QueryRowContext(ctx, `SELECT password_hash, auth FROM users WHERE id = $1 AND deleted_at IS NULL`, userID).Scan(&old, &auth)
	if store.IsNoRows(err) {
		return "", errs.New(errs.NotFound, "account not found")
	}
	if err != nil {
		return "", wrap(err, "import password")
	}
	if auth != AuthLocal {
		return "", errs.Field("password", "accounts that log in with single sign-on have no password here")
	}
	if err := s.replacePasswordHash(ctx, tx, userID, hash, "user.password_import"); err != nil {
		return "", err
	}
	token := old + " " + hashFingerprint(hash)
	if salt := lineageSalt(hash); salt != nil {
		token += " " + base64.RawStdEncoding.EncodeToString(salt)
	}
	return token, nil
}

// UndoImportPasswordTx puts back, within tx, the password hash an import replaced, given the
// token ImportPasswordTx returned, when the account still has the imported password, even
// wrapped or upgraded to plain argon2id at a login (someone who changed their password since
// keeps it); it then ends the account's sessions and
// records "user.password_restore". It reports whether it put the hash back.
func (s *Service) UndoImportPasswordTx(ctx context.Context, tx *store.Tx, userID int64, token string) (bool, error) {
	parts := strings.Split(token, " ")
	if len(parts) < 2 || len(parts) > 3 || (parts[0] != "" && !knownHash(parts[0])) {
		return false, errs.New(errs.Invalid, "bad password undo token")
	}
	old, fp, lineage := parts[0], parts[1], ""
	if len(parts) == 3 {
		lineage = parts[2]
	}
	var cur string
	err := tx.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL`, userID).Scan(&cur)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, wrap(err, "restore password")
	}
	// The imported hash, or what became of it without a new password: wrapped in argon2id
	// by the task, or replaced by plain argon2id at a login (with the lineage salt).
	if hashFingerprint(cur) != fp && (lineage == "" || lineageOf(cur) != lineage) {
		return false, nil
	}
	return true, s.replacePasswordHash(ctx, tx, userID, old, "user.password_restore")
}

func (s *Service) replacePasswordHash(ctx context.Context, tx *store.Tx, userID int64, hash, action string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, tx.Now.Unix(),
		userID); err != nil {
		return wrap(err, "set password")
	}
	if err := s.EndAllSessions(ctx, tx, userID, ""); err != nil {
		return err
	}
	if err := revokeTokens(ctx, tx, userID, purposePasswordReset, purposeAccountSetup); err != nil {
		return err
	}
	return wrap(audit.Record(ctx, tx, audit.Event{Action: action, TargetType: "user", TargetID: strconv.FormatInt(userID, 10)}), "audit")
}

// hashFingerprint names a password hash without holding it.
func hashFingerprint(hash string) string {
	h := sha256.Sum256([]byte("roster-password-undo\x00" + hash))
	return hex.EncodeToString(h[:16])
}
