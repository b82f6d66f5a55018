package invite

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/i18n"
	"roster/internal/store"
)

// The two rights a grant can be checked against: inviting someone into a group, or creating
// their account directly in it.
const (
	forInvite = authz.InviteTo
	forCreate = authz.CreateAccountsIn
)

// normalizeGrants checks the shape of grants (known roles, positive ids) and drops repeats.
// Errors name the field "groups[i]".
func normalizeGrants(grants []Grant) ([]Grant, error) {
	var (
		f    errs.Fields
		out  = make([]Grant, 0, len(grants))
		seen = map[Grant]bool{}
	)
	for i, g := range grants {
		g.Role = strings.TrimSpace(g.Role)
		field := fmt.Sprintf("groups[%d]", i)
		switch {
		case g.GroupID <= 0:
			f.AddCode(field+".group_id", "group_id_required")
		case g.Role == "":
			f.AddCode(field+".role", "group_role_required")
		case !group.ValidRole(g.Role):
			f.AddCode(field+".role", "unknown_group_role")
		case !seen[g]:
			seen[g] = true
			out = append(out, g)
		}
	}
	return out, f.Err()
}

// checkGrants verifies that the caller may give each grant (op: forInvite or forCreate, and
// the right to grant the role, see authz.CanGrantRole) and that each group exists, and returns
// the grants with their group names. Permission comes first, existence next, so a scoped
// administrator cannot probe ids outside their scope. Errors: Forbidden naming the group and
// the role, Invalid naming groups[i].group_id for an unknown group.
func checkGrants(ctx context.Context, q store.Querier, op authz.GroupOp, grants []Grant) ([]GroupGrant, error) {
	out := make([]GroupGrant, 0, len(grants))
	for i, g := range grants {
		if err := checkGrant(ctx, q, op, g); err != nil {
			if errs.Is(err, errs.Forbidden) {
				e := errs.As(err)
				e.Fields = []errs.FieldError{{Field: fmt.Sprintf("groups[%d]", i), Code: e.Key, Params: e.Params, Message: e.Message}}
			}
			return nil, err
		}
		name, err := groupName(ctx, q, g.GroupID)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errs.FieldCode(fmt.Sprintf("groups[%d].group_id", i), "no_such_group")
			}
			return nil, err
		}
		out = append(out, GroupGrant{Grant: g, GroupName: name})
	}
	return out, nil
}

// checkGrant is one grant's permission check, with a message naming the group (when the
// caller may see it) and the role.
func checkGrant(ctx context.Context, q store.Querier, op authz.GroupOp, g Grant) error {
	err := authz.CanInGroup(ctx, q, op, g.GroupID)
	if err == nil {
		err = authz.CanGrantRole(ctx, q, g.GroupID, g.Role)
	}
	if !errs.Is(err, errs.Forbidden) {
		return err
	}
	// The group is named only to someone who may see it; never by its id.
	role := i18n.Label("groups.role." + g.Role)
	if authz.CanViewGroup(ctx, q, g.GroupID) == nil {
		if name, nerr := groupName(ctx, q, g.GroupID); nerr == nil {
			if op == forCreate {
				return errs.Coded(errs.Forbidden, "forbidden_create_in_group", errs.P{"group": name, "role": role})
			}
			return errs.Coded(errs.Forbidden, "forbidden_invite_to_group", errs.P{"group": name, "role": role})
		}
	}
	if op == forCreate {
		return errs.Coded(errs.Forbidden, "forbidden_create_in_hidden_group", errs.P{"role": role})
	}
	return errs.Coded(errs.Forbidden, "forbidden_invite_to_hidden_group", errs.P{"role": role})
}

func groupName(ctx context.Context, q store.Querier, id int64) (string, error) {
	var name string
	err := q.QueryRowContext(ctx, `SELECT name FROM groups WHERE id = $1`, id).Scan(&name)
	if store.IsNoRows(err) {
		return "", errs.Coded(errs.NotFound, "no_such_group")
	}
	return name, wrap(err, "group name")
}

// options are the settings an invitation or a direct creation carries for the account.
type options struct {
	Language     string
	DeleteAt     *time.Time
	CustomFields map[string]string
	CustomJSON   string
}

// Limits on custom fields given with an invitation. The definitions of custom profile fields
// belong to the account administration; values are stored as given, within these bounds.
const (
	maxCustomFields   = 50
	maxCustomKeyLen   = 100
	maxCustomValueLen = 1000
)

// normalizeOptions checks language, deletion date and custom fields, adding to f.
func normalizeOptions(f *errs.Fields, lang string, deleteAt *time.Time, custom map[string]string, now time.Time) options {
	o := options{Language: strings.ToLower(strings.TrimSpace(lang)), CustomFields: map[string]string{}}
	if o.Language != "" && !i18n.Supported(o.Language) {
		f.AddCode("language", "unknown_language")
	}
	if deleteAt != nil && !deleteAt.IsZero() {
		t := deleteAt.UTC().Truncate(time.Second)
		if !t.After(now) {
			f.AddCode("delete_at", "must_be_future")
		}
		o.DeleteAt = &t
	}
	if len(custom) > maxCustomFields {
		f.AddCode("custom_fields", "too_many_fields", errs.P{"limit": maxCustomFields})
	}
	for k, v := range custom {
		k = strings.TrimSpace(k)
		switch {
		case k == "" || utf8.RuneCountInString(k) > maxCustomKeyLen:
			f.AddCode("custom_fields", "field_name_length", errs.P{"limit": maxCustomKeyLen})
		case utf8.RuneCountInString(v) > maxCustomValueLen:
			f.AddCode("custom_fields."+k, "too_long", errs.P{"limit": maxCustomValueLen})
		default:
			o.CustomFields[k] = strings.TrimSpace(v)
		}
	}
	o.CustomJSON = mustJSON(o.CustomFields)
	return o
}

// checkCustomFields validates the custom field values against the definitions of the
// platform's profile fields (account.ValidateCustomFields: known keys, kinds, every required
// field present), normalizing them in place, and adds what is wrong to f.
func (o *options) checkCustomFields(ctx context.Context, q store.Querier, f *errs.Fields) error {
	err := account.ValidateCustomFields(ctx, q, o.CustomFields, true)
	if errs.Is(err, errs.Invalid) {
		*f = append(*f, errs.As(err).Fields...)
		return nil
	}
	if err != nil {
		return err
	}
	o.CustomJSON = mustJSON(o.CustomFields)
	return nil
}

// CourseCheck validates a course an invitation enrols in, and names it for the email. The
// courses feature sets it (SetCourseCheck); until then an invitation with a course is refused.
type CourseCheck func(ctx context.Context, q store.Querier, courseID int64) (name string, err error)

// SetCourseCheck registers the check of invitations to a course. Call it at start.
func (s *Service) SetCourseCheck(c CourseCheck) { s.courseCheck = c }

// CourseOpens reports whether a course has opened at now and, when it has not, when it opens.
type CourseOpens func(ctx context.Context, q store.Querier, courseID int64, now time.Time) (open bool, opensAt time.Time, err error)

// CourseEnrol enrols an existing account in a course within the caller's transaction.
type CourseEnrol func(ctx context.Context, tx *store.Tx, courseID, userID int64) error

// SetCourseHooks registers what invitations to a course need from the courses feature: check
// (as SetCourseCheck); opens, by which an invitation to a course that has not opened is held
// (due_at = the opening, no email) until SendDue sends it; enrolExisting, by which an invited
// address that has an active account is enrolled at once (Result.Message says so). Call it at
// start; nil hooks leave the behaviour without them.
func (s *Service) SetCourseHooks(check CourseCheck, opens CourseOpens, enrolExisting CourseEnrol) {
	s.courseCheck, s.courseOpens, s.enrolExisting = check, opens, enrolExisting
}

// holdUntil is the opening of a course that has not opened at the transaction's time, when
// the invitations to it are to be held; nil when they are sent at once.
func (s *Service) holdUntil(ctx context.Context, tx *store.Tx, courseID int64) (*time.Time, error) {
	if courseID == 0 || s.courseOpens == nil {
		return nil, nil
	}
	open, opensAt, err := s.courseOpens(ctx, tx, courseID, tx.Now)
	if err != nil || open {
		return nil, err
	}
	return &opensAt, nil
}

// courseName names the course of an invitation for its email, without checking the caller's
// rights (they were checked when it was sent, or by canManage).
func (s *Service) courseName(ctx context.Context, q store.Querier, courseID int64) (string, error) {
	if courseID == 0 || s.courseCheck == nil {
		return "", nil
	}
	return s.courseCheck(authz.With(ctx, authz.System), q, courseID)
}

func (s *Service) checkCourse(ctx context.Context, q store.Querier, courseID int64) (string, error) {
	if courseID == 0 {
		return "", nil
	}
	if courseID < 0 || s.courseCheck == nil {
		return "", errs.FieldCode("course_id", "no_such_course")
	}
	return s.courseCheck(ctx, q, courseID)
}

// applyGrants gives userID the group roles of invitation invID (propagation included), with
// source manual: once accepted, the membership is as if an administrator had added the person.
func applyGrants(ctx context.Context, tx *store.Tx, invID, userID int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT group_id, role FROM invitation_groups WHERE invitation_id = $1
		ORDER BY group_id, role`, invID)
	if err != nil {
		return wrap(err, "grants")
	}
	var grants []Grant
	for rows.Next() {
		var g Grant
		if err := rows.Scan(&g.GroupID, &g.Role); err != nil {
			rows.Close()
			return wrap(err, "grants")
		}
		grants = append(grants, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap(err, "grants")
	}
	for _, g := range grants {
		if err := group.AddMemberTx(ctx, tx, g.GroupID, userID, g.Role, group.SourceManual); err != nil {
			return err
		}
	}
	return nil
}
