package course

import (
	"context"
	"strings"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// SelfOption is a self-enrolment method as the course page offers it to a person.
type SelfOption struct {
	MethodID int64
	Name     string
	NeedsKey bool
	Role     string
	OpensAt  *time.Time // in the future: not open yet
	ClosedAt *time.Time // in the past: closed
	Full     bool       // its cap is reached
	Enrolled bool       // the caller is already enrolled by it
}

// Open reports whether the person may use the method now.
func (o SelfOption) Open() bool {
	return o.OpensAt == nil && o.ClosedAt == nil && !o.Full && !o.Enrolled
}

// SelfOptions lists the enabled self-enrolment methods of a visible course, for the course
// page's "Enrol me" action. It needs authz.ViewCourse (which a self-enrolment method gives a
// logged-in person). Anonymous visitors get none. Errors: Forbidden, NotFound.
func (s *Service) SelfOptions(ctx context.Context, courseID int64) ([]SelfOption, error) {
	now := s.now()
	if err := authz.CanInCourse(ctx, s.db, authz.ViewCourse, courseID, now); err != nil {
		return nil, err
	}
	p := authz.From(ctx)
	if p == nil || p.UserID == 0 || p.SCIMGroupID != 0 {
		return nil, nil
	}
	c, err := getCourse(ctx, s.db, courseID)
	if err != nil {
		return nil, err
	}
	if !c.Visible {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+methodColumns+`, (SELECT count(*) FROM course_enrolments e WHERE e.method_id = m.id),
		EXISTS (SELECT 1 FROM course_enrolments e WHERE e.method_id = m.id AND e.user_id = $2)
		FROM course_methods m WHERE m.course_id = $1 AND m.type = 'self' AND m.enabled ORDER BY m.id`, courseID, p.UserID)
	if err != nil {
		return nil, wrap(err, "course: self options")
	}
	defer rows.Close()
	var out []SelfOption
	for rows.Next() {
		var m Method
		var o SelfOption
		if err := scanMethod(rows, &m, &m.Enrolled, &o.Enrolled); err != nil {
			return nil, wrap(err, "course: self options")
		}
		o.MethodID, o.Name, o.NeedsKey, o.Role = m.ID, m.Name, m.EnrolKey != "", m.Role
		if m.EnrolStartsAt != nil && now.Before(*m.EnrolStartsAt) {
			o.OpensAt = m.EnrolStartsAt
		}
		if m.EnrolEndsAt != nil && !now.Before(*m.EnrolEndsAt) {
			o.ClosedAt = m.EnrolEndsAt
		}
		o.Full = m.MaxEnrolled > 0 && m.Enrolled >= m.MaxEnrolled
		out = append(out, o)
	}
	return out, wrap(rows.Err(), "course: self options")
}

// MethodUpdate lists what editing a method changes; nil leaves a field as it is.
type MethodUpdate struct {
	Name        *string
	EnrolKey    *string // self only: "" removes the key
	MaxEnrolled *int    // self only: 0 for no cap
}

// UpdateMethod changes a method's name and, for self-enrolment, its key and cap. It needs
// authz.ManageCourse. Errors: Forbidden, NotFound (method), Invalid (name, key, max_enrolled).
func (s *Service) UpdateMethod(ctx context.Context, courseID, methodID int64, u MethodUpdate) (*Method, error) {
	var out *Method
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		m, err := managedMethod(ctx, tx, courseID, methodID)
		if err != nil {
			return err
		}
		if u.Name != nil {
			m.Name = *u.Name
		}
		if (u.EnrolKey != nil || u.MaxEnrolled != nil) && m.Type != Self {
			return errs.FieldCode("enrol_key", "self_only")
		}
		if u.EnrolKey != nil {
			m.EnrolKey = strings.TrimSpace(*u.EnrolKey)
		}
		if u.MaxEnrolled != nil {
			m.MaxEnrolled = *u.MaxEnrolled
		}
		m.normalize()
		if err := m.validate(); err != nil {
			return err
		}
		if len(m.EnrolKey) > 100 {
			return errs.FieldCode("enrol_key", "too_long", errs.P{"limit": 100})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE course_methods SET name = $1, enrol_key = $2, max_enrolled = $3, updated_at = $4
			WHERE id = $5`, m.Name, m.EnrolKey, m.MaxEnrolled, tx.Now.Unix(), methodID); err != nil {
			return wrap(err, "course: update method")
		}
		out = m
		return audit.Record(ctx, tx, audit.Event{Action: "course.method.update", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"method_id": methodID, "name": m.Name, "has_key": m.EnrolKey != "", "max_enrolled": m.MaxEnrolled}})
	})
	return out, err
}
