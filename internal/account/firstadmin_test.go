package account

import (
	"strings"
	"sync"
	"testing"

	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func admin(email string) NewUser {
	return NewUser{Email: email, FirstName: "Root", LastName: "Admin", Password: "the-first-admin-passphrase"}
}

func TestFirstAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		old, err := s.FirstAdminLink(bg)
		if err != nil {
			t.Fatal(err)
		}
		link, _ := s.FirstAdminLink(bg) // a restart prints a new link; the old one stops working
		if !strings.HasPrefix(link, "https://roster.test/setup/") || link == old {
			t.Fatalf("links %q %q", old, link)
		}
		oldToken := strings.TrimPrefix(old, "https://roster.test/setup/")
		token := strings.TrimPrefix(link, "https://roster.test/setup/")
		wantCode(t, s.CheckFirstAdminToken(bg, oldToken), errs.Gone)
		if err := s.CheckFirstAdminToken(bg, token); err != nil {
			t.Fatal(err)
		}
		_, err = s.CompleteFirstAdmin(bg, token, NewUser{Email: "root@example.org", FirstName: "R", LastName: "A", Password: "x"})
		wantCode(t, err, errs.Invalid)
		_, err = s.CompleteFirstAdmin(bg, token, NewUser{Email: "root@example.org", FirstName: "R", LastName: "A"})
		wantCode(t, err, errs.Invalid)
		u, err := s.CompleteFirstAdmin(bg, token, admin("root@example.org"))
		if err != nil {
			t.Fatal(err)
		}
		if !u.IsAdmin || u.Auth != AuthLocal || !u.HasPassword || !s.PrincipalFor(u).PlatformAdmin {
			t.Fatalf("admin %+v", u)
		}
		if auditCount(t, db, "setup.first_admin") != 1 || auditCount(t, db, "user.create") != 1 {
			t.Fatal("audit events missing")
		}
		wantCode(t, s.CheckFirstAdminToken(bg, token), errs.Gone)
		_, err = s.CompleteFirstAdmin(bg, token, admin("second@example.org"))
		wantCode(t, err, errs.Gone)
		_, err = s.FirstAdminLink(bg)
		wantCode(t, err, errs.Conflict)
		if _, err := s.Login(bg, "root@example.org", "the-first-admin-passphrase", ""); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFirstAdminRace: many people submit the setup form at once; exactly one admin results.
func TestFirstAdminRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		link, _ := s.FirstAdminLink(bg)
		token := strings.TrimPrefix(link, "https://roster.test/setup/")
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.CompleteFirstAdmin(bg, token, admin(strings.Repeat("a", i+1)+"@example.org"))
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				} else if !errs.Is(err, errs.Gone) {
					t.Errorf("loser: %v", err)
				}
			}()
		}
		wg.Wait()
		var n int
		db.QueryRowContext(bg, `SELECT count(*) FROM users`).Scan(&n)
		if wins != 1 || n != 1 {
			t.Fatalf("%d completions succeeded, %d users", wins, n)
		}
	})
}

func TestFirstAdminClosedOnceUsersExist(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		link, _ := s.FirstAdminLink(bg)
		token := strings.TrimPrefix(link, "https://roster.test/setup/")
		mustCreate(t, s, NewUser{Email: "cli@example.org", IsAdmin: true}) // roster user add --admin
		wantCode(t, s.CheckFirstAdminToken(bg, token), errs.Gone)
		_, err := s.CompleteFirstAdmin(bg, token, admin("late@example.org"))
		wantCode(t, err, errs.Gone)
	})
}
