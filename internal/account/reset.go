package account

import (
	"context"
	"strconv"

	"roster/internal/audit"
	"roster/internal/errs"
	"roster/internal/mail"
	"roster/internal/store"
)

// ErrUseInstitutional is what RequestReset returns for an account that logs in with single
// sign-on (CAS, OIDC): Roster holds no password for it, and the issue (#8) wants the person
// told to use their institutional service rather than left waiting for an email that will
// never come. Compare with errors.Is.
//
// The trade-off: this answer tells whoever asks that the login exists and is an institutional
// one, where every other answer of the form is neutral. We accept it because institutional
// logins are directory identifiers that are rarely secret (student numbers, staff addresses),
// no password can be guessed or reset through Roster for them, and the person locked out is
// helped. Local accounts, unknown logins and suspended accounts stay indistinguishable.
var ErrUseInstitutional = &errs.Error{Code: errs.Conflict,
	Message: "This account logs in with your institutional account: use the \"Institutional account\" button. Your institution manages its password."}

// maxResetsPerHour bounds the reset emails one account receives, so that the form cannot be
// used to flood someone's mailbox. Requests beyond it are silently dropped (the answer stays
// neutral); the links already sent still work.
const maxResetsPerHour = 3

// RequestReset sends a password-reset link to the account a person names by username or
// email. It returns nil whether or not an account matched, so the answer reveals nothing;
// the email, if any, says which username it is for and that it can be ignored.
//
// Errors: Invalid when login is empty; ErrUseInstitutional for single-sign-on accounts.
func (s *Service) RequestReset(ctx context.Context, login, ip string) error {
	if normLogin(login) == "" {
		return errs.FieldCode("login", "required")
	}
	u, err := s.UserByLogin(ctx, s.db, login)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Status != StatusActive || u.Email == "" {
		return nil
	}
	if u.Auth != AuthLocal {
		return ErrUseInstitutional
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var recent int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM one_time_tokens WHERE user_id = $1 AND purpose = $2
			AND created_at > $3`, u.ID, purposePasswordReset, tx.Now.Unix()-3600).Scan(&recent); err != nil {
			return wrap(err, "count resets")
		}
		if recent >= maxResetsPerHour {
			return nil
		}
		token, err := issueToken(ctx, tx, purposePasswordReset, u.ID, s.cfg.ResetTTL)
		if err != nil {
			return err
		}
		if err := mail.Enqueue(ctx, tx, mail.Message{Template: "password_reset", To: u.Email, ToName: u.Name(),
			UserID: u.ID, Language: u.Language, Data: map[string]any{
				"FirstName": u.FirstName, "Username": u.Username,
				"Link": s.link("/password/reset/", token), "TTL": s.cfg.ResetTTL,
			}}); err != nil {
			return wrap(err, "reset mail")
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: "password.reset_request", TargetType: "user",
			TargetID: strconv.FormatInt(u.ID, 10), IP: ip}), "audit")
	})
}

// CheckResetToken returns the account of a reset link, for the page that asks for the new
// password. Errors: Gone if the link is unknown, used or expired.
func (s *Service) CheckResetToken(ctx context.Context, token string) (*User, error) {
	return s.tokenUser(ctx, purposePasswordReset, token)
}

// ResetPassword sets a new password through a reset link, which it uses up, and ends every
// session of the account (whoever might have been logged in with the old password is out).
//
// Errors: Gone (link unusable), Invalid naming "password" (policy).
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	return s.setPasswordByToken(ctx, purposePasswordReset, token, password, "password.reset")
}

// tokenUser returns the active local account a one-time token of purpose was issued for.
func (s *Service) tokenUser(ctx context.Context, purpose, token string) (*User, error) {
	uid, err := peekToken(ctx, s.db, s.now(), purpose, token)
	if err != nil {
		return nil, err
	}
	u, err := userByID(ctx, s.db, uid)
	if errs.Is(err, errs.NotFound) || (err == nil && (u.Status != StatusActive || u.Auth != AuthLocal)) {
		return nil, errTokenGone()
	}
	return u, err
}

// setPasswordByToken is the end of both the reset and the account-setup flows: check the
// link, check the policy, hash (outside the transaction), then in one transaction use up the
// link, store the hash, end every session, use up the account's other reset and setup links,
// lift a lock on its logins and record the audit event.
func (s *Service) setPasswordByToken(ctx context.Context, purpose, token, password, action string) error {
	u, err := s.tokenUser(ctx, purpose, token)
	if err != nil {
		return err
	}
	if err := CheckPasswordPolicy(password, u.Username, u.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		uid, err := consumeToken(ctx, tx, purpose, token)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2
			WHERE id = $3 AND status = 'active' AND deleted_at IS NULL`, hash, tx.Now.Unix(), uid)
		if err != nil {
			return wrap(err, "set password")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errTokenGone()
		}
		if err := s.EndAllSessions(ctx, tx, uid, ""); err != nil {
			return err
		}
		if err := revokeTokens(ctx, tx, uid, purposePasswordReset, purposeAccountSetup); err != nil {
			return err
		}
		if err := clearThrottle(ctx, tx, loginRule, strconv.FormatInt(uid, 10)); err != nil {
			return err
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: action, TargetType: "user",
			TargetID: strconv.FormatInt(uid, 10)}), "audit")
	})
}
