package bulk_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"roster/internal/bulk"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// world is the test database of testdata/README.md.
type world struct {
	*env
	user  map[string]int64
	promo int64
}

// seedPeople adds to newEnv's courses the course c3, the accounts u1..u8 (uN@example.org,
// idnumber SN), "shared" and "twin" (whose idnumber is "shared"), manual enrolments (u6 a
// student of film1 and c3, u7 of c3, u8 of math102), the group PROMO-2026 (u1, u2), a group
// sync of it in management1, and the role map entry ucitel → non_editing_teacher.
func seedPeople(t testing.TB, db *store.DB) *world {
	t.Helper()
	w := &world{env: newEnv(t, db), user: map[string]int64{}}
	c3, err := w.courses.Create(admin, course.Course{Shortname: "c3", Fullname: "C3", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	w.course["c3"] = c3.ID
	add := func(username, email, idnumber string) {
		var id int64
		if err := db.QueryRowContext(admin, `INSERT INTO users (username, email, email_norm, idnumber, first_name, last_name, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'F', 'L', 0, 0) RETURNING id`, username, email, strings.ToLower(email), idnumber).Scan(&id); err != nil {
			t.Fatal(err)
		}
		w.user[username] = id
	}
	for i := 1; i <= 8; i++ {
		add(fmt.Sprintf("u%d", i), fmt.Sprintf("u%d@example.org", i), fmt.Sprintf("S%d", i))
	}
	add("shared", "shared@example.org", "X1")
	add("twin", "twin@example.org", "shared")
	enrol := func(c, u string, starts, ends *time.Time) {
		if _, err := w.courses.Enrol(admin, w.course[c], course.EnrolRequest{UserIDs: []int64{w.user[u]}, Role: "student",
			StartsAt: starts, EndsAt: ends}); err != nil {
			t.Fatal(err)
		}
	}
	s, e := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	enrol("film1", "u6", &s, &e)
	enrol("c3", "u6", nil, nil)
	enrol("c3", "u7", nil, nil)
	enrol("math102", "u8", nil, nil)
	g, err := w.groups.Create(admin, group.Group{Name: "Promo 2026", IDNumber: "PROMO-2026"})
	if err != nil {
		t.Fatal(err)
	}
	w.promo = g.ID
	for _, u := range []string{"u1", "u2"} {
		if err := w.groups.AddMember(admin, g.ID, w.user[u], group.Learner, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.courses.AddMethod(admin, w.course["management1"], course.Method{Type: course.GroupSync, GroupID: g.ID}); err != nil {
		t.Fatal(err)
	}
	if err := w.courses.SetRoleMapping(admin, "ucitel", course.NonEditingTeacher); err != nil {
		t.Fatal(err)
	}
	return w
}

func testFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rowsText is a report's rows, one "line action: errors | notes" per row.
func rowsText(rep *bulk.Report) string {
	var b strings.Builder
	for _, r := range rep.Rows {
		var errs []string
		for _, e := range r.Errors {
			errs = append(errs, e.Field+": "+e.Message)
		}
		fmt.Fprintf(&b, "%d %s: %s | %s\n", r.Line, r.Action, strings.Join(errs, "; "), strings.Join(r.Notes, "; "))
	}
	return b.String()
}

func wantRows(t *testing.T, rep *bulk.Report, want map[int]string) {
	t.Helper()
	got := map[int]string{}
	for _, r := range rep.Rows {
		got[r.Line] = r.Action
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n%s\nwant %v", rowsText(rep), want)
	}
}

// TestFlatFile: Moodle's flat enrolment file with its quoting, people by username, email or
// idnumber, role names through the site's role map (an unknown one is an error on its row),
// re-added enrolments whose dates change, a del of a role the person lacks previewed as a
// skip with a note, and apply doing exactly what the preview said; undo puts everything back.
func TestFlatFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := seedPeople(t, db)
		file := testFile(t, "flatfile.txt")
		o := bulk.Options{Format: bulk.FormatEnrolments, ValidOnly: true}
		pre, err := w.svc.Preview(admin, strings.NewReader(string(file)), o)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]string{2: "enrol", 3: "enrol", 4: "enrol", 5: "enrol", 6: "enrol", 7: "enrol", 8: "skip", 9: "skip",
			10: "unenrol", 11: "skip", 12: "enrol", 13: "error", 14: "error", 15: "error"}
		wantRows(t, pre, want)
		text := rowsText(pre)
		for _, s := range []string{"8 skip:  | film1: already on line 7", "9 skip:  | c3: enrolled as student, not as non_editing_teacher: nothing to remove",
			"11 skip:  | math102: already enrolled", "7 enrol:  | film1: already enrolled; its dates change",
			`13 error: role: unknown course role "nosuchrole"`, `15 error: user: 2 accounts match "shared"`} {
			if !strings.Contains(text, s) {
				t.Errorf("missing %q in\n%s", s, text)
			}
		}
		if pre.Summary.Enrolled != 6 {
			t.Errorf("preview enrolled %d, want 6", pre.Summary.Enrolled)
		}
		rep, err := w.svc.Apply(admin, opener(file), o)
		if err != nil {
			t.Fatal(err)
		}
		if rowsText(rep) != rowsText(pre) || rep.Summary != pre.Summary {
			t.Errorf("apply differs from the preview:\n%s%+v\npreview:\n%s%+v", rowsText(rep), rep.Summary, rowsText(pre), pre.Summary)
		}
		role := func(c, u string) string {
			var r string
			if err := db.QueryRowContext(admin, `SELECT e.role FROM course_enrolments e JOIN course_methods m ON m.id = e.method_id
				WHERE e.course_id = $1 AND e.user_id = $2 AND m.type = 'manual'`, w.course[c], w.user[u]).Scan(&r); err != nil {
				return "none"
			}
			return r
		}
		for _, c := range []struct{ course, user, role string }{{"math102", "u3", "non_editing_teacher"}, {"film1", "u4", "teacher"},
			{"film1", "u5", "teacher"}, {"management1", "u1", "teacher"}, {"c3", "u7", "none"}, {"c3", "u6", "student"}, {"math102", "u2", "student"}} {
			if got := role(c.course, c.user); got != c.role {
				t.Errorf("%s in %s: %s, want %s", c.user, c.course, got, c.role)
			}
		}
		newStart := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		if n := w.count(t, `SELECT count(*) FROM course_enrolments WHERE course_id = $1 AND user_id = $2 AND starts_at = $3`, w.course["film1"], w.user["u6"], newStart); n != 1 {
			t.Error("u6's dates in film1 were not updated")
		}
		if _, err := w.svc.Undo(admin, rep.BatchID, false); err != nil {
			t.Fatal(err)
		}
		oldStart := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).Unix()
		if n := w.count(t, `SELECT count(*) FROM course_enrolments WHERE course_id = $1 AND user_id = $2 AND starts_at = $3`, w.course["film1"], w.user["u6"], oldStart); n != 1 {
			t.Error("undo did not restore u6's dates in film1")
		}
		if role("c3", "u7") != "student" || role("math102", "u3") != "none" {
			t.Error("undo did not revert the enrolments")
		}
		// The user field: by username, "shared" is one account; by idnumber, u1 is nobody.
		o.UserField = bulk.UserUsername
		if pre, err = w.svc.Preview(admin, strings.NewReader(string(file)), o); err != nil || pre.Rows[13].Action != "enrol" || pre.Rows[3].Action != "error" {
			t.Errorf("by username: %v\n%s", err, rowsText(pre))
		}
		o.UserField = bulk.UserIDNumber
		if pre, err = w.svc.Preview(admin, strings.NewReader(string(file)), o); err != nil || pre.Rows[0].Action != "error" || pre.Rows[3].Action != "enrol" {
			t.Errorf("by idnumber: %v\n%s", err, rowsText(pre))
		}
		o.UserField = "nickname"
		if _, err := w.svc.Preview(admin, strings.NewReader(string(file)), o); err == nil {
			t.Error("an unknown user field was accepted")
		}
	})
}

// TestUpdateOnlyPasswords: an update-only file with just username,password says on every row
// why nothing changes.
func TestUpdateOnlyPasswords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := seedPeople(t, db)
		o := bulk.Options{Format: bulk.FormatMoodle, Mode: bulk.UpdateOnly}
		rep, err := w.svc.Apply(admin, opener(testFile(t, "passwords.csv")), o)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Rows {
			if r.Action != "skip" || len(r.Notes) == 0 {
				t.Errorf("line %d: %s %v", r.Line, r.Action, r.Notes)
			}
		}
		if !strings.Contains(rowsText(rep), "password: not changed for an existing account") {
			t.Errorf("%s", rowsText(rep))
		}
	})
}

// TestMethodsFile: Moodle's upload enrolment methods file adds group syncs (with a course
// group) and meta links, disables and deletes methods, reports each wrong row, applies as
// previewed, and undo puts the methods back as they were.
func TestMethodsFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		w := seedPeople(t, db)
		file := testFile(t, "methods.csv")
		o := bulk.Options{Format: bulk.FormatMethods, ValidOnly: true}
		pre, err := w.svc.Preview(admin, strings.NewReader(string(file)), o)
		if err != nil {
			t.Fatal(err)
		}
		wantRows(t, pre, map[int]string{2: "create", 3: "create", 4: "create", 5: "error", 6: "create", 7: "update", 8: "delete",
			9: "error", 10: "error", 11: "error", 12: "error"})
		if pre.Summary.Created != 4 || pre.Summary.Updated != 1 || pre.Summary.Deleted != 1 || pre.Summary.Errors != 5 || pre.Summary.Billable != 0 {
			t.Errorf("summary %+v", pre.Summary)
		}
		rep, err := w.svc.Apply(admin, opener(file), o)
		if err != nil {
			t.Fatal(err)
		}
		if rowsText(rep) != rowsText(pre) || rep.Summary != pre.Summary {
			t.Errorf("apply differs from the preview:\n%s%+v\npreview:\n%s%+v", rowsText(rep), rep.Summary, rowsText(pre), pre.Summary)
		}
		// math102 follows PROMO-2026 into course group "Promo 2026", disabled by line 7: u1, u2 suspended.
		if n := w.count(t, `SELECT count(*) FROM course_enrolments e JOIN course_methods m ON m.id = e.method_id
			WHERE m.course_id = $1 AND m.type = 'group_sync' AND NOT m.enabled AND e.status = 'suspended'`, w.course["math102"]); n != 2 {
			t.Errorf("math102's group sync: %d suspended", n)
		}
		if n := w.count(t, `SELECT count(*) FROM course_groups WHERE course_id = $1 AND name = 'Promo 2026'`, w.course["math102"]); n != 1 {
			t.Error("course group not created")
		}
		// film1 follows math102 (meta: u8 the student; u1 and u2 are suspended there, so not followed).
		if n := w.count(t, `SELECT count(*) FROM course_enrolments e JOIN course_methods m ON m.id = e.method_id
			WHERE m.course_id = $1 AND m.type = 'meta' AND e.user_id = $2 AND e.role = 'student'`, w.course["film1"], w.user["u8"]); n != 1 {
			t.Error("film1's meta link did not enrol u8")
		}
		if n := w.count(t, `SELECT count(*) FROM course_methods WHERE course_id = $1 AND type = 'meta' AND NOT enabled`, w.course["c3"]); n != 1 {
			t.Error("c3's meta link is not disabled")
		}
		if n := w.count(t, `SELECT count(*) FROM course_methods WHERE course_id = $1 AND type = 'group_sync'`, w.course["management1"]); n != 0 {
			t.Error("management1's group sync not deleted")
		}
		// Adding the same meta link again is refused.
		again, err := w.svc.Preview(admin, strings.NewReader("add,meta,film1,math102,0\n"), o)
		if err != nil || again.Rows[0].Action != "error" || !strings.Contains(rowsText(again), "already has this method") {
			t.Errorf("again: %v\n%s", err, rowsText(again))
		}
		und, err := w.svc.Undo(admin, rep.BatchID, false)
		if err != nil || und.Methods != 6 {
			t.Fatalf("undo %+v %v", und, err)
		}
		if n := w.count(t, `SELECT count(*) FROM course_methods WHERE type IN ('group_sync', 'meta')`); n != 1 {
			t.Errorf("after undo: %d synced methods, want 1 (management1's, back)", n)
		}
		if n := w.count(t, `SELECT count(*) FROM course_methods WHERE course_id = $1 AND type = 'group_sync' AND group_id = $2 AND enabled`,
			w.course["management1"], w.promo); n != 1 {
			t.Error("management1's group sync not restored")
		}
	})
}

// TestPreviewMatchesApply: for every fixture and test file, in each upload mode (and, where
// accounts are updated, with and without updating passwords), applying reports exactly what
// the preview announced, row by row.
func TestPreviewMatchesApply(t *testing.T) {
	type file struct {
		name, format string
		data         func(t testing.TB) []byte
	}
	var files []file
	dir := ""
	for _, d := range []string{"../../../shared/fixtures/moodle", "/work/shared/fixtures/moodle"} {
		if _, err := os.Stat(filepath.Join(d, "README.md")); err == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Fatal("the shared Moodle fixtures are missing")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".csv") {
			continue
		}
		format := bulk.FormatMoodle
		if strings.HasPrefix(name, "uploadcohorts") {
			format = bulk.FormatGroups
		}
		files = append(files, file{name, format, func(t testing.TB) []byte { return fixture(t, name) }})
	}
	for name, format := range map[string]string{"flatfile.txt": bulk.FormatEnrolments, "passwords.csv": bulk.FormatMoodle,
		"methods.csv": bulk.FormatMethods, "spreadsheet.tsv": bulk.FormatTSV} {
		files = append(files, file{name, format, func(t testing.TB) []byte { return testFile(t, name) }})
	}
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		for _, f := range files {
			for _, m := range []string{bulk.AddNew, bulk.AddUpdate, bulk.UpdateOnly, bulk.AddUpdate + "+passwords", bulk.UpdateOnly + "+passwords"} {
				mode, passwords := strings.CutSuffix(m, "+passwords")
				if f.format != bulk.FormatMoodle && m != bulk.AddNew {
					continue
				}
				ctx := context.Background()
				w := seedPeople(t, db)
				data := f.data(t)
				o := bulk.Options{Format: f.format, Mode: mode, ValidOnly: true, CreateGroups: true, MatchEmail: strings.Contains(f.name, "email_matching"),
					UpdatePasswords: passwords}
				pre, err := w.svc.Preview(admin, strings.NewReader(string(data)), o)
				if err != nil {
					t.Fatalf("%s %s: preview: %v", f.name, m, err)
				}
				rep, err := w.svc.Apply(admin, opener(data), o)
				if err != nil {
					t.Fatalf("%s %s: apply: %v", f.name, m, err)
				}
				if rowsText(rep) != rowsText(pre) || rep.Summary != pre.Summary {
					t.Errorf("%s %s: apply reported\n%s%+v\nthe preview\n%s%+v", f.name, m, rowsText(rep), rep.Summary, rowsText(pre), pre.Summary)
				}
				// A second preview of the same file, now applied, and its apply agree too.
				pre2, err := w.svc.Preview(admin, strings.NewReader(string(data)), o)
				if err != nil {
					t.Fatal(err)
				}
				rep2, err := w.svc.Apply(admin, opener(data), o)
				if err != nil {
					t.Fatal(err)
				}
				if rowsText(rep2) != rowsText(pre2) || rep2.Summary != pre2.Summary {
					t.Errorf("%s %s, again: apply reported\n%s%+v\nthe preview\n%s%+v", f.name, m, rowsText(rep2), rep2.Summary, rowsText(pre2), pre2.Summary)
				}
				// Start the next file from an empty database.
				wipe(t, ctx, db)
			}
		}
	})
}

// wipe empties the tables a test world fills.
func wipe(t testing.TB, ctx context.Context, db *store.DB) {
	t.Helper()
	for _, q := range []string{`DELETE FROM import_changes`, `DELETE FROM import_rows`, `DELETE FROM import_batches`, `DELETE FROM course_sync_queue`,
		`DELETE FROM course_group_members`, `DELETE FROM course_enrolments`, `DELETE FROM course_groups`, `DELETE FROM course_methods`,
		`DELETE FROM courses`, `DELETE FROM group_members`, `DELETE FROM group_paths`, `DELETE FROM groups`, `DELETE FROM course_role_map WHERE name = 'ucitel'`,
		`DELETE FROM users`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestUpdatePasswords: with Options.UpdatePasswords, a row naming an existing local account
// sets its password (argon2id, the policy applied), announced by the preview and done by
// apply alike; its sessions end and an audit event is recorded; a single sign-on account is
// a skip with a note; a weak password is an error of its row; no password reaches a report
// or the import's records; undo puts the old password back unless it was changed since.
func TestUpdatePasswords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		w := seedPeople(t, db)
		const oldPass, newPass = "Old-Passphrase-Long-1", "Correct-Horse-Battery-9"
		oldHash, err := w.accounts.HashPassword(ctx, oldPass, "u1", "u1@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, oldHash, w.user["u1"]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE users SET auth = 'cas' WHERE id = $1`, w.user["u3"]); err != nil {
			t.Fatal(err)
		}
		if _, err := w.accounts.CreateSession(ctx, w.user["u1"], "127.0.0.1", "test"); err != nil {
			t.Fatal(err)
		}
		file := []byte("username,password\nu1," + newPass + "\nu2,weakpass1\nu3,Another-Long-Passphrase-7\nnobody,Whatever-Long-Pass-5\nu4,\n")
		o := bulk.Options{Format: bulk.FormatMoodle, Mode: bulk.UpdateOnly, UpdatePasswords: true, ValidOnly: true}
		pre, err := w.svc.Preview(admin, strings.NewReader(string(file)), o)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]string{2: "update", 3: "error", 4: "skip", 5: "skip", 6: "skip"}
		wantRows(t, pre, want)
		if r := pre.Rows[0]; !reflect.DeepEqual(r.Changes, []string{"password"}) || !strings.Contains(strings.Join(r.Notes, ";"), "password: will be changed") {
			t.Errorf("line 2 announces %v %v", r.Changes, r.Notes)
		}
		if !strings.Contains(strings.Join(pre.Rows[2].Notes, ";"), "single sign-on") {
			t.Errorf("line 4 (cas): %v", pre.Rows[2].Notes)
		}
		if e := pre.Rows[1].Errors; len(e) != 1 || e[0].Field != "password" {
			t.Errorf("line 3 (weak): %v", e)
		}
		rep, err := w.svc.Apply(admin, opener(file), o)
		if err != nil {
			t.Fatal(err)
		}
		if rowsText(rep) != rowsText(pre) || rep.Summary != pre.Summary || rep.Summary.Updated != 1 {
			t.Errorf("apply reported\n%s%+v\nthe preview\n%s%+v", rowsText(rep), rep.Summary, rowsText(pre), pre.Summary)
		}
		var hash3 string
		if err := db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, w.user["u3"]).Scan(&hash3); err != nil || hash3 != "" {
			t.Errorf("the cas account got a password: %q %v", hash3, err)
		}
		if n := w.count(t, `SELECT count(*) FROM sessions WHERE user_id = $1`, w.user["u1"]); n != 0 {
			t.Errorf("u1 still has %d sessions", n)
		}
		if n := w.count(t, `SELECT count(*) FROM audit_events WHERE action = 'user.password_import' AND target_id = $1`,
			fmt.Sprint(w.user["u1"])); n != 1 {
			t.Errorf("%d password_import audit events, want 1", n)
		}
		if _, err := w.accounts.Login(ctx, "u1", newPass, "127.0.0.1"); err != nil {
			t.Errorf("login with the imported password: %v", err)
		}
		if _, err := w.accounts.Login(ctx, "u1", oldPass, "127.0.0.1"); err == nil {
			t.Error("the old password still works")
		}
		// No password in the report, the recorded rows or the audit trail.
		for _, secret := range []string{newPass, "weakpass1", "Another-Long-Passphrase-7", "Whatever-Long-Pass-5"} {
			if strings.Contains(rowsText(rep), secret) {
				t.Errorf("the report holds %q", secret)
			}
			if n := w.count(t, `SELECT count(*) FROM import_rows WHERE before LIKE $1 OR message LIKE $1`, "%"+secret+"%"); n != 0 {
				t.Errorf("import_rows hold %q", secret)
			}
			if n := w.count(t, `SELECT count(*) FROM audit_events WHERE details LIKE $1`, "%"+secret+"%"); n != 0 {
				t.Errorf("audit events hold %q", secret)
			}
		}
		var rows []bulk.BatchRow
		if err := w.svc.BatchRows(admin, rep.BatchID, func(r bulk.BatchRow) error { rows = append(rows, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 || !reflect.DeepEqual(rows[0].Changes, []string{"password"}) {
			t.Errorf("batch rows: %+v", rows)
		}
		und, err := w.svc.Undo(admin, rep.BatchID, false)
		if err != nil || und.Reverted != 1 {
			t.Fatalf("undo %+v %v", und, err)
		}
		if _, err := w.accounts.Login(ctx, "u1", oldPass, "127.0.0.1"); err != nil {
			t.Errorf("after undo, the old password: %v", err)
		}
		if n := w.count(t, `SELECT count(*) FROM audit_events WHERE action = 'user.password_restore'`); n != 1 {
			t.Errorf("%d password_restore events, want 1", n)
		}

		// Changed by its owner since the import: undo keeps it.
		rep, err = w.svc.Apply(admin, opener(file), o)
		if err != nil || rep.Summary.Updated != 1 {
			t.Fatalf("%+v %v", rep, err)
		}
		mine, _ := w.accounts.HashPassword(ctx, "Mine-Since-Then-Long-3", "u1", "u1@example.org")
		if _, err := db.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, mine, w.user["u1"]); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Undo(admin, rep.BatchID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := w.accounts.Login(ctx, "u1", "Mine-Since-Then-Long-3", "127.0.0.1"); err != nil {
			t.Errorf("undo replaced a password changed since the import: %v", err)
		}

		// Without the option, nothing changes and every row says why.
		o.UpdatePasswords = false
		rep, err = w.svc.Apply(admin, opener(file), o)
		if err != nil || rep.Summary.Updated != 0 || !strings.Contains(rowsText(rep), "password: not changed for an existing account") {
			t.Errorf("without the option: %v\n%s", err, rowsText(rep))
		}
	})
}

// TestKeptUploadHoldsNoPassword: the file kept between preview and apply is stored
// encrypted under its token: its passwords are not in the database, and the token's holder
// reads it back whole.
func TestKeptUploadHoldsNoPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		w := seedPeople(t, db)
		file := "username,password\nu1,Correct-Horse-Battery-9\n" + strings.Repeat("u2,Another-Long-Passphrase-7\n", 50000)
		o := bulk.Options{Format: bulk.FormatMoodle, Mode: bulk.UpdateOnly, UpdatePasswords: true}
		token, err := w.svc.KeepUpload(ctx, strings.NewReader(file), w.user["u1"], [32]byte{1}, o)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, `SELECT data FROM import_upload_chunks ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		chunks := 0
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&data); err != nil {
				t.Fatal(err)
			}
			chunks++
			for _, secret := range []string{"Correct-Horse-Battery-9", "Another-Long-Passphrase-7", "username,password"} {
				if strings.Contains(string(data), secret) {
					t.Errorf("chunk %d holds %q", chunks, secret)
				}
			}
		}
		rows.Close()
		if chunks < 2 {
			t.Errorf("%d chunks, want several", chunks)
		}
		if up, err := w.svc.TakeUpload(ctx, token+"0", w.user["u1"], [32]byte{1}); err != nil || up != nil {
			t.Errorf("another token took the upload: %v %v", up, err)
		}
		up, err := w.svc.TakeUpload(ctx, token, w.user["u1"], [32]byte{1})
		if err != nil || up == nil {
			t.Fatalf("take: %v %v", up, err)
		}
		if !up.Options.UpdatePasswords {
			t.Error("the upload lost its update-passwords option")
		}
		rc, _ := up.Open()
		got, err := io.ReadAll(rc)
		if err != nil || string(got) != file {
			t.Errorf("read back %d bytes (want %d): %v", len(got), len(file), err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE import_upload_chunks SET seq = 5 WHERE seq = 0`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE import_upload_chunks SET seq = 0 WHERE seq = 1`); err != nil {
			t.Fatal(err)
		}
		rc, _ = up.Open()
		if _, err := io.ReadAll(rc); err == nil {
			t.Error("a chunk moved to another place was read")
		}
	})
}
