package authz

import (
	"context"
	"fmt"

	"roster/internal/errs"
	"roster/internal/store"
)

// The group roles, as stored in group_members.role. The group package owns them (group.Learner
// and so on); they are repeated here because authz cannot import the packages that call it.
const (
	roleLearner    = "learner"
	roleTrainer    = "trainer"
	roleGroupAdmin = "group_admin"
	roleUserAdmin  = "user_admin"
)

// GroupOp is something a person may or may not do in a group. A role held in a group applies to
// that group and every group below it, never to its parent or its siblings.
type GroupOp string

// The operations on groups.
const (
	ViewGroup        GroupOp = "view"            // see the group and its members
	ManageGroup      GroupOp = "manage"          // rename it, add sub-groups, add and remove members
	InviteTo         GroupOp = "invite"          // invite people into it
	CreateAccountsIn GroupOp = "create_accounts" // create accounts directly in it
)

// groupOpRoles is the whole policy for scoped roles: which roles, held in the group or in a
// group above it, allow each operation. Platform administrators may do everything; a learner
// may do nothing; a trainer sees the groups it teaches. A user_admin is a group_admin who may
// also create accounts.
var groupOpRoles = map[GroupOp][]string{
	ViewGroup:        {roleGroupAdmin, roleUserAdmin, roleTrainer},
	ManageGroup:      {roleGroupAdmin, roleUserAdmin},
	InviteTo:         {roleGroupAdmin, roleUserAdmin},
	CreateAccountsIn: {roleUserAdmin},
}

// groupOpKeys are the error codes of a refusal, by operation.
var groupOpKeys = map[GroupOp]string{
	ViewGroup:        "group_not_visible",
	ManageGroup:      "forbidden_group_manage",
	InviteTo:         "forbidden_group_invite",
	CreateAccountsIn: "forbidden_group_create_accounts",
}

// CanInGroup says whether the caller may do op in the group: nil, or errs Unauthorized
// (nobody logged in) or Forbidden. It does not say whether the group exists: callers check
// permission first and existence next, so a scoped administrator cannot probe ids outside
// their scope.
func CanInGroup(ctx context.Context, q store.Querier, op GroupOp, groupID int64) error {
	p := From(ctx)
	if p == nil {
		return errs.Coded(errs.Unauthorized, "login_required")
	}
	if p.PlatformAdmin || p.System {
		return nil
	}
	roles, ok := groupOpRoles[op]
	if !ok {
		return errs.Wrap(fmt.Errorf("unknown group operation %q", op), "authz")
	}
	// errkeys: group_not_visible forbidden_group_manage forbidden_group_invite forbidden_group_create_accounts
	forbidden := errs.Coded(errs.Forbidden, groupOpKeys[op])
	if p.SCIMGroupID != 0 {
		// A SCIM provisioning token acts on its group and the groups below it, for everything.
		in, err := isUnder(ctx, q, groupID, p.SCIMGroupID)
		if err != nil {
			return err
		}
		if !in {
			return forbidden
		}
		return nil
	}
	if p.UserID == 0 {
		return forbidden
	}
	args := []any{groupID, p.UserID}
	for _, r := range roles {
		args = append(args, r)
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM group_paths p
		JOIN group_members m ON m.group_id = p.ancestor_id
		WHERE p.descendant_id = $1 AND m.user_id = $2 AND m.role IN (`+store.Placeholders(3, len(roles))+`)
		LIMIT 1`, args...).Scan(&one)
	if store.IsNoRows(err) {
		return forbidden
	}
	if err != nil {
		return errs.Wrap(err, "authz: group roles")
	}
	return nil
}

// CanViewGroup: see a group, its sub-groups and its members.
func CanViewGroup(ctx context.Context, q store.Querier, groupID int64) error {
	return CanInGroup(ctx, q, ViewGroup, groupID)
}

// CanManageGroup: rename the group, create sub-groups in it, add and remove its members.
func CanManageGroup(ctx context.Context, q store.Querier, groupID int64) error {
	return CanInGroup(ctx, q, ManageGroup, groupID)
}

// CanInviteTo: invite people into the group (with any role the caller may grant).
func CanInviteTo(ctx context.Context, q store.Querier, groupID int64) error {
	return CanInGroup(ctx, q, InviteTo, groupID)
}

// CanCreateAccountsIn: create accounts directly (without an invitation) as members of the group.
func CanCreateAccountsIn(ctx context.Context, q store.Querier, groupID int64) error {
	return CanInGroup(ctx, q, CreateAccountsIn, groupID)
}

// CanManageUnder: place, remove or re-publish groups directly under parentID. It is asked of
// the parent, not of the group itself, for creating, moving and deleting a group and for
// changing its visibility (which decides whether its learners flow into the parent): a group
// administrator may reshape what is below their group, but not detach, delete or re-wire the
// group they were given. parentID 0 is the top of the tree: platform administrators only.
func CanManageUnder(ctx context.Context, q store.Querier, parentID int64) error {
	if parentID == 0 {
		if err := RequirePlatformAdmin(ctx); err != nil {
			if errs.Is(err, errs.Forbidden) {
				return errs.Coded(errs.Forbidden, "forbidden_top_groups")
			}
			return err
		}
		return nil
	}
	return CanManageGroup(ctx, q, parentID)
}

// CanGrantRole: give someone role in the group. Granting user_admin needs the right to create
// accounts (so that a group administrator cannot raise anyone, themselves included, above
// their own rights); every other role needs the right to manage the group.
func CanGrantRole(ctx context.Context, q store.Querier, groupID int64, role string) error {
	if role == roleUserAdmin {
		return CanCreateAccountsIn(ctx, q, groupID)
	}
	return CanManageGroup(ctx, q, groupID)
}

// GroupScope returns the groups under which the caller may do op: all=true for platform
// administrators, otherwise the top groups of their scope (every group below them is in scope
// too). An anonymous caller gets errs Unauthorized.
func GroupScope(ctx context.Context, q store.Querier, op GroupOp) (all bool, roots []int64, err error) {
	p := From(ctx)
	if p == nil {
		return false, nil, errs.Coded(errs.Unauthorized, "login_required")
	}
	if p.PlatformAdmin || p.System {
		return true, nil, nil
	}
	if p.SCIMGroupID != 0 {
		return false, []int64{p.SCIMGroupID}, nil
	}
	if p.UserID == 0 {
		return false, nil, nil
	}
	roles := groupOpRoles[op]
	args := []any{p.UserID}
	for _, r := range roles {
		args = append(args, r)
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT group_id FROM group_members
		WHERE user_id = $1 AND role IN (`+store.Placeholders(2, len(roles))+`) ORDER BY group_id`, args...)
	if err != nil {
		return false, nil, errs.Wrap(err, "authz: group scope")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return false, nil, errs.Wrap(err, "authz: group scope")
		}
		roots = append(roots, id)
	}
	if err := rows.Err(); err != nil {
		return false, nil, errs.Wrap(err, "authz: group scope")
	}
	return false, roots, nil
}

// isUnder reports whether groupID is top or below it.
func isUnder(ctx context.Context, q store.Querier, groupID, top int64) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM group_paths WHERE ancestor_id = $1 AND descendant_id = $2`,
		top, groupID).Scan(&one)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(err, "authz: group scope")
	}
	return true, nil
}
