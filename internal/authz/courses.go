package authz

import (
	"context"
	"fmt"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
)

// The built-in course roles, as stored in course_roles.base_role. The course package owns them
// (course.Teacher and so on); a custom role named by a platform administrator has the rights of
// its base role.
const (
	courseTeacher           = "teacher"
	courseNonEditingTeacher = "non_editing_teacher"
	courseStudent           = "student"
	courseGuest             = "guest"
)

// CourseOp is something a person may or may not do in a course.
type CourseOp string

// The operations on a course.
const (
	ViewCourse         CourseOp = "view"                // see the course page
	ViewParticipants   CourseOp = "view_participants"   // see and download the participants list
	ManageParticipants CourseOp = "manage_participants" // enrol, unenrol, change status and dates, message
	ManageCourse       CourseOp = "manage"              // edit the course, its methods and its groups
)

// StudentsSeeParticipants is the settings key that, set to "true", gives students a read-only
// view of the participants list of their courses.
const StudentsSeeParticipants = "courses.students_see_participants"

// courseOpRoles is the whole policy inside a course: which base roles, held through an active
// and current enrolment, allow each operation. Teachers manage their own courses and nothing
// else; a non-editing teacher sees the list; a student or guest sees the course, and the list
// only when the platform allows it (StudentsSeeParticipants). Platform administrators may do
// everything everywhere.
var courseOpRoles = map[CourseOp][]string{
	ViewCourse:         {courseTeacher, courseNonEditingTeacher, courseStudent, courseGuest},
	ViewParticipants:   {courseTeacher, courseNonEditingTeacher},
	ManageParticipants: {courseTeacher},
	ManageCourse:       {courseTeacher},
}

// courseOpKeys are the error codes of a refusal, by operation.
var courseOpKeys = map[CourseOp]string{
	ViewCourse:         "forbidden_course_view",
	ViewParticipants:   "forbidden_course_participants",
	ManageParticipants: "forbidden_course_manage_participants",
	ManageCourse:       "forbidden_course_manage",
}

// CanInCourse says whether the caller may do op in the course at the instant now (the caller's
// transaction time: an enrolment outside its dates gives no rights): nil, or errs Unauthorized
// (nobody logged in) or Forbidden. Anonymous visitors may view a visible course that has guest
// access. Like CanInGroup it does not say whether the course exists.
func CanInCourse(ctx context.Context, q store.Querier, op CourseOp, courseID int64, now time.Time) error {
	p := From(ctx)
	if p != nil && (p.PlatformAdmin || p.System) {
		return nil
	}
	allowed, ok := courseOpRoles[op]
	if !ok {
		return errs.Wrap(fmt.Errorf("unknown course operation %q", op), "authz")
	}
	if p == nil || p.UserID == 0 || p.SCIMGroupID != 0 {
		if op == ViewCourse {
			guest, err := courseGuestOpen(ctx, q, courseID)
			if err != nil || guest {
				return err
			}
		}
		if p == nil {
			return errs.Coded(errs.Unauthorized, "login_required")
		}
		// errkeys: forbidden_course_view forbidden_course_participants forbidden_course_manage_participants forbidden_course_manage
		return errs.Coded(errs.Forbidden, courseOpKeys[op])
	}
	base, visible, err := CourseRole(ctx, q, p.UserID, courseID, now)
	if err != nil {
		return err
	}
	if base == "" && op == ViewCourse {
		if guest, err := courseGuestOpen(ctx, q, courseID); err != nil || guest {
			return err
		}
		// A logged-in person may see a course they can enrol themself in (to do so).
		if self, err := courseSelfOpen(ctx, q, courseID); err != nil || self {
			return err
		}
	}
	// errkeys: forbidden_course_view forbidden_course_participants forbidden_course_manage_participants forbidden_course_manage
	forbidden := errs.Coded(errs.Forbidden, courseOpKeys[op])
	// A hidden course is for its teachers only.
	if !visible && base != courseTeacher && base != courseNonEditingTeacher {
		return forbidden
	}
	for _, r := range allowed {
		if r == base {
			return nil
		}
	}
	if op == ViewParticipants && base == courseStudent {
		var v string
		err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, StudentsSeeParticipants).Scan(&v)
		if err != nil && !store.IsNoRows(err) {
			return errs.Wrap(err, "authz: course setting")
		}
		if v == "true" {
			return nil
		}
	}
	return forbidden
}

// CourseRole returns the strongest base role the user holds in the course through an active
// enrolment current at now ("" for none), and whether the course is visible.
func CourseRole(ctx context.Context, q store.Querier, userID, courseID int64, now time.Time) (base string, visible bool, err error) {
	rows, err := q.QueryContext(ctx, `SELECT c.visible, r.base_role FROM courses c
		LEFT JOIN course_enrolments e ON e.course_id = c.id AND e.user_id = $2 AND e.status = 'active'
			AND (e.starts_at IS NULL OR e.starts_at <= $3) AND (e.ends_at IS NULL OR e.ends_at > $3)
		LEFT JOIN course_roles r ON r.shortname = e.role
		WHERE c.id = $1`, courseID, userID, now.Unix())
	if err != nil {
		return "", false, errs.Wrap(err, "authz: course role")
	}
	defer rows.Close()
	rank := map[string]int{courseTeacher: 4, courseNonEditingTeacher: 3, courseStudent: 2, courseGuest: 1}
	for rows.Next() {
		var r *string
		if err := rows.Scan(&visible, &r); err != nil {
			return "", false, errs.Wrap(err, "authz: course role")
		}
		if r != nil && rank[*r] > rank[base] {
			base = *r
		}
	}
	if err := rows.Err(); err != nil {
		return "", false, errs.Wrap(err, "authz: course role")
	}
	return base, visible, nil
}

// CanCreateCourse: create courses and name custom course roles (platform administrators).
func CanCreateCourse(ctx context.Context) error { return RequirePlatformAdmin(ctx) }

// courseGuestOpen reports whether the course is visible and has an enabled guest method.
func courseGuestOpen(ctx context.Context, q store.Querier, courseID int64) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM course_methods m JOIN courses c ON c.id = m.course_id
		WHERE m.course_id = $1 AND m.type = 'guest' AND m.enabled AND c.visible`, courseID).Scan(&one)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(err, "authz: guest access")
	}
	return true, nil
}

// courseSelfOpen reports whether the course is visible and has an enabled self-enrolment method.
func courseSelfOpen(ctx context.Context, q store.Querier, courseID int64) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM course_methods m JOIN courses c ON c.id = m.course_id
		WHERE m.course_id = $1 AND m.type = 'self' AND m.enabled AND c.visible LIMIT 1`, courseID).Scan(&one)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(err, "authz: self-enrolment")
	}
	return true, nil
}

// CanPickGroup says whether the caller may enrol a group's members in a course whose
// participants they manage (once from the "Enrol users" dialog, or through a group sync):
// platform administrators any group; others the groups they may see (ViewGroup: trainer or
// administrator in it or above) and the groups they belong to, in any role, as the
// university's teachers pick the cohorts they know. It does not say whether the group
// exists. Errors: Unauthorized, Forbidden (group_not_visible).
func CanPickGroup(ctx context.Context, q store.Querier, groupID int64) error {
	err := CanInGroup(ctx, q, ViewGroup, groupID)
	if err == nil || !errs.Is(err, errs.Forbidden) {
		return err
	}
	p := From(ctx)
	if p == nil || p.UserID == 0 || p.SCIMGroupID != 0 {
		return err
	}
	var one int
	switch e := q.QueryRowContext(ctx, `SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2 LIMIT 1`,
		groupID, p.UserID).Scan(&one); {
	case e == nil:
		return nil
	case store.IsNoRows(e):
		return err
	default:
		return errs.Wrap(e, "authz: pick group")
	}
}

// TeachesSomeCourse reports whether the caller may manage the participants of at least one
// course at the instant now (the caller's transaction time): platform administrators and the
// system always; otherwise a person holding, through an active enrolment current at now, a
// role whose base role allows ManageParticipants (teacher, or a custom role based on it), in
// any course, visible or hidden. Anonymous callers and SCIM clients get false. It is what lets
// a teacher create an external account from the dashboard (invite.Service.CreateExternal).
func TeachesSomeCourse(ctx context.Context, q store.Querier, now time.Time) (bool, error) {
	p := From(ctx)
	if p == nil {
		return false, nil
	}
	if p.PlatformAdmin || p.System {
		return true, nil
	}
	if p.UserID == 0 || p.SCIMGroupID != 0 {
		return false, nil
	}
	roles := courseOpRoles[ManageParticipants]
	args := []any{p.UserID, now.Unix()}
	in := ""
	for i, r := range roles {
		if i > 0 {
			in += ", "
		}
		args = append(args, r)
		in += fmt.Sprintf("$%d", len(args))
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM course_enrolments e JOIN course_roles r ON r.shortname = e.role
		WHERE e.user_id = $1 AND e.status = 'active'
			AND (e.starts_at IS NULL OR e.starts_at <= $2) AND (e.ends_at IS NULL OR e.ends_at > $2)
			AND r.base_role IN (`+in+`) LIMIT 1`, args...).Scan(&one)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(err, "authz: teaches some course")
	}
	return true, nil
}
