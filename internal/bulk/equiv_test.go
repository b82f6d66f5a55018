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
// through account.CreateUser and group.AddMemberTx, and through the batch paths. Both must
// leave the same accounts, memberships (propagated ones included) and audit events.
func TestBatchPathsMatchServices(t *testing.T) {
	file := []byte("username,password,firstname,lastname,email,suspended,cohort1,category1,categoryrole1,course1\n" +
		"ann,Kq8#wPz!rT2m,Ann,A,ann@x.org,0,TEAM,REGION,coursecreator,math102\n" +
		"bob,,Bob,B,bob@x.org,1,TEAM,,,film1\n" +
		"cid,,Cid,C,cid@x.org,,NEWCOHORT,COMPANY,manager,\n")
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
		if err != nil || rep.Summary.Created != 3 {
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
		slices.Sort(out)
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
