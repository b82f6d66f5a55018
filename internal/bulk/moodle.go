package bulk

import (
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"roster/internal/errs"
	"roster/internal/i18n"
)

// Moodle's standard user fields that Roster accepts but has no use for: reported per row as
// ignored when they hold a value.
var moodleIgnored = map[string]bool{
	"city": true, "country": true, "theme": true, "timezone": true, "institution": true, "department": true,
	"phone1": true, "phone2": true, "address": true, "description": true, "middlename": true,
	"firstnamephonetic": true, "lastnamephonetic": true, "alternatename": true, "url": true, "icq": true,
	"skype": true, "aim": true, "yahoo": true, "msn": true, "mailformat": true, "maildisplay": true,
	"maildigest": true, "autosubscribe": true, "trackforums": true, "calendartype": true, "interests": true,
	"oldusername": true, "imagealt": true, "moodlenetprofile": true,
}

var moodleKnown = map[string]bool{
	"username": true, "email": true, "firstname": true, "lastname": true, "password": true, "auth": true,
	"idnumber": true, "lang": true, "suspended": true, "deleted": true, "emailstop": true,
}

var numbered = regexp.MustCompile(`^(course|role|group|type|enrolperiod|enrolstatus|enroltimestart|cohort|category|categoryrole|sysrole)([0-9]{1,3})$`)

// Moodle's role shortnames and numeric ids → Roster course roles.
var moodleCourseRoles = map[string]string{
	"student": "student", "5": "student",
	"editingteacher": "teacher", "3": "teacher", "teacher_editing": "teacher",
	"teacher": "non_editing_teacher", "4": "non_editing_teacher", "noneditingteacher": "non_editing_teacher",
	"guest": "guest", "6": "guest",
	"manager": "teacher", "1": "teacher",
}

// Moodle's category roles → Roster group roles.
var moodleGroupRoles = map[string]string{
	"manager": "group_admin", "coursecreator": "trainer",
	"learner": "learner", "trainer": "trainer", "group_admin": "group_admin", "user_admin": "user_admin",
}

type slot struct {
	course, role, group, period, status, start, cohort, category, categoryRole int
}

type moodle struct {
	t     *table
	names []string // lower-cased header
	col   map[string]int
	slots map[int]*slot
	nums  []int
}

func newMoodle(r io.Reader) (*moodle, error) {
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
	m := &moodle{t: t, col: map[string]int{}, slots: map[int]*slot{}}
	var fe errs.Fields
	for i, h := range head.fields {
		name := strings.ToLower(strings.TrimSpace(h))
		m.names = append(m.names, name)
		where := "column " + strconv.Itoa(i+1)
		if name == "" {
			fe = append(fe, errs.FieldError{Field: where, Line: head.line, Message: "the column has no name"})
			continue
		}
		if _, dup := m.col[name]; dup {
			fe = append(fe, errs.FieldError{Field: name, Line: head.line, Message: "the column appears twice"})
			continue
		}
		m.col[name] = i
		switch {
		case moodleKnown[name], moodleIgnored[name], strings.HasPrefix(name, "profile_field_") && len(name) > 14:
		case numbered.MatchString(name):
			g := numbered.FindStringSubmatch(name)
			n, _ := strconv.Atoi(g[2])
			s := m.slots[n]
			if s == nil {
				s = &slot{-1, -1, -1, -1, -1, -1, -1, -1, -1}
				m.slots[n] = s
				m.nums = append(m.nums, n)
			}
			switch g[1] {
			case "course":
				s.course = i
			case "role":
				s.role = i
			case "group":
				s.group = i
			case "enrolperiod":
				s.period = i
			case "enrolstatus":
				s.status = i
			case "enroltimestart":
				s.start = i
			case "cohort":
				s.cohort = i
			case "category":
				s.category = i
			case "categoryrole":
				s.categoryRole = i
			}
		default:
			fe = append(fe, errs.FieldError{Field: h, Line: head.line, Message: "unknown column " + strconv.Quote(h)})
		}
	}
	_, hasUser := m.col["username"]
	_, hasEmail := m.col["email"]
	if !hasUser && !hasEmail {
		fe = append(fe, errs.FieldError{Field: "username", Line: head.line, Message: "the file needs a username or an email column"})
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *moodle) get(rec *record, name string) (string, bool) {
	i, ok := m.col[name]
	if !ok {
		return "", false
	}
	if i >= len(rec.fields) {
		return "", true
	}
	return rec.fields[i], true
}

func at(rec *record, i int) string {
	if i < 0 || i >= len(rec.fields) {
		return ""
	}
	return rec.fields[i]
}

func (m *moodle) Next() (*Row, error) {
	rec, err := m.t.next()
	if err != nil {
		return nil, err
	}
	row := &Row{Line: rec.line, User: &UserFields{Set: map[string]bool{}}}
	if len(rec.fields) > len(m.names) {
		row.addErr("column "+strconv.Itoa(len(m.names)+1), "values_vs_header", errs.P{"count": len(rec.fields), "limit": len(m.names)})
	}
	u := row.User
	str := func(col string, dst *string) {
		if v, ok := m.get(rec, col); ok {
			*dst = v
			u.Set[col] = true
		}
	}
	str("username", &u.Username)
	str("email", &u.Email)
	str("firstname", &u.FirstName)
	str("lastname", &u.LastName)
	str("idnumber", &u.IDNumber)
	u.Username = strings.ToLower(u.Username)
	if v, ok := m.get(rec, "password"); ok && v != "" {
		if v == "changeme" {
			row.note("password", "import_changeme")
		} else {
			u.Password = v
		}
	}
	if v, ok := m.get(rec, "auth"); ok {
		u.Set["auth"] = true
		switch strings.ToLower(v) {
		case "", "manual", "email":
			u.Auth = "local"
		case "cas":
			u.Auth = "cas"
		case "oidc", "oauth2":
			u.Auth = "oidc"
		default:
			row.addErr("auth", "unknown_moodle_auth", errs.P{"value": v})
		}
	}
	if v, ok := m.get(rec, "lang"); ok && v != "" {
		u.Set["lang"] = true
		lang, _, _ := strings.Cut(strings.ToLower(v), "_")
		if !i18n.Supported(lang) {
			row.addErr("lang", "language_unavailable", errs.P{"value": v})
		}
		u.Language = lang
	}
	if v, ok := m.get(rec, "suspended"); ok {
		b, good := flag(v)
		if !good {
			row.addErr("suspended", "zero_or_one")
		}
		u.Suspended = b
		u.Set["suspended"] = true
	}
	if v, ok := m.get(rec, "deleted"); ok {
		if b, good := flag(v); !good {
			row.addErr("deleted", "zero_or_one")
		} else if b {
			row.addErr("deleted", "no_delete_from_file")
		}
	}
	if v, ok := m.get(rec, "emailstop"); ok {
		b, good := flag(v)
		if !good {
			row.addErr("emailstop", "zero_or_one")
		}
		u.NoEmail = b
	}
	for i, name := range m.names {
		v := at(rec, i)
		switch {
		case strings.HasPrefix(name, "profile_field_"):
			if u.Custom == nil {
				u.Custom = map[string]string{}
			}
			u.Custom[strings.TrimPrefix(name, "profile_field_")] = v
		case moodleIgnored[name] && v != "":
			row.note(name, "import_column_ignored")
		}
	}
	for _, n := range m.nums {
		m.slot(row, rec, n, m.slots[n])
	}
	return row, nil
}

func (m *moodle) slot(row *Row, rec *record, n int, s *slot) {
	num := strconv.Itoa(n)
	if c := at(rec, s.course); c != "" {
		e := Enrol{Course: c, Column: "course" + num, CourseGroup: at(rec, s.group)}
		if r := at(rec, s.role); r != "" {
			role, ok := moodleCourseRoles[strings.ToLower(r)]
			if !ok {
				role = strings.ToLower(r) // a custom Roster role; checked against the database
			}
			e.Role, e.RoleName = role, strings.ToLower(r)
		}
		if v := at(rec, s.status); v != "" {
			b, ok := flag(v)
			if !ok {
				row.addErr("enrolstatus"+num, "enrolstatus_value")
			}
			e.Suspended = b
		}
		if v := at(rec, s.start); v != "" {
			t, err := parseTime(v)
			if err != nil {
				row.addErr("enroltimestart"+num, "not_a_date", errs.P{"value": v})
			} else {
				e.StartsAt = &t
			}
		}
		if v := at(rec, s.period); v != "" {
			d, err := strconv.Atoi(v)
			if err != nil || d < 0 || d > 36500 {
				row.addErr("enrolperiod"+num, "whole_days")
			} else {
				e.Period = time.Duration(d) * 24 * time.Hour
			}
		}
		row.Enrols = append(row.Enrols, e)
	} else {
		for _, i := range []int{s.role, s.group, s.period, s.status, s.start} {
			if at(rec, i) != "" {
				row.addErr(m.names[i], "needs_course_column", errs.P{"column": "course" + num})
				break
			}
		}
	}
	if c := at(rec, s.cohort); c != "" {
		row.Groups = append(row.Groups, GroupRef{IDNumber: c, Role: "learner", Column: "cohort" + num})
	}
	cat, role := at(rec, s.category), at(rec, s.categoryRole)
	switch {
	case cat != "" && role != "":
		r, ok := moodleGroupRoles[strings.ToLower(role)]
		if !ok {
			row.addErr("categoryrole"+num, "unknown_category_role", errs.P{"value": role})
		} else {
			row.Groups = append(row.Groups, GroupRef{IDNumber: cat, Role: r, Column: "category" + num})
		}
	case cat != "":
		row.note("category"+num, "import_ignored_without", errs.P{"column": "categoryrole" + num})
	case role != "":
		row.note("categoryrole"+num, "import_ignored_without", errs.P{"column": "category" + num})
	}
}

func flag(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "", "0", "no", "false":
		return false, true
	case "1", "yes", "true":
		return true, true
	}
	return false, false
}

// parseTime reads a date as YYYY-MM-DD, an RFC 3339 time, DD/MM/YYYY or Unix seconds (UTC).
func parseTime(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02 15:04", "2006-01-02 15:04:05", "02/01/2006"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, errs.New(errs.Invalid, "not a date")
}
