// Package authz is the one place that says who may do what where. Services call it before
// they change anything, so the web pages, the API, SCIM and the command line behave alike.
package authz

import (
	"context"

	"roster/internal/errs"
)

// Principal is who is acting: a logged-in person, an API token acting as a person or with
// platform rights, or the command line (System).
type Principal struct {
	UserID        int64 // 0 for platform tokens and the command line
	PlatformAdmin bool
	SCIMGroupID   int64 // set for SCIM provisioning tokens: they act only under this group
	TokenID       int64 // the API token used, if any
	System        bool  // the operator at the command line or a background job
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
