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
		fe.Add("key", "must start with a letter and have at most 50 lower-case letters, digits or _")
	}
	if f.Label == "" || utf8.RuneCountInString(f.Label) > 100 {
		fe.Add("label", "is required, at most 100 characters")
	}
	switch f.Kind {
	case FieldText, FieldDate:
		if len(f.Options) > 0 {
			fe.Add("options", "only a choice has options")
		}
	case FieldChoice:
		if len(f.Options) == 0 || len(f.Options) > maxOptions {
			fe.Add("options", "a choice needs from 1 to %d options", maxOptions)
		}
	default:
		fe.Add("kind", "must be text, choice or date")
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
			return conflict("key", "is already used by another field")
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
			return conflict("key", "is already used by another field")
		}
		if err != nil {
			return wrap(err, "update profile field")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.NotFound, "no such profile field")
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
			return errs.New(errs.NotFound, "no such profile field")
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
			fe.Add(name, "is not a defined profile field")
			continue
		}
		v := strings.TrimSpace(values[k])
		values[k] = v
		if v == "" {
			if d.Required {
				fe.Add(name, "is required")
			}
			continue
		}
		switch d.Kind {
		case FieldText:
			if utf8.RuneCountInString(v) > maxFieldValue || strings.ContainsAny(v, "\r\n") {
				fe.Add(name, "must be one line of at most %d characters", maxFieldValue)
			}
		case FieldChoice:
			if !slices.Contains(d.Options, v) {
				fe.Add(name, "must be one of: %s", strings.Join(d.Options, ", "))
			}
		case FieldDate:
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				fe.Add(name, "must be a date, YYYY-MM-DD")
			} else {
				values[k] = t.Format(time.DateOnly)
			}
		}
	}
	if requireAll {
		for _, d := range defs {
			if _, given := values[d.Key]; d.Required && !given {
				fe.Add("custom_fields."+d.Key, "is required")
			}
		}
	}
	return fe.Err()
}

// conflict is a Conflict error about one field.
func conflict(field, msg string) error {
	return &errs.Error{Code: errs.Conflict, Message: field + ": " + msg,
		Fields: []errs.FieldError{{Field: field, Message: msg}}}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
