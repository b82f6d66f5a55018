package account

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"roster/internal/audit"
	"roster/internal/errs"
	"roster/internal/store"
)

// Free usernames and addresses are the database's to say: usernames have a unique index, and
// addresses one where the site requires unique addresses (users_email_unique, migration 0028,
// on the accounts not marked email_shared). Writers insert or update and read a conflict as
// "taken"; no lock and no check before, so two writers racing for one address leave one
// account with it on both databases.

// insertUsers is the statement of CreateUsersTx: a row taken by another (username, or address
// where it must be unique) is left out, and the rows written come back.
var insertUsers = store.Insert{Table: "users",
	Columns: []string{"username", "email", "email_norm", "first_name", "last_name", "language", "status", "auth",
		"password_hash", "is_admin", "idnumber", "custom_fields", "created_at", "updated_at", "activated_at",
		"created_by_import", "email_shared", "delete_at"},
	Types: []store.ColType{store.Text, store.Text, store.Text, store.Text, store.Text, store.Text, store.Text, store.Text,
		store.Text, store.Bool, store.Text, store.Text, store.Int, store.Int, store.Int, store.Int, store.Bool, store.Int},
	Tail: "ON CONFLICT DO NOTHING RETURNING " + userColumns}

// insertUsersFirst is insertUsers without ON CONFLICT, which PostgreSQL pays for on every row
// (a probe of each unique index before the insert, and a confirmation after it): about a
// quarter of the statement's time. Rows the check before the write found free rarely are
// taken meanwhile, so on PostgreSQL CreateUsersTx tries it first, within a savepoint, and
// writes with insertUsers only when a row was taken.
var insertUsersFirst = store.Insert{Table: insertUsers.Table, Columns: insertUsers.Columns, Types: insertUsers.Types,
	Tail: "RETURNING " + userColumns}

// CreateUsersTx creates accounts within tx, many rows a statement: the accounts of an import,
// and of CreateUser one at a time (the same code). Each NewUser must be normalised and
// checked (Validate, CheckUsernameLookalikes) by the caller, its password already hashed
// (PasswordHash; Password is ignored). importBatch, when not 0, marks them as the import's
// (see HoldForImportTx). It returns, for each element of list, the account or the reason it
// was not created: Conflict on "username" (taken), or on "email" (another live account has
// the address and the site requires unique addresses). The error is for the batch.
func (s *Service) CreateUsersTx(ctx context.Context, tx *store.Tx, list []NewUser, importBatch int64) ([]*User, []error, error) {
	users, failed := make([]*User, len(list)), make([]error, len(list))
	if len(list) == 0 {
		return users, failed, nil
	}
	shared, err := sharedForWrite(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	custom := make([]string, len(list))
	byName := make(map[string]int, len(list))
	for i, in := range list {
		custom[i] = "{}"
		if len(in.CustomFields) > 0 {
			b, err := json.Marshal(in.CustomFields)
			if err != nil {
				return nil, nil, wrap(err, "custom fields")
			}
			custom[i] = string(b)
		}
		if _, twice := byName[in.Username]; !twice {
			byName[in.Username] = i
		}
	}
	var batch any
	if importBatch != 0 {
		batch = importBatch
	}
	now := tx.Now.Unix()
	insert := func(ins store.Insert) error {
		return tx.InsertMany(ctx, ins, len(list), func(i int, v []any) {
			in := &list[i]
			v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] = in.Username, in.Email, strings.ToLower(in.Email), in.FirstName,
				in.LastName, in.Language, StatusActive, in.Auth
			v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17] = in.PasswordHash, in.IsAdmin, in.IDNumber, custom[i],
				now, now, now, batch, shared, store.NullUnix(in.DeleteAt)
		}, func(r store.Scanner) error {
			u, err := scanUser(r)
			if err != nil {
				return err
			}
			users[byName[u.Username]] = u
			return nil
		})
	}
	err = errTaken
	if tx.Dialect == store.Postgres && len(list) > 1 {
		err = tx.Attempt(ctx, func() error { return insert(insertUsersFirst) })
		if store.IsUnique(err) {
			clear(users)
			err = errTaken
		}
	}
	if err == errTaken {
		err = insert(insertUsers)
	}
	if err != nil {
		return nil, nil, wrap(err, "create users")
	}
	// The rows left out: a taken username is the first thing to say (the address could say
	// it otherwise when the username defaults to the address).
	var names []string
	for i, u := range users {
		if u == nil {
			names = append(names, list[i].Username)
		}
	}
	taken, err := existingUsernames(ctx, tx, names)
	if err != nil {
		return nil, nil, err
	}
	events := make([]audit.Event, 0, len(list))
	for i, u := range users {
		switch {
		case u == nil && taken[list[i].Username]:
			failed[i] = usernameTaken()
		case u == nil:
			failed[i] = emailTaken()
		default:
			events = append(events, audit.Event{Action: "user.create", TargetType: "user", TargetID: strconv.FormatInt(u.ID, 10),
				Details: map[string]any{"username": u.Username, "admin": list[i].IsAdmin, "auth": list[i].Auth}})
		}
	}
	return users, failed, wrap(audit.RecordMany(ctx, tx, events), "audit")
}

// errTaken says that insertUsersFirst was not tried, or met a row already taken.
var errTaken = errors.New("account: taken")

// insertUser creates one account (see CreateUsersTx).
func (s *Service) insertUser(ctx context.Context, tx *store.Tx, in NewUser, hash string) (*User, error) {
	in.PasswordHash = hash
	users, failed, err := s.CreateUsersTx(ctx, tx, []NewUser{in}, 0)
	if err != nil {
		return nil, err
	}
	return users[0], failed[0]
}

// sharedForWrite reads whether addresses may be shared, for an account written in tx: its
// email_shared flag. On PostgreSQL the setting's row is locked for share, so that turning
// sharing off (SetSharedEmailAllowed, which updates every flag) waits for this transaction
// and then sees its accounts.
func sharedForWrite(ctx context.Context, tx *store.Tx) (bool, error) {
	q := `SELECT value FROM settings WHERE key = $1`
	if tx.Dialect == store.Postgres {
		q += ` FOR SHARE`
	}
	var v string
	err := tx.QueryRowContext(ctx, q, SettingSharedEmail).Scan(&v)
	if err != nil && !store.IsNoRows(err) {
		return false, wrap(err, "shared email")
	}
	on, _ := strconv.ParseBool(v)
	return on, nil
}

// existingUsernames returns which of names are taken.
func existingUsernames(ctx context.Context, tx *store.Tx, names []string) (map[string]bool, error) {
	taken := map[string]bool{}
	for len(names) > 0 {
		n := min(len(names), tx.Dialect.InSize())
		in, args := tx.Dialect.In(1, names[:n])
		names = names[n:]
		rows, err := tx.QueryContext(ctx, `SELECT username FROM users WHERE username`+in, args...)
		if err != nil {
			return nil, wrap(err, "usernames taken")
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return nil, wrap(err, "usernames taken")
			}
			taken[name] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "usernames taken")
		}
	}
	return taken, nil
}

// takenOnUpdate turns the unique violation of an account's update into "taken" on the
// username or on the address.
func takenOnUpdate(err error) error {
	if store.UniqueOn(err, "users", "email_norm") {
		return emailTaken()
	}
	return usernameTaken()
}

// importColumns are the columns SetFieldsTx writes.
var importColumns = map[string]bool{"first_name": true, "last_name": true, "idnumber": true, "language": true, "auth": true,
	"email": true, "custom_fields": true, "username": true}

// SetFieldsTx writes columns of account id as an import (or the undo of one) gives them, by
// column name: first_name, last_name, idnumber, language, auth, email (its normalised form
// follows), custom_fields (JSON) and username, checked by the caller. No permission check and
// no audit event: the import records its rows. Errors: Conflict on "username" or "email"
// (taken; on PostgreSQL the transaction is then aborted), Internal for another column.
func (s *Service) SetFieldsTx(ctx context.Context, tx *store.Tx, id int64, fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	cols := make([]string, 0, len(fields))
	for col := range fields {
		if !importColumns[col] {
			return errs.New(errs.Internal, "account: column %q cannot be set", col)
		}
		cols = append(cols, col)
	}
	sort.Strings(cols)
	args := []any{id, tx.Now.Unix()}
	var sets []string
	for _, col := range cols {
		args = append(args, fields[col])
		sets = append(sets, col+" = $"+strconv.Itoa(len(args)))
		if col == "email" {
			shared, err := sharedForWrite(ctx, tx)
			if err != nil {
				return err
			}
			args = append(args, strings.ToLower(fields[col]), shared)
			sets = append(sets, "email_norm = $"+strconv.Itoa(len(args)-1), "email_shared = $"+strconv.Itoa(len(args)))
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+`, updated_at = $2 WHERE id = $1`, args...)
	if store.IsUnique(err) {
		return takenOnUpdate(err)
	}
	return wrap(err, "set fields")
}
