package sis

import (
	"context"
	"strings"
	"unicode/utf8"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/store"
)

// missingPeople lists, once each, the people that rows name with an email (Row.Person) but
// that match no account, in rows whose course is known: the accounts a run may create.
func missingPeople(src *Source, dir *Directory) []*Person {
	var out []*Person
	seen := map[string]bool{}
	for i := range src.Rows {
		row := &src.Rows[i]
		if row.Person == nil || row.Deleted {
			continue
		}
		if _, ok := dir.Courses[strings.ToLower(strings.TrimSpace(row.Course))]; !ok {
			continue
		}
		if dir.user(row.User) != 0 {
			continue
		}
		known := false
		for _, alt := range row.UserAlt {
			if dir.user(alt) != 0 {
				known = true
				break
			}
		}
		email := strings.ToLower(row.Person.Email)
		if known || seen[email] || dir.Emails[email] != 0 {
			continue
		}
		if u := row.Person.Username; u != "" && dir.Usernames[strings.ToLower(u)] != 0 {
			continue
		}
		seen[email] = true
		out = append(out, row.Person)
	}
	return out
}

// createAccounts creates the accounts of people with account.Service.CreateUser, in
// transactions of a thousand, and adds them to dir.
func createAccounts(ctx context.Context, db *store.DB, opt RunOptions, people []*Person, dir *Directory) (int, error) {
	auth := opt.AccountAuth
	if auth == "" {
		auth = account.AuthCAS
	}
	created := 0
	for s := 0; s < len(people); s += 1000 {
		batch := people[s:min(s+1000, len(people))]
		var made []*account.User
		err := db.Tx(ctx, func(tx *store.Tx) error {
			made = made[:0]
			for _, p := range batch {
				u, err := opt.Accounts.CreateUser(ctx, tx, account.NewUser{Username: p.Username, Email: p.Email,
					FirstName: p.FirstName, LastName: p.LastName, IDNumber: p.IDNumber, Auth: auth})
				if err != nil {
					return errs.Wrap(err, "sis: create the account of "+p.Email)
				}
				made = append(made, u)
			}
			return nil
		})
		if err != nil {
			return created, err
		}
		for _, u := range made {
			dir.AddUser(u.ID, u.Username, strings.ToLower(u.Email), u.IDNumber)
		}
		created += len(made)
	}
	return created, nil
}

// standIn is what addStandIn put in a directory for a person to be created.
type standIn struct{ username, email, idnumber string }

// addStandIn makes a person the run would create known under a stand-in id, as the account
// will be once created (by username, email and idnumber).
func (d *Directory) addStandIn(id int64, p *Person) standIn {
	si := standIn{username: strings.ToLower(p.Username), email: strings.ToLower(p.Email), idnumber: p.IDNumber}
	if si.username != "" {
		d.Usernames[si.username] = id
	}
	if si.email != "" {
		if _, ok := d.Emails[si.email]; !ok {
			d.Emails[si.email] = id
		}
	}
	if si.idnumber != "" {
		if _, ok := d.IDNumbers[si.idnumber]; !ok {
			d.IDNumbers[si.idnumber] = id
		}
	}
	return si
}

// dropStandIn forgets a stand-in before the real account is added.
func (d *Directory) dropStandIn(si standIn) {
	if si.username != "" {
		delete(d.Usernames, si.username)
	}
	if id, ok := d.Emails[si.email]; ok && id > d.MaxUserID {
		delete(d.Emails, si.email)
	}
	if id, ok := d.IDNumbers[si.idnumber]; ok && id > d.MaxUserID {
		delete(d.IDNumbers, si.idnumber)
	}
}

// missingCourses lists, once each, the classes that rows enrol people into and that no
// course matches: the courses a run with CreateCourses makes.
func missingCourses(src *Source, dir *Directory) []ClassCourse {
	var out []ClassCourse
	seen := map[string]bool{}
	for i := range src.Rows {
		row := &src.Rows[i]
		if row.Deleted {
			continue
		}
		k := strings.ToLower(strings.TrimSpace(row.Course))
		if _, ok := dir.Courses[k]; ok || seen[k] {
			continue
		}
		c, ok := src.Classes[k]
		if !ok {
			continue
		}
		seen[k] = true
		if utf8.RuneCountInString(c.Fullname) > course.MaxFullnameLen {
			c.Fullname = string([]rune(c.Fullname)[:course.MaxFullnameLen])
		}
		if (&course.Course{Shortname: c.Shortname, Fullname: c.Fullname}).Validate() != nil {
			continue // a class code no course can have: its rows stay "unknown course"
		}
		out = append(out, c)
	}
	return out
}

// createCourses creates the courses of classes through course.Service.Create (visible, with
// their manual method), acting as the platform, and puts their ids in dir. A course made
// meanwhile under that shortname is used as it is.
func createCourses(ctx context.Context, db *store.DB, list []ClassCourse, dir *Directory) (int, error) {
	if len(list) == 0 {
		return 0, nil
	}
	svc := course.NewService(db, course.Config{})
	cctx := authz.With(ctx, authz.System)
	made := 0
	for _, c := range list {
		created, err := svc.Create(cctx, course.Course{Shortname: c.Shortname, Fullname: c.Fullname, Visible: true})
		if errs.Is(err, errs.Conflict) {
			var id int64
			if err := db.QueryRowContext(ctx, `SELECT id FROM courses WHERE lower(shortname) = lower($1)`, c.Shortname).Scan(&id); err != nil {
				return made, errs.Wrap(err, "sis: course "+c.Shortname)
			}
			dir.Courses[strings.ToLower(c.Shortname)] = id
			continue
		}
		if err != nil {
			return made, errs.Wrap(err, "sis: create the course of class "+c.Shortname)
		}
		dir.Courses[strings.ToLower(c.Shortname)] = created.ID
		made++
	}
	return made, nil
}
