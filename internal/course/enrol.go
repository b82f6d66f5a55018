package course

import (
	"context"
	"crypto/subtle"
	"slices"
	"strings"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/store"
)

// Enrolment statuses.
const (
	Active    = "active"
	Suspended = "suspended"
)

// EnrolRequest is what the "Enrol users" dialog and POST /courses/{id}/enrolments send.
type EnrolRequest struct {
	UserIDs []int64
	// GroupIDs enrols the groups' current members, once: people who join a group later do not
	// follow (a group_sync method does that).
	GroupIDs []int64
	Role     string
	StartsAt *time.Time
	EndsAt   *time.Time
	// Duration sets EndsAt from StartsAt (or now) when EndsAt is nil; 0 for none.
	Duration time.Duration
	// MethodID is the manual method to enrol by; 0 for the course's manual method.
	MethodID int64
}

// EnrolResult says what Enrol did.
type EnrolResult struct {
	Enrolled int // new enrolments
	// Skipped counts members of the picked groups already enrolled by this method.
	Skipped int
}

// Enrol enrols people by a manual method: every user in r.UserIDs, and the current members of
// every group in r.GroupIDs. It is all or nothing. Picking a group needs the right to see it.
// It needs authz.ManageParticipants. Errors: Forbidden, NotFound (course, method, users,
// groups, each named), Invalid (role, dates, nobody to enrol), Conflict (a listed user is
// already enrolled by this method; members of picked groups who are, are skipped instead).
// When the method sends a welcome, people new to the course get one (held until the course
// opens).
func (s *Service) Enrol(ctx context.Context, courseID int64, r EnrolRequest) (*EnrolResult, error) {
	var res EnrolResult
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanInCourse(ctx, tx, authz.ManageParticipants, courseID, tx.Now); err != nil {
			return err
		}
		if _, err := getCourse(ctx, tx, courseID); err != nil {
			return err
		}
		m, err := manualMethod(ctx, tx, courseID, r.MethodID)
		if err != nil {
			return err
		}
		if r.Role == "" {
			r.Role = m.Role
		}
		if err := checkRole(ctx, tx, "role", r.Role); err != nil {
			return err
		}
		starts, ends, err := period(r.StartsAt, r.EndsAt, r.Duration, m.EnrolPeriod, tx.Now)
		if err != nil {
			return err
		}
		users := dedupe(r.UserIDs)
		if len(users) == 0 && len(r.GroupIDs) == 0 {
			return errs.FieldCode("user_ids", "choose_person_or_group")
		}
		if err := checkUsers(ctx, tx, users); err != nil {
			return err
		}
		if err := checkAlready(ctx, tx, m.ID, users); err != nil {
			return err
		}
		fromGroups, err := groupMembers(ctx, tx, dedupe(r.GroupIDs))
		if err != nil {
			return err
		}
		all := dedupe(append(users, fromGroups...))
		var fresh []int64 // new to the course: they get the welcome, if the method sends one
		if m.SendWelcome {
			if fresh, err = notEnrolled(ctx, tx, courseID, all); err != nil {
				return err
			}
		}
		n, err := insertEnrolments(ctx, tx, courseID, m.ID, r.Role, starts, ends, all)
		if err != nil {
			return err
		}
		if err := s.welcome(ctx, tx, courseID, r.Role, fresh); err != nil {
			return err
		}
		res.Enrolled, res.Skipped = n, len(all)-n
		return audit.Record(ctx, tx, audit.Event{Action: "course.enrol", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"method_id": m.ID, "role": r.Role, "users": len(users), "group_ids": r.GroupIDs, "enrolled": n}})
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// EnrolInvited enrols a person who accepted an invitation into a course, within the
// acceptance's transaction: by the course's invitation method (made on first use), as a
// student, from the course's start date when it has not opened yet. Enrolling someone
// already enrolled by it changes nothing. The invitations feature calls it; permission was
// checked when the invitation was sent. Errors: NotFound (course, user).
func (s *Service) EnrolInvited(ctx context.Context, tx *store.Tx, courseID, userID int64) error {
	return EnrolInvitedTx(ctx, tx, courseID, userID)
}

// EnrolInvitedTx is EnrolInvited without a Service, for callers that hold only a transaction.
func EnrolInvitedTx(ctx context.Context, tx *store.Tx, courseID, userID int64) error {
	c, err := getCourse(ctx, tx, courseID)
	if err != nil {
		return notFoundField("course_id", "no_such_course")
	}
	if err := checkUsers(ctx, tx, []int64{userID}); err != nil {
		return err
	}
	var methodID int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM course_methods WHERE course_id = $1 AND type = 'invitation'`, courseID).Scan(&methodID)
	if store.IsNoRows(err) {
		methodID, err = insertMethod(ctx, tx, &Method{CourseID: courseID, Type: Invitation, Role: Student, Enabled: true, Removal: RemovalUnenrol})
	}
	if err != nil {
		return wrap(err, "course: invitation method")
	}
	var starts *time.Time
	if c.StartsAt != nil && c.StartsAt.After(tx.Now) {
		starts = c.StartsAt
	}
	n, err := insertEnrolments(ctx, tx, courseID, methodID, Student, starts, nil, []int64{userID})
	if err != nil || n == 0 {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{Action: "course.enrol", TargetType: "course", TargetID: idStr(courseID),
		Details: map[string]any{"method_id": methodID, "user_id": userID, "via": "invitation"}})
}

// SelfEnrol enrols the caller by a self-enrolment method, with its key when it has one. It
// needs a logged-in person and a visible course. Errors: Unauthorized, NotFound (method),
// Forbidden (disabled, hidden course, outside the window), Invalid (wrong key, field "key"),
// Conflict (already enrolled by it, course full).
func (s *Service) SelfEnrol(ctx context.Context, courseID, methodID int64, key string) error {
	p, err := authz.RequireUser(ctx)
	if err != nil {
		return err
	}
	if p.UserID == 0 {
		return errs.Coded(errs.Forbidden, "self_enrol_person_only")
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := getCourse(ctx, tx, courseID)
		if err != nil {
			return err
		}
		m, err := getMethod(ctx, tx, methodID)
		if err != nil || m.CourseID != courseID || m.Type != Self {
			return notFoundField("method_id", "no_self_enrolment")
		}
		switch {
		case !m.Enabled || !c.Visible:
			return errs.Coded(errs.Forbidden, "self_enrol_closed")
		case m.EnrolStartsAt != nil && tx.Now.Before(*m.EnrolStartsAt):
			return errs.Coded(errs.Forbidden, "self_enrol_opens", errs.P{"date": i18n.Time(*m.EnrolStartsAt)})
		case m.EnrolEndsAt != nil && !tx.Now.Before(*m.EnrolEndsAt):
			return errs.Coded(errs.Forbidden, "self_enrol_closed_on", errs.P{"date": i18n.Time(*m.EnrolEndsAt)})
		case m.EnrolKey != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(m.EnrolKey)) != 1:
			return errs.FieldCode("key", "wrong_enrol_key")
		}
		if m.MaxEnrolled > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM course_enrolments WHERE method_id = $1`, m.ID).Scan(&n); err != nil {
				return wrap(err, "course: self count")
			}
			if n >= m.MaxEnrolled {
				return errs.Coded(errs.Conflict, "course_full")
			}
		}
		if err := checkAlready(ctx, tx, m.ID, []int64{p.UserID}); err != nil {
			return err
		}
		starts, ends, err := period(nil, nil, 0, m.EnrolPeriod, tx.Now)
		if err != nil {
			return err
		}
		var fresh []int64 // new to the course: they get the welcome, if the method sends one
		if m.SendWelcome {
			if fresh, err = notEnrolled(ctx, tx, courseID, []int64{p.UserID}); err != nil {
				return err
			}
		}
		if _, err := insertEnrolments(ctx, tx, courseID, m.ID, m.Role, starts, ends, []int64{p.UserID}); err != nil {
			return err
		}
		if err := s.welcome(ctx, tx, courseID, m.Role, fresh); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.self_enrol", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"method_id": m.ID}})
	})
}

// manualMethod returns the manual method id (or the course's first manual method for 0).
func manualMethod(ctx context.Context, q store.Querier, courseID, id int64) (*Method, error) {
	if id == 0 {
		err := q.QueryRowContext(ctx, `SELECT id FROM course_methods WHERE course_id = $1 AND type = 'manual' ORDER BY id LIMIT 1`,
			courseID).Scan(&id)
		if store.IsNoRows(err) {
			return nil, notFoundField("method_id", "no_manual_method")
		}
		if err != nil {
			return nil, wrap(err, "course: manual method")
		}
	}
	m, err := getMethod(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if m.CourseID != courseID || m.Type != Manual {
		return nil, notFoundField("method_id", "no_manual_method")
	}
	if !m.Enabled {
		return nil, errs.Coded(errs.Conflict, "method_disabled")
	}
	return m, nil
}

// period works out an enrolment's dates. Errors: Invalid naming ends_at or duration.
func period(starts, ends *time.Time, d, dflt time.Duration, now time.Time) (*time.Time, *time.Time, error) {
	if d < 0 {
		return nil, nil, errs.FieldCode("duration", "negative")
	}
	if d == 0 && ends == nil {
		d = dflt
	}
	if ends == nil && d > 0 {
		from := now
		if starts != nil {
			from = *starts
		}
		e := from.Add(d)
		ends = &e
	}
	if starts != nil && ends != nil && !ends.After(*starts) {
		return nil, nil, errs.FieldCode("ends_at", "end_before_start")
	}
	return starts, ends, nil
}

func dedupe(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// checkUsers fails with NotFound naming user_ids and the unknown ids.
func checkUsers(ctx context.Context, q store.Querier, ids []int64) error {
	found := map[int64]bool{}
	for _, chunk := range chunks(ids, 500) {
		rows, err := q.QueryContext(ctx, `SELECT id FROM users WHERE deleted_at IS NULL AND id IN (`+store.Placeholders(1, len(chunk))+`)`,
			int64Args(chunk)...)
		if err != nil {
			return wrap(err, "course: check users")
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap(err, "course: check users")
			}
			found[id] = true
		}
		rows.Close()
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, idStr(id))
		}
	}
	if len(missing) > 0 {
		return notFoundField("user_ids", "no_such_users", errs.P{"count": len(missing)})
	}
	return nil
}

// checkAlready fails with Conflict naming the users already enrolled by the method.
func checkAlready(ctx context.Context, q store.Querier, methodID int64, ids []int64) error {
	var dup []string
	for _, chunk := range chunks(ids, 500) {
		rows, err := q.QueryContext(ctx, `SELECT user_id FROM course_enrolments WHERE method_id = $1 AND user_id IN (`+
			store.Placeholders(2, len(chunk))+`) ORDER BY user_id`, append([]any{methodID}, int64Args(chunk)...)...)
		if err != nil {
			return wrap(err, "course: check enrolled")
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap(err, "course: check enrolled")
			}
			dup = append(dup, idStr(id))
		}
		rows.Close()
	}
	if len(dup) > 0 {
		return conflictField("user_ids", "already_enrolled", errs.P{"count": len(dup)})
	}
	return nil
}

// checkEnrolled fails with NotFound when one of ids has no enrolment in the course.
func checkEnrolled(ctx context.Context, q store.Querier, courseID int64, ids []int64) error {
	ids = dedupe(ids)
	if len(ids) == 0 {
		return errs.FieldCode("user_ids", "choose_participant")
	}
	n := 0
	for _, chunk := range chunks(ids, 500) {
		var c int
		err := q.QueryRowContext(ctx, `SELECT count(DISTINCT user_id) FROM course_enrolments WHERE course_id = $1 AND user_id IN (`+
			store.Placeholders(2, len(chunk))+`)`, append([]any{courseID}, int64Args(chunk)...)...).Scan(&c)
		if err != nil {
			return wrap(err, "course: check enrolled")
		}
		n += c
	}
	if n != len(ids) {
		return notFoundField("user_ids", "not_participants", errs.P{"count": len(ids) - n})
	}
	return nil
}

// groupMembers returns the current learners (group role learner, sub-groups excluded) of the
// groups, checking that the caller may pick each (authz.CanPickGroup). A group's trainers and
// administrators are its staff, not its learners: enrolling a group in which the teacher is a
// trainer must not make the teacher a student of the course. Errors: Forbidden, NotFound
// naming group_ids.
func groupMembers(ctx context.Context, tx *store.Tx, groups []int64) ([]int64, error) {
	var out []int64
	for _, g := range groups {
		if err := authz.CanPickGroup(ctx, tx, g); err != nil {
			return nil, err
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM groups WHERE id = $1`, g).Scan(&one); store.IsNoRows(err) {
			return nil, notFoundField("group_ids", "no_such_group")
		} else if err != nil {
			return nil, wrap(err, "course: group members")
		}
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT m.user_id FROM group_members m JOIN users u ON u.id = m.user_id
			WHERE m.group_id = $1 AND m.role = 'learner' AND u.deleted_at IS NULL`, g)
		if err != nil {
			return nil, wrap(err, "course: group members")
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, wrap(err, "course: group members")
			}
			out = append(out, id)
		}
		rows.Close()
	}
	return out, nil
}

// insertEnrolments enrols users by a method, skipping those it already enrols, and returns how
// many it added.
func insertEnrolments(ctx context.Context, tx *store.Tx, courseID, methodID int64, role string, starts, ends *time.Time, users []int64) (int, error) {
	list := make([]EnrolRow, len(users))
	for i, u := range users {
		list[i] = EnrolRow{CourseID: courseID, MethodID: methodID, UserID: u, Role: role, StartsAt: unixOr0(starts), EndsAt: unixOr0(ends)}
	}
	added, err := EnrolManyTx(ctx, tx, list)
	return len(added), err
}

// unixOr0 is t in Unix seconds, 0 for nil.
func unixOr0(t *time.Time) int64 {
	if t == nil || t.IsZero() {
		return 0
	}
	return t.Unix()
}

func chunks(ids []int64, size int) [][]int64 {
	var out [][]int64
	for len(ids) > 0 {
		n := min(size, len(ids))
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	return out
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
