// Package authz is the one place that says who may do what where. Services call it before
// they change anything, so the web pages, the API, SCIM and the command line behave alike.
package authz

import (
	"context"
	"strings"

	"roster/internal/errs"
)

// Principal is who is acting: a logged-in person, an API token acting as a person or with
// platform rights, or the command line (System).
type Principal struct {
	UserID        int64 // 0 for platform tokens and the command line
	PlatformAdmin bool
	SCIMGroupID   int64  // set for SCIM provisioning tokens: they act only under this group
	TokenID       int64  // the API token used, if any
	TokenKind     string // TokenAPI or TokenSCIM for a token, "" otherwise
	System        bool   // the operator at the command line or a background job
}

// The kinds of API token: what a token may do is fixed when it is created, and it works
// only in its lane (TokenLane).
const (
	// TokenAPI: the JSON API under /api/v1, with platform rights or as its user.
	TokenAPI = "api"
	// TokenSCIM: the SCIM endpoint under /scim/v2, for its group; nothing else.
	TokenSCIM = "scim"
)

// TokenLane reports whether a request to path may be made with a token of kind: API tokens
// call the JSON API (and /metrics, which a platform token may read), SCIM tokens the SCIM
// endpoint, and neither the web pages (meant for people, with sessions) nor each other's
// endpoints. A SCIM token can therefore never act
// through the JSON API as an administrator of its group.
func TokenLane(kind, path string) bool {
	switch kind {
	case TokenAPI:
		return strings.HasPrefix(path, "/api/v1/") || path == "/metrics"
	case TokenSCIM:
		return path == "/scim/v2" || strings.HasPrefix(path, "/scim/v2/")
	}
	return false
}

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal in ctx, or nil for an anonymous caller.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// System is the principal of the command line and background jobs.
var System = &Principal{PlatformAdmin: true, System: true}

// RequirePlatformAdmin fails unless the caller is a platform administrator.
func RequirePlatformAdmin(ctx context.Context) error {
	p := From(ctx)
	if p == nil {
		return errs.Coded(errs.Unauthorized, "login_required")
	}
	if !p.PlatformAdmin {
		return errs.Coded(errs.Forbidden, "admin_only")
	}
	return nil
}

// RequireUser fails unless someone is logged in, and returns them.
func RequireUser(ctx context.Context) (*Principal, error) {
	p := From(ctx)
	if p == nil {
		return nil, errs.Coded(errs.Unauthorized, "login_required")
	}
	return p, nil
}
