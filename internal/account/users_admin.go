package account

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/mail"
	"roster/internal/store"
)

// The administration of accounts: list, look at, change, suspend, reactivate and delete
// them. Permissions are authz.CanOnUser's: platform administrators everywhere, scoped
// administrators for the people who belong to their groups (authz.UserActions).

// UserFilter selects accounts for ListUsers. Deleted accounts are never listed.
type UserFilter struct {
	// Q matches usernames, email addresses, names and external ids, case-insensitively; each
	// word must match one of them ("ada love" finds Ada Lovelace).
	Q       string
	Status  string // "", StatusActive or StatusSuspended
	GroupID int64  // members of this group (any role, any source)
	Limit   int    // 1..500, default 50
	Cursor  string // from the previous page
}

// ListUsers returns a page of the accounts the caller may see, by last name, first name and
// id, and the cursor of the next page ("" at the end).
//
// Errors: Unauthorized, Forbidden (the group is not the caller's), Invalid naming "status",
// "limit" or "cursor".
func (s *Service) ListUsers(ctx context.Context, f UserFilter) (users []*User, next string, err error) {
	all, roots, err := authz.UserScope(ctx, s.db, authz.ViewUser)
	if err != nil {
		return nil, "", err
	}
	if !all && len(roots) == 0 {
		return nil, "", errs.Coded(errs.Forbidden, "forbidden_accounts")
	}
	if f.GroupID != 0 {
		if err := authz.CanInGroup(ctx, s.db, authz.ManageGroup, f.GroupID); err != nil {
			return nil, "", err
		}
	}
	var fe errs.Fields
	if f.Status != "" && f.Status != StatusActive && f.Status != StatusSuspended {
		fe.AddCode("status", "bad_user_status")
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 500 {
		fe.AddCode("limit", "limit_range", errs.P{"max": 500})
	}
	cur, cerr := decodeUserCursor(f.Cursor)
	if cerr != nil {
		fe.AddCode("cursor", "bad_cursor")
	}
	if err := fe.Err(); err != nil {
		return nil, "", err
	}

	var (
		where = []string{"u.deleted_at IS NULL"}
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	// Case-insensitive substring search. SQLite's LIKE ignores (ASCII) case by itself; on
	// PostgreSQL lower(x) LIKE is several times faster than ILIKE. username and email_norm
	// are stored in lower case.
	fold := func(col string) string { return col }
	if s.db.Dialect == store.Postgres {
		fold = func(col string) string { return "lower(" + col + ")" }
	}
	for _, word := range strings.Fields(f.Q) {
		p := arg("%" + escapeLike(strings.ToLower(word)) + "%")
		var ors []string
		for _, col := range []string{"u.username", "u.email_norm", fold("u.first_name"), fold("u.last_name"), fold("u.idnumber")} {
			ors = append(ors, col+" LIKE "+p+` ESCAPE '\'`)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if f.Status != "" {
		where = append(where, "u.status = "+arg(f.Status))
	}
	if f.GroupID != 0 {
		where = append(where, "EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = u.id AND m.group_id = "+arg(f.GroupID)+")")
	}
	if !all {
		sight, err := authz.UserScopeSQL(ctx, s.db, authz.ManageGroup, "u.id", arg)
		if err != nil {
			return nil, "", err
		}
		where = append(where, sight)
	}
	if cur != nil {
		where = append(where, "(u.last_name, u.first_name, u.id) > ("+arg(cur.Last)+", "+arg(cur.First)+", "+arg(cur.ID)+")")
	}
	// Without a search, walking the name index gives the first page at once. With one, most
	// rows fail the search, and scanning the table then sorting the matches is faster than
	// walking the index and fetching every row: "|| ''" keeps the planners off the index.
	order := "u.last_name"
	if f.Q != "" {
		order = "u.last_name || ''"
	}
	query := strings.Replace(selectUser, " FROM users", " FROM users u", 1) + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + order + ", u.first_name, u.id LIMIT " + arg(f.Limit+1)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", wrap(err, "list users")
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, "", err
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err, "list users")
	}
	if len(users) > f.Limit {
		users = users[:f.Limit]
		last := users[len(users)-1]
		next = encodeUserCursor(userCursor{Last: last.LastName, First: last.FirstName, ID: last.ID})
	}
	return users, next, nil
}

type userCursor struct {
	Last  string `json:"l"`
	First string `json:"f"`
	ID    int64  `json:"i"`
}

func encodeUserCursor(c userCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeUserCursor(s string) (*userCursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	var c userCursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// escapeLike escapes the LIKE wildcards of s for ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// GetUser returns an account for its administrative page.
// Errors: Unauthorized/Forbidden, NotFound (deleted accounts included).
func (s *Service) GetUser(ctx context.Context, id int64) (*User, error) {
	if err := authz.CanViewUser(ctx, s.db, id); err != nil {
		return nil, err
	}
	return userByID(ctx, s.db, id)
}

// UserUpdate is a change to an account: nil fields stay as they are.
type UserUpdate struct {
	FirstName, LastName, Email, Username, Language, Status *string
	DeleteAt                                               *time.Time // a new automatic deletion date (in the future)
	ClearDeleteAt                                          bool       // remove the deletion date
	// CustomFields sets the values given and removes those given as "".
	CustomFields map[string]string
}

// UpdateUser changes an account in one transaction: checks every field (each bad one is named
// and nothing changes), then writes, and records "user.update", plus "user.email_change",
// "user.suspend" or "user.reactivate" where they apply. Changing the email of an active
// account tells both the old and the new address (template email_changed) and voids the
// password-reset and set-up links already sent. Suspending ends the account's sessions.
//
// Errors: Unauthorized/Forbidden, NotFound, Invalid (fields named), Conflict on "username"
// (taken) or "email" (taken, and SettingSharedEmail is off).
func (s *Service) UpdateUser(ctx context.Context, id int64, up UserUpdate) (*User, error) {
	var out *User
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanManageUser(ctx, tx, id); err != nil {
			return err
		}
		u, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		before := *u
		if err := applyUpdate(ctx, tx, u, up); err != nil {
			return err
		}
		if err := s.writeUpdate(ctx, tx, &before, u, up); err != nil {
			return err
		}
		out, err = userByID(ctx, tx, id)
		return err
	})
	return out, err
}

// CheckUserUpdate runs UpdateUser, writes included, and takes it all back: the caller's
// right, every field, and a new address another account has (the database's unique index
// decides, as for the real save). Pages call it before asking to confirm a change of address,
// so that what they confirm would save. It returns the account as it was. Errors as
// UpdateUser's.
func (s *Service) CheckUserUpdate(ctx context.Context, id int64, up UserUpdate) (*User, error) {
	var before *User
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanManageUser(ctx, tx, id); err != nil {
			return err
		}
		u, err := userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		b := *u
		before = &b
		if err := applyUpdate(ctx, tx, u, up); err != nil {
			return err
		}
		if err := s.writeUpdate(ctx, tx, &b, u, up); err != nil {
			return err
		}
		return errCheckOnly // roll back: nothing of the check stays
	})
	if errors.Is(err, errCheckOnly) {
		err = nil
	}
	return before, err
}

// errCheckOnly rolls back CheckUserUpdate's transaction.
var errCheckOnly = errors.New("account: check only")

// applyUpdate sets the changes on u and checks them all.
func applyUpdate(ctx context.Context, tx *store.Tx, u *User, up UserUpdate) error {
	var fe errs.Fields
	trim := func(p *string) string { return strings.TrimSpace(*p) }
	name := func(field string, p *string, to *string) {
		v, err := CheckName(field, *p)
		switch {
		case err != nil:
			fe = append(fe, errs.As(err).Fields...)
		case v == "":
			fe.AddCode(field, "required_max", errs.P{"limit": MaxNameLength})
		}
		*to = v
	}
	if up.FirstName != nil {
		name("first_name", up.FirstName, &u.FirstName)
	}
	if up.LastName != nil {
		name("last_name", up.LastName, &u.LastName)
	}
	if up.Email != nil {
		u.Email = trim(up.Email)
		if u.Email != "" {
			if code := mail.AccountEmailCode(u.Email); code != "" {
				// errkeys: email_no_dot invalid_email
				fe.AddCode("email", code)
			}
		}
	}
	if up.Username != nil {
		norm, err := NormalizeUsername(*up.Username)
		if err == nil {
			err = CheckUsernameLookalikes(ctx, tx, norm, u.ID)
		}
		if err != nil {
			fe = append(fe, errs.As(err).Fields...)
		}
		u.Username = norm
	}
	if up.Language != nil {
		if u.Language = strings.ToLower(trim(up.Language)); u.Language != "" && !i18n.Supported(u.Language) {
			fe.AddCode("language", "unknown_language")
		}
	}
	if up.Status != nil {
		u.Status = trim(up.Status)
		switch {
		case u.Status != StatusActive && u.Status != StatusSuspended:
			fe.AddCode("status", "bad_user_status")
		case u.Status == StatusSuspended && isSelf(ctx, u.ID):
			fe.AddCode("status", "own_suspend")
		}
	}
	switch {
	case up.ClearDeleteAt && up.DeleteAt != nil:
		fe.AddCode("delete_at", "delete_at_conflict")
	case up.ClearDeleteAt:
		u.DeleteAt = nil
	case up.DeleteAt != nil:
		if d := up.DeleteAt.UTC().Truncate(time.Second); !d.After(tx.Now) {
			fe.AddCode("delete_at", "delete_at_past")
		} else {
			u.DeleteAt = &d
		}
	}
	if len(up.CustomFields) > 0 {
		values := make(map[string]string, len(up.CustomFields))
		for k, v := range up.CustomFields {
			values[k] = v
		}
		err := ValidateCustomFields(ctx, tx, values, false)
		if err != nil && !errs.Is(err, errs.Invalid) {
			return err
		}
		if err != nil {
			fe = append(fe, errs.As(err).Fields...)
		}
		merged := make(map[string]string, len(u.CustomFields)+len(values))
		for k, v := range u.CustomFields {
			merged[k] = v
		}
		for k, v := range values {
			if v == "" {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		u.CustomFields = merged
	}
	return fe.Err()
}

// writeUpdate writes u (changed from before) and what the change causes.
func (s *Service) writeUpdate(ctx context.Context, tx *store.Tx, before, u *User, up UserUpdate) error {
	// A new address is checked by the database (users_email_unique, see CreateUsersTx); the
	// account's email_shared flag follows the setting as for a new account.
	shared := "email_shared"
	if !strings.EqualFold(before.Email, u.Email) {
		on, err := sharedForWrite(ctx, tx)
		if err != nil {
			return err
		}
		shared = strconv.FormatBool(on)
	}
	custom, err := json.Marshal(u.CustomFields)
	if err != nil {
		return wrap(err, "custom fields")
	}
	noticeReset := ""
	if !sameTime(before.DeleteAt, u.DeleteAt) {
		noticeReset = ", deletion_noticed_at = NULL" // a new date gets its own notice
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET first_name = $1, last_name = $2, email = $3, email_norm = $4,
		username = $5, language = $6, delete_at = $7, custom_fields = $8, updated_at = $9, email_shared = `+shared+noticeReset+`
		WHERE id = $10`,
		u.FirstName, u.LastName, u.Email, strings.ToLower(u.Email), u.Username, u.Language, store.NullUnix(u.DeleteAt),
		string(custom), tx.Now.Unix(), u.ID)
	if store.IsUnique(err) {
		return takenOnUpdate(err)
	}
	if err != nil {
		return wrap(err, "update user")
	}
	target := strconv.FormatInt(u.ID, 10)
	if changed := changedFields(before, u, up); len(changed) > 0 {
		if err := audit.Record(ctx, tx, audit.Event{Action: "user.update", TargetType: "user", TargetID: target,
			Details: map[string]any{"fields": changed}}); err != nil {
			return wrap(err, "audit")
		}
	}
	if before.Email != u.Email {
		if err := s.emailChanged(ctx, tx, before, u); err != nil {
			return err
		}
	}
	switch {
	case before.Status == StatusActive && u.Status == StatusSuspended:
		return s.SuspendTx(ctx, tx, u.ID)
	case before.Status == StatusSuspended && u.Status == StatusActive:
		return s.ReactivateTx(ctx, tx, u.ID)
	}
	return nil
}

// emailChanged records the change and, for an active account, tells both addresses.
func (s *Service) emailChanged(ctx context.Context, tx *store.Tx, before, u *User) error {
	if err := audit.Record(ctx, tx, audit.Event{Action: "user.email_change", TargetType: "user",
		TargetID: strconv.FormatInt(u.ID, 10), Details: map[string]any{"old": before.Email, "new": u.Email}}); err != nil {
		return wrap(err, "audit")
	}
	if err := revokeTokens(ctx, tx, u.ID, purposePasswordReset, purposeAccountSetup); err != nil {
		return err
	}
	if before.Status != StatusActive {
		return nil
	}
	for _, to := range []string{before.Email, u.Email} {
		if to == "" {
			continue
		}
		if err := enqueueEmailChanged(ctx, tx, u, to, before.Email); err != nil {
			return err
		}
	}
	return nil
}

// SuspendTx suspends an active account within tx: billing stops (deactivated_at), its
// sessions end, its API tokens are revoked for good, and "user.suspend" is recorded. It checks no permission: callers do (the
// administration here, and SCIM's active=false). Suspending a suspended account does nothing.
func (s *Service) SuspendTx(ctx context.Context, tx *store.Tx, id int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE users SET status = 'suspended', deactivated_at = COALESCE(deactivated_at, $1),
		updated_at = $1 WHERE id = $2 AND status = 'active' AND deleted_at IS NULL`, tx.Now.Unix(), id)
	if err != nil {
		return wrap(err, "suspend")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := s.EndAllSessions(ctx, tx, id, ""); err != nil {
		return err
	}
	// For good: reactivating the account does not bring its API tokens back.
	revoked, err := revokeUserTokens(ctx, tx, id)
	if err != nil {
		return err
	}
	return wrap(audit.Record(ctx, tx, audit.Event{Action: "user.suspend", TargetType: "user",
		TargetID: strconv.FormatInt(id, 10), Details: map[string]any{"tokens_revoked": revoked}}), "audit")
}

// ReactivateTx makes a suspended account active again within tx and records
// "user.reactivate". Billing restarts now: the period that ended at the suspension is kept
// in billing_periods, so the months it covered stay billed and the months in between stay
// free (a suspension and reactivation within one month leaves the account billed once for
// that month). Callers check permissions. Reactivating an active account does nothing.
func (s *Service) ReactivateTx(ctx context.Context, tx *store.Tx, id int64) error {
	var activated, deactivated sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT activated_at, deactivated_at FROM users
		WHERE id = $1 AND status = 'suspended' AND deleted_at IS NULL`, id).Scan(&activated, &deactivated)
	if store.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return wrap(err, "reactivate")
	}
	if activated.Valid && deactivated.Valid {
		if _, err := tx.ExecContext(ctx, `INSERT INTO billing_periods (user_id, started_at, ended_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, started_at) DO NOTHING`, id, activated.Int64, deactivated.Int64); err != nil {
			return wrap(err, "billing period")
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET status = 'active', activated_at = $1, deactivated_at = NULL,
		updated_at = $1 WHERE id = $2`, tx.Now.Unix(), id); err != nil {
		return wrap(err, "reactivate")
	}
	return wrap(audit.Record(ctx, tx, audit.Event{Action: "user.reactivate", TargetType: "user",
		TargetID: strconv.FormatInt(id, 10)}), "audit")
}

// DeleteUser deletes an account now (see Anonymize) and records "user.delete".
// Errors: Unauthorized/Forbidden, NotFound (already deleted included), Invalid when the
// caller deletes their own account.
func (s *Service) DeleteUser(ctx context.Context, id int64) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanManageUser(ctx, tx, id); err != nil {
			return err
		}
		if _, err := userByID(ctx, tx, id); err != nil {
			return err
		}
		if isSelf(ctx, id) {
			return errs.Coded(errs.Invalid, "own_delete")
		}
		return s.anonymize(ctx, tx, id, "admin")
	})
}

func isSelf(ctx context.Context, id int64) bool {
	p := authz.From(ctx)
	return p != nil && p.UserID == id
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func changedFields(before, u *User, up UserUpdate) []string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("first_name", before.FirstName != u.FirstName)
	add("last_name", before.LastName != u.LastName)
	add("email", before.Email != u.Email)
	add("username", before.Username != u.Username)
	add("language", before.Language != u.Language)
	add("status", before.Status != u.Status)
	add("delete_at", !sameTime(before.DeleteAt, u.DeleteAt))
	add("custom_fields", len(up.CustomFields) > 0)
	return out
}

// enqueueEmailChanged tells one address that the account's email changed from old. A removed
// address is shown as a dash (the template requires both).
func enqueueEmailChanged(ctx context.Context, tx *store.Tx, u *User, to, old string) error {
	dash := func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	}
	err := mail.Enqueue(ctx, tx, mail.Message{Template: "email_changed", To: to, ToName: u.Name(), UserID: u.ID,
		Language: u.Language, Data: map[string]any{"FirstName": u.FirstName, "OldEmail": dash(old), "NewEmail": dash(u.Email)}})
	return wrap(err, "email changed mail")
}
