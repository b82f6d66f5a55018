package sis

import (
	"archive/zip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"roster/internal/errs"
)

// OneRoster role names mapped to course roles (the others are reported as unknown roles).
var oneRosterRoles = map[string]string{
	"student":       "student",
	"teacher":       "teacher",
	"aide":          "non_editing_teacher",
	"proctor":       "non_editing_teacher",
	"administrator": "teacher",
}

// The files a bundle may carry, and the columns that tell the versions apart: 1.2 dropped the
// users' role column (roles.csv replaced it) and added userMasterIdentifier and
// primaryOrgSourcedId.
var oneRosterFiles = []string{"academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
	"demographics", "enrollments", "lineItems", "orgs", "resources", "results", "users", "roles", "userProfiles",
	"lineItemLearningObjectiveIds", "lineItemScoreScales", "resultLearningObjectiveIds", "resultScoreScales",
	"scoreScales", "userResources"}

// ReadOneRoster reads a OneRoster 1.1 or 1.2 CSV bundle, a folder or a .zip: manifest.csv says
// the version and, per file, bulk, delta or absent. Classes map to courses (by classCode, else
// title), users to accounts (by username, then email, then identifier), enrollments to
// enrolments, orgs (when orgs.csv is there) to groups (Source.Orgs, see OrgIDNumberPrefix).
// A bulk enrollments file is the whole truth; a delta one carries a status per row
// and its tobedeleted rows remove. Errors (nothing is applied): no manifest, a file the manifest
// lists that is absent, a bundle mixing versions, a file that is not CSV.
func ReadOneRoster(path string) (*Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sis: %w", err)
	}
	var fsys fs.FS
	if st.IsDir() {
		fsys = os.DirFS(path)
	} else {
		z, err := zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("sis: %s: not a folder or a zip: %w", path, err)
		}
		defer z.Close()
		fsys = z
	}
	return readOneRoster(fsys)
}

type orTable struct {
	file string
	cols map[string]int
	rows [][]string
	line []int
}

func (t *orTable) get(i int, col string) string {
	if c, ok := t.cols[col]; ok && c < len(t.rows[i]) {
		return strings.TrimSpace(t.rows[i][c])
	}
	return ""
}

func readTable(fsys fs.FS, name string) (*orTable, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	t := &orTable{file: name, cols: map[string]int{}}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("sis: %s: no header: the file is empty", name)
	}
	if err != nil {
		return nil, fmt.Errorf("sis: %s: %w", name, err)
	}
	for i, h := range header {
		t.cols[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sis: %s: %w", name, err) // csv.ParseError names line and column
		}
		line, _ := cr.FieldPos(0)
		t.rows = append(t.rows, rec)
		t.line = append(t.line, line)
	}
}

func readOneRoster(fsys fs.FS) (*Source, error) {
	man, err := readTable(fsys, "manifest.csv")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sis: oneroster: no manifest.csv")
	}
	if err != nil {
		return nil, err
	}
	props := map[string]string{}
	for i := range man.rows {
		props[man.get(i, "propertyName")] = man.get(i, "value")
	}
	version := props["oneroster.version"]
	if version != "1.1" && version != "1.2" {
		return nil, fmt.Errorf("sis: manifest.csv: oneroster.version %q: expected 1.1 or 1.2", version)
	}
	modes := map[string]string{}
	for _, f := range oneRosterFiles {
		mode := strings.ToLower(props["file."+f])
		if mode == "" {
			mode = "absent"
		}
		switch mode {
		case "absent":
		case "bulk", "delta":
			if _, err := fs.Stat(fsys, f+".csv"); err != nil {
				return nil, fmt.Errorf("sis: manifest.csv lists %s.csv as %s, but the bundle has no %s.csv", f, mode, f)
			}
		default:
			return nil, fmt.Errorf("sis: manifest.csv: file.%s %q: expected bulk, delta or absent", f, mode)
		}
		modes[f] = mode
	}
	if version == "1.1" && modes["roles"] != "absent" {
		return nil, fmt.Errorf("sis: the bundle mixes versions: manifest.csv says 1.1 but lists roles.csv (OneRoster 1.2)")
	}
	for _, need := range []string{"users", "classes", "enrollments"} {
		if modes[need] == "absent" {
			return nil, fmt.Errorf("sis: manifest.csv: %s.csv is absent; a sync needs users, classes and enrollments", need)
		}
	}
	tables := map[string]*orTable{}
	for _, f := range []string{"users", "classes", "enrollments"} {
		if tables[f], err = readTable(fsys, f+".csv"); err != nil {
			return nil, err
		}
	}
	users := tables["users"]
	_, hasRole := users.cols["role"]
	_, has12 := users.cols["userMasterIdentifier"]
	if version == "1.2" && hasRole && !has12 {
		return nil, fmt.Errorf("sis: the bundle mixes versions: manifest.csv says 1.2 but users.csv has the 1.1 role column")
	}
	if version == "1.1" && has12 {
		return nil, fmt.Errorf("sis: the bundle mixes versions: manifest.csv says 1.1 but users.csv has the 1.2 userMasterIdentifier column")
	}

	src := &Source{Delta: modes["enrollments"] == "delta"}
	if modes["orgs"] != "absent" {
		if src.Orgs, err = readOrgs(fsys, modes, users, src); err != nil {
			return nil, err
		}
	}
	type person struct {
		ids []string
		who *Person
	}
	people := map[string]person{}
	for i := range users.rows {
		var ids []string
		for _, c := range []string{"username", "email", "identifier"} {
			if v := users.get(i, c); v != "" {
				ids = append(ids, v)
			}
		}
		id := users.get(i, "sourcedId")
		if id == "" {
			src.Issues = append(src.Issues, newIssue(users.file, users.line[i], "sync_empty_columns", errs.P{"columns": "sourcedId"}))
			continue
		}
		people[id] = person{ids: ids, who: personOf(users.get(i, "username"), users.get(i, "email"), users.get(i, "givenName"),
			users.get(i, "familyName"), users.get(i, "identifier"))}
	}
	courseTitles := map[string]string{}
	if modes["courses"] != "absent" {
		cs, err := readTable(fsys, "courses.csv")
		if err != nil {
			return nil, err
		}
		for i := range cs.rows {
			courseTitles[cs.get(i, "sourcedId")] = cs.get(i, "title")
		}
	}
	classes := map[string]string{}
	src.Classes = map[string]ClassCourse{}
	ct := tables["classes"]
	for i := range ct.rows {
		code := ct.get(i, "classCode")
		if code == "" {
			code = ct.get(i, "title")
		}
		classes[ct.get(i, "sourcedId")] = code
		full := ct.get(i, "title")
		if t := courseTitles[ct.get(i, "courseSourcedId")]; t != "" && t != full {
			full = strings.TrimSpace(t + " " + full)
		}
		if full == "" {
			full = code
		}
		if k := strings.ToLower(code); code != "" && src.Classes[k].Shortname == "" {
			src.Classes[k] = ClassCourse{File: ct.file, Line: ct.line[i], Shortname: code, Fullname: full}
		}
	}
	et := tables["enrollments"]
	for i := range et.rows {
		line := et.line[i]
		bad := func(key string, p errs.P) { src.Issues = append(src.Issues, newIssue(et.file, line, key, p)) }
		status := strings.ToLower(et.get(i, "status"))
		deleted := status == "tobedeleted"
		if src.Delta && status != "active" && !deleted {
			bad("sync_bad_status", errs.P{"status": et.get(i, "status")})
			continue
		}
		if !src.Delta && deleted {
			continue // a bulk file is the whole truth: a deleted row is simply not listed
		}
		course, ok := classes[et.get(i, "classSourcedId")]
		if !ok {
			bad("sync_unknown_class", errs.P{"class": et.get(i, "classSourcedId")})
			continue
		}
		p, ok := people[et.get(i, "userSourcedId")]
		if !ok || len(p.ids) == 0 {
			bad("sync_unknown_oneroster_user", errs.P{"user": et.get(i, "userSourcedId")})
			continue
		}
		role := strings.ToLower(et.get(i, "role"))
		if r, ok := oneRosterRoles[role]; ok {
			role = r
		}
		row := Row{File: et.file, Line: line, Course: course, User: p.ids[0], UserAlt: p.ids[1:], Role: role, Deleted: deleted, Person: p.who}
		var err error
		if row.Starts, err = parseDate(et.get(i, "beginDate")); err != nil {
			bad("sync_bad_date", errs.P{"column": "beginDate", "detail": err.Error()})
			continue
		}
		if row.Ends, err = parseDate(et.get(i, "endDate")); err != nil {
			bad("sync_bad_date", errs.P{"column": "endDate", "detail": err.Error()})
			continue
		}
		if row.Ends != 0 {
			row.Ends += int64(24 * time.Hour / time.Second) // the end date is the last day
		}
		src.Rows = append(src.Rows, row)
	}
	return src, nil
}
