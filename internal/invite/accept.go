package invite

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
)

// The causes of the Gone errors of an invitation link, for pages that answer each in the
// reader's language (see GoneReason).
var (
	errExpired   = errors.New(StatusExpired)
	errCancelled = errors.New(StatusCancelled)
	errAccepted  = errors.New(StatusAccepted)
	errUnknown   = errors.New("unknown")
)

// IsExpired reports whether err is the answer to an expired invitation link, for which the
// person may ask for a new one (RequestNew).
func IsExpired(err error) bool { return errors.Is(err, errExpired) }

// GoneReason says why an invitation link cannot be accepted: "expired", "cancelled",
// "accepted" or "unknown" (never existed, or replaced by a newer link); "" for other errors.
func GoneReason(err error) string {
	for _, e := range []error{errExpired, errCancelled, errAccepted, errUnknown} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return ""
}

// unusable is the error for an invitation link that cannot be accepted: unknown (or replaced by
// a newer link), cancelled, accepted already or expired. Each says what the person can do.
func unusable(inv *Invitation) error {
	gone := func(cause error, e *errs.Error) error { e.Cause = cause; return e }
	switch {
	case inv == nil:
		return gone(errUnknown, errs.Coded(errs.Gone, "invitation_unknown"))
	case inv.Status == StatusCancelled:
		return gone(errCancelled, errs.Coded(errs.Gone, "invitation_cancelled"))
	case inv.Status == StatusAccepted:
		return gone(errAccepted, errs.Coded(errs.Gone, "invitation_accepted"))
	default:
		return gone(errExpired, errs.Coded(errs.Gone, "invitation_expired"))
	}
}

// Check returns the invitation of a link that can be accepted, for the page that asks for the
// person's name and password. Errors: Gone (see IsExpired for an expired one).
func (s *Service) Check(ctx context.Context, token string) (*Invitation, error) {
	inv, err := s.byToken(ctx, s.db, token)
	if err != nil {
		return nil, err
	}
	if inv == nil || inv.Status != StatusPending {
		return nil, unusable(inv)
	}
	return inv, nil
}

// byToken returns the invitation of a token, or nil when none has it. Status is effective
// (a pending invitation past its expiry reads as expired).
func (s *Service) byToken(ctx context.Context, q store.Querier, token string) (*Invitation, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 100 {
		return nil, nil
	}
	inv, err := loadInvitation(ctx, q, s.db.Now(), `i.token_hash = $1`, secret.Hash(token))
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	return inv, err
}

// Acceptance is what the person fills in on the invitation page.
type Acceptance struct {
	Token               string
	FirstName, LastName string
	Password            string
}

// Accept creates the account of an invitation, active at once (billing starts now), with the
// password chosen, and applies the invitation's grants (group propagation included) and the
// registered AcceptHooks, in one transaction. Of two concurrent acceptances of one invitation,
// one creates the account and the other gets Gone.
//
// Errors: Gone (unknown, cancelled, accepted, expired: see IsExpired); Invalid naming
// first_name, last_name or password (the policy); Conflict naming email when an account with
// the invited address was created meanwhile.
func (s *Service) Accept(ctx context.Context, in Acceptance) (*account.User, error) {
	in.FirstName, in.LastName = cleanName(in.FirstName), cleanName(in.LastName)
	var f errs.Fields
	for field, v := range map[string]string{"first_name": in.FirstName, "last_name": in.LastName} {
		switch n := utf8.RuneCountInString(v); {
		case n == 0:
			f.AddCode(field, "required")
		case n > 100:
			f.AddCode(field, "too_long", errs.P{"limit": 100})
		}
	}
	if in.Password == "" {
		f.AddCode("password", "required")
	}
	inv, err := s.Check(ctx, in.Token)
	if err != nil {
		return nil, err
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	// The hash costs tens of milliseconds: computed before the transaction opens.
	username := strings.ToLower(inv.Email)
	hash, err := s.accounts.HashPassword(ctx, in.Password, username, inv.Email)
	if err != nil {
		return nil, err
	}
	var user *account.User
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE invitations SET status = 'accepted', accepted_at = $1
			WHERE token_hash = $2 AND status = 'pending' AND (expires_at IS NULL OR expires_at > $1)
			RETURNING id`, tx.Now.Unix(), secret.Hash(in.Token)).Scan(&id)
		if store.IsNoRows(err) {
			now, err := s.byToken(ctx, tx, in.Token)
			if err != nil {
				return err
			}
			return unusable(now)
		}
		if err != nil {
			return wrap(err, "accept")
		}
		user, err = s.accounts.CreateUser(ctx, tx, account.NewUser{Username: username, Email: inv.Email,
			FirstName: in.FirstName, LastName: in.LastName, Language: inv.Language, PasswordHash: hash,
			CustomFields: inv.CustomFields, DeleteAt: inv.DeleteAt})
		if errs.Is(err, errs.Conflict) {
			return errs.FieldCode("email", "account_exists_log_in").Class(errs.Conflict)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET accepted_user_id = $1 WHERE id = $2`, user.ID, id); err != nil {
			return wrap(err, "accept")
		}
		return s.applyAccepted(ctx, tx, inv, user.ID, "invitation.accept")
	})
	if err != nil {
		return nil, err
	}
	return user, nil
}

// applyAccepted applies an accepted invitation's grants and hooks to userID and records it.
func (s *Service) applyAccepted(ctx context.Context, tx *store.Tx, inv *Invitation, userID int64, action string) error {
	if err := applyGrants(ctx, tx, inv.ID, userID); err != nil {
		return err
	}
	for _, h := range s.hooks {
		if err := h(ctx, tx, inv, userID); err != nil {
			return err
		}
	}
	return audit.Record(ctx, tx, audit.Event{Action: action, TargetType: "invitation", TargetID: idStr(inv.ID),
		Details: map[string]any{"user_id": userID, "email": inv.Email}})
}

// ApplyPendingFor accepts, for an existing account, every pending invitation addressed to
// email, within the caller's transaction: their grants and hooks are applied to userID and
// they leave the pending list. Single sign-on calls it at a person's first login, and direct
// creation when the address had been invited. It checks no rights: the invitations were
// checked when they were sent. It returns how many invitations it applied.
func (s *Service) ApplyPendingFor(ctx context.Context, tx *store.Tx, userID int64, email string) (int, error) {
	norm := strings.ToLower(strings.TrimSpace(email))
	if norm == "" {
		return 0, nil
	}
	rows, err := tx.QueryContext(ctx, `UPDATE invitations SET status = 'accepted', accepted_at = $1, accepted_user_id = $2
		WHERE email_norm = $3 AND status = 'pending' AND (expires_at IS NULL OR expires_at > $1) RETURNING id`,
		tx.Now.Unix(), userID, norm)
	if err != nil {
		return 0, wrap(err, "apply pending")
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, wrap(err, "apply pending")
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, wrap(err, "apply pending")
	}
	for _, id := range ids {
		inv, err := loadInvitation(ctx, tx, tx.Now, `i.id = $1`, id)
		if err != nil {
			return 0, err
		}
		if err := s.applyAccepted(ctx, tx, inv, userID, "invitation.apply"); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// RequestNew answers "send me a new one" on an expired invitation link: the invitation gets a
// new link and a new lifetime, emailed to the invited address only (never to anyone the
// visitor names). The answer is nil whatever the token matched, so the page says the same
// thing to everyone; only internal failures are errors.
func (s *Service) RequestNew(ctx context.Context, token string) error {
	inv, err := s.byToken(ctx, s.db, token)
	if err != nil || inv == nil || inv.Status != StatusExpired {
		return err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := s.reissue(ctx, tx, inv, true)
		return err
	})
	if errs.Is(err, errs.Conflict) {
		return nil // a newer invitation of the address is pending: it has its own link
	}
	return err
}
