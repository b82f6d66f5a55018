package course

import (
	"context"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Candidate is an account the "Enrol users" dialog offers: the name, and the identity fields
// the platform shows (account.SettingShowIdentity), which tell namesakes apart.
type Candidate struct {
	ID        int64  `json:"id,string"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`              // "" unless the setting shows email
	Username  string `json:"username,omitempty"` // only when the setting shows it
	IDNumber  string `json:"idnumber,omitempty"` // only when the setting shows it
	Enrolled  bool   `json:"enrolled"`           // already a participant (by any method)
}

// The people search answers at most SearchLimit matches (one page: type more to narrow it),
// for at least SearchMinChars typed characters, and at most searchPerMinute searches a
// minute per person (burst searchBurst), which is plenty for typing and too slow to walk
// the directory.
const (
	SearchLimit     = 20
	SearchMinChars  = 2
	searchPerMinute = 60
	searchBurst     = 20
)

// SearchUsers finds up to SearchLimit active accounts whose last name, first name, "first
// last" or a shown identity field (account.SettingShowIdentity) contains q (SearchMinChars characters at
// least), for someone who may enrol people in the course: a teacher finds any person by name,
// and learns nothing more about them than the platform shows.
// Errors: Unauthorized, Forbidden, TooMany.
func (s *Service) SearchUsers(ctx context.Context, courseID int64, q string) ([]Candidate, error) {
	if err := authz.CanInCourse(ctx, s.db, authz.ManageParticipants, courseID, s.now()); err != nil {
		return nil, err
	}
	q = strings.ToLower(strings.TrimSpace(q))
	if len([]rune(q)) < SearchMinChars {
		return []Candidate{}, nil
	}
	if err := s.allowSearches(ctx, 1); err != nil {
		return nil, err
	}
	show, err := account.ShowIdentity(ctx, s.db)
	if err != nil {
		return nil, err
	}
	cols := map[string]string{"email": "u.email_norm", "username": "lower(u.username)", "idnumber": "lower(u.idnumber)"}
	match := []string{`lower(u.last_name) LIKE $2 ESCAPE '\'`, `lower(u.first_name) LIKE $2 ESCAPE '\'`,
		`lower(u.first_name || ' ' || u.last_name) LIKE $2 ESCAPE '\'`}
	for _, f := range []string{"email", "username", "idnumber"} {
		if show[f] {
			match = append(match, cols[f]+` LIKE $2 ESCAPE '\'`)
		}
	}
	like := "%" + escapeLike(q) + "%"
	return s.candidates(ctx, show, `(`+strings.Join(match, " OR ")+`)
		ORDER BY lower(u.last_name), lower(u.first_name), u.id LIMIT `+strconv.Itoa(SearchLimit), courseID, like)
}

// Candidates gives back, as the search shows them, the active accounts among ids (at most
// SearchLimit × 25 of them): the people ticked in the "Enrol users" dialog, shown ticked
// again when the dialog comes back with an error. Unknown, deleted or suspended ids are left
// out. Errors: Unauthorized, Forbidden, TooMany.
func (s *Service) Candidates(ctx context.Context, courseID int64, ids []int64) ([]Candidate, error) {
	if err := authz.CanInCourse(ctx, s.db, authz.ManageParticipants, courseID, s.now()); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return []Candidate{}, nil
	}
	if len(ids) > SearchLimit*25 {
		ids = ids[:SearchLimit*25]
	}
	// Names by id are names a search would have shown: they spend the same budget, a search
	// for every SearchLimit people, so that ids are no faster way through the directory.
	if err := s.allowSearches(ctx, (len(ids)+SearchLimit-1)/SearchLimit); err != nil {
		return nil, err
	}
	show, err := account.ShowIdentity(ctx, s.db)
	if err != nil {
		return nil, err
	}
	in := make([]string, len(ids))
	args := []any{courseID}
	for i, id := range ids {
		args = append(args, id)
		in[i] = "$" + strconv.Itoa(i+2)
	}
	return s.candidates(ctx, show, `u.id IN (`+strings.Join(in, ", ")+`)
		ORDER BY lower(u.last_name), lower(u.first_name), u.id`, args...)
}

// allowSearches spends n of the caller's people searches (searchPerMinute, searchBurst).
// Errors: TooMany.
func (s *Service) allowSearches(ctx context.Context, n int) error {
	p := authz.From(ctx)
	if p == nil || p.System {
		return nil
	}
	key := strconv.FormatInt(p.UserID, 10) + "/" + strconv.FormatInt(p.TokenID, 10)
	for range n {
		if ok, wait := s.searches.Allow(key); !ok {
			e := errs.New(errs.TooMany, "too many searches: wait a moment")
			e.RetryAfter = int(wait.Seconds()) + 1
			return e
		}
	}
	return nil
}

// candidates reads the active accounts matching where (after "WHERE ... AND"), $1 being the
// course, with the identity fields the platform shows.
func (s *Service) candidates(ctx context.Context, show map[string]bool, where string, args ...any) ([]Candidate, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT u.id, u.first_name, u.last_name, u.email, u.username, u.idnumber,
		EXISTS (SELECT 1 FROM course_enrolments e WHERE e.course_id = $1 AND e.user_id = u.id)
		FROM users u WHERE u.deleted_at IS NULL AND u.status = 'active' AND `+where, args...)
	if err != nil {
		return nil, wrap(err, "course: search users")
	}
	defer rows.Close()
	out := []Candidate{}
	for rows.Next() {
		var c Candidate
		if err := rows.Scan(&c.ID, &c.FirstName, &c.LastName, &c.Email, &c.Username, &c.IDNumber, &c.Enrolled); err != nil {
			return nil, wrap(err, "course: search users")
		}
		if !show["email"] {
			c.Email = ""
		}
		if !show["username"] {
			c.Username = ""
		}
		if !show["idnumber"] {
			c.IDNumber = ""
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "course: search users")
}

// PickGroup is a group the caller may enrol the members of.
type PickGroup struct {
	ID      int64
	Name    string
	Members int // its learners, whom enrolling the group enrols
}

// PickableGroups lists the groups whose members the caller may enrol (authz.CanPickGroup:
// the groups they may see and the groups they belong to), by name, at most 500.
func (s *Service) PickableGroups(ctx context.Context) ([]PickGroup, error) {
	all, roots, err := authz.GroupScope(ctx, s.db, authz.ViewGroup)
	if err != nil {
		return nil, err
	}
	q := `SELECT g.id, g.name, (SELECT count(DISTINCT m.user_id) FROM group_members m WHERE m.group_id = g.id AND m.role = 'learner') FROM groups g`
	var args []any
	if !all {
		p := authz.From(ctx)
		if p == nil || p.UserID == 0 {
			return nil, nil
		}
		args = []any{p.UserID}
		q += ` WHERE g.id IN (SELECT group_id FROM group_members WHERE user_id = $1)`
		if len(roots) > 0 {
			q += ` OR g.id IN (SELECT descendant_id FROM group_paths WHERE ancestor_id IN (` + store.Placeholders(2, len(roots)) + `))`
			args = append(args, int64Args(roots)...)
		}
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
