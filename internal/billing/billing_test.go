package billing

import (
	"context"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

var (
	bg    = context.Background()
	admin = authz.With(bg, authz.System)
)

func TestMonthReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := account.NewService(db, account.Config{})
		nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		dec := nov.AddDate(0, 1, 0)
		create := func(name string, at time.Time) *account.User {
			t.Helper()
			clock.T = at
			var u *account.User
			err := db.Tx(bg, func(tx *store.Tx) error {
				var err error
				u, err = s.CreateUser(bg, tx, account.NewUser{Username: name, FirstName: name, LastName: "X"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		status := func(u *account.User, st string, at time.Time) {
			t.Helper()
			clock.T = at
			if _, err := s.UpdateUser(admin, u.ID, account.UserUpdate{Status: &st}); err != nil {
				t.Fatal(err)
			}
		}
		create("last_second", dec.Add(-time.Second))
		create("next_month", dec)
		left := create("left_at_start", nov.AddDate(0, -2, 0))
		status(left, account.StatusSuspended, nov)
		stayed := create("left_after_start", nov.AddDate(0, -2, 0))
		status(stayed, account.StatusSuspended, nov.Add(time.Second))
		deleted := create("deleted", nov.AddDate(0, -1, 0))
		clock.T = nov.AddDate(0, 0, 14)
		if err := s.DeleteUser(admin, deleted.ID); err != nil {
			t.Fatal(err)
		}
		gap := create("gap", nov.AddDate(0, -3, 0)) // suspended all October
		status(gap, account.StatusSuspended, nov.AddDate(0, -2, 4))
		status(gap, account.StatusActive, nov.AddDate(0, 0, 19))
		within := create("within", nov.AddDate(0, -3, 0)) // suspended and back within November
		status(within, account.StatusSuspended, nov.AddDate(0, 0, 4))
		status(within, account.StatusActive, nov.AddDate(0, 0, 19))

		for month, want := range map[string]string{
			"2026-09": "left_at_start,left_after_start,gap,within",
			"2026-10": "left_at_start,left_after_start,deleted,within",
			"2026-11": "last_second,left_after_start,deleted,gap,within",
			"2026-12": "last_second,next_month,gap,within",
		} {
			m, err := ParseMonth(month, clock.T)
			if err != nil {
				t.Fatal(err)
			}
			r, err := MonthReport(admin, db, m)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range r.Users {
				name := u.FirstName
				if u.Deleted {
					name = "deleted"
					if u.Username != "" || u.Email != "" || u.FirstName != "" {
						t.Errorf("a deleted account shows %+v", u)
					}
				}
				got = append(got, name)
			}
			if strings.Join(got, ",") != want || r.Billable != len(got) || r.Month != month {
				t.Errorf("%s: got %d %v, want %s", month, r.Billable, got, want)
			}
		}

		_, err := ParseMonth("2026-13", clock.T)
		if e := errs.As(err); e.Code != errs.Invalid || e.Fields[0].Field != "month" {
			t.Errorf("bad month: %v", err)
		}
		if m, _ := ParseMonth("", nov.AddDate(0, 0, 10)); !m.Equal(nov) {
			t.Errorf("default month %s", m)
		}
		_, err = MonthReport(authz.With(bg, &authz.Principal{UserID: gap.ID}), db, nov)
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("non-admin: %v", err)
		}
	})
}
