package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// groupRig is the rig with the API's routes and the group service.
func groupRig(t *testing.T, db *store.DB) *rig {
	r := newRig(t, db)
	mux := http.NewServeMux()
	a := New(Config{}, Services{Log: slog.New(slog.DiscardHandler), DB: db, Accounts: r.accounts, Groups: group.NewService(db)})
	a.Routes(mux)
	r.h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := audit.WithIP(req.Context(), "192.0.2.7")
		if p := r.who[req.Header.Get("X-As")]; p != nil {
			ctx = authz.With(ctx, p)
		}
		mux.ServeHTTP(w, req.WithContext(ctx))
	})
	return r
}

func TestGroupsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := groupRig(t, db)
		alice := r.user("alice", "alice@example.org")
		ga := r.user("gail", "gail@example.org")
		r.who["gail"] = &authz.Principal{UserID: ga.ID}

		var company, region, team, other Group
		for _, c := range []struct {
			body string
			out  *Group
		}{
			{`{"name":"Company","visibility":"private","idnumber":"C"}`, &company},
			{`{"name":"Other","visibility":"private"}`, &other},
		} {
			if code, body := r.do("admin", "POST", "/api/v1/groups", c.body, c.out); code != 201 {
				t.Fatalf("create: %d %s", code, body)
			}
		}
		if code, body := r.do("admin", "POST", "/api/v1/groups",
			`{"name":"Region","visibility":"public","parent_id":"`+company.ID+`"}`, &region); code != 201 ||
			region.ParentID == nil || *region.ParentID != company.ID {
			t.Fatalf("create region: %d %s", code, body)
		}
		if code, body := r.do("admin", "POST", "/api/v1/groups",
			`{"name":"Team","visibility":"public","parent_id":`+region.ID+`}`, &team); code != 201 {
			t.Fatalf("create team: %d %s", code, body)
		}
		for body, field := range map[string]string{
			`{"name":""}`: "name", `{"name":"Region","parent_id":"` + company.ID + `"}`: "name",
			`{"name":"X","visibility":"hidden"}`: "visibility", `{"name":"X","parent_id":"abc"}`: "parent_id",
			`{"name":"X","idnumber":"C"}`: "idnumber", `{"name":"X","colour":"red"}`: "colour",
		} {
			if code, resp := r.do("admin", "POST", "/api/v1/groups", body, nil); code < 400 || !strings.Contains(resp, `"field":"`+field+`"`) {
				t.Errorf("%s: %d %s", body, code, resp)
			}
		}

		// The preview, then the add, of the example.
		var pv MemberPreview
		path := fmt.Sprintf("/api/v1/groups/%s/members/%d", team.ID, alice.ID)
		if code, body := r.do("admin", "GET", path+"/preview?role=learner", "", &pv); code != 200 ||
			pv.Message != "will also make this person a learner of Region and Company" {
			t.Fatalf("preview: %d %s", code, body)
		}
		var added MemberAdded
		if code, body := r.do("admin", "PUT", path, `{"role":"learner"}`, &added); code != 200 ||
			len(added.AlsoLearnerOf) != 2 || added.Source != "manual" {
			t.Fatalf("put: %d %s", code, body)
		}
		if code, body := r.do("admin", "PUT", path, `{"role":"boss"}`, nil); code != 422 || !strings.Contains(body, `"field":"role"`) {
			t.Fatalf("bad role: %d %s", code, body)
		}
		if code, body := r.do("admin", "PUT", fmt.Sprintf("/api/v1/groups/%s/members/99999", team.ID), `{"role":"learner"}`, nil); code != 404 ||
			!strings.Contains(body, `"field":"user_id","code":"no_account"`) || strings.Contains(body, "99999") {
			t.Fatalf("unknown user: %d %s", code, body)
		}
		var members List[GroupMember]
		if code, body := r.do("admin", "GET", "/api/v1/groups/"+company.ID+"/members", "", &members); code != 200 ||
			len(members.Items) != 1 || members.Items[0].UserID != fmt.Sprint(alice.ID) || members.Items[0].Role != "learner" ||
			members.Items[0].Source != "propagated:"+team.ID || members.Items[0].SourceGroupName != "Team" {
			t.Fatalf("members: %d %s", code, body)
		}
		req := httptest.NewRequest("GET", "/api/v1/groups/"+team.ID+"/members.csv", nil)
		req.Header.Set("X-As", "admin")
		rec := httptest.NewRecorder()
		r.h.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "user_id,username,") ||
			!strings.Contains(rec.Body.String(), ",alice,alice@example.org,") {
			t.Fatalf("csv: %d %s", rec.Code, rec.Body)
		}

		// Scoped administration: Gail administers Region.
		if code, body := r.do("admin", "PUT", fmt.Sprintf("/api/v1/groups/%s/members/%d", region.ID, ga.ID), `{"role":"group_admin"}`, nil); code != 200 {
			t.Fatalf("make gail admin: %d %s", code, body)
		}
		if code, _ := r.do("gail", "GET", "/api/v1/groups/"+team.ID+"/members", "", nil); code != 200 {
			t.Fatalf("gail in scope: %d", code)
		}
		if code, _ := r.do("gail", "GET", "/api/v1/groups/"+company.ID, "", nil); code != 403 {
			t.Fatalf("gail out of scope: %d", code)
		}
		if code, _ := r.do("gail", "PUT", fmt.Sprintf("/api/v1/groups/%s/members/%d", other.ID, alice.ID), `{"role":"learner"}`, nil); code != 403 {
			t.Fatalf("gail adds out of scope: %d", code)
		}
		if code, _ := r.do("", "GET", "/api/v1/groups/"+team.ID, "", nil); code != 401 {
			t.Fatalf("anonymous: %d", code)
		}

		// PATCH: a cycle is refused; a move and a visibility change recompute.
		if code, body := r.do("admin", "PATCH", "/api/v1/groups/"+region.ID, `{"parent_id":"`+team.ID+`"}`, nil); code != 422 ||
			!strings.Contains(body, "cannot move a group under its own sub-group") {
			t.Fatalf("cycle: %d %s", code, body)
		}
		var moved Group
		if code, body := r.do("admin", "PATCH", "/api/v1/groups/"+region.ID, `{"parent_id":"`+other.ID+`","name":"North"}`, &moved); code != 200 ||
			moved.Name != "North" || *moved.ParentID != other.ID {
			t.Fatalf("move: %d %s", code, body)
		}
		r.do("admin", "GET", "/api/v1/groups/"+other.ID+"/members", "", &members)
		if len(members.Items) != 1 || members.Items[0].Source != "propagated:"+team.ID {
			t.Fatalf("after move: %+v", members.Items)
		}
		var top Group
		if code, body := r.do("admin", "PATCH", "/api/v1/groups/"+region.ID, `{"parent_id":null}`, &top); code != 200 || top.ParentID != nil {
			t.Fatalf("move to top: %d %s", code, body)
		}

		// Removal, then deletion with confirmation.
		if code, body := r.do("admin", "DELETE", path+"?role=learner", "", nil); code != 204 {
			t.Fatalf("remove: %d %s", code, body)
		}
		if code, _ := r.do("admin", "DELETE", path+"?role=learner", "", nil); code != 404 {
			t.Fatalf("remove twice: %d", code)
		}
		var dp DeletePreview
		if code, body := r.do("admin", "GET", "/api/v1/groups/"+region.ID+"/delete-preview", "", &dp); code != 200 ||
			dp.SubGroups != 1 || dp.Members != 1 || !dp.NeedConfirm {
			t.Fatalf("delete preview: %d %s", code, body)
		}
		if code, body := r.do("admin", "DELETE", "/api/v1/groups/"+region.ID, "", nil); code != 409 || !strings.Contains(body, "1 sub-group,") {
			t.Fatalf("delete unconfirmed: %d %s", code, body)
		}
		if code, body := r.do("admin", "DELETE", "/api/v1/groups/"+region.ID+"?confirm=true", "", nil); code != 204 {
			t.Fatalf("delete: %d %s", code, body)
		}
		if code, _ := r.do("admin", "GET", "/api/v1/groups/"+team.ID, "", nil); code != 404 {
			t.Fatalf("deleted sub-group: %d", code)
		}
	})
}
