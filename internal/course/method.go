package course

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/store"
)

// The types of enrolment method.
const (
	Manual     = "manual"     // teachers enrol people (the "Enrol users" dialog, the API)
	Self       = "self"       // people enrol themselves, with an optional key, cap and window
	GroupSync  = "group_sync" // the course follows a group's members (cohort sync)
	Meta       = "meta"       // the course follows another course's participants
	SIS        = "sis"        // the nightly student-information-system sync (its runs come later)
	Guest      = "guest"      // anonymous visitors may view the course
	Invitation = "invitation" // people invited into the course; made when the first one accepts
)

// MethodTypes lists the types the API and pages accept.
var MethodTypes = []string{Manual, Self, GroupSync, Meta, SIS, Guest, Invitation}

// What a synced method does to people who leave its source.
const (
	RemovalUnenrol = "unenrol"
	RemovalSuspend = "suspend"
)

// Method is one enrolment method instance on a course. Fields apply to some types only (see the
// comment of each).
type Method struct {
	ID          int64
	CourseID    int64
	Type        string
	Name        string // optional label; pages fall back to the type
	Enabled     bool
	Role        string        // the role it gives
	SendWelcome bool          // manual, self: a welcome email to people new to the course (mail.go)
	EnrolPeriod time.Duration // manual, self: default length of an enrolment; 0 for none

	EnrolKey      string     // self: optional key
	MaxEnrolled   int        // self: 0 for no cap
	EnrolStartsAt *time.Time // self: window
	EnrolEndsAt   *time.Time

	GroupID       int64  // group_sync: the group (0 once the group is deleted)
	Subgroups     bool   // group_sync: members of sub-groups too
	GroupRole     string // group_sync: only members with this group role; "" for every member
	CourseGroupID int64  // group_sync: put them in this course group; 0 for none

	LinkedCourseID int64    // meta: the course followed
	LinkedRoles    []string // meta: only its participants with these roles; empty for all

	Removal string // group_sync, meta: RemovalUnenrol or RemovalSuspend

	Enrolled int // how many enrolments it holds (filled by Methods)
}

// Synced reports whether the method's enrolments follow a source (and so are not removed by
// hand).
func (m *Method) Synced() bool { return m.Type == GroupSync || m.Type == Meta || m.Type == SIS }

// Label is the method's name, or its type.
func (m *Method) Label() string {
	if m.Name != "" {
		return m.Name
	}
	return m.Type
}

func (m *Method) normalize() {
	m.Type = strings.TrimSpace(m.Type)
	m.Name = strings.TrimSpace(m.Name)
	if m.Role == "" {
		m.Role = Student
		if m.Type == Guest {
			m.Role = GuestRole
		}
	}
	if m.Removal == "" {
		m.Removal = RemovalUnenrol
	}
}

// validate checks what can be checked without the database.
func (m *Method) validate() error {
	var f errs.Fields
	known := false
	for _, t := range MethodTypes {
		known = known || t == m.Type
	}
	if !known {
		f.AddCode("type", "unknown_method")
		return f.Err()
	}
	if len(m.Name) > 255 {
		f.AddCode("name", "too_long", errs.P{"limit": 255})
	}
	if m.EnrolPeriod < 0 {
		f.AddCode("enrol_period", "negative")
	}
	if m.MaxEnrolled < 0 {
		f.AddCode("max_enrolled", "negative")
	}
	if m.EnrolStartsAt != nil && m.EnrolEndsAt != nil && !m.EnrolEndsAt.After(*m.EnrolStartsAt) {
		f.AddCode("enrol_ends_at", "end_before_start")
	}
	if m.Removal != RemovalUnenrol && m.Removal != RemovalSuspend {
		f.AddCode("removal", "bad_removal")
	}
	switch m.Type {
	case GroupSync:
		if m.GroupID <= 0 {
			f.AddCode("group_id", "choose_group")
		}
		if m.GroupRole != "" && m.GroupRole != "learner" && m.GroupRole != "trainer" && m.GroupRole != "group_admin" && m.GroupRole != "user_admin" {
			f.AddCode("group_role", "unknown_group_role")
		}
	case Meta:
		if m.LinkedCourseID <= 0 {
			f.AddCode("course_id", "choose_course")
		} else if m.LinkedCourseID == m.CourseID {
			f.AddCode("course_id", "course_follows_itself")
		}
	}
	return f.Err()
}

// AddMethod adds a method to a course. A group_sync method needs the right to see its group,
// a meta link the right to see the participants of the course it follows; both enrol their
// people at once, in the same transaction. It needs authz.ManageCourse. Errors: Forbidden,
// NotFound (course, group, linked course, course group), Invalid (type, role, fields),
// Conflict (a second guest or invitation method, a meta link making a cycle).
func (s *Service) AddMethod(ctx context.Context, courseID int64, m Method) (*Method, error) {
	m.CourseID = courseID
	m.Enabled = true // methods are created enabled; disabling one comes with editing methods
	m.normalize()
	if err := m.validate(); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanInCourse(ctx, tx, authz.ManageCourse, courseID, tx.Now); err != nil {
			return err
		}
		if _, err := getCourse(ctx, tx, courseID); err != nil {
			return err
		}
		if err := checkRole(ctx, tx, "role", m.Role); err != nil {
			return err
		}
		for _, r := range m.LinkedRoles {
			if err := checkRole(ctx, tx, "roles", r); err != nil {
				return err
			}
		}
		switch m.Type {
		case GroupSync:
			if err := authz.CanPickGroup(ctx, tx, m.GroupID); err != nil {
				return err
			}
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM groups WHERE id = $1`, m.GroupID).Scan(&one); store.IsNoRows(err) {
				return notFoundField("group_id", "no_such_group")
			} else if err != nil {
				return wrap(err, "course: check group")
			}
		case Meta:
			if err := authz.CanInCourse(ctx, tx, authz.ViewParticipants, m.LinkedCourseID, tx.Now); err != nil {
				return err
			}
			if _, err := getCourse(ctx, tx, m.LinkedCourseID); err != nil {
				return notFoundField("course_id", "no_such_course")
			}
			if err := checkMetaCycle(ctx, tx, courseID, m.LinkedCourseID); err != nil {
				return err
			}
		}
		if err := checkDuplicate(ctx, tx, &m); err != nil {
			return err
		}
		if m.CourseGroupID != 0 {
			if err := checkCourseGroup(ctx, tx, courseID, m.CourseGroupID); err != nil {
				return err
			}
		}
		id, err := insertMethod(ctx, tx, &m)
		if err != nil {
			return err
		}
		m.ID = id
		if m.Synced() {
			if _, err := reconcile(ctx, tx, id); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.method.add", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"method_id": id, "type": m.Type, "role": m.Role, "group_id": m.GroupID, "linked_course_id": m.LinkedCourseID}})
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func insertMethod(ctx context.Context, tx *store.Tx, m *Method) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO course_methods (course_id, type, name, enabled, role, send_welcome, enrol_period,
		enrol_key, max_enrolled, enrol_starts_at, enrol_ends_at, group_id, subgroups, group_role, course_group_id,
		linked_course_id, linked_roles, removal, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19) RETURNING id`,
		m.CourseID, m.Type, m.Name, m.Enabled, m.Role, m.SendWelcome, int64(m.EnrolPeriod/time.Second),
		m.EnrolKey, m.MaxEnrolled, store.NullUnix(m.EnrolStartsAt), store.NullUnix(m.EnrolEndsAt), nullID(m.GroupID), m.Subgroups,
		m.GroupRole, nullID(m.CourseGroupID), nullID(m.LinkedCourseID), strings.Join(m.LinkedRoles, ","), m.Removal,
		tx.Now.Unix()).Scan(&id)
	if store.IsUnique(err) {
		return 0, errs.Coded(errs.Conflict, "method_exists", errs.P{"method": i18n.Label("label.method." + m.Type)})
	}
	if err != nil {
		return 0, wrap(err, "course: add method")
	}
	m.ID = id
	return id, nil
}

// checkDuplicate fails with Conflict when the course already has the same meta link (to the
// same course), or the same group sync (same group, sub-groups, group role and role).
func checkDuplicate(ctx context.Context, q store.Querier, m *Method) error {
	var one int
	var err error
	switch m.Type {
	case Meta:
		err = q.QueryRowContext(ctx, `SELECT 1 FROM course_methods WHERE course_id = $1 AND type = 'meta' AND linked_course_id = $2`,
			m.CourseID, m.LinkedCourseID).Scan(&one)
		if err == nil {
			return conflictField("course_id", "meta_link_exists")
		}
	case GroupSync:
		err = q.QueryRowContext(ctx, `SELECT 1 FROM course_methods WHERE course_id = $1 AND type = 'group_sync' AND group_id = $2
			AND subgroups = $3 AND group_role = $4 AND role = $5`, m.CourseID, m.GroupID, m.Subgroups, m.GroupRole, m.Role).Scan(&one)
		if err == nil {
			return conflictField("group_id", "group_sync_exists")
		}
	default:
		return nil
	}
	if store.IsNoRows(err) {
		return nil
	}
	return wrap(err, "course: duplicate method")
}

// SetMethodEnabled enables or disables a method. The people of a disabled group sync or meta
// link stay listed, suspended (as a disabled enrolment instance in Moodle); enabled again,
// they are active again. It needs authz.ManageCourse. Errors: Forbidden, NotFound.
func (s *Service) SetMethodEnabled(ctx context.Context, courseID, methodID int64, enabled bool) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		m, err := managedMethod(ctx, tx, courseID, methodID)
		if err != nil {
			return err
		}
		if m.Enabled == enabled {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE course_methods SET enabled = $1, updated_at = $2 WHERE id = $3`, enabled, tx.Now.Unix(), methodID); err != nil {
			return wrap(err, "course: enable method")
		}
		if m.Synced() {
			if _, err := reconcile(ctx, tx, methodID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.method.enable", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"method_id": methodID, "enabled": enabled}})
	})
}

// checkMetaCycle fails with Conflict when course following linked would make a loop (linked
// already follows course, directly or through other meta links).
func checkMetaCycle(ctx context.Context, q store.Querier, course, linked int64) error {
	seen := map[int64]bool{}
	todo := []int64{linked}
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == course {
			return errs.Coded(errs.Conflict, "meta_loop")
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		rows, err := q.QueryContext(ctx, `SELECT linked_course_id FROM course_methods WHERE course_id = $1 AND type = 'meta' AND linked_course_id IS NOT NULL`, c)
		if err != nil {
			return wrap(err, "course: meta cycle")
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap(err, "course: meta cycle")
			}
			todo = append(todo, id)
		}
		rows.Close()
	}
	return nil
}

// Methods lists a course's methods with the number of enrolments each holds. It needs
// authz.ViewParticipants. Errors: Forbidden, NotFound.
func (s *Service) Methods(ctx context.Context, courseID int64) ([]Method, error) {
	if err := authz.CanInCourse(ctx, s.db, authz.ViewParticipants, courseID, s.now()); err != nil {
		return nil, err
	}
	if _, err := getCourse(ctx, s.db, courseID); err != nil {
		return nil, err
	}
	return listMethods(ctx, s.db, courseID)
}

const methodColumns = `m.id, m.course_id, m.type, m.name, m.enabled, m.role, m.send_welcome, m.enrol_period, m.enrol_key,
	m.max_enrolled, m.enrol_starts_at, m.enrol_ends_at, m.group_id, m.subgroups, m.group_role, m.course_group_id,
	m.linked_course_id, m.linked_roles, m.removal`

func scanMethod(r scanner, m *Method, extra ...any) error {
	var (
		period                int64
		ws, we                sql.NullInt64
		group, cgroup, linked sql.NullInt64
		linkedRoles           string
	)
	dest := append([]any{&m.ID, &m.CourseID, &m.Type, &m.Name, &m.Enabled, &m.Role, &m.SendWelcome, &period, &m.EnrolKey,
		&m.MaxEnrolled, &ws, &we, &group, &m.Subgroups, &m.GroupRole, &cgroup, &linked, &linkedRoles, &m.Removal}, extra...)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	m.EnrolPeriod = time.Duration(period) * time.Second
	m.EnrolStartsAt, m.EnrolEndsAt = store.NullTime(ws), store.NullTime(we)
	m.GroupID, m.CourseGroupID, m.LinkedCourseID = group.Int64, cgroup.Int64, linked.Int64
	if linkedRoles != "" {
		m.LinkedRoles = strings.Split(linkedRoles, ",")
	}
	return nil
}

func listMethods(ctx context.Context, q store.Querier, courseID int64) ([]Method, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+methodColumns+`, (SELECT count(*) FROM course_enrolments e WHERE e.method_id = m.id)
		FROM course_methods m WHERE m.course_id = $1 ORDER BY m.id`, courseID)
	if err != nil {
		return nil, wrap(err, "course: methods")
	}
	defer rows.Close()
	var out []Method
	for rows.Next() {
		var m Method
		if err := scanMethod(rows, &m, &m.Enrolled); err != nil {
			return nil, wrap(err, "course: methods")
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "course: methods")
}

// managedMethod is method methodID of course courseID, for someone who may manage the course
// (authz.ManageCourse). Errors: Forbidden, NotFound (a method of another course too).
func managedMethod(ctx context.Context, tx *store.Tx, courseID, methodID int64) (*Method, error) {
	if err := authz.CanInCourse(ctx, tx, authz.ManageCourse, courseID, tx.Now); err != nil {
		return nil, err
	}
	m, err := getMethod(ctx, tx, methodID)
	if err != nil {
		return nil, err
	}
	if m.CourseID != courseID {
		return nil, notFoundField("method_id", "no_such_method")
	}
	return m, nil
}

func getMethod(ctx context.Context, q store.Querier, id int64) (*Method, error) {
	var m Method
	err := scanMethod(q.QueryRowContext(ctx, `SELECT `+methodColumns+` FROM course_methods m WHERE m.id = $1`, id), &m)
	if store.IsNoRows(err) {
		return nil, notFoundField("method_id", "no_such_method")
	}
	return &m, wrap(err, "course: get method")
}

// DeleteMethod removes a method and every enrolment it made (enrolments by other methods
// stay). It needs authz.ManageCourse. Errors: Forbidden, NotFound.
func (s *Service) DeleteMethod(ctx context.Context, courseID, methodID int64) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		m, err := managedMethod(ctx, tx, courseID, methodID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM course_group_members WHERE method_id = $1`, methodID); err != nil {
			return wrap(err, "course: delete method")
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM course_enrolments WHERE method_id = $1`, methodID)
		if err != nil {
			return wrap(err, "course: delete method")
		}
		n, _ := res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM course_methods WHERE id = $1`, methodID); err != nil {
			return wrap(err, "course: delete method")
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.method.delete", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"method_id": methodID, "type": m.Type, "unenrolled": n}})
	})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// RemoveMethodTx removes a method and every enrolment it made, in the caller's transaction,
// without a rights check: for an import's undo, whose caller is a platform administrator.
// A method already gone is nothing to do.
func RemoveMethodTx(ctx context.Context, tx *store.Tx, methodID int64) error {
	for _, q := range []string{`DELETE FROM course_group_members WHERE method_id = $1`, `DELETE FROM course_enrolments WHERE method_id = $1`,
		`DELETE FROM course_methods WHERE id = $1`} {
		if _, err := tx.ExecContext(ctx, q, methodID); err != nil {
			return wrap(err, "course: remove method")
		}
	}
	return nil
}

// RestoreMethodTx adds a group sync or meta link again (an import's undo of its deletion),
// enabled or not, in the caller's transaction, without a rights check, and queues it for the
// follower, which enrols its people. It returns the new method's id; a course or source gone
// since restores nothing (0).
func RestoreMethodTx(ctx context.Context, tx *store.Tx, m Method) (int64, error) {
	m.normalize()
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM courses WHERE id = $1`, m.CourseID).Scan(&one); store.IsNoRows(err) {
		return 0, nil
	} else if err != nil {
		return 0, wrap(err, "course: restore method")
	}
	id, err := insertMethod(ctx, tx, &m)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO course_sync_queue (method_id) VALUES ($1) ON CONFLICT DO NOTHING`, id); err != nil {
		return 0, wrap(err, "course: restore method")
	}
	return id, nil
}

// SetMethodEnabledTx is SetMethodEnabled in the caller's transaction, without a rights check
// (an import's undo); the follower reconciles the method.
func SetMethodEnabledTx(ctx context.Context, tx *store.Tx, methodID int64, enabled bool) error {
	if _, err := tx.ExecContext(ctx, `UPDATE course_methods SET enabled = $1, updated_at = $2 WHERE id = $3`, enabled, tx.Now.Unix(), methodID); err != nil {
		return wrap(err, "course: enable method")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO course_sync_queue (method_id) SELECT id FROM course_methods WHERE id = $1 ON CONFLICT DO NOTHING`, methodID); err != nil {
		return wrap(err, "course: enable method")
	}
	return nil
}
