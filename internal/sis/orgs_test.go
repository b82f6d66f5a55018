package sis

import (
	"context"
	"strings"
	"testing"

	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

const orgsHeader = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"

// orgBundle builds a OneRoster 1.1 bundle: users uN (username uN) in the orgs given, one
// enrolment of u1 in c1.
func orgBundle(t *testing.T, mode, orgs string, users map[string]string) *Source {
	t.Helper()
	var b strings.Builder
	b.WriteString("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n")
	for _, u := range []string{"u1", "u2", "u3", "u9"} {
		if o, ok := users[u]; ok {
			status := "active"
			if s, cut := strings.CutPrefix(o, "-"); cut {
				status, o = "tobedeleted", s
			}
			b.WriteString("ou-" + u + "," + status + ",,true,\"" + o + "\",student," + u + ",,First,Last,,,,,,,,\n")
		}
	}
	man := strings.Replace(manifest("1.1", mode), "file.orgs,absent", "file.orgs,"+mode, 1)
	src, err := ReadOneRoster(bundle(t, map[string]string{
		"manifest.csv":    man,
		"orgs.csv":        orgsHeader + orgs,
		"users.csv":       b.String(),
		"classes.csv":     "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\ncl-1,active,,C1,,co-1,c1,scheduled,,s-1,t-1,,,\n",
		"enrollments.csv": enrolHeader + "e-1,active,,cl-1,s-1,ou-u1,student,,,\n",
	}, false))
	if err != nil {
		t.Fatal(err)
	}
	src.Name = "oneroster"
	return src
}

func groupOf(t *testing.T, db *store.DB, sourcedID string) (id, parent int64, name string) {
	t.Helper()
	err := db.QueryRowContext(context.Background(), `SELECT id, COALESCE(parent_id, 0), name FROM groups WHERE idnumber = $1`,
		OrgIDNumberPrefix+sourcedID).Scan(&id, &parent, &name)
	if err != nil {
		t.Fatalf("group of org %s: %v", sourcedID, err)
	}
	return id, parent, name
}

// members lists "group-idnumber user source" rows of the org groups.
func orgMembers(t *testing.T, db *store.DB) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT g.idnumber, u.username, gm.role, gm.source_kind FROM group_members gm
		JOIN groups g ON g.id = gm.group_id JOIN users u ON u.id = gm.user_id ORDER BY g.idnumber, u.username, gm.source_kind`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g, u, r, s string
		if err := rows.Scan(&g, &u, &r, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimPrefix(g, OrgIDNumberPrefix)+" "+u+" "+r+" "+s)
	}
	return strings.Join(out, "; ")
}

func TestOneRosterOrgsToGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		seed(t, db, 1, 4)
		orgs := "d-1,active,,District,district,D1,\ns-1,active,,South School,school,S1,d-1\n"
		users := map[string]string{"u1": "s-1", "u2": "s-1", "u3": "d-1", "u9": "s-1"}

		// A dry run says what a run would do, and does nothing.
		rep, err := Run(ctx, db, orgBundle(t, "bulk", orgs, users), RunOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.GroupsCreated != 2 || rep.MembersAdded != 3 || count(t, db, `SELECT count(*) FROM groups`) != 0 {
			t.Fatalf("dry run: %+v", rep)
		}
		if !strings.Contains(issuesText(rep.Issues), `users.csv:5: unknown user "u9": not placed in its orgs`) {
			t.Errorf("dry run issues: %s", issuesText(rep.Issues))
		}

		rep, err = Run(ctx, db, orgBundle(t, "bulk", orgs, users), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status != "done" || rep.Added != 1 || rep.GroupsCreated != 2 || rep.MembersAdded != 3 || rep.MembersRemoved != 0 {
			t.Fatalf("first run: %+v", rep)
		}
		if s := rep.Summary(); !strings.Contains(s, "groups created 2, renamed 0, moved 0, group memberships added 3, removed 0") {
			t.Errorf("summary: %s", s)
		}
		district, parent, _ := groupOf(t, db, "d-1")
		school, schoolParent, name := groupOf(t, db, "s-1")
		if parent != 0 || schoolParent != district || name != "South School" {
			t.Errorf("tree: district parent %d, school parent %d (want %d), name %q", parent, schoolParent, district, name)
		}
		if n := count(t, db, `SELECT count(*) FROM groups WHERE visibility = 'private'`); n != 2 {
			t.Errorf("%d private groups, want 2", n)
		}
		// Manual memberships in the school: u2 (also listed by the sync) and u4.
		err = db.Tx(ctx, func(tx *store.Tx) error {
			if err := group.AddMemberTx(ctx, tx, school, 2, group.Learner, group.SourceManual); err != nil {
				return err
			}
			return group.AddMemberTx(ctx, tx, school, 4, group.Learner, group.SourceManual)
		})
		if err != nil {
			t.Fatal(err)
		}

		// Second bulk run: u2 moved to a new school, the district renamed.
		orgs2 := "d-1,active,,Metro District,district,D1,\ns-1,active,,South School,school,S1,d-1\ns-2,active,,North School,school,S2,d-1\n"
		users2 := map[string]string{"u1": "s-1", "u2": "s-2", "u3": "d-1"}
		rep, err = Run(ctx, db, orgBundle(t, "bulk", orgs2, users2), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.GroupsCreated != 1 || rep.GroupsRenamed != 1 || rep.GroupsMoved != 0 || rep.MembersAdded != 1 || rep.MembersRemoved != 1 {
			t.Fatalf("second run: %+v", rep)
		}
		want := "d-1 u3 learner sync; s-1 u1 learner sync; s-1 u2 learner manual; s-1 u4 learner manual; s-2 u2 learner sync"
		if got := orgMembers(t, db); got != want {
			t.Errorf("memberships:\n got %s\nwant %s", got, want)
		}
		if _, _, name := groupOf(t, db, "d-1"); name != "Metro District" {
			t.Errorf("district name %q", name)
		}
		if _, p, _ := groupOf(t, db, "s-2"); p != district {
			t.Errorf("s-2 parent %d, want %d", p, district)
		}

		// The same bundle again changes nothing.
		rep, err = Run(ctx, db, orgBundle(t, "bulk", orgs2, users2), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.GroupsCreated+rep.GroupsRenamed+rep.GroupsMoved+rep.MembersAdded+rep.MembersRemoved != 0 || strings.Contains(rep.Summary(), "group") {
			t.Errorf("re-run: %+v %s", rep, rep.Summary())
		}

		// A delta file removes only what it marks; s-2 moves under s-1.
		orgs3 := "s-2,active,,North School,school,S2,s-1\n"
		rep, err = Run(ctx, db, orgBundle(t, "delta", orgs3, map[string]string{"u1": "-s-1", "u2": "s-1"}), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.GroupsMoved != 1 || rep.MembersAdded != 1 || rep.MembersRemoved != 1 {
			t.Fatalf("delta run: %+v", rep)
		}
		want = "d-1 u3 learner sync; s-1 u2 learner manual; s-1 u2 learner sync; s-1 u4 learner manual; s-2 u2 learner sync"
		if got := orgMembers(t, db); got != want {
			t.Errorf("memberships after delta:\n got %s\nwant %s", got, want)
		}
		if _, p, _ := groupOf(t, db, "s-2"); p != school {
			t.Errorf("s-2 parent %d, want %d", p, school)
		}
	})
}

func TestOneRosterOrgsBadTree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		seed(t, db, 1, 2)
		orgs := "a,active,,A,school,,b\nb,active,,B,school,,a\nc,active,,C,school,,zz\nd,active,,D,school,,c\n"
		rep, err := Run(context.Background(), db, orgBundle(t, "bulk", orgs, map[string]string{"u1": "d"}), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := issuesText(rep.Issues)
		for _, w := range []string{"its own ancestor", `unknown parent org "zz"`, `org "d" skipped: its parent "c" was skipped`, `org "d" was skipped`} {
			if !strings.Contains(got, w) {
				t.Errorf("missing %q in\n%s", w, got)
			}
		}
		if rep.GroupsCreated != 0 || count(t, db, `SELECT count(*) FROM groups`) != 0 {
			t.Errorf("groups created: %+v", rep)
		}
	})
}
