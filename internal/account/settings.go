package account

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Platform settings about accounts, stored in the settings table (key, value).

// SettingSharedEmail lets several accounts have the same email address ("true" or "false",
// off by default). Logins stay unique either way: usernames are unique, and an email shared
// by several accounts logs none of them in (see UserByLogin).
const SettingSharedEmail = "accounts.allow_shared_email"

// SharedEmailAllowed reports whether SettingSharedEmail is on.
func SharedEmailAllowed(ctx context.Context, q store.Querier) (bool, error) {
	v, err := setting(ctx, q, SettingSharedEmail)
	if err != nil {
		return false, err
	}
	on, _ := strconv.ParseBool(v)
	return on, nil
}

// SetSharedEmailAllowed turns SettingSharedEmail on or off and records "settings.change".
// Platform administrators only. Turning it off leaves accounts that already share an address
// as they are; only new duplicates are refused, by the database (migration 0028).
//
// Errors: Unauthorized/Forbidden.
func (s *Service) SetSharedEmailAllowed(ctx context.Context, on bool) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := setSetting(ctx, tx, SettingSharedEmail, strconv.FormatBool(on)); err != nil {
			return err
		}
		// The unique index on addresses (users_email_unique) leaves out the accounts marked
		// email_shared: all of them while sharing is allowed; once it is not, those that
		// already share an address with an older live account.
		flag := `true`
		if !on {
			flag = `(deleted_at IS NULL AND email_norm <> '' AND EXISTS (SELECT 1 FROM users o
				WHERE o.email_norm = users.email_norm AND o.deleted_at IS NULL AND o.id < users.id))`
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_shared = `+flag); err != nil {
			return wrap(err, "shared email")
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: "settings.change", TargetType: "setting",
			TargetID: SettingSharedEmail, Details: map[string]any{"value": on}}), "audit")
	})
}

// SettingShowIdentity names, comma-separated, the identity fields a teacher's people search
// shows and searches besides the names (like Moodle's "show user identity"): any of
// IdentityFields; "none" for names only. Unset, it is DefaultShowIdentity.
const SettingShowIdentity = "users.show_identity"

// IdentityFields are the fields SettingShowIdentity may name.
var IdentityFields = []string{"email", "username", "idnumber"}

// DefaultShowIdentity: names and email. A teacher adding an outside person must tell two
// namesakes apart, and the address is what they already use to invite someone; usernames and
// student numbers are login and record identifiers the teacher does not need.
const DefaultShowIdentity = "email"

// ShowIdentity returns the identity fields SettingShowIdentity shows.
func ShowIdentity(ctx context.Context, q store.Querier) (map[string]bool, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, SettingShowIdentity).Scan(&v)
	if store.IsNoRows(err) {
		v = DefaultShowIdentity
	} else if err != nil {
		return nil, wrap(err, "setting "+SettingShowIdentity)
	}
	show := map[string]bool{}
	for _, f := range strings.Split(v, ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); slices.Contains(IdentityFields, f) {
			show[f] = true
		}
	}
	return show, nil
}

// SetShowIdentity sets SettingShowIdentity to fields (none: names only) and records
// "settings.change". Platform administrators only.
// Errors: Unauthorized/Forbidden, Invalid naming "show_identity".
func (s *Service) SetShowIdentity(ctx context.Context, fields []string) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, f := range fields {
		f = strings.ToLower(strings.TrimSpace(f))
		if f != "" && !slices.Contains(IdentityFields, f) {
			return errs.FieldCode("show_identity", "unknown_identity_field")
		}
		chosen[f] = true
	}
	var kept []string
	for _, f := range IdentityFields {
		if chosen[f] {
			kept = append(kept, f)
		}
	}
	value := strings.Join(kept, ",")
	if value == "" {
		value = "none"
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := setSetting(ctx, tx, SettingShowIdentity, value); err != nil {
			return err
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: "settings.change", TargetType: "setting",
			TargetID: SettingShowIdentity, Details: map[string]any{"value": value}}), "audit")
	})
}

func setting(ctx context.Context, q store.Querier, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if store.IsNoRows(err) {
		return "", nil
	}
	return v, wrap(err, "setting "+key)
}

func setSetting(ctx context.Context, tx *store.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return wrap(err, "set setting "+key)
}
