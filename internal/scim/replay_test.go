package scim_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// The replays below are the request sequences Microsoft Entra ID and Okta send, as their
// provisioning documentation and logs show them (docs/scim.md has them with comments).

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func TestEntraReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db)
		ctx := context.Background()

		// "Test connection": a filter on a userName that does not exist.
		r.do("GET", `/scim/v2/Users?filter=userName eq "non-existent user"`, nil).want(t, 200)
		if got := r.do("GET", `/scim/v2/Users?filter=userName eq "non-existent user"`, nil); got.total() != 0 {
			t.Fatalf("totalResults %d", got.total())
		}

		// Create: matching by userName first, then POST.
		const upn = "Test_User_dfeef4c5@contoso.com"
		r.do("GET", `/scim/v2/Users?filter=userName eq "`+upn+`"`, nil).want(t, 200)
		created := r.do("POST", "/scim/v2/Users", map[string]any{
			"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:User", enterpriseURN},
			"externalId":  "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
			"userName":    upn,
			"active":      true,
			"emails":      []any{map[string]any{"primary": true, "type": "work", "value": "Test_User_11bb6802@contoso.com"}},
			"meta":        map[string]any{"resourceType": "User"},
			"name":        map[string]any{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
			"roles":       []any{},
			enterpriseURN: map[string]any{"employeeNumber": "100009", "department": "Human Resources US"},
		}).want(t, 201)
		id := created.str("id")
		if created.str("userName") != upn || created.str("meta.location") != "https://roster.test/scim/v2/Users/"+id ||
			created.Header.Get("Location") == "" || created.Header.Get("ETag") != created.str("meta.version") {
			t.Fatalf("created: %s", created.Raw)
		}
		if created.str(enterpriseURN+".department") != "Human Resources US" {
			t.Fatalf("enterprise extension lost: %s", created.Raw)
		}
		uid := r.sqlInt(`SELECT id FROM users WHERE username = $1`, "test_user_dfeef4c5@contoso.com")
		if auth := r.sqlString(`SELECT auth FROM users WHERE id = $1`, uid); auth != "oidc" {
			t.Fatalf("auth %q", auth)
		}
		if n := r.sqlInt(`SELECT count(*) FROM group_members WHERE group_id = $1 AND user_id = $2 AND source_kind = 'scim'
			AND role = 'learner'`, r.scopeID, uid); n != 1 {
			t.Fatalf("the user is not a SCIM learner of the token's group (%d)", n)
		}

		// Matching again, by userName and by externalId.
		got := r.do("GET", `/scim/v2/Users?filter=userName eq "`+upn+`"`, nil).want(t, 200)
		if got.total() != 1 || got.str("Resources.0.id") != id {
			t.Fatalf("filter by userName: %s", got.Raw)
		}
		got = r.do("GET", `/scim/v2/Users?filter=externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, nil).want(t, 200)
		if got.total() != 1 {
			t.Fatalf("filter by externalId: %s", got.Raw)
		}

		// Update multi-valued and single-valued attributes, PascalCase ops.
		clock.Advance(60e9)
		upd := r.do("PATCH", "/scim/v2/Users/"+id, patch(
			op("Replace", `emails[type eq "work"].value`, "updatedEmail@contoso.com"),
			op("Replace", "name.familyName", "updatedFamilyName"),
			op("Add", enterpriseURN+":manager", "2819c223"),
			op("Replace", "phoneNumbers[type eq \"mobile\"].value", "+33 6 12 34 56 78"),
		)).want(t, 200)
		if upd.str("emails.0.value") != "updatedEmail@contoso.com" || upd.str("name.familyName") != "updatedFamilyName" ||
			upd.str(enterpriseURN+".manager.value") != "2819c223" || upd.str("phoneNumbers.0.type") != "mobile" {
			t.Fatalf("patched: %s", upd.Raw)
		}
		if upd.str("meta.version") == created.str("meta.version") {
			t.Fatal("version did not change")
		}
		if e := r.sqlString(`SELECT email FROM users WHERE id = $1`, uid); e != "updatedEmail@contoso.com" {
			t.Fatalf("users.email %q", e)
		}
		if r.do("GET", `/scim/v2/Users?filter=phoneNumbers[type eq "mobile" and value sw "+33"]`, nil).total() != 1 {
			t.Fatal("phone filter")
		}

		// Disable: sessions end and the user's API tokens are revoked at once.
		sys := authz.With(ctx, authz.System)
		if _, err := r.accounts.CreateSession(ctx, uid, "192.0.2.1", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.accounts.CreateAPIToken(sys, "personal", uid, 0); err != nil {
			t.Fatal(err)
		}
		r.do("PATCH", "/scim/v2/Users/"+id, patch(op("Replace", "active", "False"))).want(t, 200)
		if s := r.sqlString(`SELECT status FROM users WHERE id = $1`, uid); s != "suspended" {
			t.Fatalf("status %q", s)
		}
		if n := r.sqlInt(`SELECT count(*) FROM sessions WHERE user_id = $1`, uid); n != 0 {
			t.Fatalf("%d sessions left", n)
		}
		if n := r.sqlInt(`SELECT count(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL`, uid); n != 0 {
			t.Fatalf("%d tokens left", n)
		}
		if r.do("GET", "/scim/v2/Users/"+id, nil).get("active") != false {
			t.Fatal("active should read false")
		}
		if r.do("GET", `/scim/v2/Users?filter=active eq false`, nil).total() != 1 {
			t.Fatal("filter active eq false")
		}
		r.do("PATCH", "/scim/v2/Users/"+id, patch(op("Replace", "", map[string]any{"active": true}))).want(t, 200)
		if s := r.sqlString(`SELECT status FROM users WHERE id = $1`, uid); s != "active" {
			t.Fatalf("status after reactivation %q", s)
		}

		// Groups: match by displayName, create, add and remove members, rename.
		r.do("GET", `/scim/v2/Groups?excludedAttributes=members&filter=displayName eq "Sales"`, nil).want(t, 200)
		g := r.do("POST", "/scim/v2/Groups", map[string]any{
			"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
			"displayName": "Sales", "meta": map[string]any{"resourceType": "Group"}, "members": []any{},
		}).want(t, 201)
		gid := g.str("id")
		second := r.do("POST", "/scim/v2/Users", userJSON("second@contoso.com", "Second", "User")).want(t, 201).str("id")
		r.do("PATCH", "/scim/v2/Groups/"+gid, patch(op("Add", "members",
			[]any{map[string]any{"$ref": nil, "value": id}, map[string]any{"$ref": nil, "value": second}}))).want(t, 204)
		if got := r.do("GET", "/scim/v2/Groups/"+gid, nil); len(got.get("members").([]any)) != 2 {
			t.Fatalf("members: %s", got.Raw)
		}
		if got := r.do("GET", `/scim/v2/Groups?filter=id eq "`+gid+`" and members[value eq "`+id+`"]&excludedAttributes=members`, nil); got.total() != 1 || got.get("Resources.0.members") != nil {
			t.Fatalf("member filter: %s", got.Raw)
		}
		// Entra's removal form removes the listed members only.
		r.do("PATCH", "/scim/v2/Groups/"+gid, patch(op("Remove", "members",
			[]any{map[string]any{"$ref": nil, "value": id}}))).want(t, 204)
		got = r.do("GET", "/scim/v2/Groups/"+gid, nil)
		if m := got.get("members").([]any); len(m) != 1 || got.str("members.0.value") != second {
			t.Fatalf("after removal: %s", got.Raw)
		}
		r.do("PATCH", "/scim/v2/Groups/"+gid, patch(op("Replace", "displayName", "Sales EMEA"))).want(t, 204)
		if got := r.do("GET", "/scim/v2/Groups/"+gid+"?excludedAttributes=members", nil); got.str("displayName") != "Sales EMEA" ||
			got.get("members") != nil {
			t.Fatalf("renamed: %s", got.Raw)
		}
		if got := r.do("GET", "/scim/v2/Users/"+second, nil); got.str("groups.0.display") != "Sales EMEA" {
			t.Fatalf("user groups: %s", got.Raw)
		}

		// Unassignment: DELETE suspends and marks for deletion; SCIM no longer sees the user.
		r.do("DELETE", "/scim/v2/Users/"+id, nil).want(t, 204)
		r.do("GET", "/scim/v2/Users/"+id, nil).wantError(t, 404, "")
		if n := r.sqlInt(`SELECT count(*) FROM users WHERE id = $1 AND status = 'suspended' AND delete_at IS NOT NULL
			AND deleted_at IS NULL`, uid); n != 1 {
			t.Fatal("DELETE must suspend and set delete_at, not erase")
		}
		// Assigned again before the deletion date: the same account comes back.
		back := r.do("POST", "/scim/v2/Users", userJSON(upn, "givenName", "familyName")).want(t, 201)
		if back.str("id") != id || back.get("active") != true {
			t.Fatalf("restored: %s", back.Raw)
		}
		r.do("DELETE", "/scim/v2/Groups/"+gid, nil).want(t, 204)
		r.do("GET", "/scim/v2/Groups/"+gid, nil).wantError(t, 404, "")
		if n := r.sqlInt(`SELECT count(*) FROM audit_events WHERE action LIKE 'scim.%'`); n < 10 {
			t.Fatalf("only %d SCIM audit events", n)
		}
	})
}

func TestOktaReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		r.do("GET", "/scim/v2/ServiceProviderConfig", nil).want(t, 200)
		r.do("GET", `/scim/v2/Users?filter=userName eq "test.user@okta.local"&startIndex=1&count=100`, nil).want(t, 200)
		created := r.do("POST", "/scim/v2/Users", map[string]any{
			"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName":    "test.user@okta.local",
			"name":        map[string]any{"givenName": "Test", "familyName": "User"},
			"emails":      []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work"}},
			"displayName": "Test User", "locale": "fr-FR", "externalId": "00ujl29u0le5T6Aj10h7",
			"groups": []any{}, "password": "1mz050nq", "active": true,
		}).want(t, 201)
		id := created.str("id")
		if created.get("password") != nil || r.sqlString(`SELECT language FROM users WHERE id = $1`, id) != "fr" {
			t.Fatalf("created: %s", created.Raw)
		}
		got := r.do("GET", "/scim/v2/Users/"+id, nil).want(t, 200)

		// Okta updates with PUT, the whole user, active included.
		full := got.Body
		full["name"] = map[string]any{"givenName": "Another", "familyName": "User"}
		r.do("PUT", "/scim/v2/Users/"+id, full).want(t, 200)
		if n := r.sqlString(`SELECT first_name FROM users WHERE id = $1`, id); n != "Another" {
			t.Fatalf("first name %q", n)
		}
		// Deactivation by PATCH without a path, reactivation by PUT.
		r.do("PATCH", "/scim/v2/Users/"+id, patch(op("replace", "", map[string]any{"active": false}))).want(t, 200)
		if s := r.sqlString(`SELECT status FROM users WHERE id = $1`, id); s != "suspended" {
			t.Fatalf("status %q", s)
		}
		full["active"] = true
		put := r.do("PUT", "/scim/v2/Users/"+id, full, "If-Match: "+r.do("GET", "/scim/v2/Users/"+id, nil).str("meta.version")).want(t, 200)
		if put.get("active") != true {
			t.Fatalf("PUT active: %s", put.Raw)
		}
		// A stale ETag is refused.
		r.do("PUT", "/scim/v2/Users/"+id, full, `If-Match: W/"1-1"`).wantError(t, 412, "")

		// Group push.
		r.do("GET", `/scim/v2/Groups?filter=displayName eq "Test SCIMv2"&startIndex=1&count=100`, nil).want(t, 200)
		g := r.do("POST", "/scim/v2/Groups", map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": "Test SCIMv2", "members": []any{}}).want(t, 201)
		gid := g.str("id")
		r.do("PATCH", "/scim/v2/Groups/"+gid, patch(op("replace", "", map[string]any{"id": gid, "displayName": "Test SCIMv2 renamed"}))).want(t, 204)
		r.do("PATCH", "/scim/v2/Groups/"+gid, patch(op("add", "members", []any{map[string]any{"value": id, "display": "test.user@okta.local"}}))).want(t, 204)
		other := r.do("POST", "/scim/v2/Users", userJSON("other@okta.local", "Other", "Person")).want(t, 201).str("id")
		r.do("PATCH", "/scim/v2/Groups/"+gid, patch(op("add", "members", []any{map[string]any{"value": other}}))).want(t, 204)
		r.do("PATCH", "/scim/v2/Groups/"+gid, patch(op("remove", `members[value eq "`+id+`"]`, nil))).want(t, 204)
		got = r.do("GET", "/scim/v2/Groups/"+gid, nil)
		if got.str("displayName") != "Test SCIMv2 renamed" || len(got.get("members").([]any)) != 1 || got.str("members.0.value") != other {
			t.Fatalf("group: %s", got.Raw)
		}
		// An administrator adds someone by hand; Okta's PUT of the members leaves that membership.
		gidInt := r.sqlInt(`SELECT id FROM groups WHERE name = 'Test SCIMv2 renamed'`)
		sys := authz.With(context.Background(), authz.System)
		if err := r.groups.AddMember(sys, gidInt, r.sqlInt(`SELECT CAST($1 AS BIGINT)`, id), group.Learner, ""); err != nil {
			t.Fatal(err)
		}
		r.do("PUT", "/scim/v2/Groups/"+gid, map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"id": gid, "displayName": "Test SCIMv2 renamed", "members": []any{}}).want(t, 200)
		if n := r.sqlInt(`SELECT count(*) FROM group_members WHERE group_id = $1 AND source_kind = 'manual'`, gidInt); n != 1 {
			t.Fatalf("the manual membership went (%d)", n)
		}
		if n := r.sqlInt(`SELECT count(*) FROM group_members WHERE group_id = $1 AND source_kind = 'scim'`, gidInt); n != 0 {
			t.Fatalf("%d SCIM memberships left", n)
		}
		r.do("DELETE", "/scim/v2/Groups/"+gid, nil).want(t, 204)
	})
}

// A token sees and touches only what lies under its group.
func TestScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		sys := authz.With(context.Background(), authz.System)
		other, err := r.groups.Create(sys, group.Group{Name: "Fabrikam"})
		if err != nil {
			t.Fatal(err)
		}
		tok := r.tokenFor(other.ID)
		id := r.do("POST", "/scim/v2/Users", userJSON("alice@contoso.com", "Alice", "Martin")).want(t, 201).str("id")
		gid := r.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Team"}).want(t, 201).str("id")
		r.doAs(tok, "GET", "/scim/v2/Users/"+id, nil).wantError(t, 404, "")
		r.doAs(tok, "PATCH", "/scim/v2/Users/"+id, patch(op("replace", "active", false))).wantError(t, 404, "")
		r.doAs(tok, "DELETE", "/scim/v2/Groups/"+gid, nil).wantError(t, 404, "")
		if n := r.doAs(tok, "GET", "/scim/v2/Users", nil).total(); n != 0 {
			t.Fatalf("the other token sees %d users", n)
		}
		// Its own group is not a SCIM group, and it cannot add foreign users to its groups.
		r.doAs(tok, "GET", "/scim/v2/Groups/"+itoa(other.ID), nil).wantError(t, 404, "")
		og := r.doAs(tok, "POST", "/scim/v2/Groups", map[string]any{"displayName": "Theirs"}).want(t, 201).str("id")
		r.doAs(tok, "PATCH", "/scim/v2/Groups/"+og, patch(op("add", "members", []any{map[string]any{"value": id}}))).wantError(t, 400, "invalidValue")
		// The same userName under another token is a conflict, never a takeover.
		r.doAs(tok, "POST", "/scim/v2/Users", userJSON("alice@contoso.com", "Alice", "Martin")).wantError(t, 409, "uniqueness")
		// Tokens that are not SCIM tokens are refused.
		admin, err := r.accounts.CreateAPIToken(sys, "admin", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		r.doAs(admin, "GET", "/scim/v2/Users", nil).wantError(t, http.StatusForbidden, "")
		r.doAs("", "GET", "/scim/v2/Users", nil).wantError(t, http.StatusUnauthorized, "")
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// What Entra ID sends for accounts without a person's name, and what older Entra provisioning
// jobs send for groups.
func TestEntraReplayNamelessAndOlderJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		sys := authz.With(context.Background(), authz.System)

		// A device account: only a displayName, one word. /Schemas requires userName alone.
		printer := r.do("POST", "/scim/v2/Users", map[string]any{
			"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:User", enterpriseURN},
			"externalId":  "5b0c2cf4-31a6-4b71-9f0e-3f5d4a0a2c11",
			"userName":    "printer01@contoso.com",
			"active":      true,
			"displayName": "Printer",
			"emails":      []any{map[string]any{"primary": true, "type": "work", "value": "printer01@contoso.com"}},
			"meta":        map[string]any{"resourceType": "User"},
		}).want(t, 201)
		pid := printer.str("id")
		// SCIM shows what was sent (no name), and filters by it.
		if printer.get("name") != nil || printer.str("displayName") != "Printer" {
			t.Fatalf("printer: %s", printer.Raw)
		}
		if got := r.do("GET", `/scim/v2/Users?filter=displayName eq "printer" and name.givenName eq null`, nil); got.total() != 1 {
			t.Fatalf("filter: %s", got.Raw)
		}
		// The Roster account has both names, as every account, so its pages and an
		// administrator's edits work as for anyone.
		if n := r.sqlString(`SELECT first_name || '|' || last_name FROM users WHERE id = $1`, pid); n != "Printer|Printer" {
			t.Fatalf("names %q", n)
		}
		lang := "fr"
		if _, err := r.accounts.UpdateUser(sys, r.sqlInt(`SELECT CAST($1 AS BIGINT)`, pid), account.UserUpdate{Language: &lang}); err != nil {
			t.Fatalf("an administrator's edit of the account: %v", err)
		}
		// Names sent later are Roster's names.
		r.do("PATCH", "/scim/v2/Users/"+pid, patch(op("Add", "name.givenName", "Floor 2"), op("Add", "name.familyName", "Printer"))).want(t, 200)
		if n := r.sqlString(`SELECT first_name || '|' || last_name FROM users WHERE id = $1`, pid); n != "Floor 2|Printer" {
			t.Fatalf("names after PATCH %q", n)
		}
		// A userName alone (scim2-tester creates users so): names from the userName.
		bare := r.do("POST", "/scim/v2/Users", map[string]any{"userName": "kiosk.7@contoso.com"}).want(t, 201)
		if n := r.sqlString(`SELECT first_name || '|' || last_name FROM users WHERE id = $1`, bare.str("id")); n != "kiosk.7|kiosk.7" {
			t.Fatalf("names %q", n)
		}
		// A two-word displayName and one name given: the other comes from the displayName.
		half := r.do("POST", "/scim/v2/Users", map[string]any{"userName": "jo@contoso.com", "displayName": "Jo Van Dyke",
			"name": map[string]any{"givenName": "Johanna"}}).want(t, 201)
		if n := r.sqlString(`SELECT first_name || '|' || last_name FROM users WHERE id = $1`, half.str("id")); n != "Johanna|Van Dyke" {
			t.Fatalf("names %q", n)
		}

		// Older provisioning jobs declare an Active Directory schema on groups.
		g := r.do("POST", "/scim/v2/Groups", map[string]any{
			"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
			"externalId":  "c2a37d3b-8bd6-4d1f-9e3a-7d0b6a2a6b1e",
			"displayName": "Finance", "members": []any{map[string]any{"value": pid}},
		}).want(t, 201)
		if s := g.get("schemas").([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:schemas:core:2.0:Group" || g.str("members.0.value") != pid {
			t.Fatalf("group: %s", g.Raw)
		}
		r.do("PUT", "/scim/v2/Groups/"+g.str("id"), map[string]any{
			"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
			"displayName": "Finance EMEA",
			"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group": map[string]any{},
		}).want(t, 200)
		// The schema is accepted on groups only; other unknown schemas are still refused.
		r.do("POST", "/scim/v2/Users", map[string]any{"userName": "x@contoso.com",
			"schemas": []any{"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"}}).wantError(t, 400, "invalidSyntax")
		r.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Other",
			"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:Group", "urn:example:x"}}).wantError(t, 400, "invalidSyntax")
		// Members are users: a group inside a group is refused (see docs/scim.md).
		other := r.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Payroll"}).want(t, 201).str("id")
		r.do("PATCH", "/scim/v2/Groups/"+g.str("id"), patch(op("add", "members", []any{map[string]any{"value": other, "type": "Group"}}))).
			wantError(t, 400, "invalidValue")
	})
}

// The requests of Okta's SCIM 2.0 spec test (its Runscope suite, which an application must
// pass to be listed), besides "Check status 401", which internal/server tests: the 401 is
// written by the authentication middleware.
func TestOktaSpecTest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		// "Test Users endpoint": a page of one, with the ListResponse attributes.
		r.do("POST", "/scim/v2/Users", userJSON("first@okta.local", "First", "User")).want(t, 201)
		r.do("POST", "/scim/v2/Users", userJSON("second@okta.local", "Second", "User")).want(t, 201)
		page := r.do("GET", "/scim/v2/Users?count=1&startIndex=1", nil).want(t, 200)
		if page.total() != 2 || page.get("itemsPerPage") != float64(1) || page.get("startIndex") != float64(1) ||
			len(page.get("Resources").([]any)) != 1 || page.str("schemas.0") != "urn:ietf:params:scim:api:messages:2.0:ListResponse" {
			t.Fatalf("page: %s", page.Raw)
		}
		// "Get Users with a filter on a random userName": none, and Resources still a list.
		none := r.do("GET", `/scim/v2/Users?filter=userName eq "b51e7c0c2a@okta.local"`, nil).want(t, 200)
		if none.total() != 0 || none.get("Resources") == nil {
			t.Fatalf("no match: %s", none.Raw)
		}
		// "Create user with a random userName", then the same again: 409 in SCIM's form.
		u := map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "Runscope9f3@okta.local",
			"name": map[string]any{"givenName": "Run", "familyName": "Scope"}, "emails": []any{map[string]any{"primary": true,
				"value": "Runscope9f3@okta.local", "type": "work"}}, "active": true, "password": "abc123"}
		id := r.do("POST", "/scim/v2/Users", u).want(t, 201).str("id")
		r.do("POST", "/scim/v2/Users", u).wantError(t, 409, "uniqueness")
		// "Username Case Sensitivity Check": userName is not case-exact.
		if got := r.do("GET", `/scim/v2/Users?filter=userName eq "runscope9F3@OKTA.local"`, nil); got.total() != 1 || got.str("Resources.0.id") != id {
			t.Fatalf("case-insensitive userName: %s", got.Raw)
		}
		// "Check status 404" for a random id.
		r.do("GET", "/scim/v2/Users/010101010101", nil).wantError(t, 404, "")
	})
}
