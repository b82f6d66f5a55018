package course_test

import (
	"context"
	"fmt"
	"testing"

	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/store"
)

// admin is a context acting with platform rights.
var admin = authz.With(context.Background(), &authz.Principal{PlatformAdmin: true})

// as is a context acting as a person without platform rights.
func as(userID int64) context.Context {
	return authz.With(context.Background(), &authz.Principal{UserID: userID})
}

var userSeq int

// addUser inserts an account and returns its id.
func addUser(t testing.TB, db *store.DB, first, last string) int64 {
	t.Helper()
	userSeq++
	name := fmt.Sprintf("%s.%s.%d", first, last, userSeq)
	var id int64
	err := db.QueryRowContext(context.Background(), `INSERT INTO users (username, email, email_norm, first_name, last_name, created_at, updated_at)
		VALUES ($1, $2, $2, $3, $4, 0, 0) RETURNING id`, name, name+"@example.org", first, last).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustCourse(t testing.TB, s *course.Service, short string) *course.Course {
	t.Helper()
	c, err := s.Create(admin, course.Course{Shortname: short, Fullname: "Course " + short, Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustEnrol(t testing.TB, s *course.Service, courseID int64, role string, users ...int64) {
	t.Helper()
	if _, err := s.Enrol(admin, courseID, course.EnrolRequest{UserIDs: users, Role: role}); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t testing.TB, err error, code errs.Code, field string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if field == "" {
		return
	}
	for _, f := range errs.As(err).Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("error %v does not name field %q", err, field)
}

func count(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// names lists the participants of a page as "Last First".
func names(p *course.Page) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.LastName+" "+it.FirstName)
	}
	return out
}
