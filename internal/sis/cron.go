package sis

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultSchedule is a configured source's schedule when none is given: daily at 02:00 (UTC).
const DefaultSchedule = "0 2 * * *"

// Cron is a parsed 5-field cron expression: minute, hour, day of month, month, day of week
// (0 or 7 is Sunday). Each field is `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or
// a comma-separated list of these. As in Vixie cron, when both day fields are restricted a
// day matches either.
type Cron struct {
	min, hour, dom, month, dow uint64 // bit sets
	domStar, dowStar           bool
}

// ParseCron parses a 5-field cron expression. Errors name the field.
func ParseCron(expr string) (*Cron, error) {
	f := strings.Fields(expr)
	if len(f) != 5 {
		return nil, fmt.Errorf("a cron expression has 5 fields (minute hour day-of-month month day-of-week), not %d", len(f))
	}
	c := &Cron{domStar: f[2] == "*", dowStar: f[4] == "*"}
	var err error
	specs := []struct {
		name   string
		lo, hi int
		dst    *uint64
		in     string
	}{
		{"minute", 0, 59, &c.min, f[0]}, {"hour", 0, 23, &c.hour, f[1]}, {"day of month", 1, 31, &c.dom, f[2]},
		{"month", 1, 12, &c.month, f[3]}, {"day of week", 0, 7, &c.dow, f[4]},
	}
	for _, s := range specs {
		if *s.dst, err = cronField(s.in, s.lo, s.hi); err != nil {
			return nil, fmt.Errorf("cron %s %q: %v", s.name, s.in, err)
		}
	}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1
	}
	return c, nil
}

func cronField(s string, lo, hi int) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(s, ",") {
		rng, stepS, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("bad step %q", stepS)
			}
			step = n
		}
		a, b := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			as, bs, _ := strings.Cut(rng, "-")
			var err1, err2 error
			a, err1 = strconv.Atoi(as)
			b, err2 = strconv.Atoi(bs)
			if err1 != nil || err2 != nil {
				return 0, fmt.Errorf("bad range %q", rng)
			}
		default:
			n, err := strconv.Atoi(rng)
			if err != nil {
				return 0, fmt.Errorf("bad value %q", rng)
			}
			a, b = n, n
			if hasStep {
				b = hi
			}
		}
		if a < lo || b > hi || a > b {
			return 0, fmt.Errorf("%d-%d is outside %d-%d", a, b, lo, hi)
		}
		for v := a; v <= b; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

// Match reports whether the minute of t (in its location) matches.
func (c *Cron) Match(t time.Time) bool {
	if c.min&(1<<t.Minute()) == 0 || c.hour&(1<<t.Hour()) == 0 || c.month&(1<<int(t.Month())) == 0 {
		return false
	}
	dom, dow := c.dom&(1<<t.Day()) != 0, c.dow&(1<<int(t.Weekday())) != 0
	if c.domStar || c.dowStar {
		return dom && dow
	}
	return dom || dow
}

// MatchedBetween reports whether a minute in (after, upTo] matches: the scheduler looks back
// over the minutes since its last look, so a minute it missed (a restart, a slow run) still
// runs the source, once. It looks back at most a day.
func (c *Cron) MatchedBetween(after, upTo time.Time) bool {
	t := after.Truncate(time.Minute).Add(time.Minute)
	if upTo.Sub(t) > 24*time.Hour {
		t = upTo.Truncate(time.Minute).Add(-24 * time.Hour)
	}
	for ; !t.After(upTo); t = t.Add(time.Minute) {
		if c.Match(t) {
			return true
		}
	}
	return false
}
