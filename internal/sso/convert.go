package sso

import (
	"context"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Conversion is what a platform administrator asks to change about how an account logs in.
type Conversion struct {
	// Login is the account's username or email.
	Login string
	// To is "local", or the slug of the provider the account will log in with.
	To string
	// Subject is the person's identifier at that provider (CAS user, OIDC sub); optional:
	// without it the account is found at its next login as a pre-created account (same
	// username, for CAS) or by a vouched-for email where the provider allows linking.
	Subject string
}

// ConvertResult says what was done; SetupLink is set when an account became local.
type ConvertResult struct {
	User      *account.User
	SetupLink string
}

// Convert switches an account between a local password and single sign-on. To SSO: the
// password is removed (and outstanding reset and set-up links with it) and the identity, if
// given, is linked. To local: the account's identities are removed and an account set-up
// email is sent so the person chooses a password. It needs a platform administrator.
//
// Errors: Forbidden, NotFound (login, provider), Invalid, Conflict (already so, or the
// subject belongs to another account).
func (s *Service) Convert(ctx context.Context, c Conversion) (*ConvertResult, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	c.To, c.Subject = strings.ToLower(strings.TrimSpace(c.To)), strings.TrimSpace(c.Subject)
	u, err := s.accounts.UserByLogin(ctx, s.db, c.Login)
	if err != nil {
		return nil, errs.FieldCode("login", "no_account_login")
	}
	out := &ConvertResult{}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		uid := strconv.FormatInt(u.ID, 10)
		if c.To == account.AuthLocal {
			if u.Auth == account.AuthLocal {
				return errs.Coded(errs.Conflict, "already_password")
			}
			if err := account.SetAuthTx(ctx, tx, u.ID, account.AuthLocal); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM sso_identities WHERE user_id = $1`, u.ID); err != nil {
				return wrap(err, "remove identities")
			}
			if err := audit.Record(ctx, tx, audit.Event{Action: "user.auth_change", TargetType: "user", TargetID: uid,
				Details: map[string]any{"from": u.Auth, "to": account.AuthLocal}}); err != nil {
				return wrap(err, "audit")
			}
			u.Auth = account.AuthLocal
			link, err := s.accounts.IssueAccountSetup(ctx, tx, u)
			out.SetupLink = link
			return err
		}
		p, err := scanProvider(tx.QueryRowContext(ctx, selectProvider+` WHERE slug = $1`, c.To))
		if err != nil {
			return errs.FieldCode("to", "bad_sso_target")
		}
		if u.Auth == p.Kind && c.Subject == "" {
			return errs.Coded(errs.Conflict, "already_sso", errs.P{"method": strings.ToUpper(p.Kind)})
		}
		// The password goes, and so do the links that would set one.
		if err := account.SetAuthTx(ctx, tx, u.ID, p.Kind); err != nil {
			return err
		}
		if c.Subject != "" {
			_, err := tx.ExecContext(ctx, `INSERT INTO sso_identities (provider_id, subject, user_id, created_at, last_login_at)
				VALUES ($1, $2, $3, $4, 0)
				ON CONFLICT (provider_id, user_id) DO UPDATE SET subject = excluded.subject`, p.ID, c.Subject, u.ID, tx.Now.Unix())
			if store.IsUnique(err) {
				return &errs.Error{Code: errs.Conflict, Message: "subject: another account already has this identity",
					Fields: []errs.FieldError{{Field: "subject", Message: "another account already has this identity"}}}
			}
			if err != nil {
				return wrap(err, "link identity")
			}
		}
		u.Auth = p.Kind
		return audit.Record(ctx, tx, audit.Event{Action: "user.auth_change", TargetType: "user", TargetID: uid,
			Details: map[string]any{"to": p.Kind, "provider": p.Slug, "subject": c.Subject}})
	})
	if err != nil {
		return nil, err
	}
	if out.User, err = s.accounts.UserByID(ctx, u.ID); err != nil {
		return nil, err
	}
	return out, nil
}
