package course

import (
	"context"
	"strings"

	"roster/internal/authz"
	"roster/internal/store"
)

// Candidate is an account the "Enrol users" dialog offers: the name and the email tell
// namesakes apart.
type Candidate struct {
	ID        int64  `json:"id,string"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Enrolled  bool   `json:"enrolled"` // already a participant (by any method)
}

// SearchUsers finds up to 20 active accounts whose last name, first name, "first last" or
// email contains q (2 characters at least), for someone who may enrol people in the course.
func (s *Service) SearchUsers(ctx context.Context, courseID int64, q string) ([]Candidate, error) {
	if err := authz.CanInCourse(ctx, s.db, authz.ManageParticipants, courseID, s.now()); err != nil {
		return nil, err
	}
	q = strings.ToLower(strings.TrimSpace(q))
	if len([]rune(q)) < 2 {
		return []Candidate{}, nil
	}
	like := "%" + escapeLike(q) + "%"
	rows, err := s.db.QueryContext(ctx, `SELECT u.id, u.first_name, u.last_name, u.email,
		EXISTS (SELECT 1 FROM course_enrolments e WHERE e.course_id = $1 AND e.user_id = u.id)
		FROM users u WHERE u.deleted_at IS NULL AND u.status = 'active' AND (lower(u.last_name) LIKE $2 ESCAPE '\'
			OR lower(u.first_name) LIKE $2 ESCAPE '\' OR lower(u.first_name || ' ' || u.last_name) LIKE $2 ESCAPE '\'
			OR u.email_norm LIKE $2 ESCAPE '\')
		ORDER BY lower(u.last_name), lower(u.first_name), u.id LIMIT 20`, courseID, like)
	if err != nil {
		return nil, wrap(err, "course: search users")
	}
	defer rows.Close()
	out := []Candidate{}
	for rows.Next() {
		var c Candidate
		if err := rows.Scan(&c.ID, &c.FirstName, &c.LastName, &c.Email, &c.Enrolled); err != nil {
			return nil, wrap(err, "course: search users")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "course: search users")
}

// PickGroup is a group the caller may enrol the members of.
type PickGroup struct {
	ID      int64
	Name    string
	Members int
}

// PickableGroups lists the groups whose members the caller may see (and so enrol), by name,
// at most 500.
func (s *Service) PickableGroups(ctx context.Context) ([]PickGroup, error) {
	all, roots, err := authz.GroupScope(ctx, s.db, authz.ViewGroup)
	if err != nil {
		return nil, err
	}
	if !all && len(roots) == 0 {
		return nil, nil
	}
	q := `SELECT g.id, g.name, (SELECT count(DISTINCT m.user_id) FROM group_members m WHERE m.group_id = g.id) FROM groups g`
	var args []any
	if !all {
		q += ` WHERE g.id IN (SELECT descendant_id FROM group_paths WHERE ancestor_id IN (` + store.Placeholders(1, len(roots)) + `))`
		args = int64Args(roots)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY g.name, g.id LIMIT 500`, args...)
	if err != nil {
		return nil, wrap(err, "course: groups to pick")
	}
	defer rows.Close()
	var out []PickGroup
	for rows.Next() {
		var g PickGroup
		if err := rows.Scan(&g.ID, &g.Name, &g.Members); err != nil {
			return nil, wrap(err, "course: groups to pick")
		}
		out = append(out, g)
	}
	return out, wrap(rows.Err(), "course: groups to pick")
}
