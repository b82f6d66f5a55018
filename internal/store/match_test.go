package store_test

import (
	"context"
	"strconv"
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestPatternAndPrefixRange: the same matches on both databases, wildcards in the searched
// string taken literally, case kept where asked.
func TestPatternAndPrefixRange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		values := []string{"Anne", "anne", "Annette", "Joanne", "50%_off", "50 off", "a*b", "ab", "[x]"}
		count := func(m store.Match, s string, caseSensitive bool) int {
			t.Helper()
			var args []any
			arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
			op, pattern, escape := db.Dialect.Pattern(m, s, caseSensitive)
			cond := "v " + op + " " + arg(pattern) + escape
			if m == store.Prefix {
				if r := db.Dialect.PrefixRange("v", s, arg); r != "" {
					cond = r + " AND " + cond
				}
			}
			q := `SELECT count(*) FROM (`
			for i, v := range values {
				if i > 0 {
					q += ` UNION ALL `
				}
				q += `SELECT CAST(` + arg(v) + ` AS TEXT) AS v`
			}
			var n int
			if err := db.QueryRowContext(ctx, q+`) t WHERE `+cond, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, tc := range []struct {
			m             store.Match
			s             string
			caseSensitive bool
			want          int
		}{
			{store.Prefix, "Ann", true, 2},
			{store.Prefix, "ann", true, 1},
			{store.Contains, "nne", true, 4},
			{store.Suffix, "nne", true, 3},
			{store.Contains, "%_", true, 1},
			{store.Contains, "%_", false, 1},
			{store.Prefix, "a*", true, 1},
			{store.Contains, "[x", true, 1},
			{store.Prefix, "", true, len(values)},
		} {
			if got := count(tc.m, tc.s, tc.caseSensitive); got != tc.want {
				t.Errorf("%v %q case-sensitive %v: %d rows, want %d", tc.m, tc.s, tc.caseSensitive, got, tc.want)
			}
		}
	})
}
