package invite

import (
	"context"
	"strconv"
	"time"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// LifetimeSetting is the key, in the settings table, of the number of days an invitation link
// works after it is sent. Absent or empty: invitations are valid until cancelled.
const LifetimeSetting = "invitation.lifetime_days"

// MaxLifetimeDays bounds the setting (a year).
const MaxLifetimeDays = 366

// Lifetime returns how long an invitation works after each sending; 0 means until cancelled.
func (s *Service) Lifetime(ctx context.Context) (time.Duration, error) {
	return lifetime(ctx, s.db)
}

func lifetime(ctx context.Context, q store.Querier) (time.Duration, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, LifetimeSetting).Scan(&v)
	if store.IsNoRows(err) || (err == nil && v == "") {
		return 0, nil
	}
	if err != nil {
		return 0, wrap(err, "lifetime setting")
	}
	days, err := strconv.Atoi(v)
	if err != nil || days <= 0 {
		return 0, nil // a bad value by hand in the database: the safe reading is "no expiry"
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// SetLifetime sets the lifetime of invitations in days; 0 removes it (valid until cancelled).
// It applies to invitations sent from now on, and to older ones when they are re-sent.
// Platform administrators only. Errors: Unauthorized, Forbidden, Invalid naming lifetime_days.
func (s *Service) SetLifetime(ctx context.Context, days int) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	if days < 0 || days > MaxLifetimeDays {
		return errs.FieldCode("lifetime_days", "lifetime_range", errs.P{"limit": MaxLifetimeDays})
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		value := ""
		if days > 0 {
			value = strconv.Itoa(days)
		}
		if err := account.SetSettingTx(ctx, tx, LifetimeSetting, value); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "setting.change", TargetType: "setting",
			TargetID: LifetimeSetting, Details: map[string]any{"value": days}})
	})
}

// expiry is when an invitation sent now stops working, or nil.
func expiry(ctx context.Context, tx *store.Tx) (*time.Time, error) {
	d, err := lifetime(ctx, tx)
	if err != nil || d == 0 {
		return nil, err
	}
	t := tx.Now.Add(d)
	return &t, nil
}
