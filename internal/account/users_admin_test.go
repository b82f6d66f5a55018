package account

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

// seedGroups makes the tree Company(1) > Region(2) > Team(3), Company > Sibling(4).
func seedGroups(t testing.TB, db *store.DB) {
	t.Helper()
	for _, g := range [][2]any{{1, nil}, {2, 1}, {3, 2}, {4, 1}} {
		mustExec(t, db, `INSERT INTO groups (id, parent_id, name, visibility, created_at, updated_at) VALUES ($1, $2, $3, 'private', 0, 0)`,
			g[0], g[1], fmt.Sprint("G", g[0]))
	}
	for _, p := range [][3]int{{1, 1, 0}, {2, 2, 0}, {3, 3, 0}, {4, 4, 0}, {1, 2, 1}, {1, 3, 2}, {2, 3, 1}, {1, 4, 1}} {
		mustExec(t, db, `INSERT INTO group_paths (ancestor_id, descendant_id, depth) VALUES ($1, $2, $3)`, p[0], p[1], p[2])
	}
}

func member(t testing.TB, db *store.DB, group, user int64, role string) {
	t.Helper()
	mustExec(t, db, `INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
		VALUES ($1, $2, $3, 'manual', 0, 0)`, group, user, role)
}

func mustExec(t testing.TB, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(bg, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func as(s *Service, u *User) context.Context { return authz.With(bg, s.PrincipalFor(u)) }

// rowOf is the stored state of an account, to check that refused changes change nothing.
func rowOf(t testing.TB, db *store.DB, id int64) string {
	t.Helper()
	var a, b, c, d, e, f, g string
	var da any
	if err := db.QueryRowContext(bg, `SELECT username, email, first_name, last_name, language, status, custom_fields, delete_at
		FROM users WHERE id = $1`, id).Scan(&a, &b, &c, &d, &e, &f, &g, &da); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(a, b, c, d, e, f, g, da)
}

func TestUpdateUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		defineFields(t, s)
		u := mustCreate(t, s, NewUser{Email: "ada@example.org", CustomFields: map[string]string{"faculty": "law", "badge": "7"}})
		mustCreate(t, s, NewUser{Username: "bob", Email: "bob@example.org"})
		when := clock.T.Add(30 * 24 * time.Hour)
		got, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{FirstName: ptr(" Ada "), LastName: ptr("King"), Language: ptr("FR"),
			DeleteAt: &when, CustomFields: map[string]string{"faculty": "science", "badge": "", "birthday": "1815-12-10"}})
		if err != nil {
			t.Fatal(err)
		}
		if got.FirstName != "Ada" || got.LastName != "King" || got.Language != "fr" || got.DeleteAt == nil || !got.DeleteAt.Equal(when) ||
			fmt.Sprint(got.CustomFields) != "map[birthday:1815-12-10 faculty:science]" {
			t.Fatalf("updated %+v", got)
		}
		if len(outbox(t, db)) != 0 {
			t.Fatal("mail without an email change")
		}

		// Bad input: every bad field is named, and nothing changes.
		before := rowOf(t, db, u.ID)
		_, err = s.UpdateUser(adminCtx, u.ID, UserUpdate{FirstName: ptr(""), Email: ptr("not an address"), Username: ptr("a b"),
			Language: ptr("de"), Status: ptr("gone"), DeleteAt: ptr(clock.T.Add(-time.Hour)),
			CustomFields: map[string]string{"faculty": "arts", "nope": "1"}})
		want := "first_name,email,username,language,status,delete_at,custom_fields.faculty,custom_fields.nope"
		if got := strings.Join(fieldNames(err), ","); got != want || !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad input: want %s, got %s (%v)", want, got, err)
		}
		// A taken username and (with the setting off) a taken email are conflicts.
		_, err = s.UpdateUser(adminCtx, u.ID, UserUpdate{Username: ptr("BOB"), FirstName: ptr("Changed")})
		if e := errs.As(err); e.Code != errs.Conflict || e.Fields[0].Field != "username" {
			t.Fatalf("taken username: %v", err)
		}
		_, err = s.UpdateUser(adminCtx, u.ID, UserUpdate{Email: ptr("Bob@Example.org"), FirstName: ptr("Changed")})
		if e := errs.As(err); e.Code != errs.Conflict || e.Fields[0].Field != "email" {
			t.Fatalf("taken email: %v", err)
		}
		if after := rowOf(t, db, u.ID); after != before {
			t.Fatalf("refused changes changed the row:\n%s\n%s", before, after)
		}
		if len(outbox(t, db)) != 0 {
			t.Fatal("refused changes sent mail")
		}
		_, err = s.UpdateUser(adminCtx, u.ID+100, UserUpdate{FirstName: ptr("X")})
		wantCode(t, err, errs.NotFound)

		// With the setting on, the shared email is accepted.
		allowSharedEmail(t, s, true)
		if _, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{Email: ptr("bob@example.org")}); err != nil {
			t.Fatalf("shared email, setting on: %v", err)
		}
	})
}

// TestEmailChangeNotifies: changing the email of an active account tells the old and the new
// address and voids the links already sent; a suspended account is not mailed.
func TestEmailChangeNotifies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		u := mustCreate(t, s, NewUser{Email: "old@example.org", FirstName: "Ada", LastName: "L"})
		if err := s.RequestReset(bg, "old@example.org", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		_, token := linkIn(t, outbox(t, db)[0].Text, "https://roster.test/password/reset/")
		if _, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{Email: ptr("new@example.org")}); err != nil {
			t.Fatal(err)
		}
		mails := outbox(t, db)[1:]
		if len(mails) != 2 || mails[0].To != "old@example.org" || mails[1].To != "new@example.org" ||
			mails[0].Template != "email_changed" || !strings.Contains(mails[1].Text, "old@example.org") ||
			!strings.Contains(mails[1].Text, "new@example.org") || !strings.Contains(mails[0].Text, "Ada") {
			t.Fatalf("mails %+v", mails)
		}
		if n := auditCount(t, db, "user.email_change"); n != 1 {
			t.Fatalf("user.email_change events: %d", n)
		}
		wantCode(t, s.ResetPassword(bg, token, "another-fine-password-9"), errs.Gone)

		// Removing the address tells the old one only; a suspended account is not mailed.
		if _, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{Email: ptr(""), Username: ptr("ada")}); err != nil {
			t.Fatal(err)
		}
		if m := outbox(t, db); len(m) != 4 || m[3].To != "new@example.org" {
			t.Fatalf("after removal: %+v", m)
		}
		if _, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{Status: ptr(StatusSuspended)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateUser(adminCtx, u.ID, UserUpdate{Email: ptr("third@example.org")}); err != nil {
			t.Fatal(err)
		}
		if m := outbox(t, db); len(m) != 4 {
			t.Fatalf("a suspended account was mailed: %+v", m[4:])
		}
	})
}

func TestSuspendReactivate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		admin := mustCreate(t, s, NewUser{Email: "admin@example.org", IsAdmin: true})
		u := mustCreate(t, s, NewUser{Email: "ada@example.org"})
		token, err := s.CreateSession(bg, u.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(24 * time.Hour)
		got, err := s.UpdateUser(as(s, admin), u.ID, UserUpdate{Status: ptr(StatusSuspended)})
		if err != nil || got.Status != StatusSuspended || got.DeactivatedAt == nil || !got.DeactivatedAt.Equal(clock.T) {
			t.Fatalf("suspend: %v %+v", err, got)
		}
		_, err = s.SessionUser(bg, token)
		wantCode(t, err, errs.Unauthorized)
		clock.Advance(24 * time.Hour)
		got, err = s.UpdateUser(as(s, admin), u.ID, UserUpdate{Status: ptr(StatusActive)})
		if err != nil || got.Status != StatusActive || got.DeactivatedAt != nil || !got.ActivatedAt.Equal(clock.T) {
			t.Fatalf("reactivate: %v %+v", err, got)
		}
		var n int
		db.QueryRowContext(bg, `SELECT count(*) FROM billing_periods WHERE user_id = $1`, u.ID).Scan(&n)
		if n != 1 || auditCount(t, db, "user.suspend") != 1 || auditCount(t, db, "user.reactivate") != 1 {
			t.Fatalf("periods %d, events", n)
		}
		// Nobody suspends or deletes their own account.
		_, err = s.UpdateUser(as(s, admin), admin.ID, UserUpdate{Status: ptr(StatusSuspended)})
		if got := strings.Join(fieldNames(err), ","); got != "status" {
			t.Fatalf("self-suspension: %v", err)
		}
		wantCode(t, s.DeleteUser(as(s, admin), admin.ID), errs.Invalid)
	})
}

func TestDeleteUserNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := newService(t, db)
		seedGroups(t, db)
		defineFields(t, s)
		u := mustCreate(t, s, NewUser{Username: "ada", Email: "ada@example.org", IDNumber: "S123",
			CustomFields: map[string]string{"faculty": "law"}})
		member(t, db, 3, u.ID, "learner")
		session, _ := s.CreateSession(bg, u.ID, "", "")
		apiToken, err := s.CreateAPIToken(adminCtx, "script", u.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
		if err := s.DeleteUser(adminCtx, u.ID); err != nil {
			t.Fatal(err)
		}
		checkAnonymised(t, db, u.ID, clock.T)
		_, err = s.SessionUser(bg, session)
		wantCode(t, err, errs.Unauthorized)
		_, err = s.TokenPrincipal(bg, apiToken)
		wantCode(t, err, errs.Unauthorized)
		_, err = s.Login(bg, "ada", goodPassword, "")
		wantCode(t, err, errs.Unauthorized)
		wantCode(t, s.DeleteUser(adminCtx, u.ID), errs.NotFound)
		// The username and the email are free again.
		mustCreate(t, s, NewUser{Username: "ada", Email: "ada@example.org"})
		if n := auditCount(t, db, "user.delete"); n != 1 {
			t.Fatalf("user.delete events: %d", n)
		}
	})
}

// checkAnonymised checks that nothing identifying is left of account id, and that its billing
// dates are kept.
func checkAnonymised(t testing.TB, db *store.DB, id int64, at time.Time) {
	t.Helper()
	var username, email, first, last, idnumber, hash, custom, status string
	var activated, deactivated, deleted int64
	if err := db.QueryRowContext(bg, `SELECT username, email, first_name, last_name, idnumber, password_hash, custom_fields,
		status, activated_at, deactivated_at, deleted_at FROM users WHERE id = $1`, id).Scan(&username, &email, &first, &last,
		&idnumber, &hash, &custom, &status, &activated, &deactivated, &deleted); err != nil {
		t.Fatal(err)
	}
	if username != fmt.Sprint("deleted ", id) || email != "" || first != "" || last != "" || idnumber != "" || hash != "" ||
		custom != "{}" || status != StatusSuspended || activated == 0 || deactivated != at.Unix() || deleted != at.Unix() {
		t.Fatalf("not anonymised: %q %q %q %q %q %q %q %s %d %d %d", username, email, first, last, idnumber, hash, custom,
			status, activated, deactivated, deleted)
	}
	for _, q := range []string{`SELECT count(*) FROM sessions WHERE user_id = $1`, `SELECT count(*) FROM group_members WHERE user_id = $1`,
		`SELECT count(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL`} {
		var n int
		if db.QueryRowContext(bg, q, id).Scan(&n); n != 0 {
			t.Errorf("%s: %d left", q, n)
		}
	}
}

// TestUserPermissions: scoped administrators reach the accounts of their groups' members, and
// only those; managing needs user_admin, and never reaches a platform administrator or an
// account with roles outside the caller's groups.
func TestUserPermissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		seedGroups(t, db)
		mk := func(name string) *User {
			return mustCreate(t, s, NewUser{Username: name, Email: name + "@example.org"})
		}
		userAdmin, groupAdmin, trainer := mk("useradmin"), mk("groupadmin"), mk("trainer")
		member(t, db, 2, userAdmin.ID, "user_admin")
		member(t, db, 2, groupAdmin.ID, "group_admin")
		member(t, db, 2, trainer.ID, "trainer")
		inTeam, inSibling, adminInTeam, bossElsewhere := mk("inteam"), mk("insibling"), mk("admininteam"), mk("bosselsewhere")
		member(t, db, 3, inTeam.ID, "learner")
		member(t, db, 4, inSibling.ID, "learner")
		member(t, db, 3, adminInTeam.ID, "learner")
		mustExec(t, db, `UPDATE users SET is_admin = true WHERE id = $1`, adminInTeam.ID)
		member(t, db, 3, bossElsewhere.ID, "learner")
		member(t, db, 4, bossElsewhere.ID, "group_admin")

		for _, c := range []struct {
			who          *User
			target       *User
			view, manage bool
		}{
			{userAdmin, inTeam, true, true},
			{userAdmin, inSibling, false, false},
			{userAdmin, adminInTeam, true, false},
			{userAdmin, bossElsewhere, true, false},
			{userAdmin, groupAdmin, true, true},
			{groupAdmin, inTeam, true, false},
			{groupAdmin, inSibling, false, false},
			{trainer, inTeam, false, false},
			{inTeam, inTeam, false, false},
		} {
			ctx := as(s, c.who)
			_, err := s.GetUser(ctx, c.target.ID)
			if (err == nil) != c.view || (err != nil && !errs.Is(err, errs.Forbidden)) {
				t.Errorf("%s views %s: %v", c.who.Username, c.target.Username, err)
			}
			_, err = s.UpdateUser(ctx, c.target.ID, UserUpdate{FirstName: ptr("Renamed")})
			if (err == nil) != c.manage || (err != nil && !errs.Is(err, errs.Forbidden)) {
				t.Errorf("%s manages %s: %v", c.who.Username, c.target.Username, err)
			}
			if !c.manage {
				if err := s.DeleteUser(ctx, c.target.ID); !errs.Is(err, errs.Forbidden) {
					t.Errorf("%s deletes %s: %v", c.who.Username, c.target.Username, err)
				}
			}
		}
		_, err := s.GetUser(bg, inTeam.ID)
		wantCode(t, err, errs.Unauthorized)

		// Lists hold the accounts in scope only.
		names := func(ctx context.Context, f UserFilter) string {
			t.Helper()
			us, _, err := s.ListUsers(ctx, f)
			if err != nil {
				return err.Error()
			}
			var out []string
			for _, u := range us {
				out = append(out, u.Username)
			}
			return strings.Join(out, ",")
		}
		// By last name (all Lovelace), first name (Ada, or Renamed above) and id.
		if got := names(as(s, userAdmin), UserFilter{}); got != "useradmin,trainer,admininteam,bosselsewhere,groupadmin,inteam" {
			t.Errorf("user_admin's list: %s", got)
		}
		if got := names(as(s, trainer), UserFilter{}); !strings.Contains(got, "forbidden") {
			t.Errorf("trainer's list: %s", got)
		}
		if got := names(as(s, groupAdmin), UserFilter{GroupID: 4}); !strings.Contains(got, "forbidden") {
			t.Errorf("group out of scope: %s", got)
		}
		if got := names(adminCtx, UserFilter{GroupID: 4}); got != "insibling,bosselsewhere" && got != "bosselsewhere,insibling" {
			t.Errorf("members of group 4: %s", got)
		}
	})
}

func TestListUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := newService(t, db)
		for i, n := range [][2]string{{"Ada", "Lovelace"}, {"Alan", "Turing"}, {"Grace", "Hopper"}, {"Ada", "Byron"},
			{"Edsger", "Dijkstra"}, {"Barbara", "Liskov"}, {"Donald", "Knuth"}} {
			mustCreate(t, s, NewUser{Username: fmt.Sprint("u", i), Email: fmt.Sprintf("%s.%s@example.org", n[0], n[1]),
				FirstName: n[0], LastName: n[1], Password: goodPassword})
		}
		mustExec(t, db, `UPDATE users SET status = 'suspended' WHERE username = 'u1'`)
		var all []string
		cursor := ""
		for pages := 0; ; pages++ {
			us, next, err := s.ListUsers(adminCtx, UserFilter{Limit: 3, Cursor: cursor})
			if err != nil || pages > 3 {
				t.Fatal(err, pages)
			}
			for _, u := range us {
				all = append(all, u.LastName)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if got := strings.Join(all, ","); got != "Byron,Dijkstra,Hopper,Knuth,Liskov,Lovelace,Turing" {
			t.Fatalf("pages: %s", got)
		}
		for q, want := range map[string]string{"ada": "Byron,Lovelace", "ADA LOVE": "Lovelace", "u3": "Byron",
			"hopper@": "Hopper", "%": "", "_": ""} {
			us, _, err := s.ListUsers(adminCtx, UserFilter{Q: q})
			var got []string
			for _, u := range us {
				got = append(got, u.LastName)
			}
			if err != nil || strings.Join(got, ",") != want {
				t.Errorf("q=%q: %v %v", q, got, err)
			}
		}
		if us, _, _ := s.ListUsers(adminCtx, UserFilter{Status: StatusSuspended}); len(us) != 1 || us[0].LastName != "Turing" {
			t.Errorf("suspended: %+v", us)
		}
		_, _, err := s.ListUsers(adminCtx, UserFilter{Status: "gone", Cursor: "???", Limit: 501})
		if got := strings.Join(fieldNames(err), ","); got != "status,limit,cursor" {
			t.Errorf("bad filter: %v", err)
		}
	})
}
