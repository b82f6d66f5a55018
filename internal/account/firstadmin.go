package account

import (
	"context"
	"strconv"

	"roster/internal/audit"
	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
)

// The first platform administrator of an empty Roster is created through a one-time link that
// `roster serve` prints at start: whoever can read the server's output may claim the platform,
// nobody else. The link has no expiry (the operator may open it hours later) but is replaced
// at every start, and stops working as soon as any account exists.

// FirstAdminLink issues a BASE/setup/TOKEN link when no account exists, using up every older
// unused one so only the last printed link works.
// Errors: Conflict when accounts exist.
func (s *Service) FirstAdminLink(ctx context.Context) (link string, err error) {
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// Delete first, then look for users: on PostgreSQL the DELETE waits for a concurrent
		// CompleteFirstAdmin holding these rows, and the check then sees its new account.
		if _, err := tx.ExecContext(ctx, `DELETE FROM one_time_tokens WHERE purpose = $1 AND used_at IS NULL`,
			purposeFirstAdmin); err != nil {
			return wrap(err, "replace setup tokens")
		}
		exists, err := hasUsers(ctx, tx)
		if err != nil {
			return err
		}
		if exists {
			return errs.Coded(errs.Conflict, "already_set_up")
		}
		token, err := issueToken(ctx, tx, purposeFirstAdmin, 0, 0)
		link = s.link("/setup/", token)
		return err
	})
	if err != nil {
		return "", err
	}
	return link, nil
}

// CheckFirstAdminToken tells the setup page whether to show its form.
// Errors: Gone if the link is unknown or used, or accounts exist.
func (s *Service) CheckFirstAdminToken(ctx context.Context, token string) error {
	exists, err := s.HasUsers(ctx)
	if err != nil {
		return err
	}
	if exists {
		return errTokenGone()
	}
	_, err = peekToken(ctx, s.db, s.now(), purposeFirstAdmin, token)
	return err
}

// CompleteFirstAdmin creates the first platform administrator (a local account with a
// password) through the setup link, in one transaction that uses up every first-admin link,
// so of two people submitting at once exactly one gets the platform. Records "user.create"
// and "setup.first_admin".
//
// Errors: Gone (link unusable or an account exists), Invalid (fields named).
//
// also runs in the same transaction, after the account is created (the set-up page saves the
// site's language and time zone with it).
func (s *Service) CompleteFirstAdmin(ctx context.Context, token string, in NewUser, also ...func(tx *store.Tx) error) (*User, error) {
	if err := s.CheckFirstAdminToken(ctx, token); err != nil {
		return nil, err
	}
	in.IsAdmin, in.Auth, in.PasswordHash = true, AuthLocal, ""
	in.normalize()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if in.Password == "" {
		return nil, errs.FieldCode("password", "required")
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	in.Password, in.PasswordHash = "", hash
	var u *User
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE one_time_tokens SET used_at = $1
			WHERE purpose = $2 AND used_at IS NULL RETURNING token_hash`, tx.Now.Unix(), purposeFirstAdmin)
		if err != nil {
			return wrap(err, "use setup tokens")
		}
		mine := false
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return wrap(err, "use setup tokens")
			}
			mine = mine || h == secret.Hash(token)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "use setup tokens")
		}
		if exists, err := hasUsers(ctx, tx); err != nil || exists || !mine {
			if err != nil {
				return err
			}
			return errTokenGone()
		}
		if u, err = s.insertUser(ctx, tx, in, hash); err != nil {
			return err
		}
		for _, f := range also {
			if err := f(tx); err != nil {
				return err
			}
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: "setup.first_admin", TargetType: "user",
			TargetID: strconv.FormatInt(u.ID, 10)}), "audit")
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
