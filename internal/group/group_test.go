package group_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestCreateUpdateValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := group.NewService(db)
		company, err := s.Create(admin, group.Group{Name: "  Company ", IDNumber: "C1", Visibility: "private"})
		if err != nil {
			t.Fatal(err)
		}
		if company.Name != "Company" || company.ParentID != 0 || !company.CreatedAt.Equal(clock.T) {
			t.Fatalf("created %+v", company)
		}
		region := mustCreate(t, s, company.ID, "Region", "public")
		mustCreate(t, s, region, "Team", "")

		_, err = s.Create(admin, group.Group{Name: " "})
		wantCode(t, err, errs.Invalid, "name")
		_, err = s.Create(admin, group.Group{Name: "X", Visibility: "secret"})
		wantCode(t, err, errs.Invalid, "visibility")
		_, err = s.Create(admin, group.Group{Name: "Region", ParentID: company.ID})
		wantCode(t, err, errs.Conflict, "name")
		_, err = s.Create(admin, group.Group{Name: "Company"})
		wantCode(t, err, errs.Conflict, "name") // two roots with one name
		_, err = s.Create(admin, group.Group{Name: "Other", IDNumber: "C1"})
		wantCode(t, err, errs.Conflict, "idnumber")
		_, err = s.Create(admin, group.Group{Name: "X", ParentID: 9999})
		wantCode(t, err, errs.NotFound, "parent_id")
		// The same name under another parent, and many groups without idnumber, are fine.
		mustCreate(t, s, company.ID, "Team", "private")

		g, err := s.Get(admin, region)
		if err != nil || g.Visibility != "public" || g.Name != "Region" {
			t.Fatalf("get: %+v %v", g, err)
		}
		_, err = s.Get(admin, 9999)
		wantCode(t, err, errs.NotFound, "")

		clock.Advance(3600e9)
		g, err = s.Rename(admin, region, "North")
		if err != nil || g.Name != "North" || !g.UpdatedAt.Equal(clock.T) {
			t.Fatalf("rename: %+v %v", g, err)
		}
		_, err = s.Rename(admin, region, "Team")
		wantCode(t, err, errs.Conflict, "name")
		_, err = s.Rename(admin, region, "")
		wantCode(t, err, errs.Invalid, "name")
		_, err = s.Rename(admin, 9999, "Y")
		wantCode(t, err, errs.NotFound, "")

		var n int
		db.QueryRowContext(context.Background(), `SELECT count(*) FROM audit_events WHERE action LIKE 'group.%'`).Scan(&n)
		if n != 5 {
			t.Fatalf("audit events: %d, want 5 (4 creates, 1 rename)", n)
		}
	})
}

// tree builds Company (private) > Region (public) > {Team (public), Team2 (public)} and
// A (public) > B (private) > C (public).
type tree struct{ company, region, team, team2, a, b, c int64 }

func buildTree(t *testing.T, s *group.Service) tree {
	var tr tree
	tr.company = mustCreate(t, s, 0, "Company", "private")
	tr.region = mustCreate(t, s, tr.company, "Region", "public")
	tr.team = mustCreate(t, s, tr.region, "Team", "public")
	tr.team2 = mustCreate(t, s, tr.region, "Team2", "public")
	tr.a = mustCreate(t, s, 0, "A", "public")
	tr.b = mustCreate(t, s, tr.a, "B", "private")
	tr.c = mustCreate(t, s, tr.b, "C", "public")
	return tr
}

func TestPropagationAddRemove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := group.NewService(db)
		tr := buildTree(t, s)
		alice := addUser(t, db, "alice", "Alice", "Martin")
		bob := addUser(t, db, "bob", "Bob", "Durand")

		// The examples of the issue.
		mustAdd(t, s, tr.team, alice, "learner", "")
		wantMemberships(t, db, alice,
			"Team learner manual", "Region learner propagated:Team", "Company learner propagated:Team")
		mustAdd(t, s, tr.c, bob, "learner", "manual")
		wantMemberships(t, db, bob, "C learner manual", "B learner propagated:C")

		// Other roles stay in their group.
		mustAdd(t, s, tr.team, bob, "trainer", "")
		wantMemberships(t, db, bob, "C learner manual", "B learner propagated:C", "Team trainer manual")

		// Alice is also a learner of Region by hand, and of Team2 (which propagates too).
		mustAdd(t, s, tr.region, alice, "learner", "")
		mustAdd(t, s, tr.team2, alice, "learner", "")
		wantMemberships(t, db, alice,
			"Team learner manual", "Region learner propagated:Team", "Company learner propagated:Team",
			"Region learner manual", "Company learner propagated:Region",
			"Team2 learner manual", "Region learner propagated:Team2", "Company learner propagated:Team2")

		// Adding the same membership again changes nothing.
		mustAdd(t, s, tr.team, alice, "learner", "")
		// A second source for Team: removing the manual one keeps what Team implies.
		mustAdd(t, s, tr.team, alice, "learner", "import:7")
		if err := s.RemoveMember(admin, tr.team, alice, "learner", "manual"); err != nil {
			t.Fatal(err)
		}
		wantMemberships(t, db, alice,
			"Team learner import", "Region learner propagated:Team", "Company learner propagated:Team",
			"Region learner manual", "Company learner propagated:Region",
			"Team2 learner manual", "Region learner propagated:Team2", "Company learner propagated:Team2")

		// Removing the last reason removes exactly what Team caused.
		if err := s.RemoveMember(admin, tr.team, alice, "learner", "import:7"); err != nil {
			t.Fatal(err)
		}
		wantMemberships(t, db, alice,
			"Region learner manual", "Company learner propagated:Region",
			"Team2 learner manual", "Region learner propagated:Team2", "Company learner propagated:Team2")

		// A propagated membership cannot be removed by itself; a missing one is not found.
		err := s.RemoveMember(admin, tr.region, alice, "learner", "propagated:"+itoa(tr.team2))
		wantCode(t, err, errs.Invalid, "source")
		err = s.RemoveMember(admin, tr.team, alice, "learner", "manual")
		wantCode(t, err, errs.NotFound, "")

		// Empty role and source: every role this person holds here, except propagated ones.
		mustAdd(t, s, tr.region, alice, "trainer", "")
		if err := s.RemoveMember(admin, tr.region, alice, "", ""); err != nil {
			t.Fatal(err)
		}
		wantMemberships(t, db, alice,
			"Team2 learner manual", "Region learner propagated:Team2", "Company learner propagated:Team2")
	})
}

func TestAddMemberBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := group.NewService(db)
		tr := buildTree(t, s)
		alice := addUser(t, db, "alice", "Alice", "Martin")
		wantCode(t, s.AddMember(admin, 9999, alice, "learner", ""), errs.NotFound, "")
		err := s.AddMember(admin, tr.team, 9999, "learner", "")
		wantCode(t, err, errs.NotFound, "user_id")
		// The message names no internal id; the field says which input is wrong.
		if strings.Contains(err.Error(), "9999") || errs.As(err).Key != "no_account" {
			t.Fatalf("message: %v", err)
		}
		err = s.AddMember(admin, 9999, alice, "learner", "")
		if strings.Contains(err.Error(), "9999") || errs.As(err).Key != "no_such_group" {
			t.Fatalf("message: %v", err)
		}
		wantCode(t, s.AddMember(admin, tr.team, alice, "teacher", ""), errs.Invalid, "role")
		wantCode(t, s.AddMember(admin, tr.team, alice, "learner", "email"), errs.Invalid, "source")
		wantCode(t, s.AddMember(admin, tr.team, alice, "learner", "propagated:1"), errs.Invalid, "source")
		wantMemberships(t, db, alice) // nothing changed
	})
}

func TestConcurrentAdds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := group.NewService(db)
		tr := buildTree(t, s)
		alice := addUser(t, db, "alice", "Alice", "Martin")
		var wg sync.WaitGroup
		errc := make(chan error, 20)
		for range 20 {
			wg.Go(func() { errc <- s.AddMember(admin, tr.team, alice, "learner", "") })
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		wantMemberships(t, db, alice,
			"Team learner manual", "Region learner propagated:Team", "Company learner propagated:Team")
		var n int
		db.QueryRowContext(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'group.member.add'`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d audit events for one membership", n)
		}
	})
}

func TestVisibilityAndMoveRecompute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := group.NewService(db)
		tr := buildTree(t, s)
		alice := addUser(t, db, "alice", "Alice", "Martin")
		bob := addUser(t, db, "bob", "Bob", "Durand")
		mustAdd(t, s, tr.team, alice, "learner", "")
		mustAdd(t, s, tr.region, bob, "learner", "")
		mustAdd(t, s, tr.company, bob, "learner", "")

		priv, pub := "private", "public"
		if _, err := s.Update(admin, tr.region, group.Update{Visibility: &priv}); err != nil {
			t.Fatal(err)
		}
		wantMemberships(t, db, alice, "Team learner manual", "Region learner propagated:Team")
		wantMemberships(t, db, bob, "Region learner manual", "Company learner manual")
		if _, err := s.Update(admin, tr.region, group.Update{Visibility: &pub}); err != nil {
			t.Fatal(err)
		}
		wantMemberships(t, db, alice,
			"Team learner manual", "Region learner propagated:Team", "Company learner propagated:Team")
		wantMemberships(t, db, bob, "Region learner manual", "Company learner manual", "Company learner propagated:Region")
		if _, err := s.Update(admin, tr.team, group.Update{Visibility: &priv}); err != nil {
			t.Fatal(err)
		}
		wantMemberships(t, db, alice, "Team learner manual")
		if _, err := s.Update(admin, tr.team, group.Update{Visibility: &pub}); err != nil {
			t.Fatal(err)
		}

		// Move Region (with Team) under C: A (public) > B (private) > C (public) > Region > Team.
		if _, err := s.Move(admin, tr.region, tr.c); err != nil {
			t.Fatal(err)
		}
		wantMemberships(t, db, alice,
			"Team learner manual", "Region learner propagated:Team", "C learner propagated:Team", "B learner propagated:Team")
		wantMemberships(t, db, bob, "Region learner manual", "Company learner manual",
			"C learner propagated:Region", "B learner propagated:Region")

		// Cycles are refused, with the message of the issue, and change nothing.
		_, err := s.Move(admin, tr.region, tr.team)
		wantCode(t, err, errs.Invalid, "parent_id")
		if !strings.Contains(err.Error(), "cannot move a group under its own sub-group") {
			t.Fatalf("message: %v", err)
		}
		_, err = s.Move(admin, tr.region, tr.region)
		wantCode(t, err, errs.Invalid, "parent_id")
		_, err = s.Move(admin, tr.a, tr.team)
		wantCode(t, err, errs.Invalid, "parent_id")
		_, err = s.Move(admin, tr.region, 9999)
		wantCode(t, err, errs.NotFound, "parent_id")

		// A name taken under the new parent.
		mustCreate(t, s, tr.company, "Team", "private")
		_, err = s.Move(admin, tr.team, tr.company)
		wantCode(t, err, errs.Conflict, "name")

		// Back to the top level.
		if _, err := s.Move(admin, tr.region, 0); err != nil {
			t.Fatal(err)
		}
		wantMemberships(t, db, alice, "Team learner manual", "Region learner propagated:Team")
		g, _ := s.Get(admin, tr.region)
		if g.ParentID != 0 {
			t.Fatalf("parent after move to top: %d", g.ParentID)
		}
	})
}

func TestDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := group.NewService(db)
		tr := buildTree(t, s)
		sub := mustCreate(t, s, tr.team, "Squad", "public")
		alice := addUser(t, db, "alice", "Alice", "Martin")
		bob := addUser(t, db, "bob", "Bob", "Durand")
		mustAdd(t, s, sub, alice, "learner", "")
		mustAdd(t, s, tr.team2, alice, "learner", "")
		mustAdd(t, s, tr.team, bob, "trainer", "")

		p, err := s.DeletePreview(admin, tr.team)
		if err != nil {
			t.Fatal(err)
		}
		want := group.DeletePreview{SubGroups: 1, Members: 2, Memberships: 3, Propagated: 2}
		if *p != want {
			t.Fatalf("preview %+v, want %+v", *p, want)
		}
		err = s.Delete(admin, tr.team, false)
		wantCode(t, err, errs.Conflict, "")
		if !strings.Contains(err.Error(), "1 sub-group,") || !strings.Contains(errs.As(err).In("fr"), "1 sous-groupe,") {
			t.Fatalf("message should say what goes: %v", err)
		}
		if err := s.Delete(admin, tr.team, true); err != nil {
			t.Fatal(err)
		}
		wantMemberships(t, db, alice, "Team2 learner manual", "Region learner propagated:Team2", "Company learner propagated:Team2")
		wantMemberships(t, db, bob)
		_, err = s.Get(admin, sub)
		wantCode(t, err, errs.NotFound, "")
		// An empty group goes without confirmation.
		empty := mustCreate(t, s, tr.region, "Empty", "private")
		if err := s.Delete(admin, empty, false); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.Delete(admin, 9999, true), errs.NotFound, "")
	})
}

func TestPreviewMembersCSVTree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := group.NewService(db)
		tr := buildTree(t, s)
		alice := addUser(t, db, "alice", "Alice", "Martin")
		bob := addUser(t, db, "bob", "=Bob", "Durand")
		carol := addUser(t, db, "carol", "Carol", "Martin")

		also, err := s.PreviewAdd(admin, tr.team, alice, "learner")
		if err != nil || names(also) != "Region,Company" {
			t.Fatalf("preview: %v %v", names(also), err)
		}
		mustAdd(t, s, tr.region, alice, "learner", "")
		also, _ = s.PreviewAdd(admin, tr.team, alice, "learner")
		if names(also) != "" {
			t.Fatalf("preview when already a learner above: %v", names(also))
		}
		also, _ = s.PreviewAdd(admin, tr.team, bob, "trainer")
		if len(also) != 0 {
			t.Fatalf("trainer preview: %v", names(also))
		}
		_, err = s.PreviewAdd(admin, tr.team, bob, "boss")
		wantCode(t, err, errs.Invalid, "role")

		mustAdd(t, s, tr.team, alice, "learner", "")
		mustAdd(t, s, tr.team, bob, "trainer", "")
		mustAdd(t, s, tr.team, carol, "learner", "")

		items, next, err := s.Members(admin, tr.region, group.MemberFilter{})
		if err != nil || next != "" {
			t.Fatal(err, next)
		}
		var got []string
		for _, m := range items {
			got = append(got, m.FirstName+" "+m.Role+" "+m.Source.String()+" "+m.SourceName)
		}
		// Martin Alice: manual, propagated from Team; Martin Carol: propagated from Team.
		want := []string{"Alice learner manual ", "Alice learner propagated:" + itoa(tr.team) + " Team", "Carol learner propagated:" + itoa(tr.team) + " Team"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("members of Region:\n%q\nwant\n%q", got, want)
		}

		// Paging: one row at a time through Team's three members.
		var all []string
		f := group.MemberFilter{Limit: 1}
		for {
			items, next, err := s.Members(admin, tr.team, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range items {
				all = append(all, m.Username)
			}
			if next == "" {
				break
			}
			f.Cursor = next
		}
		if strings.Join(all, ",") != "bob,alice,carol" {
			t.Fatalf("pages: %v", all)
		}
		items, _, _ = s.Members(admin, tr.team, group.MemberFilter{Q: "martin"})
		if len(items) != 2 {
			t.Fatalf("search martin: %d", len(items))
		}
		items, _, _ = s.Members(admin, tr.team, group.MemberFilter{Q: "Alice Mar"})
		if len(items) != 1 || items[0].UserID != alice {
			t.Fatalf("search full name: %+v", items)
		}
		items, _, _ = s.Members(admin, tr.team, group.MemberFilter{Q: "carol@example"})
		if len(items) != 1 || items[0].UserID != carol {
			t.Fatalf("search email: %+v", items)
		}
		items, _, _ = s.Members(admin, tr.team, group.MemberFilter{Q: "%"})
		if len(items) != 0 {
			t.Fatalf("a %% is not a wildcard: %+v", items)
		}
		items, _, _ = s.Members(admin, tr.team, group.MemberFilter{Role: "trainer"})
		if len(items) != 1 || items[0].UserID != bob {
			t.Fatalf("role filter: %+v", items)
		}
		_, _, err = s.Members(admin, tr.team, group.MemberFilter{Cursor: "nonsense!"})
		wantCode(t, err, errs.Invalid, "cursor")

		var buf bytes.Buffer
		if err := s.MembersCSV(admin, tr.team, group.MemberFilter{}, &buf); err != nil {
			t.Fatal(err)
		}
		wantCSV := "user_id,username,email,first_name,last_name,role,source,source_group\n" +
			itoa(bob) + ",bob,bob@example.org,'=Bob,Durand,trainer,manual,\n" +
			itoa(alice) + ",alice,alice@example.org,Alice,Martin,learner,manual,\n" +
			itoa(carol) + ",carol,carol@example.org,Carol,Martin,learner,manual,\n"
		if buf.String() != wantCSV {
			t.Fatalf("csv:\n%s\nwant\n%s", buf.String(), wantCSV)
		}

		forest, err := s.Tree(admin)
		if err != nil {
			t.Fatal(err)
		}
		if len(forest) != 2 || forest[0].Name != "A" || forest[1].Name != "Company" {
			t.Fatalf("roots: %+v", forest)
		}
		region := forest[1].Children[0]
		if region.Name != "Region" || region.MemberCount != 2 || region.Depth != 1 || len(region.Children) != 2 ||
			region.Children[0].MemberCount != 3 {
			t.Fatalf("region node: %+v", region)
		}
		kids, err := s.Children(admin, tr.region)
		if err != nil || len(kids) != 2 || kids[0].Name != "Team" || kids[0].MemberCount != 3 {
			t.Fatalf("children: %+v %v", kids, err)
		}
	})
}

// TestScopedAdministration drives the service as a group_admin of Region: it manages Region
// and Team, and nothing else.
func TestScopedAdministration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		s := group.NewService(db)
		tr := buildTree(t, s)
		ga := addUser(t, db, "ga", "Gail", "Admin")
		alice := addUser(t, db, "alice", "Alice", "Martin")
		mustAdd(t, s, tr.region, ga, "group_admin", "")
		ctx := authz.With(context.Background(), &authz.Principal{UserID: ga})

		// Alice belongs nowhere the group admin sees: her id is not enough to add her (as for
		// an unknown id), her login is, and the addition gives no power over her account.
		wantCode(t, s.AddMember(ctx, tr.team, alice, "learner", ""), errs.NotFound, "user_id")
		if err := s.AddNamedMember(ctx, tr.team, alice, "learner"); err != nil {
			t.Fatalf("add in scope: %v", err)
		}
		var anchors bool
		if err := db.QueryRowContext(context.Background(), `SELECT anchors FROM group_members WHERE group_id = $1 AND user_id = $2
			AND source_kind = 'manual'`, tr.team, alice).Scan(&anchors); err != nil || anchors {
			t.Fatalf("a pulled-in person anchors: %v %v", anchors, err)
		}
		if err := authz.CanViewUser(ctx, db, alice); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the adder sees the pulled-in account: %v", err)
		}
		wantCode(t, s.AddMember(ctx, tr.company, alice, "learner", ""), errs.Forbidden, "")
		wantCode(t, s.AddMember(ctx, tr.team2, alice, "user_admin", ""), errs.Forbidden, "")
		wantCode(t, s.AddMember(context.Background(), tr.team, alice, "trainer", ""), errs.Unauthorized, "")
		squad, err := s.Create(ctx, group.Group{ParentID: tr.team, Name: "Squad"})
		if err != nil {
			t.Fatalf("create in scope: %v", err)
		}
		_, err = s.Create(ctx, group.Group{Name: "Mine"})
		wantCode(t, err, errs.Forbidden, "")
		_, err = s.Create(ctx, group.Group{ParentID: tr.company, Name: "Mine"})
		wantCode(t, err, errs.Forbidden, "")
		if _, err := s.Move(ctx, squad.ID, tr.team2); err != nil {
			t.Fatalf("move within scope: %v", err)
		}
		_, err = s.Move(ctx, tr.team, tr.c)
		wantCode(t, err, errs.Forbidden, "")
		_, err = s.Move(ctx, tr.region, tr.team2)
		wantCode(t, err, errs.Forbidden, "") // its own group: the parent decides
		wantCode(t, s.Delete(ctx, tr.region, true), errs.Forbidden, "")
		priv := "private"
		_, err = s.Update(ctx, tr.region, group.Update{Visibility: &priv})
		wantCode(t, err, errs.Forbidden, "")
		if _, err := s.Rename(ctx, tr.region, "North"); err != nil {
			t.Fatalf("rename own group: %v", err)
		}
		if err := s.Delete(ctx, squad.ID, true); err != nil {
			t.Fatalf("delete in scope: %v", err)
		}
		_, err = s.Get(ctx, tr.company)
		wantCode(t, err, errs.Forbidden, "")
		forest, err := s.Tree(ctx)
		if err != nil || len(forest) != 1 || forest[0].ID != tr.region || len(forest[0].Children) != 2 {
			t.Fatalf("scoped tree: %+v %v", forest, err)
		}
		_, err = s.Children(ctx, 0)
		wantCode(t, err, errs.Forbidden, "")
		checkInvariant(t, db)
	})
}

func names(gs []group.Group) string {
	var n []string
	for _, g := range gs {
		n = append(n, g.Name)
	}
	return strings.Join(n, ",")
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
