package account

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// ProfileField is a custom profile field defined by platform administrators: its values are
// kept per user in User.CustomFields under Key, shown on forms and lists, and checked by
// ValidateCustomFields wherever accounts are created or changed.
type ProfileField struct {
	ID        int64
	Key       string   // the key in custom_fields: lower case letters, digits and _
	Label     string   // what forms show
	Kind      string   // FieldText, FieldChoice or FieldDate
	Options   []string // the allowed values of a choice
	Required  bool
	SortOrder int
}

// The kinds of profile fields.
const (
	FieldText   = "text"
	FieldChoice = "choice"
	FieldDate   = "date" // YYYY-MM-DD
)

// maxFieldValue bounds a text value; maxOptions bounds a choice.
const (
	maxFieldValue = 1000
	maxOptions    = 200
)

var fieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,49}$`)

// Validate trims the definition in place and checks it.
func (f *ProfileField) Validate() error {
	f.Key = strings.TrimSpace(f.Key)
	f.Label = strings.TrimSpace(f.Label)
	f.Kind = strings.TrimSpace(f.Kind)
	var opts []string
	for _, o := range f.Options {
		if o = strings.TrimSpace(o); o != "" && !slices.Contains(opts, o) {
			opts = append(opts, o)
		}
	}
	f.Options = opts
	var fe errs.Fields
	if !fieldKey.MatchString(f.Key) {
		fe.AddCode("key", "bad_field_key")
	}
	if f.Label == "" || utf8.RuneCountInString(f.Label) > 100 {
		fe.AddCode("label", "required_max", errs.P{"limit": 100})
	}
	switch f.Kind {
	case FieldText, FieldDate:
		if len(f.Options) > 0 {
			fe.AddCode("options", "options_only_choice")
		}
	case FieldChoice:
		if len(f.Options) == 0 || len(f.Options) > maxOptions {
			fe.AddCode("options", "choice_options", errs.P{"limit": maxOptions})
		}
	default:
		fe.AddCode("kind", "bad_field_kind")
	}
	return fe.Err()
}

// ProfileFields returns the definitions in display order. Anyone may read them: forms of
// every kind show them.
func ProfileFields(ctx context.Context, q store.Querier) ([]ProfileField, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, key, label, kind, options, required, sort_order
		FROM profile_fields ORDER BY sort_order, id`)
	if err != nil {
		return nil, wrap(err, "profile fields")
	}
	defer rows.Close()
	var out []ProfileField
	for rows.Next() {
		var (
			f    ProfileField
			opts string
		)
		if err := rows.Scan(&f.ID, &f.Key, &f.Label, &f.Kind, &opts, &f.Required, &f.SortOrder); err != nil {
			return nil, wrap(err, "profile fields")
		}
		if err := json.Unmarshal([]byte(opts), &f.Options); err != nil {
			return nil, wrap(err, "profile field options")
		}
		out = append(out, f)
	}
	return out, wrap(rows.Err(), "profile fields")
}

// ProfileFields returns the definitions in display order.
func (s *Service) ProfileFields(ctx context.Context) ([]ProfileField, error) {
	return ProfileFields(ctx, s.db)
}

// CreateProfileField adds a definition and records "profile_field.create". Platform
// administrators only. A new required field does not make existing accounts invalid: it is
// asked for when accounts are created, and whenever someone edits that field.
//
// Errors: Unauthorized/Forbidden, Invalid (fields named), Conflict on "key".
func (s *Service) CreateProfileField(ctx context.Context, f ProfileField) (*ProfileField, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		opts, _ := json.Marshal(nonNil(f.Options))
		err := tx.QueryRowContext(ctx, `INSERT INTO profile_fields (key, label, kind, options, required, sort_order, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
			f.Key, f.Label, f.Kind, string(opts), f.Required, f.SortOrder, tx.Now.Unix()).Scan(&f.ID)
		if store.IsUnique(err) {
			return errs.FieldCode("key", "already_used").Class(errs.Conflict)
		}
		if err != nil {
			return wrap(err, "insert profile field")
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: "profile_field.create", TargetType: "profile_field",
			TargetID: strconv.FormatInt(f.ID, 10), Details: map[string]any{"key": f.Key, "kind": f.Kind}}), "audit")
	})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// UpdateProfileField replaces a definition (its key included: values stored under the old
// key are then no longer shown) and records "profile_field.update". Platform administrators
// only. Errors: Unauthorized/Forbidden, NotFound, Invalid, Conflict on "key".
func (s *Service) UpdateProfileField(ctx context.Context, id int64, f ProfileField) (*ProfileField, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f.ID = id
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		opts, _ := json.Marshal(nonNil(f.Options))
		res, err := tx.ExecContext(ctx, `UPDATE profile_fields SET key = $1, label = $2, kind = $3, options = $4,
			required = $5, sort_order = $6, updated_at = $7 WHERE id = $8`,
			f.Key, f.Label, f.Kind, string(opts), f.Required, f.SortOrder, tx.Now.Unix(), id)
		if store.IsUnique(err) {
			return errs.FieldCode("key", "already_used").Class(errs.Conflict)
		}
		if err != nil {
			return wrap(err, "update profile field")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Coded(errs.NotFound, "no_profile_field")
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: "profile_field.update", TargetType: "profile_field",
			TargetID: strconv.FormatInt(id, 10), Details: map[string]any{"key": f.Key, "kind": f.Kind}}), "audit")
	})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// DeleteProfileField removes a definition and records "profile_field.delete". Values already
// stored under its key stay in the accounts, unseen, until a field with that key is defined
// again. Platform administrators only. Errors: Unauthorized/Forbidden, NotFound.
func (s *Service) DeleteProfileField(ctx context.Context, id int64) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var key string
		err := tx.QueryRowContext(ctx, `DELETE FROM profile_fields WHERE id = $1 RETURNING key`, id).Scan(&key)
		if store.IsNoRows(err) {
			return errs.Coded(errs.NotFound, "no_profile_field")
		}
		if err != nil {
			return wrap(err, "delete profile field")
		}
		return wrap(audit.Record(ctx, tx, audit.Event{Action: "profile_field.delete", TargetType: "profile_field",
			TargetID: strconv.FormatInt(id, 10), Details: map[string]any{"key": key}}), "audit")
	})
}

// ValidateCustomFields checks custom profile field values against the definitions, trimming
// them in place (and writing dates as YYYY-MM-DD). Every key must be a defined field; a text
// is at most 1000 characters on one line, a choice one of its options, a date YYYY-MM-DD. An
// empty value means "no value" and is refused for a required field. With requireAll (account
// creation, invitations), every required field must be present too; without it (a change),
// only the values given are checked.
//
// Errors: Invalid, naming each bad field as "custom_fields.KEY".
func ValidateCustomFields(ctx context.Context, q store.Querier, values map[string]string, requireAll bool) error {
	if len(values) == 0 && !requireAll {
		return nil
	}
	defs, err := ProfileFields(ctx, q)
	if err != nil {
		return err
	}
	byKey := map[string]ProfileField{}
	for _, d := range defs {
		byKey[d.Key] = d
	}
	var fe errs.Fields
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys) // one order for the messages
	for _, k := range keys {
		name := "custom_fields." + k
		d, ok := byKey[k]
		if !ok {
			fe.AddCode(name, "unknown_profile_field")
			continue
		}
		v := strings.TrimSpace(values[k])
		values[k] = v
		if v == "" {
			if d.Required {
				fe.AddCode(name, "required")
			}
			continue
		}
		switch d.Kind {
		case FieldText:
			if utf8.RuneCountInString(v) > maxFieldValue || strings.ContainsAny(v, "\r\n") {
				fe.AddCode(name, "one_line_max", errs.P{"limit": maxFieldValue})
			}
		case FieldChoice:
			if !slices.Contains(d.Options, v) {
				fe.AddCode(name, "one_of", errs.P{"options": strings.Join(d.Options, ", ")})
			}
		case FieldDate:
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				fe.AddCode(name, "bad_date")
			} else {
				values[k] = t.Format(time.DateOnly)
			}
		}
	}
	if requireAll {
		for _, d := range defs {
			if _, given := values[d.Key]; d.Required && !given {
				fe.AddCode("custom_fields."+d.Key, "required")
			}
		}
	}
	return fe.Err()
}

// conflict is a Conflict error about one field.

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
