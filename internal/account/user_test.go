package account

import (
	"slices"
	"testing"

	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestCreateUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		if has, err := s.HasUsers(bg); err != nil || has {
			t.Fatalf("empty database: has=%v err=%v", has, err)
		}
		u := mustCreate(t, s, NewUser{Email: " Alice.Martin@Example.ORG ", FirstName: "Alice", LastName: "Martin", Language: "FR",
			CustomFields: map[string]string{"faculty": "law"}})
		if u.Username != "alice.martin@example.org" || u.Email != "Alice.Martin@Example.ORG" || u.Language != "fr" ||
			u.Status != StatusActive || u.Auth != AuthLocal || !u.HasPassword || u.IsAdmin ||
			u.CustomFields["faculty"] != "law" || u.ActivatedAt == nil || !u.ActivatedAt.Equal(clock.T) || !u.CreatedAt.Equal(clock.T) {
			t.Fatalf("created %+v", u)
		}
		if h := storedHash(t, db, u.ID); h[:10] != "$argon2id$" {
			t.Fatalf("stored hash %q", h)
		}
		if has, _ := s.HasUsers(bg); !has {
			t.Fatal("HasUsers after create")
		}
		if n := auditCount(t, db, "user.create"); n != 1 {
			t.Fatalf("user.create events: %d", n)
		}
		got, err := s.UserByID(bg, u.ID)
		if err != nil || got.Username != u.Username {
			t.Fatalf("UserByID: %v %+v", err, got)
		}
		_, err = s.UserByID(bg, u.ID+100)
		wantCode(t, err, errs.NotFound)

		// The same username again (here: the same email as default username) is a conflict on "username".
		err = db.Tx(bg, func(tx *store.Tx) error {
			_, err := s.CreateUser(bg, tx, NewUser{Email: "alice.martin@example.org", FirstName: "A", LastName: "M"})
			return err
		})
		if e := errs.As(err); e.Code != errs.Conflict || len(e.Fields) != 1 || e.Fields[0].Field != "username" {
			t.Fatalf("duplicate username: %v", err)
		}
		// With another username, the same email is refused by default...
		err = db.Tx(bg, func(tx *store.Tx) error {
			_, err := s.CreateUser(bg, tx, NewUser{Username: "AMartin2", Email: "Alice.Martin@example.org", FirstName: "A", LastName: "M"})
			return err
		})
		if e := errs.As(err); e.Code != errs.Conflict || len(e.Fields) != 1 || e.Fields[0].Field != "email" {
			t.Fatalf("shared email, setting off: %v", err)
		}
		// ...and allowed when the platform setting says so.
		allowSharedEmail(t, s, true)
		mustCreate(t, s, NewUser{Username: "AMartin2", Email: "alice.martin@example.org"})
	})
}

func TestCreateUserValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		for _, c := range []struct {
			in     NewUser
			fields []string
		}{
			{NewUser{}, []string{"first_name", "last_name", "username"}},
			{NewUser{FirstName: "B", LastName: "C"}, []string{"username"}},
			{NewUser{Email: "Bob <bob@example.org>", FirstName: "B", LastName: "C"}, []string{"email"}},
			{NewUser{Email: "not an address", FirstName: "B", LastName: "C"}, []string{"email"}},
			{NewUser{Email: "b@example.org", FirstName: "B", LastName: "C", Username: "has space"}, []string{"username"}},
			{NewUser{Email: "b@example.org", FirstName: "B", LastName: "C", Language: "de"}, []string{"language"}},
			{NewUser{Email: "b@example.org", FirstName: "B", LastName: "C", Auth: "ldap"}, []string{"auth"}},
			{NewUser{Email: "b@example.org", FirstName: "B", LastName: "C", Password: "short"}, []string{"password"}},
			{NewUser{Email: "b@example.org", FirstName: "B", LastName: "C", Auth: AuthCAS, Password: goodPassword}, []string{"password"}},
			{NewUser{Email: "b@example.org", FirstName: "B", LastName: "C", PasswordHash: "md5:abc"}, []string{"password"}},
		} {
			err := db.Tx(bg, func(tx *store.Tx) error { _, err := s.CreateUser(bg, tx, c.in); return err })
			e := errs.As(err)
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if e.Code != errs.Invalid || len(got) != len(c.fields) {
				t.Errorf("%+v: want fields %v, got %v (%v)", c.in, c.fields, got, err)
				continue
			}
			for i := range got {
				if got[i] != c.fields[i] {
					t.Errorf("%+v: want fields %v, got %v", c.in, c.fields, got)
				}
			}
		}
		if has, _ := s.HasUsers(bg); has {
			t.Fatal("an invalid user was written")
		}
		// SSO accounts need no password; imported hashes are kept as they are.
		sso := mustCreate(t, s, NewUser{Email: "sso@example.org", Auth: AuthOIDC})
		if sso.HasPassword {
			t.Fatal("SSO account with a password")
		}
		imp := mustCreate(t, s, NewUser{Email: "imp@example.org", PasswordHash: "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"})
		if h := storedHash(t, db, imp.ID); h[:4] != "$2y$" {
			t.Fatalf("imported hash changed: %s", h)
		}
	})
}

func TestUserByLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		a := mustCreate(t, s, NewUser{Username: "amartin", Email: "Alice@Example.org"})
		for _, login := range []string{"amartin", " AMARTIN ", "alice@example.org", "ALICE@EXAMPLE.ORG"} {
			u, err := s.UserByLogin(bg, db, login)
			if err != nil || u.ID != a.ID {
				t.Fatalf("%q: %v %+v", login, err, u)
			}
		}
		_, err := s.UserByLogin(bg, db, "nobody")
		wantCode(t, err, errs.NotFound)

		// Two accounts sharing an email (allowed by the setting): the email finds neither;
		// usernames still work.
		allowSharedEmail(t, s, true)
		mustCreate(t, s, NewUser{Username: "bob1", Email: "shared@example.org"})
		mustCreate(t, s, NewUser{Username: "bob2", Email: "Shared@example.org"})
		_, err = s.UserByLogin(bg, db, "shared@example.org")
		wantCode(t, err, errs.NotFound)
		if u, err := s.UserByLogin(bg, db, "bob2"); err != nil || u.Username != "bob2" {
			t.Fatalf("bob2: %v", err)
		}
		// A username wins over another account's equal email.
		c := mustCreate(t, s, NewUser{Username: "alice@example.org", Email: "carol@example.org"})
		if u, _ := s.UserByLogin(bg, db, "alice@example.org"); u.ID != c.ID {
			t.Fatalf("username did not win: %+v", u)
		}
	})
}

// TestUserWithoutEmail: an account may have no email; it then needs a username, logs in with
// it, and several such accounts do not "share" the empty address.
func TestUserWithoutEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		a := mustCreate(t, s, NewUser{Username: " JDoe ", FirstName: "John", LastName: "Doe"})
		if a.Username != "jdoe" || a.Email != "" {
			t.Fatalf("created %+v", a)
		}
		mustCreate(t, s, NewUser{Username: "jdoe2", FirstName: "Jane", LastName: "Doe"})
		if u, err := s.Login(bg, "JDOE", goodPassword, ""); err != nil || u.ID != a.ID {
			t.Fatalf("login by username: %v", err)
		}
		_, err := s.UserByLogin(bg, db, "")
		wantCode(t, err, errs.NotFound)
	})
}

// An address the outbox would refuse is refused when the account is created, so that an
// import's preview and its apply (with or without the set-your-password email) agree.
func TestValidateRefusesUndeliverableAddress(t *testing.T) {
	in := NewUser{Email: "ada@acme", FirstName: "Ada", LastName: "Lovelace"}
	err := in.Validate()
	if err == nil || !slices.Contains(errs.As(err).Keys(), "email_no_dot") {
		t.Fatalf("Validate(ada@acme) = %v, want email_no_dot", err)
	}
}
