package authz

import (
	"context"
	"fmt"

	"roster/internal/errs"
	"roster/internal/store"
)

// UserOp is something a person may or may not do to an account. Accounts have no place in
// the group tree of their own: a scoped administrator reaches an account through the groups
// it is a member of (any role, any source), with the roles of the matching group operation.
type UserOp string

// The operations on accounts.
const (
	// ViewUser: see the account's administrative page (email, custom fields, status); the
	// roles that manage a group see its members' accounts.
	ViewUser UserOp = "view_user"
	// ManageUser: change the account (names, email, username, language, status, deletion
	// date, custom fields) and delete it; the roles that create accounts in a group manage
	// its members' accounts.
	ManageUser UserOp = "manage_user"
)

var userOpGroupOp = map[UserOp]GroupOp{
	ViewUser:   ManageGroup,
	ManageUser: CreateAccountsIn,
}

// userOpKeys are the error codes of a refusal, by operation.
var userOpKeys = map[UserOp]string{ViewUser: "forbidden_user_view", ManageUser: "forbidden_user_manage"}

// CanOnUser says whether the caller may do op to the account userID: nil, or errs
// Unauthorized or Forbidden. Platform administrators may do everything. A scoped caller
// (group roles, a SCIM token) needs the account to be a member of a group in its scope, and
// to manage it, two more things, so that taking over an account can never widen anyone's
// rights: the account is not a platform administrator, and every role above learner it holds
// is in a group of the caller's scope (changing the email of a user_admin of another group
// would let its new owner reset the password and act there).
//
// Like CanInGroup it does not say whether the account exists: callers check permission first.
func CanOnUser(ctx context.Context, q store.Querier, op UserOp, userID int64) error {
	gop, ok := userOpGroupOp[op]
	if !ok {
		return errs.Wrap(fmt.Errorf("unknown user operation %q", op), "authz")
	}
	all, roots, err := GroupScope(ctx, q, gop)
	if err != nil || all {
		return err
	}
	// errkeys: forbidden_user_view forbidden_user_manage
	forbidden := errs.Coded(errs.Forbidden, userOpKeys[op])
	if len(roots) == 0 {
		return forbidden
	}
	in := store.Placeholders(2, len(roots))
	args := []any{userID}
	for _, r := range roots {
		args = append(args, r)
	}
	found, err := exists(ctx, q, `SELECT 1 FROM group_members t JOIN group_paths p ON p.descendant_id = t.group_id
		WHERE t.user_id = $1 AND p.ancestor_id IN (`+in+`) LIMIT 1`, args...)
	if err != nil || !found {
		if err == nil {
			err = forbidden
		}
		return err
	}
	if op != ManageUser {
		return nil
	}
	if admin, err := exists(ctx, q, `SELECT 1 FROM users WHERE id = $1 AND is_admin`, userID); err != nil || admin {
		if err == nil {
			err = errs.Coded(errs.Forbidden, "forbidden_admin_account")
		}
		return err
	}
	outside, err := exists(ctx, q, `SELECT 1 FROM group_members t WHERE t.user_id = $1 AND t.role <> '`+roleLearner+`'
		AND NOT EXISTS (SELECT 1 FROM group_paths p WHERE p.descendant_id = t.group_id AND p.ancestor_id IN (`+in+`))
		LIMIT 1`, args...)
	if err != nil || outside {
		if err == nil {
			err = errs.Coded(errs.Forbidden, "forbidden_user_outside")
		}
		return err
	}
	return nil
}

// CanViewUser: see an account's administrative page.
func CanViewUser(ctx context.Context, q store.Querier, userID int64) error {
	return CanOnUser(ctx, q, ViewUser, userID)
}

// CanManageUser: change or delete an account.
func CanManageUser(ctx context.Context, q store.Querier, userID int64) error {
	return CanOnUser(ctx, q, ManageUser, userID)
}

// UserScope returns the groups whose members' accounts the caller may do op to: all=true for
// platform administrators, otherwise the top groups of their scope (members of any group
// below them count too). Lists filter with it; CanOnUser decides for one account.
func UserScope(ctx context.Context, q store.Querier, op UserOp) (all bool, roots []int64, err error) {
	gop, ok := userOpGroupOp[op]
	if !ok {
		return false, nil, errs.Wrap(fmt.Errorf("unknown user operation %q", op), "authz")
	}
	return GroupScope(ctx, q, gop)
}

func exists(ctx context.Context, q store.Querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(err, "authz: users")
	}
	return true, nil
}
