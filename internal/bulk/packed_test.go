package bulk_test

import (
	"fmt"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/bulk"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// A run of lines that only created an account is one import_rows row, and the enrolments
// that differ only by the person one import_changes row (migration 0037); the report and
// the undo still see every line and every person.
func TestPackedRecordsReportAndUndo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		e := newEnv(t, db)
		if err := db.Tx(admin, func(tx *store.Tx) error {
			_, err := e.accounts.CreateUser(admin, tx, account.NewUser{Username: "bilbo", Email: "bilbo@example.com",
				FirstName: "Bilbo", LastName: "B"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		file := "username,firstname,lastname,email,course1,role1\n" +
			"u1,A,One,u1@example.org,math102,student\n" +
			"u2,A,Two,u2@example.org,math102,student\n" +
			"u3,A,Three,u3@example.org,film1,student\n" +
			"bilbo,Bilbo,Baggins,bilbo@example.com,math102,student\n" +
			"u4,A,Four,u4@example.org,math102,student\n" +
			"u5,A,Five,u5@example.org,math102,student\n"
		rep, err := e.svc.Apply(admin, opener([]byte(file)), bulk.Options{Format: bulk.FormatMoodle, Mode: bulk.AddUpdate})
		if err != nil || rep.Summary.Created != 5 || rep.Summary.Updated != 1 || rep.Summary.Enrolled != 6 || !rep.Applied {
			t.Fatalf("%+v %v", rep, err)
		}
		if n := e.count(t, `SELECT count(*) FROM import_rows WHERE batch_id = $1`, rep.BatchID); n != 3 {
			t.Errorf("import_rows: %d rows, want 3 (lines 2-4 packed, 5, lines 6-7 packed)", n)
		}
		if n := e.count(t, `SELECT count(*) FROM import_rows WHERE batch_id = $1 AND packed <> ''`, rep.BatchID); n != 2 {
			t.Errorf("packed import_rows: %d, want 2", n)
		}
		if n := e.count(t, `SELECT count(*) FROM import_changes WHERE batch_id = $1`, rep.BatchID); n != 2 {
			t.Errorf("import_changes: %d rows, want 2 (math102's five people in one, film1's one)", n)
		}
		var got []string
		if err := e.svc.BatchRows(admin, rep.BatchID, func(r bulk.BatchRow) error {
			var name string
			if err := db.QueryRowContext(admin, `SELECT username FROM users WHERE id = $1`, r.UserID).Scan(&name); err != nil {
				return fmt.Errorf("line %d: user %d: %w", r.Line, r.UserID, err)
			}
			got = append(got, fmt.Sprintf("%d:%s:%s", r.Line, r.Action, name))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if s := strings.Join(got, " "); s != "2:create:u1 3:create:u2 4:create:u3 5:update:bilbo 6:create:u4 7:create:u5" {
			t.Errorf("report rows: %s", s)
		}
		up, err := e.svc.Undo(admin, rep.BatchID, false)
		if err != nil || up.Deleted != 5 || up.Reverted != 1 || up.Unenrolled != 6 {
			t.Fatalf("undo %+v %v", up, err)
		}
		if n := e.count(t, `SELECT count(*) FROM users WHERE username LIKE 'u%' AND deleted_at IS NULL`); n != 0 {
			t.Errorf("%d imported accounts left", n)
		}
		if n := e.count(t, `SELECT count(*) FROM course_enrolments`); n != 0 {
			t.Errorf("%d enrolments left", n)
		}
		if n := e.count(t, `SELECT count(*) FROM users WHERE username = 'bilbo' AND last_name = 'B'`); n != 1 {
			t.Error("bilbo's update not reverted")
		}
	})
}
