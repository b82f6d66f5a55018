package sso

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/errs"
	"roster/internal/httpx"
	"roster/internal/secret"
	"roster/internal/store"
)

// Return is what came back from a provider to /sso/{slug}/cas or /sso/{slug}/callback.
type Return struct {
	Slug      string
	FlowToken string // the FlowCookie's value
	// CAS
	Ticket string
	// OIDC
	State, Code, Error string
	// The browser, for the session.
	IP, UserAgent string
}

// Login is a finished single sign-on: the account, the new session's cookie value and where
// to go.
type Login struct {
	User         *account.User
	SessionToken string
	Next         string
	Created      bool // the account was created at this login
	Linked       bool // an existing account was linked to this identity at this login
}

// FinishCAS completes a CAS login: it uses the flow up, validates the ticket with the CAS
// server, finds or creates the account and opens a session, remembering the ticket for
// single logout. Errors: NotFound (provider), Gone (reason flow), Unauthorized (reasons
// provider, no_account, email_taken, username_taken, missing, suspended), Unavailable.
func (s *Service) FinishCAS(ctx context.Context, r Return) (*Login, error) {
	p, err := providerBySlug(ctx, s.db, r.Slug)
	if err != nil {
		return nil, err
	}
	if p.Kind != KindCAS {
		return nil, errs.Coded(errs.NotFound, "no_sso_method")
	}
	f, err := consumeFlow(ctx, s.db, p.ID, r.FlowToken)
	if err != nil {
		return nil, err
	}
	id, err := s.validateTicket(ctx, p, r.Ticket)
	if err != nil {
		return nil, err
	}
	id.EmailVerified = p.Settings.EmailsVerified
	login, err := s.complete(ctx, p, id, f.next, r)
	if err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_cas_sessions (ticket_hash, provider_id, session_hash, user_id, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, secret.Hash(r.Ticket), p.ID, secret.Hash(login.SessionToken),
			login.User.ID, tx.Now.Unix())
		return wrap(err, "remember ticket")
	})
	if err != nil {
		return nil, err
	}
	return login, nil
}

// FinishOIDC completes an OpenID Connect login: the state must be this browser's flow
// (cookie) and unused; the code is exchanged with the PKCE verifier; the ID token is
// verified; then the account is found or created and a session opened. Errors: as
// FinishCAS, and Unauthorized (reason denied) when the provider sent an error.
func (s *Service) FinishOIDC(ctx context.Context, r Return) (*Login, error) {
	p, err := providerBySlug(ctx, s.db, r.Slug)
	if err != nil {
		return nil, err
	}
	if p.Kind != KindOIDC {
		return nil, errs.Coded(errs.NotFound, "no_sso_method")
	}
	if r.State == "" || r.State != r.FlowToken {
		return nil, errFlow()
	}
	f, err := consumeFlow(ctx, s.db, p.ID, r.State)
	if err != nil {
		return nil, err
	}
	if r.Error != "" {
		return nil, refuse(errs.Unauthorized, ReasonDenied, "sso_denied", errs.P{"error": r.Error})
	}
	id, err := s.exchangeCode(ctx, p, f, r.Code)
	if err != nil {
		return nil, err
	}
	return s.complete(ctx, p, id, f.next, r)
}

// complete finds or creates the account of id in one transaction, then opens a session.
func (s *Service) complete(ctx context.Context, p *Provider, id *Identity, next string, r Return) (*Login, error) {
	login := &Login{Next: httpx.LocalPath(next)}
	var userID int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		userID, err = s.resolve(ctx, tx, p, id, login)
		if err != nil {
			return err
		}
		if err := s.applyRules(ctx, tx, p, id, userID); err != nil {
			return err
		}
		if err := account.RecordLoginTx(ctx, tx, userID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "login.sso", TargetType: "user", TargetID: strconv.FormatInt(userID, 10),
			IP: r.IP, Details: map[string]any{"provider": p.Slug, "subject": id.Subject, "created": login.Created, "linked": login.Linked}})
	})
	if err != nil {
		return nil, err
	}
	token, err := s.accounts.CreateSession(ctx, userID, r.IP, r.UserAgent)
	if err != nil {
		return nil, err
	}
	if login.User, err = s.accounts.UserByID(ctx, userID); err != nil {
		return nil, err
	}
	login.SessionToken = token
	return login, nil
}

// resolve returns the account of id within tx: by the provider's identity first; else an
// account pre-created for this kind of sign-in with the mapped username; else the local
// account with the same email, only if the provider vouches for it and linking is on; else a
// new account, if the provider creates accounts. Known accounts are refreshed from the
// attributes.
func (s *Service) resolve(ctx context.Context, tx *store.Tx, p *Provider, id *Identity, login *Login) (int64, error) {
	m := mapAttributes(p, id)
	var userID int64
	err := tx.QueryRowContext(ctx, `SELECT user_id FROM sso_identities WHERE provider_id = $1 AND subject = $2`,
		p.ID, id.Subject).Scan(&userID)
	switch {
	case err == nil:
		if err := checkUsable(ctx, tx, userID); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sso_identities SET last_login_at = $1 WHERE provider_id = $2 AND subject = $3`,
			tx.Now.Unix(), p.ID, id.Subject); err != nil {
			return 0, wrap(err, "identity login")
		}
		return userID, refresh(ctx, tx, p, userID, m)
	case !store.IsNoRows(err):
		return 0, wrap(err, "identity")
	}

	// An account created for this kind of sign-in (import, command line, conversion) with
	// the provider's username: the administrator declared it belongs to single sign-on.
	if m.Username != "" {
		err := tx.QueryRowContext(ctx, `SELECT id FROM users u WHERE username = $1 AND auth = $2 AND deleted_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM sso_identities i WHERE i.provider_id = $3 AND i.user_id = u.id)`,
			m.Username, p.Kind, p.ID).Scan(&userID)
		if err == nil {
			login.Linked = true
			return userID, s.link(ctx, tx, p, id, userID, m, "username")
		}
		if !store.IsNoRows(err) {
			return 0, wrap(err, "user by username")
		}
	}

	// An account with the same email: never taken over silently.
	if m.Email != "" {
		ids, err := usersByEmail(ctx, tx, m.Email)
		if err != nil {
			return 0, err
		}
		if len(ids) > 0 {
			if len(ids) == 1 && id.EmailVerified && p.Settings.LinkByEmail {
				var taken int
				err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sso_identities WHERE provider_id = $1 AND user_id = $2`,
					p.ID, ids[0]).Scan(&taken)
				if err != nil {
					return 0, wrap(err, "identity of user")
				}
				if taken == 0 {
					login.Linked = true
					return ids[0], s.link(ctx, tx, p, id, ids[0], m, "email")
				}
			}
			return 0, refuse(errs.Unauthorized, ReasonEmailTaken, "sso_email_taken", errs.P{"email": m.Email})
		}
	}

	if !p.Settings.CreateAccounts {
		return 0, refuse(errs.Unauthorized, ReasonNoAccount, "sso_no_account")
	}
	return s.create(ctx, tx, p, id, m, login)
}

// create makes the account of a first login, records its identity and calls FirstLogin.
func (s *Service) create(ctx context.Context, tx *store.Tx, p *Provider, id *Identity, m mapped, login *Login) (int64, error) {
	var missing []string
	for _, f := range []struct{ name, value string }{{"email", m.Email}, {"first_name", m.FirstName}, {"last_name", m.LastName}} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return 0, refuse(errs.Unauthorized, ReasonMissing, "sso_missing_attributes", errs.P{"fields": strings.Join(missing, ", ")})
	}
	u, err := s.accounts.CreateUser(ctx, tx, account.NewUser{Username: m.Username, Email: m.Email, FirstName: m.FirstName,
		LastName: m.LastName, Language: m.Language, Auth: p.Kind})
	switch {
	case err == nil:
		login.Created = true
	case errs.Is(err, errs.Conflict):
		return 0, refuse(errs.Unauthorized, ReasonUsernameTaken, "sso_username_taken", errs.P{"username": usernameOf(m)})
	case errs.Is(err, errs.Invalid):
		return 0, refuse(errs.Unauthorized, ReasonMissing, "sso_invalid_account", errs.P{"detail": errs.As(err).Message})
	default:
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sso_identities (provider_id, subject, user_id, created_at, last_login_at)
		VALUES ($1, $2, $3, $4, $4)`, p.ID, id.Subject, u.ID, tx.Now.Unix()); err != nil {
		return 0, wrap(err, "insert identity")
	}
	if s.FirstLogin != nil {
		if err := s.FirstLogin(ctx, tx, u.ID, u.Email); err != nil {
			return 0, err
		}
	}
	return u.ID, nil
}

func usernameOf(m mapped) string {
	if m.Username != "" {
		return m.Username
	}
	return strings.ToLower(m.Email)
}

// link records that the provider's identity is this account's, and refreshes the account.
func (s *Service) link(ctx context.Context, tx *store.Tx, p *Provider, id *Identity, userID int64, m mapped, by string) error {
	if err := checkUsable(ctx, tx, userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sso_identities (provider_id, subject, user_id, created_at, last_login_at)
		VALUES ($1, $2, $3, $4, $4)`, p.ID, id.Subject, userID, tx.Now.Unix()); err != nil {
		return wrap(err, "link identity")
	}
	if err := audit.Record(ctx, tx, audit.Event{Action: "sso.link", TargetType: "user", TargetID: strconv.FormatInt(userID, 10),
		Details: map[string]any{"provider": p.Slug, "subject": id.Subject, "by": by}}); err != nil {
		return wrap(err, "audit")
	}
	return refresh(ctx, tx, p, userID, m)
}

// checkUsable refuses suspended and deleted accounts with a clear message.
func checkUsable(ctx context.Context, tx *store.Tx, userID int64) error {
	var status string
	var deleted sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT status, deleted_at FROM users WHERE id = $1`, userID).Scan(&status, &deleted)
	if store.IsNoRows(err) || (err == nil && deleted.Valid) {
		return refuse(errs.Unauthorized, ReasonNoAccount, "sso_no_account")
	}
	if err != nil {
		return wrap(err, "user status")
	}
	if status != account.StatusActive {
		return refuse(errs.Unauthorized, ReasonSuspended, "sso_suspended")
	}
	return nil
}

func usersByEmail(ctx context.Context, tx *store.Tx, email string) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE email_norm = $1 AND deleted_at IS NULL LIMIT 2`, strings.ToLower(email))
	if err != nil {
		return nil, wrap(err, "users by email")
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "users by email")
		}
		ids = append(ids, id)
	}
	return ids, wrap(rows.Err(), "users by email")
}

// SingleLogout ends the session that the ticket in a CAS single-logout request opened. An
// unknown ticket is not an error (the session may have ended already). Errors: NotFound
// (provider), Invalid (not a logout request).
func (s *Service) SingleLogout(ctx context.Context, slug, logoutRequest string) error {
	p, err := providerBySlug(ctx, s.db, slug)
	if err != nil {
		return err
	}
	if p.Kind != KindCAS {
		return errs.Coded(errs.NotFound, "no_sso_method")
	}
	ticket, err := parseLogoutRequest(logoutRequest)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var session string
		var userID int64
		err := tx.QueryRowContext(ctx, `SELECT session_hash, user_id FROM sso_cas_sessions WHERE ticket_hash = $1 AND provider_id = $2`,
			secret.Hash(ticket), p.ID).Scan(&session, &userID)
		if store.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return wrap(err, "ticket session")
		}
		// Ending the session also removes this mapping (ON DELETE CASCADE).
		if err := s.accounts.EndSessionTx(ctx, tx, session); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "logout.sso", TargetType: "user", TargetID: strconv.FormatInt(userID, 10),
			Details: map[string]any{"provider": p.Slug}})
	})
}
