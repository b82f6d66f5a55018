// Package invite is the two ways people get into Roster besides imports and single sign-on:
// invitations (an address receives a link; opening it creates the account and applies what the
// invitation grants) and the direct creation of external accounts by an administrator.
//
// Every method checks the caller's rights through authz first, then does its work in one
// transaction together with the emails (outbox rows) and audit events it causes. Password
// hashes are computed before the transaction opens.
//
// Tokens are 32 random bytes, URL-safe base64 in the link, SHA-256 in the database. Only the
// hash is kept, so re-sending an invitation issues a new link and the older one stops working:
// the latest email always carries the link that works.
//
// Errors are always *errs.Error.
package invite

import (
	"context"
	"strconv"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/store"
)

// Invitation states. A pending invitation past its expiry reads as StatusExpired.
const (
	StatusPending   = "pending"
	StatusAccepted  = "accepted"
	StatusCancelled = "cancelled"
	StatusExpired   = "expired"
)

// Outcomes of one address of an Invite or CancelMany call.
const (
	Invited        = "invited"
	AlreadyInvited = "already_invited" // InvitationID: the pending invitation, which can be re-sent
	AlreadyActive  = "already_active"  // UserID: the account, which AddExisting can put in the groups
	InvalidAddress = "invalid"         // Message says why
	Cancelled      = "cancelled"       // CancelMany: the pending invitation was cancelled
	NotInvited     = "not_invited"     // CancelMany: no pending invitation for this address
	NotAllowed     = "forbidden"       // CancelMany: the caller may not cancel that invitation
)

// Grant is a role in a group that an invitation (or a direct creation) gives.
type Grant struct {
	GroupID int64
	Role    string
}

// GroupGrant is a Grant with the group's name, for lists and pages.
type GroupGrant struct {
	Grant
	GroupName string
}

// Invitation is one invitation as lists show it.
type Invitation struct {
	ID             int64
	Email, Name    string
	Status         string // pending, accepted, cancelled or expired
	Groups         []GroupGrant
	CourseID       int64  // 0: none
	CourseName     string // filled by List
	Language       string
	DeleteAt       *time.Time
	CustomFields   map[string]string
	InvitedBy      int64  // 0 when sent with platform rights (API token, command line)
	InviterName    string // "" when InvitedBy is 0 or the account is gone
	CreatedAt      time.Time
	SentCount      int
	LastSentAt     *time.Time
	ExpiresAt      *time.Time
	DueAt          *time.Time
	AcceptedUserID int64
	AcceptedAt     *time.Time
	CancelledAt    *time.Time
	// LastDelivery is the outbox status of the latest email to the address: queued, sent,
	// failed, or "" when none was written.
	LastDelivery string
}

// Result is the outcome of one address.
type Result struct {
	Email        string // as typed; for an invalid entry, the text it came from
	Name         string
	Outcome      string
	InvitationID int64
	UserID       int64
	Message      string // English
	Code         string // Message's stable code, for pages in other languages
	// AlreadyInvited only: GrantsAdded, the request's groups and roles were added to the
	// pending invitation; CourseNotAdded, the request's course was not (see batch.merge).
	GrantsAdded, CourseNotAdded bool
}

// Config holds the settings of the service, copied in at start.
type Config struct {
	// BaseURL starts every link, e.g. "https://roster.example.edu"; a trailing slash is ignored.
	BaseURL string
	// PlatformName, when set, names the platform in invitation emails.
	PlatformName string
}

// MaxAddresses bounds one Invite or CancelMany call.
const MaxAddresses = 5000

// AcceptHook is called within the transaction that accepts an invitation (or applies it to an
// existing account with ApplyPendingFor), after the account exists and the group grants are
// applied. The courses feature registers one to enrol the person in inv.CourseID (or to hold
// the enrolment until inv.DueAt). An error rolls the whole acceptance back.
type AcceptHook func(ctx context.Context, tx *store.Tx, inv *Invitation, userID int64) error

// Service runs invitations and direct creation over a database.
type Service struct {
	db       *store.DB
	accounts *account.Service
	cfg      Config
	hooks    []AcceptHook
	// courseCheck validates course_id; nil until the courses feature registers one.
	courseCheck CourseCheck
	// courseOpens and enrolExisting: see SetCourseHooks; nil until registered.
	courseOpens   CourseOpens
	enrolExisting CourseEnrol
}

// NewService returns a service over db; accounts creates the accounts.
func NewService(db *store.DB, accounts *account.Service, cfg Config) *Service {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Service{db: db, accounts: accounts, cfg: cfg}
}

// OnAccept registers a hook run by every acceptance. Call it at start, before serving.
func (s *Service) OnAccept(h AcceptHook) { s.hooks = append(s.hooks, h) }

// link is the invitation link of a token.
func (s *Service) link(token string) string { return s.cfg.BaseURL + "/invitation/" + token }

// wrap is errs.Wrap returning a plain error, nil for nil.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return errs.Wrap(err, "invite: "+what)
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }
