package bulk_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/bulk"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

var admin = authz.With(context.Background(), &authz.Principal{PlatformAdmin: true})

type env struct {
	db       *store.DB
	svc      *bulk.Service
	accounts *account.Service
	groups   *group.Service
	courses  *course.Service
	course   map[string]int64
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	e := &env{db: db, accounts: account.NewService(db, account.Config{BaseURL: "http://x"}), groups: group.NewService(db),
		courses: course.NewService(db, course.Config{BaseURL: "http://x"}), course: map[string]int64{}}
	e.svc = bulk.NewService(db, e.accounts, e.groups, e.courses)
	for _, c := range []string{"math102", "management1", "film1"} {
		cc, err := e.courses.Create(admin, course.Course{Shortname: c, Fullname: c, Visible: true})
		if err != nil {
			t.Fatal(err)
		}
		e.course[c] = cc.ID
	}
	return e
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	for _, d := range []string{"../../../shared/fixtures/moodle", "/work/shared/fixtures/moodle"} {
		if b, err := os.ReadFile(filepath.Join(d, name)); err == nil {
			return b
		}
	}
	t.Skip("fixtures not found")
	return nil
}

func opener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

func (e *env) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func actions(rep *bulk.Report) string {
	var out []string
	for _, r := range rep.Rows {
		out = append(out, r.Action)
	}
	return strings.Join(out, " ")
}

func TestApplyMoodle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		e := newEnv(t, db)
		file := fixture(t, "upload_users.csv")
		o := bulk.Options{Format: bulk.FormatMoodle}
		// Preview writes nothing.
		rep, err := e.svc.Preview(admin, bytes.NewReader(file), o)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Summary != (bulk.Summary{Created: 2, Enrolled: 2, Rows: 2, Billable: 2}) || rep.Applied || e.count(t, `SELECT COUNT(*) FROM users`) != 0 {
			t.Fatalf("preview %+v", rep)
		}
		rep, err = e.svc.Apply(admin, opener(file), o)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Applied || rep.Summary != (bulk.Summary{Created: 2, Enrolled: 2, Rows: 2, Billable: 2}) || rep.BatchID == 0 {
			t.Fatalf("apply %+v", rep)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM course_enrolments e JOIN users u ON u.id = e.user_id
			WHERE e.course_id = $1 AND e.role = 'student' AND u.username IN ('jonest', 'reznor')`, e.course["math102"]); n != 2 {
			t.Errorf("enrolments %d", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM course_group_members m JOIN course_groups g ON g.id = m.course_group_id
			WHERE g.name IN ('Section 1', 'Section 3')`); n != 2 {
			t.Errorf("course groups %d", n)
		}
		// Applying again: both exist, skipped.
		rep, err = e.svc.Apply(admin, opener(file), o)
		if err != nil || rep.Summary != (bulk.Summary{Skipped: 2, Rows: 2}) {
			t.Fatalf("again: %+v %v", rep, err)
		}
		// Not for everyone.
		if _, err := e.svc.Preview(authz.With(context.Background(), &authz.Principal{UserID: 1}), bytes.NewReader(file), o); !errs.Is(err, errs.Forbidden) {
			t.Errorf("non-admin: %v", err)
		}
	})
}

func TestApplyCohortsAndCategoriesAndUndo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		e := newEnv(t, db)
		for _, idn := range []string{"MGMT", "Film"} {
			if _, err := e.groups.Create(admin, group.Group{Name: idn, IDNumber: idn}); err != nil {
				t.Fatal(err)
			}
		}
		o := bulk.Options{Format: bulk.FormatMoodle, CreateGroups: true}
		rep, err := e.svc.Apply(admin, opener(fixture(t, "upload_users_cohorts.csv")), o)
		if err != nil || rep.Summary.Created != 4 {
			t.Fatalf("cohorts: %+v %v", rep, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM group_members m JOIN groups g ON g.id = m.group_id
			WHERE g.idnumber IN ('ASD', 'DSA') AND m.role = 'learner' AND m.source_kind = 'import' AND m.source_ref = $1`, rep.BatchID); n != 4 {
			t.Errorf("cohort memberships %d", n)
		}
		// The category file has errors: nothing is applied...
		cat := fixture(t, "upload_users_category.csv")
		rep, err = e.svc.Apply(admin, opener(cat), o)
		if err != nil || rep.Applied || rep.Summary.Errors != 2 || e.count(t, `SELECT COUNT(*) FROM users`) != 4 {
			t.Fatalf("category: %+v %v", rep, err)
		}
		if got := actions(rep); got != "create create create create error error create create" {
			t.Errorf("category rows: %s", got)
		}
		// ...unless the valid rows only are chosen.
		o.ValidOnly = true
		rep, err = e.svc.Apply(admin, opener(cat), o)
		if err != nil || !rep.Applied || rep.Summary.Created != 6 || rep.Summary.Errors != 2 || rep.Summary.Enrolled != 6 {
			t.Fatalf("valid only: %+v %v", rep, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM group_members m JOIN users u ON u.id = m.user_id
			WHERE u.username = 'jonest' AND m.role = 'group_admin' AND m.source_kind = 'import'`); n != 1 {
			t.Errorf("jonest group_admin: %d", n)
		}
		users := e.count(t, `SELECT COUNT(*) FROM users WHERE deleted_at IS NULL`)
		// Undo: preview first, then for real.
		up, err := e.svc.Undo(admin, rep.BatchID, true)
		if err != nil || up.Done || up.Deleted != 6 || up.Unenrolled != 6 {
			t.Fatalf("undo preview %+v %v", up, err)
		}
		if e.count(t, `SELECT COUNT(*) FROM users WHERE deleted_at IS NULL`) != users {
			t.Fatal("undo preview changed something")
		}
		up, err = e.svc.Undo(admin, rep.BatchID, false)
		if err != nil || !up.Done || up.Deleted != 6 || up.Memberships != 4 {
			t.Fatalf("undo %+v %v", up, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM users WHERE deleted_at IS NULL`); n != users-6 {
			t.Errorf("users after undo %d, want %d", n, users-6)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM course_enrolments`); n != 0 {
			t.Errorf("enrolments after undo %d", n)
		}
		if _, err := e.svc.Undo(admin, rep.BatchID, false); !errs.Is(err, errs.Conflict) {
			t.Errorf("second undo: %v", err)
		}
	})
}

func TestApplyUpdateAndEnrolmentsAndUndo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		e := newEnv(t, db)
		err := db.Tx(admin, func(tx *store.Tx) error {
			for _, n := range []string{"bilbo", "frodo"} {
				if _, err := e.accounts.CreateUser(admin, tx, account.NewUser{Username: n, Email: n + "@example.com", FirstName: n, LastName: "B"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		o := bulk.Options{Format: bulk.FormatMoodle, Mode: bulk.AddUpdate, MatchEmail: true}
		rep, err := e.svc.Apply(admin, opener(fixture(t, "upload_users_email_matching.csv")), o)
		if err != nil || rep.Summary != (bulk.Summary{Updated: 2, Enrolled: 2, Rows: 2}) {
			t.Fatalf("%+v %v", rep, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM users WHERE last_name = 'Baggins' AND username IN ('bilbo', 'frodo')`); n != 2 {
			t.Errorf("updated %d (usernames kept)", n)
		}
		// Flat enrolment file: remove frodo, enrol bilbo as teacher in film1; an unknown course is an error.
		flat := []byte("del,student,frodo,math102\nadd,editingteacher,bilbo@example.com,film1,2027-01-01,2027-06-30\nadd,student,bilbo,nope\n")
		fo := bulk.Options{Format: bulk.FormatEnrolments, ValidOnly: true}
		rep2, err := e.svc.Apply(admin, opener(flat), fo)
		if err != nil || actions(rep2) != "unenrol enrol error" || rep2.Summary.Enrolled != 1 {
			t.Fatalf("flat: %+v %v", rep2, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM course_enrolments WHERE course_id = $1 AND role = 'teacher' AND starts_at IS NOT NULL`, e.course["film1"]); n != 1 {
			t.Errorf("film1 teacher %d", n)
		}
		if _, err := e.svc.Undo(admin, rep2.BatchID, false); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM course_enrolments WHERE course_id = $1`, e.course["math102"]); n != 2 {
			t.Errorf("math102 after undo %d", n)
		}
		// Undoing the first batch reverts the names and keeps the accounts.
		up, err := e.svc.Undo(admin, rep.BatchID, false)
		if err != nil || up.Reverted != 2 || up.Deleted != 0 {
			t.Fatalf("undo %+v %v", up, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM users WHERE last_name = 'B'`); n != 2 {
			t.Errorf("reverted %d", n)
		}
	})
}

func TestApplyTSVAndGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		e := newEnv(t, db)
		for _, g := range []group.Group{{Name: "Miscellaneous"}, {Name: "Cat 1", IDNumber: "CAT1"}, {Name: "Cat 2", IDNumber: "CAT2"}} {
			if _, err := e.groups.Create(admin, g); err != nil {
				t.Fatal(err)
			}
		}
		var cat1 int64
		_ = db.QueryRowContext(admin, `SELECT id FROM groups WHERE idnumber = 'CAT1'`).Scan(&cat1)
		if _, err := e.groups.Create(admin, group.Group{Name: "Cat 3", IDNumber: "CAT3", ParentID: cat1}); err != nil {
			t.Fatal(err)
		}
		rep, err := e.svc.Apply(admin, opener(fixture(t, "uploadcohorts2.csv")), bulk.Options{Format: bulk.FormatGroups})
		if err != nil || rep.Summary.Created != 7 {
			t.Fatalf("groups: %+v %v", rep, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM groups g JOIN groups p ON p.id = g.parent_id WHERE p.idnumber = 'CAT3' AND g.idnumber IN ('cohortid4', 'cohortid7')`); n != 2 {
			t.Errorf("under Cat 3: %d", n)
		}
		tsv := []byte("email\tfirst\tlast\tgroups\troles\n" +
			"ann@x.org\tAnn\tAnn\tCAT1,CAT2\tlearner,trainer\tfr\n" +
			"bob@x.org\tBob\tBob\tCAT9\n")
		rep, err = e.svc.Apply(admin, opener(tsv), bulk.Options{Format: bulk.FormatTSV})
		if err != nil || rep.Applied || actions(rep) != "create error" || rep.Rows[1].Errors[0].Line != 3 {
			t.Fatalf("tsv: %+v %v", rep, err)
		}
		rep, err = e.svc.Apply(admin, opener(tsv), bulk.Options{Format: bulk.FormatTSV, ValidOnly: true})
		if err != nil || !rep.Applied || rep.Summary.Created != 1 {
			t.Fatalf("tsv: %+v %v", rep, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM group_members m JOIN users u ON u.id = m.user_id
			WHERE u.username = 'ann@x.org' AND m.source_kind = 'import'`); n != 2 {
			t.Errorf("ann memberships %d", n)
		}
	})
}

func TestNotifyAndEmailStop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		e := newEnv(t, db)
		o := bulk.Options{Format: bulk.FormatMoodle, Notify: true}
		rep, err := e.svc.Apply(admin, opener(fixture(t, "example.csv")), o)
		if err != nil || rep.Summary.Created != 3 {
			t.Fatalf("%+v %v", rep, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM outbox WHERE template = 'account_setup' AND to_addr IN ('s1@example.com', 's2@example.com', 's3@example.com')`); n != 3 {
			t.Errorf("set-password links %d", n)
		}
		stop := []byte("username,firstname,lastname,email,emailstop\njb,Joe,Bloggs,jb@example.com,1\nfb,Fred,Bloggs,fb@example.com,0\n")
		if _, err := e.svc.Apply(admin, opener(stop), o); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM outbox WHERE to_addr = 'jb@example.com'`); n != 0 {
			t.Errorf("emailstop account got %d emails", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM outbox WHERE to_addr = 'fb@example.com'`); n != 1 {
			t.Errorf("fb got %d emails", n)
		}
		// Without notify (the default), no email at all.
		if _, err := e.svc.Apply(admin, opener([]byte("username,firstname,lastname,email\nq,Q,Q,q@example.com\n")), bulk.Options{}); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM outbox WHERE to_addr = 'q@example.com'`); n != 0 {
			t.Errorf("q got %d emails", n)
		}
	})
}

// A row that the check passes but that fails when written makes the whole file apply nothing,
// unless the person chose to apply the valid rows only.
func TestAllOrNothingWhenARowFailsAtApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		e := newEnv(t, db)
		file := []byte("name,idnumber,description\nAlpha,alpha1,\nBeta,beta2,\nOmega,omega3,\n")
		o := bulk.Options{Format: bulk.FormatGroups}
		rep, id, err := e.svc.Begin(admin, opener(file), o)
		if err != nil || id == 0 || rep.Summary.Errors != 0 {
			t.Fatalf("check: %+v %v", rep, err)
		}
		// Between the check and the apply, someone creates a group of that name there: the
		// group service refuses line 3 when it is written.
		if _, err := e.groups.Create(admin, group.Group{Name: "Beta"}); err != nil {
			t.Fatal(err)
		}
		rep, err = e.svc.Run(admin, id, opener(file), o)
		if err != nil || rep.Applied || rep.Summary.Errors != 1 || rep.BatchID != id {
			t.Fatalf("%+v %v", rep, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM groups WHERE idnumber IN ('alpha1', 'beta2', 'omega3')`); n != 0 {
			t.Fatalf("%d groups of a file with an error stayed", n)
		}
		b, err := e.svc.Batch(admin, rep.BatchID)
		if err != nil || b.Status != bulk.StatusFailed {
			t.Fatalf("batch %+v %v", b, err)
		}
		// The batch keeps why, by line, for its page.
		if len(b.Failure) != 1 || b.Failure[0].Line != 3 || b.Failure[0].Code == "" || b.Summary.Errors != 1 {
			t.Fatalf("failure %+v, errors %d", b.Failure, b.Summary.Errors)
		}
		o.ValidOnly = true // "Beta" is taken: the check says so now, and the other rows apply
		rep, err = e.svc.Apply(admin, opener(file), o)
		if err != nil || !rep.Applied || rep.Summary.Created != 2 || rep.Summary.Errors != 1 {
			t.Fatalf("valid rows only: %+v %v", rep, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM groups WHERE idnumber IN ('alpha1', 'omega3')`); n != 2 {
			t.Fatalf("valid rows only: %d groups", n)
		}
		// Undoing a groups file deletes the groups it created.
		up, err := e.svc.Undo(admin, rep.BatchID, false)
		if err != nil || up.GroupsDeleted != 2 {
			t.Fatalf("undo %+v %v", up, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM groups WHERE idnumber IN ('alpha1', 'omega3')`); n != 0 {
			t.Fatalf("after undo: %d groups", n)
		}
	})
}

// Pasted rows: groups by idnumber, name or path; role names in the catalogs' languages; an
// address the outbox would refuse is an error of its line in the preview, with or without
// the set-your-password email, and the apply agrees.
func TestPasteNamesGroupsAndRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		e := newEnv(t, db)
		sales, err := e.groups.Create(admin, group.Group{Name: "Ventes"})
		if err != nil {
			t.Fatal(err)
		}
		support, err := e.groups.Create(admin, group.Group{Name: "Support"})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []group.Group{{Name: "Équipe A", ParentID: sales.ID}, {Name: "Équipe A", ParentID: support.ID},
			{Name: "Direction", IDNumber: "DIR"}} {
			if _, err := e.groups.Create(admin, g); err != nil {
				t.Fatal(err)
			}
		}
		paste := []byte("ann@x.org\tAnn\tA\tVentes / Équipe A\tapprenante\n" +
			"bob@x.org\tBob\tB\tdirection\tFormatrice\n" +
			"cat@x.org\tCat\tC\tÉquipe A\tlearner\n" +
			"dan@acme\tDan\tD\n" +
			"eve@x.org\tEve\tE\tNowhere\n")
		// Ann was invited before: creating her account overtakes the invitation, and the row
		// says so (a warning, not an error).
		if _, err := db.ExecContext(admin, `INSERT INTO invitations (email, email_norm, token_hash, created_at)
			VALUES ('Ann@x.org', 'ann@x.org', 'h1', 0)`); err != nil {
			t.Fatal(err)
		}
		for _, notify := range []bool{false, true} {
			rep, err := e.svc.Preview(admin, bytes.NewReader(paste), bulk.Options{Format: bulk.FormatTSV, Notify: notify})
			if err != nil || actions(rep) != "create create error error error" {
				t.Fatalf("notify %v: %s %+v %v", notify, actions(rep), rep, err)
			}
			if w := rep.Rows[0].Warnings; len(w) != 1 || w[0].Code != "invitation_overtaken" || w[0].Line != 1 {
				t.Errorf("ann's warning: %+v", w)
			}
			if len(rep.Rows[1].Warnings) != 0 {
				t.Errorf("bob's warnings: %+v", rep.Rows[1].Warnings)
			}
			for i, want := range map[int]string{2: "group_name_ambiguous", 3: "email_no_dot", 4: "group_not_found"} {
				if got := rep.Rows[i].Errors; len(got) != 1 || got[0].Code != want || got[0].Line != i+1 {
					t.Errorf("notify %v, line %d: %+v, want %s", notify, i+1, got, want)
				}
			}
		}
		rep, err := e.svc.Apply(admin, opener(paste), bulk.Options{Format: bulk.FormatTSV, Notify: true, ValidOnly: true})
		if err != nil || !rep.Applied || rep.Summary.Created != 2 || rep.Summary.Errors != 3 {
			t.Fatalf("apply: %+v %v", rep, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM group_members m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id
			WHERE u.username = 'ann@x.org' AND g.parent_id = $1 AND m.role = 'learner'`, sales.ID); n != 1 {
			t.Errorf("ann in Ventes / Équipe A as learner: %d", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM group_members m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id
			WHERE u.username = 'bob@x.org' AND g.idnumber = 'DIR' AND m.role = 'trainer'`); n != 1 {
			t.Errorf("bob trainer of Direction: %d", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM users WHERE email = 'dan@acme'`); n != 0 {
			t.Errorf("dan@acme was created")
		}
	})
}
