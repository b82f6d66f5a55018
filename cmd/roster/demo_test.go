package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"roster/internal/store"
)

// TestDemo: `roster demo` fills an empty database (SQLite and PostgreSQL) with a platform to
// explore, prints the administrator's one-time set-up link, and refuses a database that is
// not empty.
func TestDemo(t *testing.T) {
	for name, env := range map[string]func(t *testing.T) map[string]string{
		"sqlite":   sqliteEnv,
		"postgres": postgresEnv,
	} {
		t.Run(name, func(t *testing.T) {
			env := env(t)
			env["ROSTER_BASE_URL"] = "https://roster.test"
			out, err := run(t, env, "", "demo")
			if err != nil {
				t.Fatalf("demo: %v\n%s", err, out)
			}
			if !strings.Contains(out, "demo platform ready: 56 accounts, 11 groups, 6 courses, 4 pending invitations, 1 import") ||
				!regexp.MustCompile(`(?m)^https://roster\.test/account/setup/[A-Za-z0-9_-]{20,}$`).MatchString(out) {
				t.Fatalf("output:\n%s", out)
			}
			ctx := context.Background()
			db, err := store.Open(ctx, env["ROSTER_DB"])
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			count := func(q string) int {
				t.Helper()
				var n int
				if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				return n
			}
			for q, want := range map[string]int{
				`SELECT count(*) FROM users WHERE is_admin`:                                            1,
				`SELECT count(*) FROM groups WHERE parent_id IS NULL`:                                  2,
				`SELECT count(*) FROM group_members WHERE role = 'learner' AND source_kind = 'manual'`: 50,
				`SELECT count(*) FROM invitations WHERE status = 'pending'`:                            4,
				`SELECT count(*) FROM import_batches WHERE status = 'applied'`:                         1,
				`SELECT count(*) FROM course_methods WHERE type IN ('group_sync', 'meta', 'self')`:     6,
				// INFO102 follows INFO101: Alan Turing stays a teacher, Marie Curie a non-editing teacher.
				`SELECT count(*) FROM course_enrolments e JOIN courses c ON c.id = e.course_id JOIN users u ON u.id = e.user_id
					JOIN course_methods m ON m.id = e.method_id WHERE c.shortname = 'INFO102' AND m.type = 'meta'
					AND ((u.username = 'alan.turing' AND e.role = 'teacher') OR (u.username = 'marie.curie' AND e.role = 'non_editing_teacher'))`: 2,
			} {
				if got := count(q); got != want {
					t.Errorf("%s: %d, want %d", q, got, want)
				}
			}
			if n := count(`SELECT count(*) FROM course_enrolments e JOIN courses c ON c.id = e.course_id WHERE c.shortname = 'INFO101' AND e.role = 'student'`); n < 10 {
				t.Errorf("INFO101 has %d students", n)
			}
			out, err = run(t, env, "", "demo")
			if err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Fatalf("a second demo: %v\n%s", err, out)
			}
		})
	}
}
