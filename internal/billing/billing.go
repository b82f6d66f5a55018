// Package billing counts the accounts a platform pays for in a month.
//
// An account is billable in a month (UTC) when it was active at some moment of it: activated
// before the month ends, and not deactivated (suspended or deleted) before or at its first
// instant. users.activated_at and users.deactivated_at hold each account's current (or last)
// period; the periods closed by a reactivation are kept in billing_periods. So an account
// suspended on 5 January and reactivated on 20 January counts once for January; one
// suspended from December to February counts for December and February, not January. Deleted
// accounts keep their dates and stay counted for the months they were active. An invitation
// never accepted is no account and is never counted. The accounts of an import still being
// applied are not counted: they count once it is applied, and an import that does not
// complete deletes them for good (account.PurgeImportTx).
package billing

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Report is the billing of one month.
type Report struct {
	Month    string // YYYY-MM
	Billable int
	Users    []User
}

// User is one billable account. Deleted accounts appear anonymised.
type User struct {
	ID                                   int64
	Username, Email, FirstName, LastName string
	Status                               string
	Deleted                              bool
	ActivatedAt                          time.Time
	DeactivatedAt                        *time.Time
}

// ParseMonth reads "YYYY-MM"; "" is the month of now.
// Errors: Invalid naming "month".
func ParseMonth(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		start, _ := account.MonthOf(now)
		return start, nil
	}
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, errs.Field("month", "must be a month, YYYY-MM, not %q", s)
	}
	return t, nil
}

// MonthReport lists the accounts billable in the month that starts at month (see ParseMonth),
// by id. Platform administrators only.
// Errors: Unauthorized/Forbidden.
func MonthReport(ctx context.Context, q store.Querier, month time.Time) (*Report, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	start, end := account.MonthOf(month)
	rows, err := q.QueryContext(ctx, `SELECT u.id, u.username, u.email, u.first_name, u.last_name, u.status,
		u.deleted_at IS NOT NULL, u.activated_at, u.deactivated_at
		FROM users u
		WHERE ((u.activated_at < $2 AND (u.deactivated_at IS NULL OR u.deactivated_at > $1))
		   OR EXISTS (SELECT 1 FROM billing_periods p WHERE p.user_id = u.id AND p.started_at < $2 AND p.ended_at > $1))
		  AND NOT EXISTS (SELECT 1 FROM import_batches b WHERE b.id = u.created_by_import AND b.status = 'applying')
		ORDER BY u.id`, start.Unix(), end.Unix())
	if err != nil {
		return nil, errs.Wrap(err, "billing")
	}
	defer rows.Close()
	r := &Report{Month: start.Format("2006-01"), Users: []User{}}
	for rows.Next() {
		var (
			u           User
			activated   sql.NullInt64
			deactivated sql.NullInt64
		)
		if err := rows.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.Status, &u.Deleted,
			&activated, &deactivated); err != nil {
			return nil, errs.Wrap(err, "billing")
		}
		u.ActivatedAt = store.Time(activated.Int64)
		u.DeactivatedAt = store.NullTime(deactivated)
		if u.Deleted {
			u.Username = ""
		}
		r.Users = append(r.Users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "billing")
	}
	r.Billable = len(r.Users)
	return r, nil
}
