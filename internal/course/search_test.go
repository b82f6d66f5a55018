package course_test

import (
	"context"
	"testing"

	"roster/internal/account"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestSearchUsersShowsWhatThePlatformAllows: a teacher finds anyone by name; the identity
// fields shown, and searched, are those of the setting users.show_identity (email by
// default); two characters at least, one page, and a per-person rate.
func TestSearchUsersShowsWhatThePlatformAllows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := course.NewService(db, course.Config{})
		c := mustCourse(t, s, "search")
		teacher := addUser(t, db, "Tea", "Cher")
		mustEnrol(t, s, c.ID, "teacher", teacher)
		ada := addUser(t, db, "Ada", "Lovelace")
		for i := 0; i < course.SearchLimit+5; i++ {
			addUser(t, db, "Many", "Zed")
		}
		ctx := as(teacher)
		set := func(v string) {
			t.Helper()
			if _, err := db.ExecContext(context.Background(), `INSERT INTO settings (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, account.SettingShowIdentity, v); err != nil {
				t.Fatal(err)
			}
		}

		found, err := s.SearchUsers(ctx, c.ID, "lovel")
		if err != nil || len(found) != 1 || found[0].ID != ada || found[0].Email == "" || found[0].Username != "" {
			t.Fatalf("default (names and email): %+v %v", found, err)
		}
		if found, _ := s.SearchUsers(ctx, c.ID, "l"); len(found) != 0 {
			t.Errorf("one character: %+v", found)
		}
		if found, _ := s.SearchUsers(ctx, c.ID, "zed"); len(found) != course.SearchLimit {
			t.Errorf("one page: %d", len(found))
		}

		set("none")
		found, err = s.SearchUsers(ctx, c.ID, "lovel")
		if err != nil || len(found) != 1 || found[0].Email != "" || found[0].Username != "" {
			t.Fatalf("names only: %+v %v", found, err)
		}
		// A hidden field cannot be probed: "@example.org" matches no name.
		if found, _ := s.SearchUsers(ctx, c.ID, "@example.org"); len(found) != 0 {
			t.Errorf("search by a hidden address: %+v", found)
		}
		set("username, email")
		found, _ = s.SearchUsers(ctx, c.ID, "ada.lovelace")
		if len(found) != 1 || found[0].Username == "" || found[0].Email == "" {
			t.Errorf("username and email: %+v", found)
		}

		// Someone who does not teach the course may not search.
		_, err = s.SearchUsers(as(ada), c.ID, "zed")
		wantCode(t, err, errs.Forbidden, "")

		// The rate: a burst, then TooMany.
		var limited error
		for i := 0; i < 100 && limited == nil; i++ {
			_, limited = s.SearchUsers(ctx, c.ID, "zed")
		}
		if !errs.Is(limited, errs.TooMany) || errs.As(limited).RetryAfter < 1 {
			t.Errorf("no limit after 100 searches: %v", limited)
		}
	})
}
