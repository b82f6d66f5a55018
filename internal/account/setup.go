package account

import (
	"context"
	"strconv"

	"roster/internal/audit"
	"roster/internal/errs"
	"roster/internal/mail"
	"roster/internal/store"
)

// IssueAccountSetup sends the "an account was created for you, set your password" email with
// a BASE/account/setup/TOKEN link, within the caller's transaction (the one that created the
// account), and returns the link. The link works once, for AccountSetupTTL (7 days).
//
// Errors: Invalid naming "email" when the account has no address; Conflict for accounts that
// log in with single sign-on (they have no password to set).
func (s *Service) IssueAccountSetup(ctx context.Context, tx *store.Tx, u *User) (link string, err error) {
	if u.Auth != AuthLocal {
		return "", errs.Coded(errs.Conflict, "sso_no_password")
	}
	if u.Email == "" {
		return "", errs.FieldCode("email", "required_for_setup")
	}
	token, err := issueToken(ctx, tx, purposeAccountSetup, u.ID, AccountSetupTTL)
	if err != nil {
		return "", err
	}
	link = s.link("/account/setup/", token)
	if err := mail.Enqueue(ctx, tx, mail.Message{Template: "account_setup", To: u.Email, ToName: u.Name(),
		UserID: u.ID, Language: u.Language, Data: map[string]any{
			"FirstName": u.FirstName, "Username": u.Username, "Link": link,
		}}); err != nil {
		return "", wrap(err, "setup mail")
	}
	if err := audit.Record(ctx, tx, audit.Event{Action: "account.setup_sent", TargetType: "user",
		TargetID: strconv.FormatInt(u.ID, 10)}); err != nil {
		return "", wrap(err, "audit")
	}
	return link, nil
}

// IssueSetupLink issues an account set-up link that is not emailed, for an administrator to
// hand over by other means (an account without email), and records "account.setup_link".
func (s *Service) IssueSetupLink(ctx context.Context, tx *store.Tx, userID int64) (link string, err error) {
	token, err := issueToken(ctx, tx, purposeAccountSetup, userID, AccountSetupTTL)
	if err != nil {
		return "", err
	}
	if err := audit.Record(ctx, tx, audit.Event{Action: "account.setup_link", TargetType: "user",
		TargetID: strconv.FormatInt(userID, 10)}); err != nil {
		return "", wrap(err, "audit")
	}
	return s.link("/account/setup/", token), nil
}

// CheckAccountSetupToken returns the account of a set-up link, for the page that asks for
// the password. Errors: Gone if the link is unknown, used or expired.
func (s *Service) CheckAccountSetupToken(ctx context.Context, token string) (*User, error) {
	return s.tokenUser(ctx, purposeAccountSetup, token)
}

// CompleteAccountSetup sets the account's first password through a set-up link, which it uses
// up, and records "account.setup". Errors: Gone, Invalid naming "password".
func (s *Service) CompleteAccountSetup(ctx context.Context, token, password string) error {
	return s.setPasswordByToken(ctx, purposeAccountSetup, token, password, "account.setup")
}
