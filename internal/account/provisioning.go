package account

import (
	"context"
	"strconv"
	"strings"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
)

// The writes an identity provider makes to the accounts it provisions (SCIM): it keeps their
// login, address, names and language in step, and schedules or cancels their deletion. The
// provider's own records stay in its package; the users table is written here only. Like
// SuspendTx, these functions check no permission: the caller has (a SCIM token acts on the
// accounts it provisioned).

// Identity is what an identity provider keeps of an account.
type Identity struct {
	Username, Email, FirstName, LastName, Language string
}

// SetIdentityTx writes the identity of account id within tx, with the rules of CreateUser:
// fields checked as NewUser.Validate does (the username stored in its normal form), a
// username that is not another account's nor looks like one, an address no other account
// has unless the platform allows shared addresses. It records nothing: the caller records its
// own event. Errors: Invalid (fields named), Conflict on "username" (taken, or looks like a
// taken one) or "email" (on PostgreSQL the transaction is then aborted), NotFound (no such
// live account).
func (s *Service) SetIdentityTx(ctx context.Context, tx *store.Tx, id int64, in Identity) error {
	nu := NewUser{Username: in.Username, Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
		Language: in.Language, Auth: AuthOIDC}
	if err := nu.Validate(); err != nil {
		return err
	}
	// One read: the address before the change, and whether another account has the username
	// (asked first, as CreateUser does; the unique index still decides races).
	var (
		before string
		taken  bool
	)
	err := tx.QueryRowContext(ctx, `SELECT email_norm, EXISTS (SELECT 1 FROM users WHERE username = $2 AND id <> $1)
		FROM users WHERE id = $1 AND deleted_at IS NULL`, id, nu.Username).Scan(&before, &taken)
	if store.IsNoRows(err) {
		return errs.Coded(errs.NotFound, "no_account")
	}
	if err != nil {
		return wrap(err, "identity")
	}
	if taken {
		return usernameTaken()
	}
	if err := CheckUsernameLookalikes(ctx, tx, nu.Username, id); err != nil {
		return err
	}
	// A new address is checked by the database (users_email_unique); the account's
	// email_shared flag follows the setting, as for a new account.
	norm := strings.ToLower(nu.Email)
	shared := "email_shared"
	if norm != before {
		on, err := sharedForWrite(ctx, tx)
		if err != nil {
			return err
		}
		shared = strconv.FormatBool(on)
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET username = $2, email = $3, email_norm = $4, first_name = $5,
		last_name = $6, language = $7, updated_at = $8, email_shared = `+shared+` WHERE id = $1`,
		id, nu.Username, nu.Email, norm, nu.FirstName, nu.LastName, nu.Language, tx.Now.Unix())
	if store.IsUnique(err) {
		return takenOnUpdate(err)
	}
	return wrap(err, "identity")
}

// ScheduleDeletionTx sets account id to be deleted at "at" (RunDeletions deletes it then),
// unless an earlier date is set already; the administrators' notice of it is sent anew.
func (s *Service) ScheduleDeletionTx(ctx context.Context, tx *store.Tx, id int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET delete_at = $2, deletion_noticed_at = NULL, updated_at = $3
		WHERE id = $1 AND deleted_at IS NULL AND (delete_at IS NULL OR delete_at > $2)`, id, at.Unix(), tx.Now.Unix())
	return wrap(err, "schedule deletion")
}

// CancelDeletionTx removes the deletion date of account id, and its notice.
func (s *Service) CancelDeletionTx(ctx context.Context, tx *store.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET delete_at = NULL, deletion_noticed_at = NULL
		WHERE id = $1 AND deleted_at IS NULL`, id)
	return wrap(err, "cancel deletion")
}
