package account

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/secure/precis"

	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/mail"
	"roster/internal/store"
)

// User is one person's account. Username and Email are both login identifiers; Email is also
// where mail goes.
type User struct {
	ID                                   int64
	Username, Email, FirstName, LastName string
	Language                             string // "", "en" or "fr"; "" follows the browser
	Status                               string // StatusActive or StatusSuspended
	Auth                                 string // AuthLocal, AuthCAS or AuthOIDC
	IDNumber                             string // external id from the student information system
	IsAdmin                              bool   // platform administrator
	CustomFields                         map[string]string
	CreatedAt                            time.Time
	ActivatedAt, LastLoginAt, DeleteAt   *time.Time
	// DeactivatedAt is when billing stopped (suspension or deletion); nil while active.
	DeactivatedAt *time.Time
	HasPassword   bool

	passwordHash string // never leaves the package
}

// Account statuses and authentication sources.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	AuthLocal       = "local"
	AuthCAS         = "cas"
	AuthOIDC        = "oidc"
)

// Name is the display name, "First Last".
func (u *User) Name() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// NewUser is what creating an account takes.
type NewUser struct {
	// Username defaults to the lower-cased email address: it is unique by nature, needs no
	// guessing loop, and is what people type anyway. Email is optional (people without an
	// address log in with their username, which is then required). Two accounts may share an
	// email only when the platform allows it (SettingSharedEmail) and at least one of them is
	// given another username.
	Username, Email, FirstName, LastName, Language string
	Password                                       string // optional; checked against the policy
	// PasswordHash is an already hashed password from an import (argon2id, bcrypt or
	// SHA-512 crypt); it is upgraded to argon2id at the first login. Exclusive with Password.
	PasswordHash string
	IsAdmin      bool
	Auth         string // default AuthLocal
	IDNumber     string
	CustomFields map[string]string
	DeleteAt     *time.Time // when the account is to be deleted, nil for never
}

// normalize trims the input and fills the defaults.
func (in *NewUser) normalize() {
	in.Email = strings.TrimSpace(in.Email)
	in.FirstName = strings.TrimSpace(in.FirstName)
	in.LastName = strings.TrimSpace(in.LastName)
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	if in.Username == "" {
		in.Username = strings.ToLower(in.Email)
	}
	in.Language = strings.ToLower(strings.TrimSpace(in.Language))
	if in.Auth = strings.TrimSpace(in.Auth); in.Auth == "" {
		in.Auth = AuthLocal
	}
}

// Validate trims the input and fills its defaults in place (idempotent), then checks every
// field and returns an errs.Invalid error listing each bad one, the password policy included.
func (in *NewUser) Validate() error {
	in.normalize()
	var f errs.Fields
	emailOK := in.Email == ""
	if in.Email != "" {
		if code := mail.AccountEmailCode(in.Email); code != "" {
			// errkeys: email_no_dot invalid_email
			f.AddCode("email", code)
		} else {
			emailOK = true
		}
	}
	for _, n := range []struct {
		field string
		v     *string
	}{{"first_name", &in.FirstName}, {"last_name", &in.LastName}} {
		v, err := CheckName(n.field, *n.v)
		switch {
		case err != nil:
			f = append(f, errs.As(err).Fields...)
		case v == "":
			f.AddCode(n.field, "required")
		}
		*n.v = v
	}
	defaulted := in.Username == strings.ToLower(in.Email) // a bad email is reported once, as email
	if in.Username == "" {
		f.AddCode("username", "username_required_no_email")
	} else if emailOK || !defaulted {
		if norm, err := NormalizeUsername(in.Username); err != nil {
			f = append(f, errs.As(err).Fields...)
		} else {
			in.Username = norm
		}
	}
	if in.Language != "" && !i18n.Supported(in.Language) {
		f.AddCode("language", "unknown_language")
	}
	switch in.Auth {
	case AuthLocal, AuthCAS, AuthOIDC:
	default:
		f.AddCode("auth", "bad_auth")
	}
	if (in.Password != "" || in.PasswordHash != "") && in.Auth != AuthLocal {
		f.AddCode("password", "sso_no_password")
	} else if in.Password != "" && in.PasswordHash != "" {
		f.AddCode("password", "password_or_hash")
	} else if in.Password != "" {
		if err := CheckPasswordPolicy(in.Password, in.Username, in.Email); err != nil {
			f = append(f, errs.As(err).Fields...)
		}
	} else if in.PasswordHash != "" && !knownHash(in.PasswordHash) {
		f.AddCode("password", "bad_hash")
	}
	return f.Err()
}

// CreateUser creates an active account within tx, activated now (billing starts), and records
// "user.create". It does not check permissions: its callers do (the command line, the
// first-administrator page, invitations, imports), and those that take custom fields from a
// person check them first with ValidateCustomFields (a just-in-time SSO account cannot fill
// in required fields, so requiring them is the caller's choice). The password, if any, is
// hashed here, so callers that hold a busy transaction should pass an already computed
// PasswordHash (see HashPassword).
//
// Errors: Invalid (fields named), Conflict on the field "username" when it is taken, and on
// the field "email" when another account has it and SettingSharedEmail is off.
func (s *Service) CreateUser(ctx context.Context, tx *store.Tx, in NewUser) (*User, error) {
	in.normalize()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := CheckUsernameLookalikes(ctx, tx, in.Username, 0); err != nil {
		return nil, err
	}
	hash := in.PasswordHash
	if in.Password != "" {
		var err error
		if hash, err = s.hasher.Hash(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	return s.insertUser(ctx, tx, in, hash)
}

// HashPassword checks password against the policy for this username and email and returns its
// argon2id hash, for NewUser.PasswordHash. It waits for a free hashing slot.
func (s *Service) HashPassword(ctx context.Context, password, username, email string) (string, error) {
	if err := CheckPasswordPolicy(password, username, email); err != nil {
		return "", err
	}
	return s.hasher.Hash(ctx, password)
}

func usernameTaken() error { return errs.FieldCode("username", "already_taken").Class(errs.Conflict) }

// emailTaken is the error of an address another live account has where the site requires
// unique addresses.
func emailTaken() error { return errs.FieldCode("email", "already_taken").Class(errs.Conflict) }

// UserByID returns the account with this id. Errors: NotFound (deleted accounts included).
func (s *Service) UserByID(ctx context.Context, id int64) (*User, error) {
	return userByID(ctx, s.db, id)
}

// UserByLogin finds the account a person means by login: a username, else an email address,
// case-insensitively. A username wins over another account's equal email. When several
// accounts share an email, the email matches none of them: we cannot know which one the
// person means, and picking one would check a password against (or mail a reset link for)
// an account they may not own; they log in with their username instead.
//
// Errors: NotFound.
func (s *Service) UserByLogin(ctx context.Context, q store.Querier, login string) (*User, error) {
	login = normLogin(login)
	if login == "" {
		return nil, errs.Coded(errs.NotFound, "no_account")
	}
	u, err := scanUser(q.QueryRowContext(ctx, selectUser+` WHERE username = $1 AND deleted_at IS NULL`, login))
	if !errs.Is(err, errs.NotFound) {
		return u, err
	}
	rows, err := q.QueryContext(ctx, selectUser+` WHERE email_norm = $1 AND deleted_at IS NULL LIMIT 2`, login)
	if err != nil {
		return nil, wrap(err, "user by email")
	}
	defer rows.Close()
	var found []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		found = append(found, u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "user by email")
	}
	if len(found) != 1 {
		return nil, errs.Coded(errs.NotFound, "no_account")
	}
	return found[0], nil
}

// HasUsers reports whether any account exists, which decides whether the first-administrator
// setup is open.
func (s *Service) HasUsers(ctx context.Context) (bool, error) { return hasUsers(ctx, s.db) }

func hasUsers(ctx context.Context, q store.Querier) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM users LIMIT 1`).Scan(&one)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, wrap(err, "has users")
	}
	return true, nil
}

// normLogin is the form logins are compared and throttled under.
// normLogin is a login as typed, in the form usernames and email_norm are stored: the
// username profile (NormalizeUsername) when it applies, else lower case.
func normLogin(login string) string {
	login = strings.TrimSpace(login)
	if norm, err := precis.UsernameCaseMapped.String(login); err == nil {
		return norm
	}
	return strings.ToLower(login)
}

// userColumns are what scanUser reads.
const userColumns = `id, username, email, first_name, last_name, language, status, auth, idnumber,
	is_admin, custom_fields, created_at, activated_at, last_login_at, delete_at, password_hash, deactivated_at`

const selectUser = `SELECT ` + userColumns + ` FROM users`

func userByID(ctx context.Context, q store.Querier, id int64) (*User, error) {
	return scanUser(q.QueryRowContext(ctx, selectUser+` WHERE id = $1 AND deleted_at IS NULL`, id))
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner) (*User, error) {
	var (
		u                              User
		custom                         string
		created                        int64
		activated, lastLogin, deleteAt sql.NullInt64
		deactivated                    sql.NullInt64
	)
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.Language, &u.Status, &u.Auth,
		&u.IDNumber, &u.IsAdmin, &custom, &created, &activated, &lastLogin, &deleteAt, &u.passwordHash, &deactivated)
	if store.IsNoRows(err) {
		return nil, errs.Coded(errs.NotFound, "no_account")
	}
	if err != nil {
		return nil, wrap(err, "scan user")
	}
	u.CustomFields = map[string]string{}
	if custom != "" {
		if err := json.Unmarshal([]byte(custom), &u.CustomFields); err != nil {
			return nil, wrap(err, "custom fields of user "+strconv.FormatInt(u.ID, 10))
		}
	}
	u.CreatedAt = store.Time(created)
	u.ActivatedAt, u.LastLoginAt, u.DeleteAt = store.NullTime(activated), store.NullTime(lastLogin), store.NullTime(deleteAt)
	u.DeactivatedAt = store.NullTime(deactivated)
	u.HasPassword = u.passwordHash != ""
	return &u, nil
}
