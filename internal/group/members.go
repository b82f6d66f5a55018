package group

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Member is one membership row: a person, a role and the source of that role. A person with
// two roles, or one role from two sources, appears once per row.
type Member struct {
	UserID     int64
	Username   string
	Email      string
	FirstName  string
	LastName   string
	Role       string
	Source     Source
	SourceName string // for a propagated membership, the name of the group it comes from
	CreatedAt  time.Time
}

// MemberFilter narrows and pages a members list.
type MemberFilter struct {
	Q      string // part of the first name, last name, "first last", username or email
	Role   string // "" for every role
	Limit  int    // 50 by default, at most 500
	Cursor string // from the previous page
}

// Page sizes of member lists.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Members lists a group's memberships by last name, first name, then role and source, a page
// at a time; next is the cursor of the following page, "" at the end. It needs
// authz.CanViewGroup. Errors: Forbidden, NotFound, Invalid (role, cursor).
func (s *Service) Members(ctx context.Context, groupID int64, f MemberFilter) (items []Member, next string, err error) {
	if err := s.checkMembers(ctx, groupID, f); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	q, args, err := s.membersQuery(ctx, groupID, f, limit+1)
	if err != nil {
		return nil, "", err
	}
	err = scanMembers(ctx, s.db, q, args, func(m Member) error {
		items = append(items, m)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if len(items) > limit {
		items = items[:limit]
		next = encodeCursor(items[limit-1])
	}
	return items, next, nil
}

// MembersCSV writes every membership matching f (Limit and Cursor are ignored) as CSV with a
// header row: user_id, username, email, first_name, last_name, role, source, source_group.
// Cells that a spreadsheet would run as a formula are prefixed with a quote. It needs
// authz.CanViewGroup. Errors: Forbidden, NotFound, Invalid (role).
func (s *Service) MembersCSV(ctx context.Context, groupID int64, f MemberFilter, w io.Writer) error {
	f.Cursor = ""
	if err := s.checkMembers(ctx, groupID, f); err != nil {
		return err
	}
	q, args, err := s.membersQuery(ctx, groupID, f, 0)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"user_id", "username", "email", "first_name", "last_name", "role", "source", "source_group"}); err != nil {
		return err
	}
	err = scanMembers(ctx, s.db, q, args, func(m Member) error {
		return cw.Write([]string{strconv.FormatInt(m.UserID, 10), safeCell(m.Username), safeCell(m.Email),
			safeCell(m.FirstName), safeCell(m.LastName), m.Role, m.Source.String(), safeCell(m.SourceName)})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func (s *Service) checkMembers(ctx context.Context, groupID int64, f MemberFilter) error {
	if err := authz.CanViewGroup(ctx, s.db, groupID); err != nil {
		return err
	}
	if f.Role != "" {
		if err := checkRole(f.Role); err != nil {
			return err
		}
	}
	_, err := getGroup(ctx, s.db, groupID)
	return err
}

// cursor is the sort key of the last row of a page.
type cursor struct {
	LastName  string `json:"l"`
	FirstName string `json:"f"`
	UserID    int64  `json:"u"`
	Role      string `json:"r"`
	Kind      string `json:"k"`
	Ref       int64  `json:"s"`
}

func encodeCursor(m Member) string {
	b, _ := json.Marshal(cursor{m.LastName, m.FirstName, m.UserID, m.Role, m.Source.Kind, m.Source.Ref})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, errs.FieldCode("cursor", "bad_cursor")
	}
	return c, nil
}

// membersQuery builds the list query; limit 0 means no limit. The page order is a keyset on
// (last name, first name, user, role, source), compared as one row value on both databases.
// Usernames and addresses are shown, and searched, only for the members whose identity the
// caller may see (authz.UserScopeSQL): a person someone pulled into the group shows a name.
func (s *Service) membersQuery(ctx context.Context, groupID int64, f MemberFilter, limit int) (string, []any, error) {
	var (
		b    strings.Builder
		args = []any{groupID}
		d    = s.db.Dialect
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	sight, err := authz.UserScopeSQL(ctx, s.db, authz.ViewGroup, "m.user_id", arg)
	if err != nil {
		return "", nil, err
	}
	username, email := "u.username", "u.email"
	if sight != "" {
		username = "CASE WHEN " + sight + " THEN u.username ELSE '' END"
		email = "CASE WHEN " + sight + " THEN u.email ELSE '' END"
	}
	b.WriteString(`SELECT m.user_id, ` + username + `, ` + email + `, u.first_name, u.last_name, m.role, m.source_kind, m.source_ref,
		COALESCE(sg.name, ''), m.created_at
		FROM group_members m
		JOIN users u ON u.id = m.user_id
		LEFT JOIN groups sg ON m.source_kind = 'propagated' AND sg.id = m.source_ref
		WHERE m.group_id = $1`)
	if f.Role != "" {
		b.WriteString(` AND m.role = ` + arg(f.Role))
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		p := arg("%" + escapeLike(q) + "%")
		like := " " + d.ILike() + " " + p + ` ESCAPE '\'`
		b.WriteString(` AND (u.first_name` + like + ` OR u.last_name` + like + ` OR (u.first_name || ' ' || u.last_name)` + like +
			` OR ` + username + like + ` OR ` + email + like + `)`)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		b.WriteString(` AND (u.last_name, u.first_name, m.user_id, m.role, m.source_kind, m.source_ref) > (` +
			arg(c.LastName) + `, ` + arg(c.FirstName) + `, ` + arg(c.UserID) + `, ` + arg(c.Role) + `, ` + arg(c.Kind) + `, ` + arg(c.Ref) + `)`)
	}
	b.WriteString(` ORDER BY u.last_name, u.first_name, m.user_id, m.role, m.source_kind, m.source_ref`)
	if limit > 0 {
		b.WriteString(` LIMIT ` + strconv.Itoa(limit))
	}
	return b.String(), args, nil
}

func scanMembers(ctx context.Context, q store.Querier, query string, args []any, each func(Member) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return wrap(err, "group: members")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			m   Member
			cre int64
		)
		if err := rows.Scan(&m.UserID, &m.Username, &m.Email, &m.FirstName, &m.LastName, &m.Role, &m.Source.Kind,
			&m.Source.Ref, &m.SourceName, &cre); err != nil {
			return wrap(err, "group: members")
		}
		m.CreatedAt = store.Time(cre)
		if err := each(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap(err, "group: members")
	}
	return nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// safeCell keeps a spreadsheet from reading a cell as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
