package authz

import (
	"context"
	"fmt"
	"strings"

	"roster/internal/errs"
	"roster/internal/store"
)

// Power over a person comes from where the person belongs, never from being added.
//
// An account has no place in the group tree of its own: it belongs where its direct
// memberships are (propagated rows only repeat, higher up, a direct membership below them). A
// direct membership anchors the person there unless it was made by adding an existing account
// by someone who could not manage that account (group_members.anchors = false): such an
// addition gives the person the role and what follows from it (courses synced from the
// group), and gives nobody any power over the account, nor a sight of its address.
//
// The rule, for a scoped caller (a group role, a SCIM token):
//
//   - ViewUser (the administrative page: email, status, custom fields) needs an anchoring
//     direct membership of the person in a group the caller manages (group_admin or
//     user_admin there or above; a SCIM token's group).
//   - ManageUser (every row of UserActions marked so) needs, on top of that, the rights to
//     create accounts there (user_admin or a SCIM token), the person not to be a platform
//     administrator, and every direct membership of the person, anchoring or not, any role,
//     to lie in the caller's scope. Someone who also belongs to another branch belongs to
//     that branch too: taking the account over would carry the caller there (its courses, its
//     roles), so it is for an administrator above both, or a platform administrator.
//   - An account in no group (or only in groups it was added to) is managed by platform
//     administrators only.
//
// So the chain "add a learner of a sibling group to mine, change the email, reset the
// password" fails: the addition does not anchor, and the learner still belongs to the
// sibling group. A group administrator can no longer let a user administrator take over an
// account by pulling it in either. Platform administrators (and the command line) may do
// everything.

// UserOp is a level of power over an account.
type UserOp string

// The levels of power over an account.
const (
	// ViewUser: see the account's administrative page and its address.
	ViewUser UserOp = "view_user"
	// ManageUser: change the account and act for it (the ManageUser rows of UserActions).
	ManageUser UserOp = "manage_user"
	// PlatformOnly: platform administrators only, whatever the scope.
	PlatformOnly UserOp = "platform_only"
	// AddExisting: place an existing account in a group, a course or an invitation's grants.
	// It needs the right over the group or the course only, and never widens what the adder
	// may do to the account (see group.Service.AddMember).
	AddExisting UserOp = "add_existing"
)

// UserAction is one thing that can be done to an account.
type UserAction struct {
	Name  string // short name, for the documentation and tests
	What  string // what it covers
	Op    UserOp // who may: see UserOpWho
	Where string // the services that enforce it
}

// UserActions is the one table of what managing an account means and who may do it. Services
// check the Op of the row they implement with CanOnUser; docs/security.md shows
// the table (TestPermissionDocMatches keeps them equal).
var UserActions = []UserAction{
	{"see", "the administrative page: email, username, status, custom fields, deletion date", ViewUser, "account.GetUser, account.ListUsers, group member lists (address), course participants list (address and username, beyond users.show_identity)"},
	{"email", "change the email address (where reset links go)", ManageUser, "account.UpdateUser"},
	{"username", "change the username", ManageUser, "account.UpdateUser"},
	{"names", "change first name, last name, language", ManageUser, "account.UpdateUser"},
	{"custom fields", "change the custom profile fields", ManageUser, "account.UpdateUser"},
	{"suspension", "suspend (ends sessions, revokes API tokens for good) or reactivate", ManageUser, "account.UpdateUser"},
	{"deletion", "delete now, set or clear the automatic deletion date", ManageUser, "account.UpdateUser, account.DeleteUser"},
	{"login method", "password, single sign-on conversion", PlatformOnly, "sso.Convert; the person themselves by reset link"},
	{"links", "where set-up and reset links go: they are sent only to the account's own address, so whoever may change the address decides", ManageUser, "account.UpdateUser (a new address voids the links already sent), account.RequestReset"},
	{"API tokens", "create or revoke tokens acting as the account", PlatformOnly, "account.CreateAPIToken, account.RevokeAPIToken"},
	{"mail", "read the mail sent to the person (outbox)", PlatformOnly, "/admin/mail, GET /api/v1/mail"},
	{"add", "add the existing account to a group, a course or an invitation's grants", AddExisting, "group.AddMember, invite.AddExisting, course enrolment"},
}

// UserOpWho says, for the documentation, who holds each level.
var UserOpWho = map[UserOp]string{
	ViewUser:     "platform administrators; group and user administrators (and SCIM tokens) of a group where the person has an anchoring membership",
	ManageUser:   "platform administrators; user administrators (and SCIM tokens) whose scope holds an anchoring membership of the person and every membership of the person, the person not being a platform administrator",
	PlatformOnly: "platform administrators",
	AddExisting:  "whoever may grant the role in the group (group administrators), or manage the course's participants (teachers): the person is added, the adder gains nothing over the account",
}

// userOpGroupOp is the group operation whose roles give each level in a scope.
var userOpGroupOp = map[UserOp]GroupOp{
	ViewUser:   ManageGroup,
	ManageUser: CreateAccountsIn,
}

// userOpKeys are the error codes of a refusal, by operation.
var userOpKeys = map[UserOp]string{ViewUser: "forbidden_user_view", ManageUser: "forbidden_user_manage", PlatformOnly: "forbidden_user_manage"}

// CanOnUser says whether the caller may do op to the account userID: nil, or errs
// Unauthorized or Forbidden. The rule is at the top of this file.
//
// Like CanInGroup it does not say whether the account exists: callers check permission first.
func CanOnUser(ctx context.Context, q store.Querier, op UserOp, userID int64) error {
	p := From(ctx)
	if p == nil {
		return errs.Coded(errs.Unauthorized, "login_required")
	}
	if p.PlatformAdmin || p.System {
		return nil
	}
	if op == PlatformOnly {
		return errs.Coded(errs.Forbidden, "admin_only_account")
	}
	gop, ok := userOpGroupOp[op]
	if !ok {
		return errs.Wrap(fmt.Errorf("unknown user operation %q", op), "authz")
	}
	// errkeys: forbidden_user_view forbidden_user_manage
	forbidden := errs.Coded(errs.Forbidden, userOpKeys[op])
	_, roots, err := GroupScope(ctx, q, gop)
	if err != nil {
		return err
	}
	if len(roots) == 0 {
		return forbidden
	}
	args := []any{userID}
	for _, r := range roots {
		args = append(args, r)
	}
	in := store.Placeholders(2, len(roots))
	var anchored, admin, outside bool
	err = q.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM group_members m JOIN group_paths p ON p.descendant_id = m.group_id
			WHERE m.user_id = $1 AND m.source_kind <> 'propagated' AND m.anchors AND p.ancestor_id IN (`+in+`)),
		EXISTS (SELECT 1 FROM users WHERE id = $1 AND is_admin),
		EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = $1 AND m.source_kind <> 'propagated'
			AND NOT EXISTS (SELECT 1 FROM group_paths p WHERE p.descendant_id = m.group_id AND p.ancestor_id IN (`+in+`)))`,
		args...).Scan(&anchored, &admin, &outside)
	if err != nil {
		return errs.Wrap(err, "authz: users")
	}
	switch {
	case !anchored:
		return forbidden
	case op == ViewUser:
		return nil
	case admin:
		return errs.Coded(errs.Forbidden, "forbidden_admin_account")
	case outside:
		return errs.Coded(errs.Forbidden, "forbidden_user_outside")
	}
	return nil
}

// CanViewUser: see an account's administrative page.
func CanViewUser(ctx context.Context, q store.Querier, userID int64) error {
	return CanOnUser(ctx, q, ViewUser, userID)
}

// CanManageUser: change or delete an account, or act for it.
func CanManageUser(ctx context.Context, q store.Querier, userID int64) error {
	return CanOnUser(ctx, q, ManageUser, userID)
}

// UserScope returns the groups whose anchored members' accounts the caller may do op to:
// all=true for platform administrators, otherwise the top groups of their scope. Lists filter
// with UserScopeSQL; CanOnUser decides for one account.
func UserScope(ctx context.Context, q store.Querier, op UserOp) (all bool, roots []int64, err error) {
	gop, ok := userOpGroupOp[op]
	if !ok {
		return false, nil, errs.Wrap(fmt.Errorf("unknown user operation %q", op), "authz")
	}
	return GroupScope(ctx, q, gop)
}

// UserScopeSQL returns a SQL condition true for the accounts (userCol, e.g. "u.id") whose
// identity (address, username) the caller may see: those with an anchoring direct membership
// in a group where the caller may do gop (ManageGroup for the administration of accounts,
// ViewGroup for member lists). It is "" when every account is seen (platform
// administrators) and "1 = 0" when none. arg adds a query argument and returns its
// placeholder. With ManageGroup it is the list form of CanOnUser(ViewUser).
func UserScopeSQL(ctx context.Context, q store.Querier, gop GroupOp, userCol string, arg func(any) string) (string, error) {
	all, roots, err := GroupScope(ctx, q, gop)
	if err != nil {
		return "", err
	}
	if all {
		return "", nil
	}
	if len(roots) == 0 {
		return "1 = 0", nil
	}
	in := make([]string, len(roots))
	for i, r := range roots {
		in[i] = arg(r)
	}
	return `EXISTS (SELECT 1 FROM group_members am JOIN group_paths ap ON ap.descendant_id = am.group_id
		WHERE am.user_id = ` + userCol + ` AND am.source_kind <> 'propagated' AND am.anchors
		AND ap.ancestor_id IN (` + strings.Join(in, ", ") + `))`, nil
}
