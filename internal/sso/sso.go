// Package sso is single sign-on: people log in to Roster with their institutional account,
// through a CAS 3.0 server or an OpenID Connect provider, and get a Roster account the first
// time they do (just-in-time), filled and refreshed from the provider's attributes.
//
// A login runs in three steps. Begin stores a flow (its state and nonce as SHA-256, the PKCE
// verifier, where to go after) and returns the provider's URL and the flow cookie that ties
// the flow to this browser. The provider sends the person back; FinishCAS or FinishOIDC uses
// the flow up, validates the ticket or the ID token, finds the account (by the provider's
// identity first, never silently by email), creates or refreshes it, and opens a session.
// A CAS server's single-logout request ends the session its ticket opened.
//
// Errors are *errs.Error. Those a person can meet carry a reason (ReasonOf) that the pages
// translate; their Message is the English text.
package sso

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/store"
)

// Config holds the settings of the service, copied in at start.
type Config struct {
	// BaseURL is Roster's public address; the CAS service URL and the OIDC redirect URI are
	// built from it, so providers must be told BASE/sso/{slug}/cas or BASE/sso/{slug}/callback.
	BaseURL string
	// FlowTTL is how long a person has to log in at the provider. Default 10 minutes.
	FlowTTL time.Duration
	// HTTPClient talks to the providers. Default: a client with a 15-second timeout.
	HTTPClient *http.Client
	Log        *slog.Logger
}

// DefaultFlowTTL is long enough to find a password, short enough that a stale tab fails.
const DefaultFlowTTL = 10 * time.Minute

// FlowCookie ties a login flow to the browser that started it, so that a login link made by
// someone else (login cross-site request forgery) does not log the victim in as them.
const FlowCookie = "roster_sso_flow"

// FirstLoginFunc is called inside the transaction that creates an account at a first SSO
// login, e.g. to apply the invitations pending for that email. An error rolls the login back.
type FirstLoginFunc func(ctx context.Context, tx *store.Tx, userID int64, email string) error

// Service runs single sign-on over a database and the account service.
type Service struct {
	db       *store.DB
	accounts *account.Service
	cfg      Config
	log      *slog.Logger

	// FirstLogin is the hook for the invitations feature (pending invitations and course
	// invitations for the email of a person who logs in for the first time). Nil: nothing.
	FirstLogin FirstLoginFunc

	mu        sync.Mutex
	discovery map[string]*discovered // OIDC provider metadata, by issuer
}

// NewService returns a service with defaults filled into cfg.
func NewService(db *store.DB, accounts *account.Service, cfg Config) *Service {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.FlowTTL <= 0 {
		cfg.FlowTTL = DefaultFlowTTL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if accounts != nil {
		accounts.OnDeleteTx(forgetUser)
	}
	return &Service{db: db, accounts: accounts, cfg: cfg, log: cfg.Log, discovery: map[string]*discovered{}}
}

// forgetUser removes the identities of a deleted account (account.OnDeleteTx).
func forgetUser(ctx context.Context, tx *store.Tx, userID int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM sso_identities WHERE user_id = $1`, userID)
	return wrap(err, "forget identities")
}

// Reasons a single sign-on login is refused, for the pages to translate (ReasonOf).
const (
	ReasonNoAccount     = "no_account"     // JIT is off and no account matches
	ReasonEmailTaken    = "email_taken"    // a local account has this email; no linking allowed
	ReasonUsernameTaken = "username_taken" // the mapped username belongs to someone else
	ReasonMissing       = "missing"        // the provider did not release a required attribute
	ReasonSuspended     = "suspended"      // the account is suspended
	ReasonFlow          = "flow"           // state unknown, used, expired, or another browser's
	ReasonProvider      = "provider"       // the provider's answer was refused (ticket, token)
	ReasonDenied        = "denied"         // the person cancelled or the provider said no
)

type reason string

func (r reason) Error() string { return string(r) }

// refuse is an error a person can meet, with its reason, by key (pages write it in the
// person's language, the API and the logs in English).
func refuse(code errs.Code, why, key string, p ...errs.P) error {
	e := errs.Coded(code, key, p...)
	e.Cause = reason(why)
	return e
}

// ReasonOf returns the reason of a refused login ("" for other errors).
func ReasonOf(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) || e.Code == errs.Internal {
		return ""
	}
	var r reason
	if errors.As(e.Cause, &r) {
		return string(r)
	}
	return ""
}

// wrap is errs.Wrap returning a plain error, so that a nil cause stays a nil error.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return errs.Wrap(err, what)
}
