package course

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/i18n"
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
	// Names are the role's name in other languages ("fr" → "Secrétariat"), for a role an
	// administrator created; built-in roles are named by the catalog.
	Names map[string]string
}

// NameIn is the role's name in lang: its name in that language if it has one, else Name.
func (r Role) NameIn(lang string) string {
	if n := r.Names[lang]; n != "" {
		return n
	}
	return r.Name
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
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "course: roles")
	}
	rows.Close()
	names, err := q.QueryContext(ctx, `SELECT role, language, name FROM course_role_names`)
	if err != nil {
		return nil, wrap(err, "course: role names")
	}
	defer names.Close()
	for names.Next() {
		var role, lang, name string
		if err := names.Scan(&role, &lang, &name); err != nil {
			return nil, wrap(err, "course: role names")
		}
		for i := range out {
			if out[i].Shortname == role {
				if out[i].Names == nil {
					out[i].Names = map[string]string{}
				}
				out[i].Names[lang] = name
			}
		}
	}
	return out, wrap(names.Err(), "course: role names")
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
	for lang, name := range r.Names {
		name = strings.TrimSpace(name)
		r.Names[lang] = name
		switch {
		case !i18n.Supported(lang):
			f.AddCode("names", "unknown_language")
		case utf8.RuneCountInString(name) > 100:
			f.AddCode("name_"+lang, "too_long", errs.P{"limit": 100})
		case name == "":
			delete(r.Names, lang)
		}
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
		for lang, name := range r.Names {
			if _, err := tx.ExecContext(ctx, `INSERT INTO course_role_names (role, language, name) VALUES ($1, $2, $3)`,
				r.Shortname, lang, name); err != nil {
				return wrap(err, "course: role name")
			}
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.role.create", TargetType: "course_role", TargetID: r.Shortname,
			Details: map[string]any{"name": r.Name, "base_role": r.BaseRole, "names": r.Names}})
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// UpdateRole renames a custom role: its name, and its name in each language (an empty name
// in a language removes it). The short name and the rights stay. Built-in roles are named by
// the catalog. It needs authz.CanCreateCourse. Errors: Forbidden, Invalid, NotFound,
// Conflict (a built-in role).
func (s *Service) UpdateRole(ctx context.Context, shortname, name string, names map[string]string) (*Role, error) {
	name = strings.TrimSpace(name)
	var f errs.Fields
	if name == "" || utf8.RuneCountInString(name) > 100 {
		f.AddCode("name", "required_max", errs.P{"limit": 100})
	}
	clean := map[string]string{}
	for lang, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case !i18n.Supported(lang):
			f.AddCode("names", "unknown_language")
		case utf8.RuneCountInString(n) > 100:
			f.AddCode("name_"+lang, "too_long", errs.P{"limit": 100})
		case n != "":
			clean[lang] = n
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if err := authz.CanCreateCourse(ctx); err != nil {
		return nil, err
	}
	var out *Role
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var builtin bool
		var base string
		err := tx.QueryRowContext(ctx, `SELECT builtin, base_role FROM course_roles WHERE shortname = $1`, shortname).Scan(&builtin, &base)
		if store.IsNoRows(err) {
			return errs.Coded(errs.NotFound, "no_such_role", errs.P{"role": shortname})
		}
		if err != nil {
			return wrap(err, "course: role")
		}
		if builtin {
			return errs.Coded(errs.Conflict, "builtin_role_name")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE course_roles SET name = $1 WHERE shortname = $2`, name, shortname); err != nil {
			return wrap(err, "course: rename role")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM course_role_names WHERE role = $1`, shortname); err != nil {
			return wrap(err, "course: role names")
		}
		for lang, n := range clean {
			if _, err := tx.ExecContext(ctx, `INSERT INTO course_role_names (role, language, name) VALUES ($1, $2, $3)`,
				shortname, lang, n); err != nil {
				return wrap(err, "course: role name")
			}
		}
		out = &Role{Shortname: shortname, Name: name, BaseRole: base, Names: clean}
		return audit.Record(ctx, tx, audit.Event{Action: "course.role.update", TargetType: "course_role", TargetID: shortname,
			Details: map[string]any{"name": name, "names": clean}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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

// RoleMapping is one entry of the site's role map: a role name as files from elsewhere write
// it (Moodle's flat file, its "Upload users" role columns, its enrolment-methods file), and
// the course role it gives.
type RoleMapping struct {
	Name string // lower case, e.g. "editingteacher"
	Role string // a course role's shortname
}

// RoleMap reads the site's role map, name → course role. Anyone who imports reads it; the
// callers check their own rights.
func RoleMap(ctx context.Context, q store.Querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, role FROM course_role_map`)
	if err != nil {
		return nil, wrap(err, "course: role map")
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, r string
		if err := rows.Scan(&n, &r); err != nil {
			return nil, wrap(err, "course: role map")
		}
		out[n] = r
	}
	return out, wrap(rows.Err(), "course: role map")
}

// RoleMappings lists the site's role map by name. Platform administrators. Errors: Forbidden.
func (s *Service) RoleMappings(ctx context.Context) ([]RoleMapping, error) {
	if err := authz.CanCreateCourse(ctx); err != nil {
		return nil, err
	}
	m, err := RoleMap(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make([]RoleMapping, 0, len(m))
	for n, r := range m {
		out = append(out, RoleMapping{Name: n, Role: r})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

var roleMapName = regexp.MustCompile(`^[a-z0-9_.-]{1,50}$`)

// SetRoleMapping maps a file role name to a course role (adding or changing the entry); an
// empty role removes the entry. Platform administrators. Errors: Forbidden, Invalid (name,
// unknown role).
func (s *Service) SetRoleMapping(ctx context.Context, name, role string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	role = strings.TrimSpace(role)
	if !roleMapName.MatchString(name) {
		return errs.FieldCode("name", "bad_role_map_name")
	}
	if err := authz.CanCreateCourse(ctx); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if role == "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM course_role_map WHERE name = $1`, name); err != nil {
				return wrap(err, "course: role map")
			}
		} else {
			if err := checkRole(ctx, tx, "role", role); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO course_role_map (name, role, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at`, name, role, tx.Now.Unix()); err != nil {
				return wrap(err, "course: role map")
			}
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.role_map.set", TargetType: "course_role_map", TargetID: name,
			Details: map[string]any{"role": role}})
	})
}
