package sis

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestOneRosterSampleBundles runs the 1.1 and 1.2 bundles of testdata (the shape of the public
// samples): usernames stay what users.csv says (john.doe, not the email), a dry run announces
// exactly what the real run then does (enrolments, accounts, courses, org groups) and lists
// nobody it would create as unknown, and a source that may create courses makes the course of
// the class that has none.
func TestOneRosterSampleBundles(t *testing.T) {
	for _, version := range []string{"oneroster11", "oneroster12"} {
		t.Run(version, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
				ctx := context.Background()
				if _, err := db.ExecContext(ctx, `INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ('MATH-7A', 'Maths 7A', 0, 0)`); err != nil {
					t.Fatal(err)
				}
				if _, err := db.ExecContext(ctx, `INSERT INTO users (username, email, email_norm, first_name, last_name, created_at, updated_at)
					VALUES ('mary.major', 'mary.major@myschool.com', 'mary.major@myschool.com', 'Mary', 'Major', 0, 0)`); err != nil {
					t.Fatal(err)
				}
				s := NewService(db, account.NewService(db, account.Config{BaseURL: "https://roster.test"}))
				path, _ := filepath.Abs(filepath.Join("testdata", version))
				if _, err := s.Create(adminCtx, Config{Name: "school", Kind: "oneroster", Location: path, CreateAccounts: true,
					CreateCourses: true, Threshold: 100}); err != nil {
					t.Fatal(err)
				}
				dry, err := s.RunNow(adminCtx, "school", true)
				if err != nil {
					t.Fatal(err)
				}
				for _, is := range dry.Issues {
					t.Errorf("dry run issue: %s", is)
				}
				if dry.Added != 6 || dry.Created != 3 || dry.CoursesCreated != 1 || dry.GroupsCreated != 2 || dry.MembersAdded != 4 {
					t.Errorf("dry run: %s", dry.Summary())
				}
				real, err := s.RunNow(adminCtx, "school", false)
				if err != nil {
					t.Fatal(err)
				}
				if real.Summary() != dry.Summary() || real.Skipped != dry.Skipped {
					t.Errorf("the real run did %q (%d skipped), the dry run announced %q (%d skipped)", real.Summary(), real.Skipped,
						dry.Summary(), dry.Skipped)
				}
				if n := count(t, db, `SELECT count(*) FROM users WHERE username IN ('john.doe', 'jane.roe', 'richard.miles')
					AND email LIKE '%@myschool.com' AND auth = 'cas'`); n != 3 {
					t.Errorf("accounts with their OneRoster usernames: %d", n)
				}
				if n := count(t, db, `SELECT count(*) FROM courses WHERE shortname = 'SCI-7B' AND fullname = 'Science Grade 7 B'`); n != 1 {
					t.Errorf("course of class SCI-7B: %d", n)
				}
				if n := count(t, db, `SELECT count(*) FROM course_enrolments e JOIN courses c ON c.id = e.course_id
					JOIN users u ON u.id = e.user_id WHERE c.shortname = 'SCI-7B' AND u.username = 'mary.major' AND e.role = 'teacher'`); n != 1 {
					t.Errorf("teacher of SCI-7B: %d", n)
				}
				again, err := s.RunNow(adminCtx, "school", true)
				if err != nil || again.Added+again.Changed+again.Removed+again.Created+again.CoursesCreated != 0 {
					t.Errorf("a second dry run: %v %v", again.Summary(), err)
				}
			})
		})
	}
}

// TestOneRosterWithoutCourseCreation: without the option, the class without a course is
// skipped, and the dry run still matches the real run.
func TestOneRosterWithoutCourseCreation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ('MATH-7A', 'Maths 7A', 0, 0)`); err != nil {
			t.Fatal(err)
		}
		s := NewService(db, account.NewService(db, account.Config{BaseURL: "https://roster.test"}))
		path, _ := filepath.Abs(filepath.Join("testdata", "oneroster11"))
		if _, err := s.Create(adminCtx, Config{Name: "school", Kind: "oneroster", Location: path, CreateAccounts: true, Threshold: 100}); err != nil {
			t.Fatal(err)
		}
		dry, err := s.RunNow(adminCtx, "school", true)
		if err != nil {
			t.Fatal(err)
		}
		real, err := s.RunNow(adminCtx, "school", false)
		if err != nil {
			t.Fatal(err)
		}
		// Skipped: the three SCI-7B rows, and richard.miles (only in SCI-7B, so not created)
		// whose org membership cannot be placed.
		if dry.Added != 3 || dry.Created != 3 || dry.Skipped != 4 || real.Summary() != dry.Summary() || real.Skipped != dry.Skipped {
			t.Errorf("dry %q (%d skipped), real %q (%d skipped)", dry.Summary(), dry.Skipped, real.Summary(), real.Skipped)
		}
		if !strings.Contains(issuesText(real.Issues), `unknown course "SCI-7B"`) {
			t.Errorf("issues: %s", issuesText(real.Issues))
		}
		if n := count(t, db, `SELECT count(*) FROM courses`); n != 1 {
			t.Errorf("courses: %d", n)
		}
	})
}

// TestOneRosterMalformedFileNamed: a file of the bundle that is not valid CSV is named in the
// error.
func TestOneRosterMalformedFileNamed(t *testing.T) {
	files := map[string]string{}
	src := filepath.Join("testdata", "oneroster11")
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	files["classes.csv"] += `class-x,,,Bad "quote,07,course-math,X,scheduled,,org-school,term-2026,,,` + "\n"
	_, err := ReadOneRoster(bundle(t, files, false))
	if err == nil || !strings.Contains(err.Error(), "classes.csv") || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("got %v, want an error naming classes.csv and line 4", err)
	}
}
