package sis

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

var adminCtx = authz.With(context.Background(), &authz.Principal{UserID: 1, PlatformAdmin: true})

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sis.csv")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSourcesConfigured(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		seed(t, db, 2, 3)
		s := NewService(db, account.NewService(db, account.Config{BaseURL: "https://roster.test"}))
		user := authz.With(context.Background(), &authz.Principal{UserID: 2})
		if _, err := s.List(user); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("non-admin list: %v", err)
		}
		if _, err := s.Create(adminCtx, Config{Name: "x", Kind: "sql", Location: "postgres://a:b@h/db"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("sql without query: %v", err)
		}
		if _, err := s.Create(adminCtx, Config{Name: "x", Kind: "csv", Location: "/x", Schedule: "61 * * * *"}); err == nil ||
			!strings.Contains(err.Error(), "schedule") {
			t.Fatalf("bad schedule: %v", err)
		}
		c, err := s.Create(adminCtx, Config{Name: "db", Kind: "sql", Location: "postgres://sis:s3cret@sis.example/prod", Query: "SELECT 1", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(c.Location, "s3cret") || c.Schedule != DefaultSchedule || c.Action != ActionSuspend || c.Threshold != 10 || c.AccountAuth != "cas" {
			t.Fatalf("created %+v", c)
		}
		if _, err := s.Create(adminCtx, Config{Name: "db", Kind: "csv", Location: "/x"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("duplicate name: %v", err)
		}
		// Sending the masked URL back keeps the password.
		in := *c
		in.Query = "SELECT 2"
		if _, err := s.Update(adminCtx, "db", in); err != nil {
			t.Fatal(err)
		}
		stored, _ := s.load(context.Background(), db, "db")
		if stored.Location != "postgres://sis:s3cret@sis.example/prod" || stored.Query != "SELECT 2" {
			t.Fatalf("stored %+v", stored)
		}
		// A configured CSV source that creates accounts (email columns) for CAS.
		path := writeFile(t, "course,user,role,email,first_name,last_name\nc1,u1,student,,,\nc1,newbie,student,newbie@example.org,New,Bie\nc2,ghost,student,,,\n")
		if _, err := s.Create(adminCtx, Config{Name: "nightly", Kind: "csv", Location: path, CreateAccounts: true, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		rep, err := s.RunNow(adminCtx, "nightly", true)
		// The dry run counts newbie's enrolment: exactly what the real run does.
		if err != nil || rep.Created != 1 || rep.Added != 2 || rep.Skipped != 1 || count(t, db, `SELECT count(*) FROM users WHERE username = 'newbie'`) != 0 {
			t.Fatalf("dry run: %+v %v", rep, err)
		}
		rep, err = s.RunNow(adminCtx, "nightly", false)
		if err != nil || rep.Created != 1 || rep.Added != 2 || rep.Skipped != 1 || !strings.Contains(rep.Issues[0].Reason, "ghost") {
			t.Fatalf("run: %+v %v", rep, err)
		}
		if count(t, db, `SELECT count(*) FROM users WHERE username = 'newbie' AND auth = 'cas' AND first_name = 'New'`) != 1 {
			t.Fatal("newbie not created")
		}
		if rep, err = s.RunNow(adminCtx, "nightly", false); err != nil || rep.Created != 0 || rep.Added != 0 {
			t.Fatalf("rerun: %+v %v", rep, err)
		}
		// An unreadable source is recorded as failed.
		if _, err := s.Create(adminCtx, Config{Name: "gone", Kind: "csv", Location: "/nonexistent/x.csv"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RunNow(adminCtx, "gone", false); err == nil {
			t.Fatal("unreadable source ran")
		}
		list, err := s.List(adminCtx)
		if err != nil || len(list) != 3 || list[1].Name != "gone" || list[1].LastRun == nil || list[1].LastRun.Status != "failed" {
			t.Fatalf("list %+v %v", list, err)
		}
		if _, err := s.RunNow(adminCtx, "nope", false); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown: %v", err)
		}
		if err := s.Delete(adminCtx, "gone"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(adminCtx, "gone"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

// TestRunDue: the scheduler runs enabled sources whose cron expression matched since it last
// looked, once.
func TestRunDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		seed(t, db, 1, 2)
		s := NewService(db, nil)
		path := writeFile(t, "course,user,role\nc1,u1,student\n")
		clock.T = time.Date(2026, 11, 23, 1, 58, 30, 0, time.UTC)
		for _, c := range []Config{{Name: "night", Schedule: "0 2 * * *", Enabled: true}, {Name: "off", Schedule: "* * * * *"},
			{Name: "quarter", Schedule: "*/15 * * * *", Enabled: true}} {
			c.Kind, c.Location = "csv", path
			if _, err := s.Create(adminCtx, c); err != nil {
				t.Fatal(err)
			}
		}
		due := func(want ...string) {
			t.Helper()
			ran, err := s.RunDue(context.Background())
			if err != nil || strings.Join(ran, ",") != strings.Join(want, ",") {
				t.Fatalf("at %s ran %v (%v), want %v", clock.T.Format("15:04"), ran, err, want)
			}
		}
		due()
		clock.Advance(time.Minute) // 01:59:30
		due()
		clock.Advance(3 * time.Minute) // 02:02:30: 02:00 passed since the last look
		due("night", "quarter")
		due()
		clock.Advance(13 * time.Minute) // 02:15:30
		due("quarter")
		if n := count(t, db, `SELECT count(*) FROM sync_runs WHERE source = 'night'`); n != 1 {
			t.Fatalf("night ran %d times", n)
		}
	})
}

// TestSQLSource reads a query from an "external" PostgreSQL database: a table in a fresh
// schema of the test server.
func TestSQLSource(t *testing.T) {
	dsn := testenv.PostgresURL(t)
	ext, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	ctx := context.Background()
	if _, err := ext.ExecContext(ctx, `CREATE TABLE enrol (course_code text, login text, kind text, grp text, begins date, mail text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := ext.ExecContext(ctx, `INSERT INTO enrol VALUES ('c1', 'u1', 'student', 'A', '2026-09-01', NULL),
		('c1', 'u2', 'teacher', NULL, NULL, NULL), ('c1', '', 'student', NULL, NULL, NULL), ('c1', 'fresh', 'student', NULL, NULL, 'fresh@example.org')`); err != nil {
		t.Fatal(err)
	}
	src, err := ReadSQL(ctx, dsn, `SELECT course_code AS course, login AS "user", kind AS role, grp AS "group", begins AS starts, mail AS email FROM enrol ORDER BY login`)
	if err != nil {
		t.Fatal(err)
	}
	if len(src.Rows) != 3 || len(src.Issues) != 1 || !strings.Contains(src.Issues[0].Reason, "empty user") {
		t.Fatalf("rows %+v issues %+v", src.Rows, src.Issues)
	}
	if r := src.Rows[1]; r.User != "u1" || r.Group != "A" || r.Starts != time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).Unix() {
		t.Fatalf("row %+v", r)
	}
	if src.Rows[0].Person == nil || src.Rows[0].Person.Email != "fresh@example.org" || src.Rows[1].Person != nil {
		t.Fatalf("persons %+v %+v", src.Rows[0].Person, src.Rows[1].Person)
	}
	if _, err := ReadSQL(ctx, dsn, `SELECT course_code AS course, login AS "user" FROM enrol`); err == nil || !strings.Contains(err.Error(), `"role"`) {
		t.Fatalf("missing column: %v", err)
	}
	// Read-only: a query that writes fails.
	if _, err := ReadSQL(ctx, dsn, `INSERT INTO enrol VALUES ('x') RETURNING course_code AS course, login AS "user", kind AS role`); err == nil {
		t.Fatal("a write ran")
	}
	old := SQLTimeout
	SQLTimeout = 50 * time.Millisecond
	defer func() { SQLTimeout = old }()
	_, err = ReadSQL(ctx, dsn, `SELECT 'c1' AS course, 'u1' AS "user", 'student' AS role FROM pg_sleep(1)`)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("timeout: %v", err)
	}
}

// TestOneRosterCreatesAccounts: a OneRoster source allowed to create accounts creates those
// of the people users.csv names with an email (OIDC here); the one without an email is
// reported.
func TestOneRosterCreatesAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ('MATH101', 'Maths', 0, 0)`); err != nil {
			t.Fatal(err)
		}
		dir := bundle(t, map[string]string{"manifest.csv": manifest("1.1", "bulk"), "users.csv": users11, "classes.csv": classes,
			"enrollments.csv": enrolHeader + "e-1,active,2026-11-01T00:00:00Z,cl-1,org-1,u-1,student,,,\n" +
				"e-2,active,2026-11-01T00:00:00Z,cl-1,org-1,u-2,teacher,,,\n" + "e-3,active,2026-11-01T00:00:00Z,cl-1,org-1,u-3,student,,,\n"}, true)
		s := NewService(db, account.NewService(db, account.Config{BaseURL: "https://roster.test"}))
		if _, err := s.Create(adminCtx, Config{Name: "or", Kind: "oneroster", Location: dir, CreateAccounts: true, AccountAuth: "oidc"}); err != nil {
			t.Fatal(err)
		}
		rep, err := s.RunNow(adminCtx, "or", false)
		if err != nil || rep.Created != 2 || rep.Added != 2 || rep.Skipped != 1 || !strings.Contains(rep.Issues[0].Reason, "S999") {
			t.Fatalf("%+v %v", rep, err)
		}
		if n := count(t, db, `SELECT count(*) FROM users WHERE auth = 'oidc' AND ((username = 'alice' AND idnumber = 'S001' AND first_name = 'Alice')
			OR (username = 'bob@example.org' AND last_name = 'B'))`); n != 2 {
			t.Fatalf("accounts %d", n)
		}
		// Without the permission, unknown people are reported.
		if _, err := s.Create(adminCtx, Config{Name: "or2", Kind: "oneroster", Location: dir}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM course_enrolments`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE users SET deleted_at = 1`); err != nil {
			t.Fatal(err)
		}
		rep, err = s.RunNow(adminCtx, "or2", false)
		if err != nil || rep.Created != 0 || rep.Added != 0 || rep.Skipped != 3 {
			t.Fatalf("%+v %v", rep, err)
		}
	})
}
