package course

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// The built-in course roles. Every custom role has the rights of one of them.
const (
	Teacher           = "teacher"
	NonEditingTeacher = "non_editing_teacher"
	Student           = "student"
	GuestRole         = "guest"
)

// BaseRoles lists the built-in roles, strongest first.
var BaseRoles = []string{Teacher, NonEditingTeacher, Student, GuestRole}

// Role is a course role: a built-in one, or one a platform administrator named.
type Role struct {
	Shortname string // what enrolments store and the API takes, e.g. "secretariat"
	Name      string // what pages show, e.g. "Secretariat"
	BaseRole  string // the built-in role whose rights it has
	Builtin   bool
}

var roleShortname = regexp.MustCompile(`^[a-z][a-z0-9_]{1,49}$`)

// Roles lists every course role, built-in ones first.
func (s *Service) Roles(ctx context.Context) ([]Role, error) {
	return listRoles(ctx, s.db)
}

func listRoles(ctx context.Context, q store.Querier) ([]Role, error) {
	rows, err := q.QueryContext(ctx, `SELECT shortname, name, base_role, builtin FROM course_roles ORDER BY sort_order, name`)
	if err != nil {
		return nil, wrap(err, "course: roles")
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r.Shortname, &r.Name, &r.BaseRole, &r.Builtin); err != nil {
			return nil, wrap(err, "course: roles")
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err(), "course: roles")
}

// CreateRole names a custom role with the rights of a built-in one. It needs
// authz.CanCreateCourse (platform administrators). Errors: Forbidden, Invalid, Conflict.
func (s *Service) CreateRole(ctx context.Context, r Role) (*Role, error) {
	r.Shortname = strings.TrimSpace(r.Shortname)
	r.Name = strings.TrimSpace(r.Name)
	var f errs.Fields
	if !roleShortname.MatchString(r.Shortname) {
		f.AddCode("shortname", "bad_role_shortname")
	}
	if r.Name == "" || utf8.RuneCountInString(r.Name) > 100 {
		f.AddCode("name", "required_max", errs.P{"limit": 100})
	}
	if !isBaseRole(r.BaseRole) {
		f.AddCode("base_role", "bad_base_role")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if err := authz.CanCreateCourse(ctx); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO course_roles (shortname, name, base_role, builtin, sort_order, created_at)
			VALUES ($1, $2, $3, false, 100, $4)`, r.Shortname, r.Name, r.BaseRole, tx.Now.Unix())
		if store.IsUnique(err) {
			return conflictField("shortname", "role_exists")
		}
		if err != nil {
			return wrap(err, "course: create role")
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.role.create", TargetType: "course_role", TargetID: r.Shortname,
			Details: map[string]any{"name": r.Name, "base_role": r.BaseRole}})
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func isBaseRole(r string) bool {
	for _, b := range BaseRoles {
		if b == r {
			return true
		}
	}
	return false
}

// checkRole fails with Invalid naming field when role is not a course role.
func checkRole(ctx context.Context, q store.Querier, field, role string) error {
	if role == "" {
		return errs.FieldCode(field, "choose_role")
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM course_roles WHERE shortname = $1`, role).Scan(&one)
	if store.IsNoRows(err) {
		return errs.FieldCode(field, "unknown_role")
	}
	return wrap(err, "course: check role")
}
