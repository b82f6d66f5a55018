package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestTakeOverChainFails plays the hostile scoped administrator of issue 12 end to end: a user
// administrator of A tries to take over a learner of the sibling group B (add to A, change
// the email, reset the password), by id, by login and through "add these existing accounts
// instead"; tries the same on an account in no group; and a group administrator pulls the
// platform administrator in to read their address.
func TestTakeOverChainFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		f := newMatrixFixture(t, db)
		id := func(name string) string { return strconv.FormatInt(f.ids[name], 10) }
		gA := id("gA")
		status := func(caller, method, path, body string, want int) string {
			t.Helper()
			rec := f.do(caller, method, path, body, false)
			if rec.Code != want {
				t.Fatalf("%s %s as %s: %d %s, want %d", method, path, caller, rec.Code, rec.Body.String(), want)
			}
			return rec.Body.String()
		}
		victim := id("uOut")

		// Step 1 fails: the victim's id is not enough (404, as for an unknown id).
		status("tok:UA", "PUT", "/api/v1/groups/"+gA+"/members/"+victim, `{"role":"learner"}`, 404)
		status("tok:UA", "PUT", "/api/v1/groups/"+gA+"/members/987654", `{"role":"learner"}`, 404)
		// The weaker right still adds a known person, but anchors nothing: step 2 fails.
		status("tok:UA", "POST", "/api/v1/invitations/add-existing",
			`{"user_ids":["`+victim+`"],"groups":[{"group_id":"`+gA+`","role":"learner"}]}`, 204)
		status("UA", "POST", "/groups/"+gA+"/members", "login=outside&role=trainer", 303)
		status("tok:UA", "PATCH", "/api/v1/users/"+victim, `{"email":"attacker@evil.example"}`, 403)
		status("tok:UA", "GET", "/api/v1/users/"+victim, "", 403)
		// Even if the victim leaves B, memberships made by additions do not anchor.
		if err := f.svc.groups.RemoveMember(f.sys, f.ids["gB"], f.ids["uOut"], "", ""); err != nil {
			t.Fatal(err)
		}
		status("tok:UA", "PATCH", "/api/v1/users/"+victim, `{"email":"attacker@evil.example"}`, 403)
		status("UA", "POST", "/admin/users/"+victim+"/status", "status=suspended", 403)
		// Step 3: the reset link goes to the victim's own address only.
		status("AN", "POST", "/api/v1/auth/password/forgot", `{"login":"attacker@evil.example"}`, 202)
		var n int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM outbox WHERE to_addr LIKE '%evil.example'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("mail to the attacker: %d %v", n, err)
		}

		// An account in no group: added by login, still the platform's.
		lonely := f.user("lonely", false, 0, "")
		lid := strconv.FormatInt(lonely, 10)
		status("UA", "POST", "/groups/"+gA+"/members", "login=lonely&role=learner", 303)
		status("tok:UA", "PATCH", "/api/v1/users/"+lid, `{"first_name":"Mine"}`, 403)
		status("tok:P", "PATCH", "/api/v1/users/"+lid, `{"first_name":"Fine"}`, 200)

		// A group administrator pulls the platform administrator in: no address shown.
		status("GA", "POST", "/groups/"+gA+"/members", "login=padmin&role=learner", 303)
		page := status("GA", "GET", "/groups/"+gA+"/members/add?login=padmin&role=trainer", "", 200)
		if strings.Contains(page, "padmin@example.org") {
			t.Error("the add preview shows the address of someone outside the caller's sight")
		}
		var members struct {
			Items []struct {
				UserID   string `json:"user_id"`
				Username string `json:"username"`
				Email    string `json:"email"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(status("tok:GA", "GET", "/api/v1/groups/"+gA+"/members?limit=500", "", 200)), &members); err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, m := range members.Items {
			seen[m.UserID] = m.Email
		}
		if e, ok := seen[id("P")]; !ok || e != "" {
			t.Errorf("the pulled-in platform administrator: present %v, address %q", ok, e)
		}
		if e := seen[id("L")]; e != "ln@example.org" {
			t.Errorf("a learner who belongs to A: address %q", e)
		}
		if body := status("tok:GA", "GET", "/api/v1/groups/"+gA+"/members?q=padmin%40", "", 200); strings.Contains(body, id("P")) {
			t.Error("searching members by a hidden address finds them")
		}
		status("tok:GA", "GET", "/api/v1/users/"+id("P"), "", 403)

		// Contrast: an account the user administrator creates in A is theirs to manage.
		body := status("tok:UA", "POST", "/api/v1/users", `{"email":"made@example.org","first_name":"Made","last_name":"Here","notify":false,"groups":[{"group_id":"`+gA+`","role":"learner"}]}`, 201)
		var made struct{ ID string }
		if err := json.Unmarshal([]byte(body), &made); err != nil {
			t.Fatal(err)
		}
		status("tok:UA", "PATCH", "/api/v1/users/"+made.ID, `{"email":"made2@example.org"}`, 200)
		// A learner of A1 (belongs in A's subtree only) too; once also in B, no longer.
		status("tok:UA", "PATCH", "/api/v1/users/"+id("uIn"), `{"first_name":"Ina"}`, 200)
		if err := f.svc.groups.AddMember(f.sys, f.ids["gB1"], f.ids["uIn"], group.Learner, ""); err != nil {
			t.Fatal(err)
		}
		status("tok:UA", "PATCH", "/api/v1/users/"+id("uIn"), `{"first_name":"Ina"}`, 403)
	})
}

// TestTokensStayInTheirLane: a SCIM token calls SCIM only; API tokens the API only; a
// suspended person's tokens are revoked for good.
func TestTokensStayInTheirLane(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		f := newMatrixFixture(t, db)
		code := func(caller, method, path, body string) int { return f.do(caller, method, path, body, false).Code }
		if c := code("SC", "GET", "/scim/v2/Users", ""); c != 200 {
			t.Errorf("SCIM token on SCIM: %d", c)
		}
		gA := strconv.FormatInt(f.ids["gA"], 10)
		for _, p := range [][3]string{{"GET", "/api/v1/users", ""}, {"GET", "/api/v1/groups/" + gA + "/members", ""},
			{"POST", "/api/v1/invitations", `{"emails":"x@example.org","groups":[{"group_id":"` + gA + `","role":"user_admin"}]}`},
			{"GET", "/", ""}, {"GET", "/metrics", ""}} {
			if c := code("SC", p[0], p[1], p[2]); c != 403 {
				t.Errorf("SCIM token on %s %s: %d, want 403", p[0], p[1], c)
			}
		}
		if c := code("tok:P", "GET", "/scim/v2/Users", ""); c != 403 {
			t.Errorf("API token on SCIM: %d", c)
		}
		if c := code("tok:P", "GET", "/admin/users", ""); c != 403 {
			t.Errorf("API token on a page: %d", c)
		}
		var kinds []string
		rows, err := db.QueryContext(context.Background(), `SELECT DISTINCT kind FROM api_tokens ORDER BY kind`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			rows.Scan(&k)
			kinds = append(kinds, k)
		}
		rows.Close()
		if strings.Join(kinds, ",") != "api,scim" {
			t.Errorf("token kinds: %v", kinds)
		}

		// Suspension revokes for good.
		l := strconv.FormatInt(f.ids["L"], 10)
		if c := code("tok:L", "GET", "/api/v1/me", ""); c != 200 {
			t.Fatalf("learner token: %d", c)
		}
		if c := code("tok:P", "PATCH", "/api/v1/users/"+l, `{"status":"suspended"}`); c != 200 {
			t.Fatalf("suspend: %d", c)
		}
		if c := code("tok:P", "PATCH", "/api/v1/users/"+l, `{"status":"active"}`); c != 200 {
			t.Fatalf("reactivate: %d", c)
		}
		if c := code("tok:L", "GET", "/api/v1/me", ""); c != 401 {
			t.Errorf("a suspended then reactivated person's token: %d, want 401", c)
		}
	})
}

// TestInvitationsAnswerAlike: those who may not manage invitations learn nothing from the
// invitation endpoints, whether the address is invited or not; a group administrator learns
// nothing about another group's invitations.
func TestInvitationsAnswerAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		f := newMatrixFixture(t, db)
		answer := func(caller, addr string) string {
			rec := f.do(caller, "POST", "/api/v1/invitations/cancel", `{"emails":"`+addr+`"}`, false)
			return strconv.Itoa(rec.Code) + " " + strings.ReplaceAll(rec.Body.String(), addr, "ADDR")
		}
		invited, other := f.mails["invB"], "never-invited@example.org"
		for _, caller := range []string{"L", "tok:L", "TR", "GA", "UA"} {
			a, b := answer(caller, invited), answer(caller, other)
			if a != b {
				t.Errorf("%s: invited %s / not invited %s", caller, a, b)
			}
			if strings.Contains(a, strconv.FormatInt(f.ids["invB"], 10)+`"`) {
				t.Errorf("%s learns the invitation id: %s", caller, a)
			}
		}
		if !strings.HasPrefix(answer("L", other), "403") {
			t.Errorf("a learner: %s", answer("L", other))
		}
		inv := strconv.FormatInt(f.ids["invB"], 10)
		for _, path := range []string{"/api/v1/invitations/" + inv, "/api/v1/invitations/987654"} {
			if c := f.do("GA", "GET", path, "", false).Code; c != 404 {
				t.Errorf("group administrator of A on %s: %d, want 404", path, c)
			}
			if c := f.do("L", "GET", path, "", false).Code; c != 403 {
				t.Errorf("learner on %s: %d, want 403", path, c)
			}
		}
		// The invitation is still pending.
		var status string
		if err := db.QueryRowContext(context.Background(), `SELECT status FROM invitations WHERE id = $1`, f.ids["invB"]).Scan(&status); err != nil || status != "pending" {
			t.Errorf("invitation B: %s %v", status, err)
		}
	})
}

// TestTokenCreatePrintsKind: `roster token create` prints the token alone on stdout and what
// it may do on stderr.
func TestTokenCreatePrintsKind(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "roster.db")
	env := map[string]string{"ROSTER_DB": "sqlite:" + dbPath}
	m := NewMain()
	var out, errOut syncBuffer
	m.Stdout, m.Stderr = &out, &errOut
	m.Getenv = func(k string) string { return env[k] }
	if err := m.Run(context.Background(), []string{"token", "create", "--name", "idp", "--scim", "--group", "7"}); err != nil {
		t.Fatalf("token create: %v %s", err, errOut.String())
	}
	m.Close()
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 1 || len(lines[0]) < 43 {
		t.Errorf("stdout: %q", out.String())
	}
	if !strings.Contains(errOut.String(), "kind: scim") || !strings.Contains(errOut.String(), "/scim/v2 only") {
		t.Errorf("stderr: %q", errOut.String())
	}
}
