package bulk

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"roster/internal/errs"
	"roster/internal/i18n"
)

// tsv reads rows pasted from a spreadsheet: email, first name, last name, groups, roles,
// language, deletion date, separated by tabs; a header row is optional.
type tsv struct {
	t     *table
	first bool
}

func newTSV(r io.Reader) (*tsv, error) {
	t, _, err := newTable(r, '\t')
	if err != nil {
		return nil, err
	}
	return &tsv{t: t, first: true}, nil
}

var tsvColumns = []string{"email", "first_name", "last_name", "groups", "roles", "language", "delete_at"}

func (p *tsv) Next() (*Row, error) {
	rec, err := p.t.next()
	if err != nil {
		return nil, err
	}
	if p.first {
		p.first = false
		h := strings.ToLower(rec.fields[0])
		if !strings.Contains(h, "@") && (strings.Contains(h, "mail") || strings.Contains(h, "courriel")) {
			return p.Next()
		}
	}
	row := &Row{Line: rec.line, User: &UserFields{Set: map[string]bool{"email": true, "firstname": true, "lastname": true}}}
	if len(rec.fields) > len(tsvColumns) {
		row.addErr("column "+strconv.Itoa(len(tsvColumns)+1), "too_many_values", errs.P{"count": len(rec.fields), "limit": len(tsvColumns)})
	}
	u := row.User
	u.Email, u.FirstName, u.LastName = at(rec, 0), at(rec, 1), at(rec, 2)
	if v := at(rec, 5); v != "" {
		u.Language = strings.ToLower(v)
		u.Set["lang"] = true
		if !i18n.Supported(u.Language) {
			row.addErr("language", "language_unavailable", errs.P{"value": v})
		}
	}
	if v := at(rec, 6); v != "" {
		t, err := parseTime(v)
		if err != nil {
			row.addErr("delete_at", "not_a_date", errs.P{"value": v})
		} else {
			u.DeleteAt = &t
		}
	}
	groups, roles := splitList(at(rec, 3)), splitList(at(rec, 4))
	if len(roles) > 1 && len(roles) != len(groups) {
		row.addErr("roles", "roles_per_group", errs.P{"groups": len(groups), "roles": len(roles)})
	}
	for i, g := range groups {
		role := "learner"
		if len(roles) == 1 {
			role = roles[0]
		} else if i < len(roles) {
			role = roles[i]
		}
		if r, ok := groupRoleNamed(role); ok {
			role = r
		} else {
			row.addErr("roles", "unknown_group_role")
		}
		row.Groups = append(row.Groups, GroupRef{IDNumber: g, Role: role, Column: "groups"})
	}
	if len(groups) == 0 && len(roles) > 0 {
		row.addErr("roles", "roles_need_groups")
	}
	return row, nil
}

// groupRoleNames are the names a pasted row may give a group role by: its code, Moodle's
// names, and its name in each language of the catalogs ("apprenant", "Formateur"), with the
// feminine French forms people also write.
var groupRoleNames = sync.OnceValue(func() map[string]string {
	names := maps.Clone(moodleGroupRoles)
	c := i18n.Default()
	for _, role := range []string{"learner", "trainer", "group_admin", "user_admin"} {
		for _, lang := range i18n.Languages {
			if key := "label.group_role." + role; c.Has(lang, key) {
				names[foldRoleName(c.T(lang, key))] = role
			}
		}
	}
	for name, role := range map[string]string{"apprenante": "learner", "formatrice": "trainer",
		"administratrice du groupe": "group_admin", "administratrice des utilisateurs": "user_admin"} {
		names[name] = role
	}
	return names
})

// groupRoleNamed returns the group role a row names, by code or by name.
func groupRoleNamed(name string) (string, bool) {
	r, ok := groupRoleNames()[foldRoleName(name)]
	return r, ok
}

// foldRoleName lower-cases a role name and folds its spaces.
func foldRoleName(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// enrolments reads Moodle's flat file: action,role,user,course[,starts_at,ends_at]. As Moodle
// does, it splits each line at its commas and takes each value without the spaces and the
// quotes around it: `'add','student',…` and `"add" , "ucitel"` read as add and ucitel (a
// quoted value may hold a comma). Lines starting with # are comments.
type enrolments struct {
	br   *bufio.Reader
	line int
}

func newEnrolments(r io.Reader) (*enrolments, error) {
	br := bufio.NewReaderSize(&lineGuard{r: r, line: 1}, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, errLongLine) {
			return nil, lineErr(1, 0, "line_too_long", errs.P{"limit": MaxLineBytes})
		}
		return nil, errEmpty
	}
	return &enrolments{br: br}, nil
}

// splitFlat splits one line of a flat file into its values (see enrolments).
func splitFlat(s string) ([]string, string) {
	var out []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var v strings.Builder
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			i++
			closed := false
			for i < len(s) {
				if s[i] == q {
					if i+1 < len(s) && s[i+1] == q { // a doubled quote
						v.WriteByte(q)
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				v.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, "a quote is not closed"
			}
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			if i < len(s) && s[i] != ',' {
				return nil, "text after a closing quote"
			}
		} else {
			j := strings.IndexByte(s[i:], ',')
			if j < 0 {
				j = len(s) - i
			}
			v.WriteString(s[i : i+j])
			i += j
		}
		out = append(out, strings.TrimSpace(v.String()))
		if i >= len(s) {
			return out, ""
		}
		i++ // the comma
	}
}

func (p *enrolments) Next() (*Row, error) {
	var fields []string
	for {
		text, err := p.br.ReadString('\n')
		if errors.Is(err, errLongLine) {
			return nil, lineErr(p.line+1, 0, "line_too_long", errs.P{"limit": MaxLineBytes})
		}
		if err != nil && err != io.EOF {
			return nil, errs.Wrap(err, "bulk: read")
		}
		if text == "" && err == io.EOF {
			return nil, io.EOF
		}
		p.line++
		if !utf8.ValidString(text) {
			return nil, lineErr(p.line, 1+invalidUTF8At(text), "file_not_utf8", nil)
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			if err == io.EOF {
				return nil, io.EOF
			}
			continue
		}
		row := &Row{Line: p.line}
		var bad string
		if fields, bad = splitFlat(text); bad != "" {
			row.addErrText("", bad)
			return row, nil
		}
		if strings.EqualFold(fields[0], "action") || strings.EqualFold(fields[0], "operation") { // a header
			continue
		}
		return p.row(row, fields), nil
	}
}

func (p *enrolments) row(row *Row, fields []string) *Row {
	if len(fields) < 4 || len(fields) > 6 {
		row.addErr("", "enrolment_values", errs.P{"count": len(fields)})
		return row
	}
	e := Enrol{Course: fields[3], Column: "course"}
	switch strings.ToLower(fields[0]) {
	case "add":
	case "del":
		e.Remove = true
	default:
		row.addErr("action", "add_or_del", errs.P{"value": fields[0]})
	}
	role := strings.ToLower(fields[1])
	e.RoleName = role
	if r, ok := moodleCourseRoles[role]; ok {
		role = r
	}
	e.Role = role
	if role == "" {
		row.addErr("role", "required")
	}
	row.Login = fields[2]
	if row.Login == "" {
		row.addErr("user", "required")
	}
	if e.Course == "" {
		row.addErr("course", "required")
	}
	for i, name := range []string{"starts_at", "ends_at"} {
		if v := atField(fields, 4+i); v != "" && v != "0" {
			t, err := parseTime(v)
			if err != nil {
				row.addErr(name, "not_a_date_or_unix", errs.P{"value": v})
				continue
			}
			if i == 0 {
				e.StartsAt = &t
			} else {
				e.EndsAt = &t
			}
		}
	}
	if e.StartsAt != nil && e.EndsAt != nil && !e.EndsAt.After(*e.StartsAt) {
		row.addErr("ends_at", "end_before_start")
	}
	row.Enrols = []Enrol{e}
	return row
}

func atField(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

// groups reads Moodle's "Upload cohorts" file.
type groups struct {
	t   *table
	col map[string]int
}

var groupColumns = map[string]bool{"name": true, "idnumber": true, "description": true, "category": true,
	"category_id": true, "category_idnumber": true, "category_path": true, "context": true, "visible": true,
	"theme": true, "descriptionformat": true, "component": true}

func newGroups(r io.Reader) (*groups, error) {
	t, _, err := newTable(r, 0)
	if err != nil {
		return nil, err
	}
	head, err := t.next()
	if err == io.EOF {
		return nil, errEmpty
	}
	if err != nil {
		return nil, err
	}
	g := &groups{t: t, col: map[string]int{}}
	var fe errs.Fields
	for i, h := range head.fields {
		name := strings.ToLower(h)
		if !groupColumns[name] {
			fe = append(fe, errs.FieldError{Field: h, Line: head.line, Message: "unknown column " + strconv.Quote(h)})
			continue
		}
		g.col[name] = i
	}
	if _, ok := g.col["name"]; !ok {
		fe = append(fe, errs.FieldError{Field: "name", Line: head.line, Message: "the file needs a name column"})
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return g, nil
}

func (p *groups) get(rec *record, name string) string {
	i, ok := p.col[name]
	if !ok {
		return ""
	}
	return at(rec, i)
}

func (p *groups) Next() (*Row, error) {
	rec, err := p.t.next()
	if err != nil {
		return nil, err
	}
	row := &Row{Line: rec.line}
	g := &GroupFields{Name: p.get(rec, "name"), IDNumber: p.get(rec, "idnumber"), Description: p.get(rec, "description")}
	for _, c := range []string{"category", "category_idnumber", "category_path", "category_id", "context"} {
		if v := p.get(rec, c); v != "" {
			g.Parent = v
			break
		}
	}
	if g.Parent == "1" || strings.EqualFold(g.Parent, "system") {
		g.Parent = "" // Moodle's system context: the top of the tree
	}
	if g.Name == "" {
		row.addErr("name", "required")
	}
	if v := p.get(rec, "visible"); v != "" {
		b, ok := flag(v)
		if !ok {
			row.addErr("visible", "yes_or_no")
		}
		g.Private = !b
	}
	if v := p.get(rec, "theme"); v != "" {
		row.note("theme", "import_column_ignored")
	}
	row.Group = g
	return row, nil
}
