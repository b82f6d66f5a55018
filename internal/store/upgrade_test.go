package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"roster/internal/store"
	"roster/internal/testenv"
)

// A database holding courses, enrolments and an import before migrations 0035 (participants
// summary) and 0037 (packed import rows) keeps them, on both databases: every existing course
// gets a summary state marked stale, so that its first list builds its summary, and the
// import's rows read as one line, one person.
func TestUpgradeAcrossSummaryAndPackedRows(t *testing.T) {
	dsns := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "old.db") },
		"postgres": func(t *testing.T) string { return testenv.PostgresURL(t) },
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := store.MigrateTo(db, ctx, 34); err != nil {
				t.Fatal(err)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			one := func(q string, dest ...any) {
				t.Helper()
				if err := db.QueryRowContext(ctx, q).Scan(dest...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec(`INSERT INTO users (id, username, email, email_norm, first_name, last_name, created_at, updated_at)
				VALUES (1, 'ada', 'ada@example.org', 'ada@example.org', 'Ada', 'Lovelace', 0, 0)`)
			exec(`INSERT INTO courses (id, shortname, fullname, created_at, updated_at) VALUES (7, 'HIST', 'Histoire', 0, 0)`)
			exec(`INSERT INTO course_methods (id, course_id, type, created_at, updated_at) VALUES (3, 7, 'manual', 0, 0)`)
			exec(`INSERT INTO course_enrolments (course_id, method_id, user_id, role, created_at, updated_at) VALUES (7, 3, 1, 'student', 0, 0)`)
			exec(`INSERT INTO import_batches (id, format, status, created_at) VALUES (5, 'moodle', 'applied', 0)`)
			exec(`INSERT INTO import_rows (batch_id, line, user_id, action) VALUES (5, 2, 1, 'create')`)

			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var stale bool
			var rows int
			one(`SELECT stale FROM course_participants_state WHERE course_id = 7`, &stale)
			one(`SELECT count(*) FROM course_participants`, &rows)
			if !stale || rows != 0 {
				t.Fatalf("after the upgrade: stale %v with %d summary rows, want a stale course and none", stale, rows)
			}
			var packed string
			var enrolments int
			one(`SELECT packed FROM import_rows WHERE batch_id = 5 AND line = 2`, &packed)
			one(`SELECT count(*) FROM course_enrolments WHERE course_id = 7`, &enrolments)
			if packed != "" || enrolments != 1 {
				t.Fatalf("after the upgrade: packed %q, %d enrolments", packed, enrolments)
			}
		})
	}
}
