// Package account is about the people who log in to Roster: their accounts, their passwords,
// how they log in and stay logged in, and how they get back in when they forget a password.
//
// Everything that changes state runs in one store transaction together with the emails
// (outbox rows) and audit events it causes, so that nothing is ever half done. The one
// exception is the password hash itself: it costs tens of milliseconds, so it is computed
// before the transaction opens, never while a write lock is held.
//
// Errors are always *errs.Error. Wherever a caller could otherwise learn whether an account
// exists (login, forgotten password), the answers are made indistinguishable on purpose.
package account

import (
	"context"
	"runtime"
	"strings"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
)

// Config holds the settings of the account service, copied in at start.
type Config struct {
	// BaseURL starts every link in emails and printed by the command line, e.g.
	// "https://roster.example.edu". A trailing slash is ignored.
	BaseURL string
	// ResetTTL is how long a password-reset link works. Default 30 minutes (--reset-ttl).
	ResetTTL time.Duration
	// SessionTTL is the idle timeout of a session: one not used for this long ends.
	// Default 12 hours, one working day, so a shared computer left logged in overnight
	// does not stay so.
	SessionTTL time.Duration
	// SessionMaxAge ends a session this long after login however active it is, so a stolen
	// cookie does not live forever. Default 7 days.
	SessionMaxAge time.Duration
	// HashConcurrency bounds how many password hashes are computed at once; each costs
	// HashMemoryKiB of memory. Default max(2, GOMAXPROCS).
	HashConcurrency int
}

// Defaults that Config falls back to.
const (
	DefaultResetTTL      = 30 * time.Minute
	DefaultSessionTTL    = 12 * time.Hour
	DefaultSessionMaxAge = 7 * 24 * time.Hour
	// AccountSetupTTL is how long an "account created for you, set your password" link
	// works: a week, because such a mail often waits over a weekend or a holiday, and an
	// administrator can send a fresh one at any time.
	AccountSetupTTL = 7 * 24 * time.Hour
)

// Service runs the account rules over a database.
type Service struct {
	db     *store.DB
	cfg    Config
	hasher *hasher
	// onDelete are what other packages forget of a deleted account, in its transaction
	// (OnDeleteTx): their tables are theirs to write.
	onDelete []func(ctx context.Context, tx *store.Tx, userID int64) error
}

// NewService returns a service over db, with defaults filled into cfg.
func NewService(db *store.DB, cfg Config) *Service {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.ResetTTL <= 0 {
		cfg.ResetTTL = DefaultResetTTL
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SessionMaxAge <= 0 {
		cfg.SessionMaxAge = DefaultSessionMaxAge
	}
	if cfg.HashConcurrency <= 0 {
		cfg.HashConcurrency = max(2, runtime.GOMAXPROCS(0))
	}
	return &Service{db: db, cfg: cfg, hasher: newHasher(defaultParams, cfg.HashConcurrency)}
}

// Config returns the effective configuration, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// now is the service's clock, truncated to the second like transaction times.
func (s *Service) now() time.Time { return s.db.Now().UTC().Truncate(time.Second) }

// link builds BASE/path/token.
func (s *Service) link(path, token string) string { return s.cfg.BaseURL + path + token }

// wrap is errs.Wrap returning a plain error, so that a nil cause gives a nil error and not a
// typed nil *errs.Error (which would compare non-nil).
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return errs.Wrap(err, what)
}
