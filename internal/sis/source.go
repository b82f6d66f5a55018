package sis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"roster/internal/errs"
)

// Row is one enrolment a source lists, as written in it: names, not ids.
type Row struct {
	File string
	Line int
	// Course is the course's shortname; User a username, an email or an idnumber (UserAlt
	// lists further identifiers of the same person, tried in order).
	Course  string
	User    string
	UserAlt []string
	Role    string
	Group   string // optional course group (created when missing)
	Starts  int64  // Unix seconds; 0: none
	Ends    int64
	Deleted bool // delta sources: the row says the enrolment is gone
	// Person is who the row names, when the source carries an email (OneRoster's users.csv,
	// the optional email, first_name and last_name columns): an unknown person may then get
	// an account, if the source may create them. nil otherwise.
	Person *Person
}

// Person is what a source says about someone, to create their account.
type Person struct {
	Username, Email, FirstName, LastName, IDNumber string
}

// personOf returns the person a row names, or nil without an email.
func personOf(user, email, first, last, idnumber string) *Person {
	if email == "" || !strings.Contains(email, "@") {
		return nil
	}
	p := &Person{Email: email, FirstName: first, LastName: last, IDNumber: idnumber}
	// The username stays what the source says, even when it equals the identifier (every row
	// of the public OneRoster samples): a CAS login john.doe must find the account john.doe.
	if user != "" && !strings.Contains(user, "@") {
		p.Username = user
	}
	return p
}

// Issue is a row the sync skipped, with where it is and why: Reason in English (the API,
// the command line's log), Code and Params for pages in the reader's language.
type Issue struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
	Code   string `json:"code,omitempty"`
	Params errs.P `json:"params,omitempty"`
}

// newIssue is an issue by key ("sync_unknown_course", {"course": "BIO1"}).
func newIssue(file string, line int, key string, p errs.P) Issue {
	return Issue{File: file, Line: line, Reason: errs.English(key, p), Code: key, Params: p}
}

// In is the reason in lang.
func (i Issue) In(lang string) string {
	if i.Code == "" {
		return i.Reason
	}
	return errs.Text(lang, i.Code, i.Params)
}

func (i Issue) String() string {
	if i.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", i.File, i.Line, i.Reason)
	}
	return i.File + ": " + i.Reason
}

// Source is what a reader produced: the rows, the rows it could not read, and whether it
// lists only changes (delta) or the whole truth.
type Source struct {
	Name   string
	Rows   []Row
	Issues []Issue
	Delta  bool
	// Orgs is what a OneRoster bundle with orgs.csv says of groups and their learners; nil
	// for other sources.
	Orgs *Orgs
	// Classes are the courses a OneRoster bundle's classes.csv describes (by lower-cased
	// shortname): what RunOptions.CreateCourses creates when no course has that shortname.
	Classes map[string]ClassCourse
}

// ClassCourse is a course a class would become: its shortname (classCode, else title) and
// full name (the class's title, after its course's title when courses.csv names it).
type ClassCourse struct {
	File      string
	Line      int
	Shortname string
	Fullname  string
}

// Directory is what the platform knows, to resolve names: courses by lower-cased shortname,
// roles, and people by username, email and idnumber. An id of -1 marks an ambiguous name
// (two people with that email or idnumber).
type Directory struct {
	Courses   map[string]int64
	Roles     map[string]bool
	Usernames map[string]int64
	Emails    map[string]int64
	IDNumbers map[string]int64
	RoleAlias map[string]string // optional: source role names mapped to course roles
	// MaxUserID and MaxCourseID are the highest ids LoadDirectory saw: a dry run gives the
	// accounts and courses it would create ids above them.
	MaxUserID, MaxCourseID int64
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{Courses: map[string]int64{}, Roles: map[string]bool{}, Usernames: map[string]int64{},
		Emails: map[string]int64{}, IDNumbers: map[string]int64{}}
}

// AddUser records a person's identifiers.
func (d *Directory) AddUser(id int64, username, email, idnumber string) {
	d.Usernames[strings.ToLower(username)] = id
	add := func(m map[string]int64, k string) {
		if k == "" {
			return
		}
		if old, ok := m[k]; ok && old != id {
			m[k] = -1
			return
		}
		m[k] = id
	}
	add(d.Emails, strings.ToLower(email))
	add(d.IDNumbers, idnumber)
}

// user finds a person by one identifier: 0 unknown, -1 ambiguous.
func (d *Directory) user(s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	l := strings.ToLower(s)
	if id, ok := d.Usernames[l]; ok {
		return id
	}
	if strings.Contains(s, "@") {
		if id, ok := d.Emails[l]; ok {
			return id
		}
	}
	return d.IDNumbers[s]
}

// ResolvedSorted is a source turned into keys, its enrolments in key order.
type ResolvedSorted struct {
	Want      []WantRow // by key, each key once
	Deleted   map[Key]bool
	Protected map[Key]bool
	Issues    []Issue
	Rows      int // rows read
}

// ResolveSorted turns a source's rows into keys: unknown courses, people and roles and
// duplicate rows become issues naming file and line. A skipped row whose course and person are
// known protects that enrolment from removal. The enrolments come out as a list in key order: the keys
// of the rows are sorted once (with their row number, so that the first row of a key is
// the one kept and later ones are its duplicates) rather than kept in maps.
func ResolveSorted(src *Source, dir *Directory) *ResolvedSorted {
	r := &ResolvedSorted{Deleted: map[Key]bool{}, Protected: map[Key]bool{}, Rows: len(src.Rows)}
	// A row that reaches the duplicate check: its key, its row and its role.
	type cand struct {
		key  Key
		row  int32
		role string
	}
	type rowIssue struct {
		row   int
		issue Issue
	}
	cands := make([]cand, 0, len(src.Rows))
	var issues []rowIssue
	// Rows repeat their course, role and person (files are often in the order of one of
	// them): the last one resolved of each is kept.
	var lastCourse, lastRole, lastRoleIn, lastUser string
	var lastCourseID, lastUserID int64
	haveCourse, haveRole, haveUser := false, false, false
	for i := range src.Rows {
		row := &src.Rows[i]
		skip := func(key string, p errs.P) {
			issues = append(issues, rowIssue{i, newIssue(row.File, row.Line, key, p)})
		}
		var course int64
		if haveCourse && row.Course == lastCourse {
			course = lastCourseID
		} else {
			id, ok := dir.Courses[strings.ToLower(strings.TrimSpace(row.Course))]
			if !ok {
				skip("sync_unknown_course", errs.P{"course": row.Course})
				continue
			}
			course, lastCourse, lastCourseID, haveCourse = id, row.Course, id, true
		}
		var user int64
		if haveUser && row.User == lastUser && len(row.UserAlt) == 0 {
			user = lastUserID
		} else {
			user = dir.user(row.User)
			for _, alt := range row.UserAlt {
				if user != 0 {
					break
				}
				user = dir.user(alt)
			}
			if len(row.UserAlt) == 0 {
				lastUser, lastUserID, haveUser = row.User, user, true
			}
		}
		switch user {
		case 0:
			skip("sync_unknown_user", errs.P{"user": row.User})
			continue
		case -1:
			skip("sync_ambiguous_user", errs.P{"user": row.User})
			continue
		}
		k := MakeKey(course, user)
		var role string
		if haveRole && row.Role == lastRoleIn {
			role = lastRole
		} else {
			role = strings.ToLower(strings.TrimSpace(row.Role))
			if a, ok := dir.RoleAlias[role]; ok {
				role = a
			} else if !dir.Roles[role] && dir.Roles[strings.TrimSpace(row.Role)] {
				role = strings.TrimSpace(row.Role) // a custom role spelt with capitals
			}
			lastRoleIn, lastRole, haveRole = row.Role, role, true
		}
		if !row.Deleted && !dir.Roles[role] {
			skip("sync_unknown_role", errs.P{"role": row.Role})
			r.Protected[k] = true
			continue
		}
		cands = append(cands, cand{k, int32(i), role})
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.row, b.row)
	})
	var dups []rowIssue
	wants := 0
	for i := 0; i < len(cands); {
		j := i + 1
		for j < len(cands) && cands[j].key == cands[i].key {
			j++
		}
		if !src.Rows[cands[i].row].Deleted {
			wants++
		}
		for _, d := range cands[i+1 : j] {
			row := &src.Rows[d.row]
			dups = append(dups, rowIssue{int(d.row), newIssue(row.File, row.Line, "sync_duplicate",
				errs.P{"line": src.Rows[cands[i].row].Line, "course": row.Course, "user": row.User})})
		}
		i = j
	}
	r.Want = make([]WantRow, 0, wants)
	for i := 0; i < len(cands); {
		c := cands[i]
		for i++; i < len(cands) && cands[i].key == c.key; i++ {
		}
		row := &src.Rows[c.row]
		if row.Deleted {
			r.Deleted[c.key] = true
			continue
		}
		r.Want = append(r.Want, WantRow{c.key, Want{Role: c.role, Starts: row.Starts, Ends: row.Ends, Group: row.Group}})
	}
	// The issues in the order of their rows, after the reader's.
	slices.SortFunc(dups, func(a, b rowIssue) int { return cmp.Compare(a.row, b.row) })
	if n := len(src.Issues) + len(issues) + len(dups); n > 0 {
		r.Issues = make([]Issue, 0, n)
	}
	r.Issues = append(r.Issues, src.Issues...)
	for len(issues) > 0 || len(dups) > 0 {
		if len(dups) == 0 || (len(issues) > 0 && issues[0].row < dups[0].row) {
			r.Issues = append(r.Issues, issues[0].issue)
			issues = issues[1:]
		} else {
			r.Issues = append(r.Issues, dups[0].issue)
			dups = dups[1:]
		}
	}
	return r
}
