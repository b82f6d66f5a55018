package account

import "time"

// MonthOf returns the first instant (UTC) of the month of t, and of the next month.
func MonthOf(t time.Time) (start, end time.Time) {
	t = t.UTC()
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// BillableAt says whether the account counts for billing in the month (UTC) of now: it was
// active at some moment of that month, that is, activated before the month ends and not
// deactivated (suspended or deleted) before or at its first instant. Billing before the
// current period (see ReactivateTx) lies in earlier months, so the current period alone
// decides the current month; the billing package answers for any month.
func (u *User) BillableAt(now time.Time) bool {
	start, end := MonthOf(now)
	return u.ActivatedAt != nil && u.ActivatedAt.Before(end) && (u.DeactivatedAt == nil || u.DeactivatedAt.After(start))
}
