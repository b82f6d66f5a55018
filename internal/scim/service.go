package scim

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// Service is SCIM provisioning: the users and groups a SCIM token keeps in step, as resources.
// The HTTP handlers decode a request, call one method and encode its answer; the rules are
// here. Every method finds the calling token and its scope through authz (SCIMScope), runs a
// change in one transaction with the audit events it causes (audit.Record), and writes only
// SCIM's own tables itself: accounts change through account.Service, groups and memberships
// through group.Service and the group package's functions.
//
// Errors are errs codes (NotFound, Conflict, Invalid, Forbidden, Unauthorized, with a key
// and its parameters: "scim_no_user", "scim_user_name_taken", "scim_version_changed"…) or,
// for what RFC 7644 names itself (a filter, a path, a patch that cannot apply), an *Error;
// toSCIM gives both their SCIM status and scimType.
type Service struct {
	db       *store.DB
	accounts *account.Service
	groups   *group.Service
	cfg      Config
}

// NewService returns the SCIM service, with defaults filled into cfg.
func NewService(s Services, cfg Config) *Service {
	return &Service{db: s.DB, accounts: s.Accounts, groups: s.Groups, cfg: cfg.withDefaults()}
}

func (c Config) withDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Auth == "" {
		c.Auth = account.AuthOIDC
	}
	if c.DeleteAfter <= 0 {
		c.DeleteAfter = DefaultDeleteAfter
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.Log == nil {
		c.Log = discardLog
	}
	return c
}

func (s *Service) location(endpoint, id string) string {
	return s.cfg.BaseURL + "/scim/v2" + endpoint + "/" + id
}

// tx runs fn in one transaction with the caller's scope (authz.SCIMScope, read in it).
func (s *Service) tx(ctx context.Context, fn func(tx *store.Tx, scopeID int64) error) (scopeID int64, err error) {
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if scopeID, err = authz.SCIMScope(ctx, tx); err != nil {
			return err
		}
		return fn(tx, scopeID)
	})
	return scopeID, err
}

// parseID reads a resource id as SCIM shows it: a decimal number, no sign, no leading zero.
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == id
}

// checkIfMatch fails when the request carries If-Match and the resource moved on.
// Errors: Conflict "scim_version_changed" (412 to the client).
func checkIfMatch(ifMatch, etag string) error {
	if ifMatch != "" && !etagMatches(ifMatch, etag) {
		return errs.Coded(errs.Conflict, "scim_version_changed", errs.P{"version": etag})
	}
	return nil
}

// statusOfKey are the errs keys whose SCIM status is not the one of their code.
var statusOfKey = map[string]struct {
	status   int
	scimType string
}{
	"scim_version_changed": {http.StatusPreconditionFailed, ""},
	"scim_id_mismatch":     {http.StatusBadRequest, "mutability"},
}

// scimEvent is an audit event of a SCIM change, naming the token that made it.
func scimEvent(ctx context.Context, action, targetType string, id int64, details map[string]any) audit.Event {
	if details == nil {
		details = map[string]any{}
	}
	if p := authz.From(ctx); p != nil {
		details["token_id"] = p.TokenID
		details["scim_group_id"] = p.SCIMGroupID
	}
	return audit.Event{Action: action, TargetType: targetType, TargetID: itoa(id), Details: details}
}
