package scim_test

import (
	"bytes"
	"context"
	"testing"

	"roster/internal/authz"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// Bad input gets an RFC 7644 error, never a 500 (rig.do fails the test on any 5xx).
func TestBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		id := r.do("POST", "/scim/v2/Users", userJSON("ok@contoso.com", "Ok", "User")).want(t, 201).str("id")
		gid := r.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "G"}).want(t, 201).str("id")
		big := append([]byte(`{"userName":"`), bytes.Repeat([]byte("a"), 10<<20)...)
		big = append(big, `"}`...)
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			scimType           string
		}{
			{"malformed JSON", "POST", "/scim/v2/Users", `{"userName": `, 400, "invalidSyntax"},
			{"not an object", "POST", "/scim/v2/Users", `["x"]`, 400, "invalidSyntax"},
			{"empty body", "POST", "/scim/v2/Users", ``, 400, "invalidSyntax"},
			{"10 MB body", "POST", "/scim/v2/Users", big, 413, ""},
			{"10 MB body on PATCH", "PATCH", "/scim/v2/Users/" + id, big, 413, ""},
			{"unknown attribute", "POST", "/scim/v2/Users", map[string]any{"userName": "x@y.z", "shoeSize": 42}, 400, "invalidSyntax"},
			{"unknown sub-attribute", "POST", "/scim/v2/Users", map[string]any{"userName": "x@y.z", "name": map[string]any{"nick": "x"}}, 400, "invalidSyntax"},
			{"unknown schema", "POST", "/scim/v2/Users", map[string]any{"schemas": []any{"urn:x"}, "userName": "x@y.z"}, 400, "invalidSyntax"},
			{"wrong type", "POST", "/scim/v2/Users", map[string]any{"userName": 12}, 400, "invalidValue"},
			{"wrong boolean", "POST", "/scim/v2/Users", map[string]any{"userName": "x@y.z", "active": "maybe"}, 400, "invalidValue"},
			{"emails not a list", "POST", "/scim/v2/Users", map[string]any{"userName": "x@y.z", "emails": "x@y.z"}, 400, "invalidValue"},
			{"no userName", "POST", "/scim/v2/Users", map[string]any{"name": map[string]any{"givenName": "A", "familyName": "B"}}, 400, "invalidValue"},
			{"bad email", "POST", "/scim/v2/Users", func() any {
				u := userJSON("x@y.z", "A", "B")
				u["emails"] = []any{map[string]any{"value": "not an address"}}
				return u
			}(), 400, "invalidValue"},
			{"userName with spaces", "POST", "/scim/v2/Users", userJSON("a b", "A", "B"), 400, "invalidValue"},
			{"duplicate userName", "POST", "/scim/v2/Users", userJSON("OK@contoso.com", "Ok", "User"), 409, "uniqueness"},
			{"invalid filter", "GET", `/scim/v2/Users?filter=userName%20eq`, nil, 400, "invalidFilter"},
			{"filter on unknown attribute", "GET", `/scim/v2/Users?filter=shoeSize%20eq%20"1"`, nil, 400, "invalidFilter"},
			{"filter with wrong value type", "GET", `/scim/v2/Users?filter=userName%20eq%201`, nil, 400, "invalidFilter"},
			{"filter gt on a boolean", "GET", `/scim/v2/Users?filter=active%20gt%20true`, nil, 400, "invalidFilter"},
			{"filter bad date", "GET", `/scim/v2/Users?filter=meta.created%20gt%20"yesterday"`, nil, 400, "invalidFilter"},
			{"filter on a value filter of a non-filterable attribute", "GET", `/scim/v2/Users?filter=addresses[type%20eq%20"work"]`, nil, 400, "invalidFilter"},
			{"bad startIndex", "GET", "/scim/v2/Users?startIndex=abc", nil, 400, "invalidValue"},
			{"bad count", "GET", "/scim/v2/Users?count=1e9", nil, 400, "invalidValue"},
			{"bad sortBy", "GET", "/scim/v2/Users?sortBy=shoeSize", nil, 400, "invalidValue"},
			{"bad sortOrder", "GET", "/scim/v2/Users?sortBy=userName&sortOrder=up", nil, 400, "invalidValue"},
			{"unknown user", "GET", "/scim/v2/Users/999999", nil, 404, ""},
			{"non-numeric id", "GET", "/scim/v2/Users/abc", nil, 404, ""},
			{"unknown group", "DELETE", "/scim/v2/Groups/999999", nil, 404, ""},
			{"PATCH without Operations", "PATCH", "/scim/v2/Users/" + id, map[string]any{"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}}, 400, "invalidSyntax"},
			{"PATCH bad op", "PATCH", "/scim/v2/Users/" + id, patch(op("move", "title", "x")), 400, "invalidSyntax"},
			{"PATCH bad path", "PATCH", "/scim/v2/Users/" + id, patch(op("replace", "emails[type eq", "x")), 400, "invalidPath"},
			{"PATCH unknown path", "PATCH", "/scim/v2/Users/" + id, patch(op("replace", "shoeSize", "x")), 400, "invalidPath"},
			{"PATCH read-only", "PATCH", "/scim/v2/Users/" + id, patch(op("replace", "id", "7")), 400, "mutability"},
			{"PATCH remove without path", "PATCH", "/scim/v2/Users/" + id, patch(op("remove", "", nil)), 400, "noTarget"},
			{"PATCH no match", "PATCH", "/scim/v2/Users/" + id, patch(op("replace", `emails[value sw "zz"]`, map[string]any{"display": "x"})), 400, "noTarget"},
			{"PATCH remove userName", "PATCH", "/scim/v2/Users/" + id, patch(op("remove", "userName", nil)), 400, "invalidValue"},
			{"PATCH no path, not an object", "PATCH", "/scim/v2/Users/" + id, patch(op("replace", "", "x")), 400, "invalidValue"},
			{"group without displayName", "POST", "/scim/v2/Groups", map[string]any{"members": []any{}}, 400, "invalidValue"},
			{"group with unknown member", "POST", "/scim/v2/Groups", map[string]any{"displayName": "H", "members": []any{map[string]any{"value": "424242"}}}, 400, "invalidValue"},
			{"group with nested group", "PATCH", "/scim/v2/Groups/" + gid, patch(op("add", "members", []any{map[string]any{"value": gid, "type": "Group"}})), 400, "invalidValue"},
			{"group duplicate name", "POST", "/scim/v2/Groups", map[string]any{"displayName": "G"}, 409, "uniqueness"},
			{"group members sub-path", "PATCH", "/scim/v2/Groups/" + gid, patch(op("replace", "members.value", "1")), 400, "invalidPath"},
			{"method not allowed", "DELETE", "/scim/v2/Users", nil, 405, ""},
			{"unknown endpoint", "GET", "/scim/v2/Bulk", nil, 404, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.scimType)
			})
		}
	})
}

func TestDiscovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		spc := r.do("GET", "/scim/v2/ServiceProviderConfig", nil).want(t, 200)
		if spc.get("patch.supported") != true || spc.get("filter.supported") != true || spc.get("etag.supported") != true ||
			spc.get("bulk.supported") != false {
			t.Fatalf("ServiceProviderConfig: %s", spc.Raw)
		}
		if rt := r.do("GET", "/scim/v2/ResourceTypes", nil).want(t, 200); rt.total() != 2 || rt.str("Resources.0.schemaExtensions.0.schema") != enterpriseURN {
			t.Fatalf("ResourceTypes: %s", rt.Raw)
		}
		r.do("GET", "/scim/v2/ResourceTypes/Group", nil).want(t, 200)
		if s := r.do("GET", "/scim/v2/Schemas", nil).want(t, 200); s.total() != 3 {
			t.Fatalf("Schemas: %s", s.Raw)
		}
		if s := r.do("GET", "/scim/v2/Schemas/"+enterpriseURN, nil).want(t, 200); s.str("attributes.5.name") != "manager" {
			t.Fatalf("enterprise schema: %s", s.Raw)
		}
		if ct := spc.Header.Get("Content-Type"); ct != "application/scim+json" {
			t.Fatalf("content type %q", ct)
		}
		// ETags: If-None-Match answers 304.
		u := r.do("POST", "/scim/v2/Users", userJSON("etag@contoso.com", "E", "Tag")).want(t, 201)
		r.do("GET", "/scim/v2/Users/"+u.str("id"), nil, "If-None-Match: "+u.Header.Get("ETag")).want(t, 304)
		r.do("DELETE", "/scim/v2/Users/"+u.str("id"), nil, `If-Match: W/"0-0"`).wantError(t, 412, "")
	})
}

// TestOneTransactionAndScope: a group whose members cannot all be added is not created (the
// group, its members and its events are one transaction), and a token whose group was
// deleted provisions nothing, discovery included.
func TestOneTransactionAndScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		u := r.do("POST", "/scim/v2/Users", userJSON("member@contoso.com", "Mem", "Ber")).want(t, 201)
		events := r.sqlInt(`SELECT count(*) FROM audit_events`)
		r.do("POST", "/scim/v2/Groups", map[string]any{"displayName": "Half", "members": []any{
			map[string]any{"value": u.str("id")}, map[string]any{"value": "999999"}}}).wantError(t, 400, "invalidValue")
		if n := r.sqlInt(`SELECT count(*) FROM groups WHERE name = 'Half'`); n != 0 {
			t.Fatalf("a refused group was left behind (%d)", n)
		}
		if n := r.sqlInt(`SELECT count(*) FROM audit_events`); n != events {
			t.Fatalf("events of a refused group were kept (%d, %d before)", n, events)
		}
		if err := r.groups.Delete(authz.With(context.Background(), authz.System), r.scopeID, true); err != nil {
			t.Fatal(err)
		}
		r.do("GET", "/scim/v2/Users", nil).wantError(t, 403, "")
		r.do("GET", "/scim/v2/ServiceProviderConfig", nil).wantError(t, 403, "")
		r.do("POST", "/scim/v2/Users", userJSON("late@contoso.com", "La", "Te")).wantError(t, 403, "")
		if n := r.sqlInt(`SELECT count(*) FROM users WHERE username = 'late@contoso.com'`); n != 0 {
			t.Fatal("a token without a group created an account")
		}
	})
}
