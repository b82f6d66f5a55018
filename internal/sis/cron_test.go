package sis

import (
	"testing"
	"time"
)

func TestCron(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-11-23 is a Monday.
	cases := []struct {
		expr string
		t    string
		want bool
	}{
		{"0 2 * * *", "2026-11-23 02:00", true},
		{"0 2 * * *", "2026-11-23 02:01", false},
		{"*/15 * * * *", "2026-11-23 10:45", true},
		{"*/15 * * * *", "2026-11-23 10:44", false},
		{"5,10-12 * * * *", "2026-11-23 10:11", true},
		{"5,10-12 * * * *", "2026-11-23 10:13", false},
		{"0 8-18/2 * * 1-5", "2026-11-23 10:00", true},
		{"0 8-18/2 * * 1-5", "2026-11-23 11:00", false},
		{"0 8 * * 6,7", "2026-11-23 08:00", false},
		{"0 8 * * 0", "2026-11-22 08:00", true},
		{"0 8 * * 7", "2026-11-22 08:00", true},
		{"0 0 1 * 1", "2026-11-23 00:00", true}, // either day field
		{"0 0 1 * 2", "2026-11-23 00:00", false},
		{"30 1 * 12 *", "2026-11-23 01:30", false},
		{"5/20 * * * *", "2026-11-23 01:45", true},
	}
	for _, c := range cases {
		cr, err := ParseCron(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got := cr.Match(at(c.t)); got != c.want {
			t.Errorf("%s at %s: %v", c.expr, c.t, got)
		}
	}
	for _, bad := range []string{"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "a * * * *", "5-1 * * * *"} {
		if _, err := ParseCron(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	cr, _ := ParseCron("0 2 * * *")
	if !cr.MatchedBetween(at("2026-11-23 01:59"), at("2026-11-23 02:03")) || cr.MatchedBetween(at("2026-11-23 02:00"), at("2026-11-23 02:05")) {
		t.Error("MatchedBetween")
	}
}
