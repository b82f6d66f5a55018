package group_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

var admin = authz.With(context.Background(), &authz.Principal{UserID: 0, PlatformAdmin: true})

// addUser inserts a user directly and returns its id.
func addUser(t testing.TB, db *store.DB, username, first, last string) int64 {
	t.Helper()
	var id int64
	email := username + "@example.org"
	err := db.QueryRowContext(context.Background(), `INSERT INTO users (username, email, email_norm, first_name, last_name, created_at, updated_at)
		VALUES ($1, $2, $2, $3, $4, 0, 0) RETURNING id`, username, email, first, last).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustCreate(t testing.TB, s *group.Service, parent int64, name, visibility string) int64 {
	t.Helper()
	g, err := s.Create(admin, group.Group{ParentID: parent, Name: name, Visibility: visibility})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return g.ID
}

func mustAdd(t testing.TB, s *group.Service, groupID, userID int64, role, source string) {
	t.Helper()
	if err := s.AddMember(admin, groupID, userID, role, source); err != nil {
		t.Fatalf("add %d to %d as %s (%s): %v", userID, groupID, role, source, err)
	}
}

// memberships returns a user's memberships as "group role source" lines, sorted, with group
// names for ids.
func memberships(t testing.TB, db *store.DB, userID int64) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT g.name, m.role, m.source_kind, COALESCE(o.name, '')
		FROM group_members m JOIN groups g ON g.id = m.group_id
		LEFT JOIN groups o ON m.source_kind = 'propagated' AND o.id = m.source_ref
		WHERE m.user_id = $1`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g, role, kind, origin string
		if err := rows.Scan(&g, &role, &kind, &origin); err != nil {
			t.Fatal(err)
		}
		s := g + " " + role + " " + kind
		if origin != "" {
			s += ":" + origin
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func wantMemberships(t testing.TB, db *store.DB, userID int64, want ...string) {
	t.Helper()
	slices.Sort(want)
	got := memberships(t, db, userID)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("memberships of %d:\ngot  %q\nwant %q", userID, got, want)
	}
	checkInvariant(t, db)
}

// checkInvariant recomputes every propagated membership from scratch (direct learners ×
// Propagation of their group's chain) and compares with the table.
func checkInvariant(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT p.descendant_id, g.id, g.visibility FROM group_paths p
		JOIN groups g ON g.id = p.ancestor_id ORDER BY p.descendant_id, p.depth`)
	if err != nil {
		t.Fatal(err)
	}
	chains := map[int64][]group.Link{}
	for rows.Next() {
		var d, id int64
		var vis string
		if err := rows.Scan(&d, &id, &vis); err != nil {
			t.Fatal(err)
		}
		chains[d] = append(chains[d], group.Link{ID: id, Public: vis == "public"})
	}
	rows.Close()
	want := map[string]bool{}
	rows, err = db.QueryContext(ctx, `SELECT DISTINCT group_id, user_id FROM group_members WHERE role = 'learner' AND source_kind <> 'propagated'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var g, u int64
		rows.Scan(&g, &u)
		for _, target := range group.Propagation(chains[g])[1:] {
			want[fmt.Sprintf("%d/%d/%d", target, u, g)] = true
		}
	}
	rows.Close()
	got := map[string]bool{}
	rows, err = db.QueryContext(ctx, `SELECT group_id, user_id, source_ref, role FROM group_members WHERE source_kind = 'propagated'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var g, u, o int64
		var role string
		rows.Scan(&g, &u, &o, &role)
		if role != "learner" {
			t.Errorf("propagated %s row", role)
		}
		got[fmt.Sprintf("%d/%d/%d", g, u, o)] = true
	}
	rows.Close()
	for k := range want {
		if !got[k] {
			t.Errorf("invariant: missing propagated row group/user/origin %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("invariant: extra propagated row group/user/origin %s", k)
		}
	}
	// The closure agrees with parent_id.
	var bad int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM groups g WHERE NOT EXISTS (SELECT 1 FROM group_paths p
		WHERE p.ancestor_id = COALESCE(g.parent_id, g.id) AND p.descendant_id = g.id AND p.depth = CASE WHEN g.parent_id IS NULL THEN 0 ELSE 1 END)`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("invariant: %d groups whose closure misses their parent", bad)
	}
}

func wantCode(t testing.TB, err error, code errs.Code, field string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if field == "" {
		return
	}
	for _, f := range errs.As(err).Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("want an error naming %q, got %v (fields %+v)", field, err, errs.As(err).Fields)
}
