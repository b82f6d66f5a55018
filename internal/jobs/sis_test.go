package jobs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"roster/internal/sis"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestSISTask: the sync task runs every minute and runs a source when its cron expression
// matched since its last look, by the injected clock.
func TestSISTask(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		path := filepath.Join(t.TempDir(), "e.csv")
		if err := os.WriteFile(path, []byte("course,user,role\nbio,ann,student\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		clock.T = time.Date(2026, 11, 23, 1, 59, 10, 0, time.UTC)
		for _, q := range []string{
			`INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ('bio', 'Biology', 0, 0)`,
			`INSERT INTO users (username, email, email_norm, created_at, updated_at) VALUES ('ann', '', '', 0, 0)`,
		} {
			if _, err := db.ExecContext(bg, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.ExecContext(bg, `INSERT INTO sis_sources (name, kind, location, enabled, last_checked_at, created_at, updated_at)
			VALUES ('nightly', 'csv', $1, true, $2, 0, 0)`, path, clock.T.Unix()); err != nil {
			t.Fatal(err)
		}
		r := New(db, nil, SISTasks(sis.NewService(db, nil), nil)...)
		runs := func() int {
			var n int
			if err := db.QueryRowContext(bg, `SELECT count(*) FROM sync_runs WHERE source = 'nightly' AND status = 'done'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		runDue(t, r, "sis.sync")
		if runs() != 0 {
			t.Fatal("ran before 02:00")
		}
		clock.Advance(30 * time.Second)
		runDue(t, r)
		clock.Advance(40 * time.Second) // 02:00:20
		runDue(t, r, "sis.sync")
		if runs() != 1 {
			t.Fatalf("runs %d at 02:00", runs())
		}
		clock.Advance(time.Minute)
		runDue(t, r, "sis.sync")
		if runs() != 1 {
			t.Fatal("ran twice")
		}
	})
}
