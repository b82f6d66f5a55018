package bulk_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"roster/internal/bulk"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestBatchPathsMatchServices applies one file twice, on two fresh databases: row by row
// through account.CreateUser, group.AddMemberTx and one enrolment a call, and through the
// owners' batch operations. Both must leave the same accounts, memberships (propagated ones
// included), enrolments, course-group places, records for undo and audit events.
func TestBatchPathsMatchServices(t *testing.T) {
	file := []byte("username,password,firstname,lastname,email,suspended,cohort1,category1,categoryrole1,course1,role1,group1,enrolperiod1,course2\n" +
		"ann,Kq8#wPz!rT2m,Ann,A,ann@x.org,0,TEAM,REGION,coursecreator,math102,editingteacher,Tuesday,,film1\n" +
		"bob,,Bob,B,bob@x.org,1,TEAM,,,film1,,,30,\n" +
		"cid,,Cid,C,cid@x.org,,NEWCOHORT,COMPANY,manager,,,,,\n" +
		"dan,,Dan,D,dan@x.org,,REGION,,,math102,,Tuesday,,\n")
	dump := func(t *testing.T, open func(testing.TB) (*store.DB, *storetest.Clock), serial bool) []string {
		db, _ := open(t)
		e := newEnv(t, db)
		company, err := e.groups.Create(admin, group.Group{Name: "Company", IDNumber: "COMPANY"})
		if err != nil {
			t.Fatal(err)
		}
		region, err := e.groups.Create(admin, group.Group{Name: "Region", IDNumber: "REGION", ParentID: company.ID, Visibility: group.Public})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.groups.Create(admin, group.Group{Name: "Team", IDNumber: "TEAM", ParentID: region.ID, Visibility: group.Public}); err != nil {
			t.Fatal(err)
		}
		bulk.SetSerial(e.svc, serial)
		rep, err := e.svc.Apply(admin, opener(file), bulk.Options{Format: bulk.FormatMoodle, CreateGroups: true})
		if err != nil || rep.Summary.Created != 4 {
			t.Fatalf("serial=%v: %+v %v", serial, rep, err)
		}
		var out []string
		q := func(query string) {
			rows, err := db.QueryContext(context.Background(), query)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				var parts []string
				for _, v := range vals {
					if b, ok := v.([]byte); ok {
						v = string(b)
					}
					parts = append(parts, fmt.Sprint(v))
				}
				out = append(out, strings.Join(parts, "|"))
			}
		}
		q(`SELECT id, username, email, email_norm, first_name, last_name, language, status, auth, password_hash <> '', is_admin,
			idnumber, custom_fields, created_at, updated_at, activated_at, deactivated_at FROM users`)
		q(`SELECT group_id, user_id, role, source_kind, source_ref, created_at FROM group_members`)
		q(`SELECT action, target_type, target_id, actor_id, ip, details FROM audit_events WHERE action LIKE 'user.%' OR action LIKE 'group.member%'`)
		q(`SELECT 'enrolment', course_id, method_id, user_id, role, status, starts_at, ends_at, created_at FROM course_enrolments`)
		q(`SELECT 'place', course_group_id, user_id, method_id FROM course_group_members`)
		q(`SELECT 'change', batch_id, kind, course_id, ref_id, user_id, role, status, starts_at, ends_at FROM import_changes`)
		slices.Sort(out)
		// What is compared must be there: a path that wrote none of it would match the other.
		for _, want := range []string{"|propagated|", "enrolment|", "place|", "change|"} {
			if !slices.ContainsFunc(out, func(l string) bool { return strings.Contains(l, want) }) {
				t.Errorf("serial=%v: no %q row to compare", serial, want)
			}
		}
		return out
	}
	for _, db := range []struct {
		name string
		open func(testing.TB) (*store.DB, *storetest.Clock)
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			serial, batch := dump(t, db.open, true), dump(t, db.open, false)
			if !slices.Equal(serial, batch) {
				t.Errorf("the paths differ:\nserial:\n%s\nbatch:\n%s", strings.Join(serial, "\n"), strings.Join(batch, "\n"))
			}
			if len(serial) < 15 {
				t.Errorf("too little compared: %d lines", len(serial))
			}
		})
	}
}
