package scim_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// Every filter operator, on every kind of column, on both databases.
func TestFilterOperators(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db)
		mk := func(userName, given, family, title string, extra map[string]any) {
			u := userJSON(userName, given, family)
			if title != "" {
				u["title"] = title
			}
			for k, v := range extra {
				u[k] = v
			}
			r.do("POST", "/scim/v2/Users", u).want(t, 201)
			clock.Advance(3600e9)
		}
		mk("alice@contoso.com", "Alice", "Martin", "Engineer", map[string]any{"externalId": "EXT-A", "userType": "Employee",
			"emails": []any{map[string]any{"value": "alice@contoso.com", "type": "work", "primary": true},
				map[string]any{"value": "alice@home.example", "type": "home"}},
			enterpriseURN: map[string]any{"department": "R&D", "employeeNumber": "001"}})
		mk("bob@contoso.com", "Bob", "O'Brien", "Sales_Manager", map[string]any{"externalId": "ext-b", "userType": "Contractor",
			enterpriseURN: map[string]any{"department": "Sales"}})
		mk("carol@fabrikam.com", "Carol", "Ñúñez", "", map[string]any{"externalId": "EXT-C", "active": false})
		mk("dave%@contoso.com", "Dave", "Martinez", "engineer", nil)

		for _, tc := range []struct {
			filter string
			want   string // userName local parts, sorted, comma-separated
		}{
			{`userName eq "ALICE@contoso.com"`, "alice"},
			{`userName ne "alice@contoso.com"`, "bob,carol,dave%"},
			{`userName co "CONTOSO"`, "alice,bob,dave%"},
			{`userName co "%"`, "dave%"},
			{`userName sw "b"`, "bob"},
			{`userName ew "fabrikam.com"`, "carol"},
			{`userName gt "bob@contoso.com"`, "carol,dave%"},
			{`userName ge "bob@contoso.com"`, "bob,carol,dave%"},
			{`userName lt "bob@contoso.com"`, "alice"},
			{`userName le "bob@contoso.com"`, "alice,bob"},
			{`title pr`, "alice,bob,dave%"},
			{`title eq null`, "carol"},
			{`title eq "ENGINEER"`, "alice,dave%"},
			{`title co "_"`, "bob"},
			{`title lt "f"`, "alice,dave%"},
			{`externalId eq "EXT-A"`, "alice"},
			{`externalId eq "ext-a"`, ""},
			{`externalId sw "EXT"`, "alice,carol"},
			{`externalId co "xt-"`, "bob"},
			{`name.familyName sw "mart"`, "alice,dave%"},
			{`name.familyName co "'"`, "bob"},
			{`name.givenName eq "carol" or name.givenName eq "dave"`, "carol,dave%"},
			{`active eq true`, "alice,bob,dave%"},
			{`active eq false`, "carol"},
			{`active ne true`, "carol"},
			{`emails eq "alice@home.example"`, "alice"},
			{`emails.value co "@home"`, "alice"},
			{`emails[type eq "home"]`, "alice"},
			{`emails[type eq "work" and value ew "contoso.com"]`, "alice,bob,dave%"},
			{`emails[type eq "work"].value sw "carol"`, "carol"},
			{`emails[not (type eq "work")]`, "alice"},
			{`emails.primary eq true and userName sw "a"`, "alice"},
			{`emails pr`, "alice,bob,carol,dave%"},
			{enterpriseURN + `:department eq "r&d"`, "alice"},
			{enterpriseURN + `:employeeNumber pr`, "alice"},
			{`userType eq "Employee" and (emails co "home" or title pr)`, "alice"},
			{`not (userType eq "Employee") and title pr`, "bob,dave%"},
			{`not (userName sw "a" or userName sw "b")`, "carol,dave%"},
			{`meta.created gt "2026-11-23T10:30:00Z"`, "carol,dave%"},
			{`meta.created le "2026-11-23T10:00:00Z"`, "alice,bob"},
			{`meta.lastModified ge "2026-11-23T09:00:00Z"`, "alice,bob,carol,dave%"},
			{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@contoso.com"`, "bob"},
			{`USERNAME EQ "bob@contoso.com"`, "bob"},
			{`id eq "not-a-number"`, ""},
			{`id ne "not-a-number"`, "alice,bob,carol,dave%"},
		} {
			got := r.do("GET", "/scim/v2/Users?count=1000&filter="+strings.ReplaceAll(url.QueryEscape(tc.filter), "+", "%20"), nil)
			if got.Status != 200 {
				t.Errorf("%s: %d %s", tc.filter, got.Status, got.Raw)
				continue
			}
			var names []string
			res, _ := got.get("Resources").([]any)
			for _, x := range res {
				n, _, _ := strings.Cut(x.(map[string]any)["userName"].(string), "@")
				names = append(names, n)
			}
			slices.Sort(names)
			if strings.Join(names, ",") != tc.want || got.total() != len(names) {
				t.Errorf("%s: got %v (total %d), want %s", tc.filter, names, got.total(), tc.want)
			}
		}

		// Sorting, paging and projection.
		got := r.do("GET", "/scim/v2/Users?sortBy=name.familyName&sortOrder=descending&startIndex=3&count=2&attributes=userName,name.familyName", nil).want(t, 200)
		if got.total() != 4 || got.get("itemsPerPage") != float64(2) || got.get("startIndex") != float64(3) ||
			got.str("Resources.0.name.familyName") != "Martinez" || got.str("Resources.1.name.familyName") != "Martin" {
			t.Fatalf("sorted page: %s", got.Raw)
		}
		if res := got.get("Resources.0").(map[string]any); res["emails"] != nil || res["id"] == nil || res["meta"] != nil {
			t.Fatalf("attributes=: %v", res)
		}
		got = r.do("GET", "/scim/v2/Users?count=1&excludedAttributes=emails,name,"+enterpriseURN, nil).want(t, 200)
		if res := got.get("Resources.0").(map[string]any); res["emails"] != nil || res["name"] != nil || res["userName"] == nil || res[enterpriseURN] != nil {
			t.Fatalf("excludedAttributes=: %v", res)
		}
		if r.do("GET", "/scim/v2/Users?count=0", nil).get("Resources").([]any) == nil {
			t.Fatal("count=0 must give an empty list")
		}
		got = r.do("POST", "/scim/v2/Users/.search", map[string]any{"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
			"filter": `userName sw "a"`, "attributes": []any{"userName"}, "startIndex": 1, "count": 10}).want(t, 200)
		if got.total() != 1 {
			t.Fatalf(".search: %s", got.Raw)
		}
	})
}

// Every PATCH form, on a user.
func TestPatchForms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		id := r.do("POST", "/scim/v2/Users", userJSON("pat@contoso.com", "Pat", "Lee")).want(t, 201).str("id")
		p := func(ops ...map[string]any) *resp {
			t.Helper()
			return r.do("PATCH", "/scim/v2/Users/"+id, patch(ops...)).want(t, 200)
		}
		for _, tc := range []struct {
			name  string
			ops   []map[string]any
			path  string
			value any
		}{
			{"add simple", []map[string]any{op("add", "title", "Boss")}, "title", "Boss"},
			{"replace simple", []map[string]any{op("replace", "title", "Chief")}, "title", "Chief"},
			{"remove simple", []map[string]any{op("remove", "title", nil)}, "title", nil},
			{"replace sub-attribute", []map[string]any{op("replace", "name.givenName", "Patricia")}, "name.givenName", "Patricia"},
			{"replace complex merges", []map[string]any{op("replace", "name", map[string]any{"middleName": "Q"})}, "name.givenName", "Patricia"},
			{"add multi appends", []map[string]any{op("add", "emails", []any{map[string]any{"value": "p@home.example", "type": "home"}})}, "emails.1.value", "p@home.example"},
			{"add multi twice is one", []map[string]any{op("add", "emails", []any{map[string]any{"value": "p@home.example", "type": "home"}})}, "emails.2", nil},
			{"replace by filter", []map[string]any{op("replace", `emails[type eq "home"]`, map[string]any{"value": "pat@home.example"})}, "emails.1.value", "pat@home.example"},
			{"replace sub by filter", []map[string]any{op("replace", `emails[type eq "home"].display`, "Home")}, "emails.1.display", "Home"},
			{"remove sub by filter", []map[string]any{op("remove", `emails[type eq "home"].display`, nil)}, "emails.1.display", nil},
			{"remove by filter", []map[string]any{op("remove", `emails[type eq "home"]`, nil)}, "emails.1", nil},
			{"add by filter creates", []map[string]any{op("add", `phoneNumbers[type eq "work"].value`, "555")}, "phoneNumbers.0.type", "work"},
			{"replace multi", []map[string]any{op("replace", "phoneNumbers", []any{map[string]any{"value": "556", "type": "mobile"}})}, "phoneNumbers.0.value", "556"},
			{"remove multi", []map[string]any{op("remove", "phoneNumbers", nil)}, "phoneNumbers", nil},
			{"no path, dotted keys (Entra)", []map[string]any{op("Replace", "", map[string]any{"name.givenName": "P", "title": "T"})}, "name.givenName", "P"},
			{"no path, complex value", []map[string]any{op("add", "", map[string]any{"name": map[string]any{"familyName": "Li"}})}, "name.familyName", "Li"},
			{"extension attribute", []map[string]any{op("Add", enterpriseURN+":department", "Ops")}, enterpriseURN + ".department", "Ops"},
			{"extension sub-attribute", []map[string]any{op("replace", enterpriseURN+":manager.value", "42")}, enterpriseURN + ".manager.value", "42"},
			{"no path, extension URN key", []map[string]any{op("replace", "", map[string]any{enterpriseURN + ":costCenter": "CC1"})}, enterpriseURN + ".costCenter", "CC1"},
			{"no path, extension object", []map[string]any{op("replace", "", map[string]any{enterpriseURN: map[string]any{"division": "D"}})}, enterpriseURN + ".division", "D"},
			{"path is the extension", []map[string]any{op("replace", enterpriseURN, map[string]any{"organization": "O"})}, enterpriseURN + ".organization", "O"},
			{"remove extension attribute", []map[string]any{op("remove", enterpriseURN+":organization", nil)}, enterpriseURN + ".organization", nil},
			{"core URN prefix", []map[string]any{op("replace", "urn:ietf:params:scim:schemas:core:2.0:User:nickName", "Patty")}, "nickName", "Patty"},
			{"case-insensitive names", []map[string]any{op("REPLACE", "NICKNAME", "Pa")}, "nickName", "Pa"},
			{"several operations in order", []map[string]any{op("add", "title", "A"), op("replace", "title", "B")}, "title", "B"},
			{"boolean as string", []map[string]any{op("replace", "active", "True")}, "active", true},
		} {
			got := p(tc.ops...)
			if v := got.get(tc.path); !(v == nil && tc.value == nil) && v != tc.value {
				t.Errorf("%s: %s = %#v, want %#v\n%s", tc.name, tc.path, v, tc.value, got.Raw)
			}
		}
		// The delivery address follows the primary email.
		p(op("add", "emails", []any{map[string]any{"value": "primary@contoso.com", "type": "other", "primary": true}}))
		if e := r.sqlString(`SELECT email FROM users WHERE id = $1`, id); e != "primary@contoso.com" {
			t.Fatalf("email %q", e)
		}
		// A failing operation changes nothing.
		before := r.do("GET", "/scim/v2/Users/"+id, nil).str("meta.version")
		r.do("PATCH", "/scim/v2/Users/"+id, patch(op("replace", "title", "X"), op("replace", "nope", "Y"))).wantError(t, 400, "invalidPath")
		if after := r.do("GET", "/scim/v2/Users/"+id, nil); after.str("meta.version") != before || after.str("title") == "X" {
			t.Fatal("a failed PATCH changed the user")
		}
	})
}

// POST /.search at the root searches Users and Groups (RFC 7644 §3.4.3).
func TestRootSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		search := func(body map[string]any) *resp {
			t.Helper()
			body["schemas"] = []any{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}
			return r.do("POST", "/scim/v2/.search", body)
		}
		var users []string
		for _, n := range []string{"ann", "ben", "cid"} {
			u := userJSON(n+"@contoso.com", strings.ToUpper(n[:1])+n[1:], "Sales")
			u["displayName"] = "Sales"
			users = append(users, r.do("POST", "/scim/v2/Users", u).want(t, 201).str("id"))
		}
		g1 := r.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Sales", "members": []any{map[string]any{"value": users[0]}}}).want(t, 201).str("id")
		g2 := r.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Support"}).want(t, 201).str("id")
		ids := func(p *resp) string {
			var out []string
			for _, x := range p.get("Resources").([]any) {
				m := x.(map[string]any)
				out = append(out, m["meta"].(map[string]any)["resourceType"].(string)[:1]+m["id"].(string))
			}
			return strings.Join(out, ",")
		}
		U := func(i int) string { return "U" + users[i] }
		for _, tc := range []struct {
			name  string
			body  map[string]any
			want  string
			total int
		}{
			{"everything, users first", map[string]any{}, strings.Join([]string{U(0), U(1), U(2), "G" + g1, "G" + g2}, ","), 5},
			{"an attribute both have", map[string]any{"filter": `displayName eq "sales"`}, strings.Join([]string{U(0), U(1), U(2), "G" + g1}, ","), 4},
			{"a user attribute", map[string]any{"filter": `userName sw "b"`}, U(1), 1},
			{"a group attribute", map[string]any{"filter": `members.value eq "` + users[0] + `"`}, "G" + g1, 1},
			{"a page across both", map[string]any{"startIndex": 3, "count": 2}, U(2) + ",G" + g1, 5},
			{"a page of groups only", map[string]any{"startIndex": 5, "count": 10}, "G" + g2, 5},
			{"count 0", map[string]any{"count": 0}, "", 5},
			{"sorted within each type", map[string]any{"sortBy": "displayName", "sortOrder": "descending", "filter": `displayName sw "s"`},
				strings.Join([]string{U(0), U(1), U(2), "G" + g2, "G" + g1}, ","), 5},
		} {
			got := search(tc.body).want(t, 200)
			if ids(got) != tc.want || got.total() != tc.total {
				t.Errorf("%s: %s (total %d), want %s (total %d)", tc.name, ids(got), got.total(), tc.want, tc.total)
			}
		}
		got := search(map[string]any{"filter": `displayName eq "Support"`, "attributes": []any{"displayName"}}).want(t, 200)
		if res := got.get("Resources.0").(map[string]any); len(res) != 3 || res["displayName"] != "Support" {
			t.Errorf("attributes: %s", got.Raw)
		}
		got = search(map[string]any{"attributes": []any{"userName"}, "count": 10}).want(t, 200)
		if u, g := got.get("Resources.0").(map[string]any), got.get("Resources.4").(map[string]any); len(u) != 3 || u["userName"] == nil ||
			len(g) != 2 || g["id"] != g2 {
			t.Errorf("attributes of one type: %s", got.Raw)
		}
		search(map[string]any{"filter": `shoeSize eq "42"`}).wantError(t, 400, "invalidFilter")
		// The per-type searches are there too.
		if got := r.do("POST", "/scim/v2/Groups/.search", map[string]any{"filter": `displayName sw "s"`, "count": 1}).want(t, 200); got.total() != 2 ||
			len(got.get("Resources").([]any)) != 1 {
			t.Errorf("Groups/.search: %s", got.Raw)
		}
		search(map[string]any{"filter": `displayName eq`}).wantError(t, 400, "invalidFilter")
		r.do("GET", "/scim/v2/.search", nil).wantError(t, 405, "")
	})
}
