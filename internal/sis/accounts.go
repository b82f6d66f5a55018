package sis

import (
	"context"
	"strings"

	"roster/internal/account"
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
