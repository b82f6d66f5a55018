package scim_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// benchUsers is the size of the fixture of the list benchmarks.
const benchUsers = 100_000

// seed provisions n accounts under the rig's token with bulk SQL (INSERT ... SELECT over a
// recursive counter): what POST /Users would have written, without n requests.
func seed(tb testing.TB, r *rig, n int) {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	err := r.db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		counter := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ` + fmt.Sprint(n) + `) `
		for _, q := range []string{
			`INSERT INTO users (username, email, email_norm, first_name, last_name, auth, created_at, updated_at, activated_at) ` + counter +
				`SELECT 'bench.user' || CAST(i AS TEXT) || '@example.com', 'bench.user' || CAST(i AS TEXT) || '@example.com',
				'bench.user' || CAST(i AS TEXT) || '@example.com', 'Given' || CAST(i % 1000 AS TEXT),
				'Family' || CAST(i AS TEXT), 'oidc', $1, $1, $1 FROM n`,
			`INSERT INTO scim_users (user_id, scope_group_id, external_id, user_name, given_name, family_name, display_name, title,
				version, created_at, updated_at)
				SELECT id, $2, 'ext-' || CAST(id AS TEXT), username, lower(first_name), lower(last_name),
				lower(first_name || ' ' || last_name), CASE WHEN id % 10 = 0 THEN 'engineer' ELSE '' END, 1, $1, $1
				FROM users WHERE username LIKE 'bench.%'`,
			`INSERT INTO scim_user_docs (user_id, doc) SELECT id, '{"emails":[{"value":"' || email || '","type":"work","primary":true}],"name":{"givenName":"' || first_name ||
				'","familyName":"' || last_name || '"},"displayName":"' || first_name || ' ' || last_name || '"}'
				FROM users WHERE username LIKE 'bench.%'`,
			`INSERT INTO scim_user_values (user_id, attr, ord, type, value_norm, display, is_primary)
				SELECT id, 'emails', 0, 'work', email_norm, '', true FROM users WHERE username LIKE 'bench.%'`,
			`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
				SELECT $2, id, 'learner', 'scim', 0, $1 FROM users WHERE username LIKE 'bench.%'`,
		} {
			var args []any
			if strings.Contains(q, "$1") {
				args = append(args, now)
			}
			if strings.Contains(q, "$2") {
				args = append(args, r.scopeID)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("%.60s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := r.db.ExecContext(ctx, `ANALYZE`); err != nil { // fresh statistics, as a live database has
		tb.Fatal(err)
	}
	tb.Logf("seeded %d users in %v", n, time.Since(start).Round(time.Millisecond))
}

func eachDB(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) {
		db, _ := storetest.OpenSQLite(b)
		fn(b, db)
	})
	b.Run("postgres", func(b *testing.B) {
		db, _ := storetest.OpenPostgres(b)
		fn(b, db)
	})
}

// BenchmarkListFiltered: GET /Users with a filter over 100,000 accounts, through the handler
// (filter parsing, SQL, the page's resources and their groups, JSON). Target < 50 ms.
func BenchmarkListFiltered(b *testing.B) {
	filters := []struct{ name, filter string }{
		{"userName_eq", `userName eq "bench.user54321@example.com"`},
		{"externalId_eq", `externalId eq "ext-54321"`},
		{"emails_value_filter", `emails[type eq "work" and value eq "bench.user54321@example.com"]`},
		{"familyName_sw", `name.familyName sw "Family5432"`},
		{"displayName_co_and_title", `displayName co "n54" and title eq "Engineer"`},
		{"not_active_or", `not (active eq true) or userName eq "bench.user7@example.com"`},
	}
	eachDB(b, func(b *testing.B, db *store.DB) {
		r := newRig(b, db)
		seed(b, r, benchUsers)
		for _, f := range filters {
			path := "/scim/v2/Users?filter=" + strings.ReplaceAll(url.QueryEscape(f.filter), "+", "%20")
			if got := r.do("GET", path, nil); got.Status != 200 || got.total() == 0 {
				b.Fatalf("%s: %d total %d %.300s", f.filter, got.Status, got.total(), got.Raw)
			}
			b.Run(f.name, func(b *testing.B) {
				for b.Loop() {
					r.do("GET", path, nil)
				}
			})
		}
		b.Run("page_of_100_unfiltered", func(b *testing.B) {
			for b.Loop() {
				r.do("GET", "/scim/v2/Users?startIndex=50001&count=100", nil)
			}
		})
	})
}

// BenchmarkCreate1000: 1,000 sequential POST /Users. Target < 5 s per iteration.
func BenchmarkCreate1000(b *testing.B) {
	eachDB(b, func(b *testing.B, db *store.DB) {
		r := newRig(b, db)
		batch := 0
		for b.Loop() {
			batch++
			for i := range 1000 {
				got := r.do("POST", "/scim/v2/Users", userJSON(fmt.Sprintf("new%d.%d@contoso.com", batch, i), "New", "User"))
				if got.Status != 201 {
					b.Fatalf("%d: %s", got.Status, got.Raw)
				}
			}
		}
	})
}
