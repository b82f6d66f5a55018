package authz

import (
	"context"

	"roster/internal/errs"
	"roster/internal/store"
)

// RequireSCIMToken fails unless the caller is a SCIM provisioning token, and returns the group
// it acts under. It reads nothing: SCIMScope also checks that the group still exists.
// Errors: Unauthorized (no caller), Forbidden (any other caller, platform administrators
// included: SCIM has its own tokens).
func RequireSCIMToken(ctx context.Context) (int64, error) {
	p := From(ctx)
	if p == nil {
		return 0, errs.Coded(errs.Unauthorized, "scim_token_required")
	}
	if p.SCIMGroupID == 0 {
		return 0, errs.Coded(errs.Forbidden, "scim_token_only")
	}
	return p.SCIMGroupID, nil
}

// SCIMScope is RequireSCIMToken, then a check that the token's group still exists: a token
// whose group was deleted provisions nowhere. The SCIM service calls it at the start of every
// action, inside the action's transaction. Errors: Unauthorized, Forbidden.
func SCIMScope(ctx context.Context, q store.Querier) (int64, error) {
	id, err := RequireSCIMToken(ctx)
	if err != nil {
		return 0, err
	}
	var one int
	err = q.QueryRowContext(ctx, `SELECT 1 FROM groups WHERE id = $1`, id).Scan(&one)
	if store.IsNoRows(err) {
		return 0, errs.Coded(errs.Forbidden, "scim_group_gone")
	}
	if err != nil {
		return 0, errs.Wrap(err, "authz: SCIM scope")
	}
	return id, nil
}
