// Package site holds the site's own settings: its language (pages and emails for people who
// have none of their own) and its time zone (how dates and times are shown). They are chosen
// at first set-up and on the admin settings page; ROSTER_LANGUAGE and ROSTER_TIMEZONE, when
// set, are written over them at start (configuration wins). It owns the site_settings table.
package site

import (
	"context"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/store"
)

// Settings are the site's settings. Language is "" until someone chooses one: pages then
// follow the browser, emails go out in English.
type Settings struct {
	Language string
	TimeZone string // an IANA name; "" means UTC
}

// Lang is the language for someone who has none of their own.
func (s Settings) Lang() string { return i18n.Pick(s.Language) }

// Location is the site's time zone (UTC when unset or unknown).
func (s Settings) Location() *time.Location {
	if s.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Get reads the settings.
func Get(ctx context.Context, q store.Querier) (Settings, error) {
	var s Settings
	rows, err := q.QueryContext(ctx, `SELECT name, value FROM site_settings WHERE name IN ('language', 'timezone')`)
	if err != nil {
		return s, errs.Wrap(err, "site: read settings")
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return s, errs.Wrap(err, "site: read settings")
		}
		switch name {
		case "language":
			s.Language = value
		case "timezone":
			s.TimeZone = value
		}
	}
	return s, errs.Wrap(rows.Err(), "site: read settings")
}

// Language is the site's language as Roster speaks it ("en" when none is set).
func Language(ctx context.Context, q store.Querier) string {
	s, err := Get(ctx, q)
	if err != nil {
		return i18n.Languages[0]
	}
	return s.Lang()
}

// Check validates a language and a time zone; an empty value is left as it is.
func Check(lang, tz string) error {
	var f errs.Fields
	if lang != "" && !i18n.Supported(lang) {
		f.AddCode("language", "unknown_language")
	}
	if tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			f.AddCode("timezone", "unknown_timezone")
		}
	}
	return f.Err()
}

// Save sets the language and the time zone (a platform administrator's right); an empty value
// leaves that setting as it is.
func Save(ctx context.Context, db *store.DB, lang, tz string) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	if err := Check(lang, tz); err != nil {
		return err
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		before, err := Get(ctx, tx)
		if err != nil {
			return err
		}
		if err := SaveTx(ctx, tx, lang, tz); err != nil {
			return err
		}
		if before.Language == lang && before.TimeZone == tz {
			return nil
		}
		return errs.Wrap(audit.Record(ctx, tx, audit.Event{Action: "site.settings", TargetType: "site",
			Details: map[string]any{"language": lang, "timezone": tz}}), "audit")
	})
}

// SaveTx writes the settings within tx, without a permission check: for the first set-up,
// whose one-time link is the permission, and for the configuration at start.
func SaveTx(ctx context.Context, tx *store.Tx, lang, tz string) error {
	if err := Check(lang, tz); err != nil {
		return err
	}
	for name, value := range map[string]string{"language": lang, "timezone": tz} {
		if value == "" {
			continue
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO site_settings (name, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			name, value, tx.Now.Unix())
		if err != nil {
			return errs.Wrap(err, "site: save "+name)
		}
	}
	return nil
}

// Configure writes the configured language and time zone (ROSTER_LANGUAGE, ROSTER_TIMEZONE)
// over the stored ones at start; empty values change nothing.
func Configure(ctx context.Context, db *store.DB, lang, tz string) error {
	if lang == "" && tz == "" {
		return nil
	}
	return db.Tx(ctx, func(tx *store.Tx) error { return SaveTx(ctx, tx, lang, tz) })
}
