package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/group"
	"roster/internal/invite"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// inviteCall sends a request to an API with the invitation service, as a platform
// administrator (admin true) or anonymously, and returns the status and body.
func inviteCall(t *testing.T, h http.Handler, admin bool, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if admin {
		req = req.WithContext(authz.With(req.Context(), authz.System))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestInvitationsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		accounts := account.NewService(db, account.Config{BaseURL: "https://roster.test"})
		mux := http.NewServeMux()
		New(Config{}, Services{Log: slog.New(slog.DiscardHandler), DB: db, Accounts: accounts,
			Invites: invite.NewService(db, accounts, invite.Config{BaseURL: "https://roster.test"})}).Routes(mux)
		g, err := group.NewService(db).Create(authz.With(context.Background(), authz.System), group.Group{Name: "Chemistry"})
		if err != nil {
			t.Fatal(err)
		}
		gid := ID(g.ID)

		code, body := inviteCall(t, mux, true, "POST", "/api/v1/invitations",
			`{"emails": "Ann <ann@x.org>; bad", "groups": [{"group_id": "`+gid+`", "role": "learner"}], "language": "fr"}`)
		var res struct{ Results []InvitationResult }
		if code != 200 || json.Unmarshal([]byte(body), &res) != nil || len(res.Results) != 2 ||
			res.Results[0].Outcome != "invited" || res.Results[0].InvitationID == nil || res.Results[1].Outcome != "invalid" {
			t.Fatalf("invite: %d %s", code, body)
		}
		id := *res.Results[0].InvitationID

		// Bad input: problem details naming the field, nothing written.
		for _, c := range []struct{ body, field string }{
			{`{"emails": "b@x.org", "groups": [{"group_id": "x", "role": "learner"}]}`, "groups.group_id"},
			{`{"emails": "b@x.org", "groups": [{"group_id": "` + gid + `", "role": "boss"}]}`, "groups[0].role"},
			{`{"emails": "b@x.org", "colour": "red"}`, "colour"},
			{`{"emails": "b@x.org", "delete_at": "soon"}`, "delete_at"},
		} {
			code, body := inviteCall(t, mux, true, "POST", "/api/v1/invitations", c.body)
			if code != 422 || !strings.Contains(body, `"field":"`+c.field+`"`) {
				t.Errorf("%s: %d %s", c.body, code, body)
			}
		}
		if code, _ := inviteCall(t, mux, false, "POST", "/api/v1/invitations", `{"emails": "b@x.org"}`); code != 401 {
			t.Errorf("anonymous invite: %d", code)
		}

		code, body = inviteCall(t, mux, true, "GET", "/api/v1/invitations?status=pending&group_id="+gid+"&subgroups=true", "")
		var list List[Invitation]
		if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Items) != 1 || list.Items[0].ID != id ||
			list.Items[0].Groups[0].GroupID != gid || list.Items[0].LastDelivery != "queued" {
			t.Fatalf("list: %d %s", code, body)
		}
		if code, _ := inviteCall(t, mux, true, "POST", "/api/v1/invitations/"+id+"/resend", ""); code != 204 {
			t.Errorf("resend: %d", code)
		}
		code, body = inviteCall(t, mux, true, "POST", "/api/v1/invitations/"+id+"/link", "")
		var link struct{ Link string }
		if code != 200 || json.Unmarshal([]byte(body), &link) != nil || !strings.HasPrefix(link.Link, "https://roster.test/invitation/") {
			t.Fatalf("link: %d %s", code, body)
		}
		token := strings.TrimPrefix(link.Link, "https://roster.test/invitation/")

		// Public acceptance: 201 and the user; a second time 410.
		accept := `{"token": "` + token + `", "first_name": "Ann", "last_name": "Lee", "password": "violet harbour lantern 7"}`
		code, body = inviteCall(t, mux, false, "POST", "/api/v1/invitations/accept", accept)
		var u User
		if code != 201 || json.Unmarshal([]byte(body), &u) != nil || u.Email != "ann@x.org" || u.Status != "active" {
			t.Fatalf("accept: %d %s", code, body)
		}
		if code, _ := inviteCall(t, mux, false, "POST", "/api/v1/invitations/accept", accept); code != 410 {
			t.Errorf("accept twice: %d", code)
		}

		// Already active, then added to the group in one call.
		code, body = inviteCall(t, mux, true, "POST", "/api/v1/invitations", `{"emails": "ANN@x.org, c@x.org"}`)
		if code != 200 || !strings.Contains(body, `"outcome":"already_active","invitation_id":null,"user_id":"`+u.ID+`"`) {
			t.Fatalf("already active: %d %s", code, body)
		}
		code, _ = inviteCall(t, mux, true, "POST", "/api/v1/invitations/add-existing",
			`{"user_ids": ["`+u.ID+`"], "groups": [{"group_id": "`+gid+`", "role": "trainer"}]}`)
		if code != 204 {
			t.Errorf("add existing: %d", code)
		}
		code, body = inviteCall(t, mux, true, "POST", "/api/v1/invitations/cancel", `{"emails": "c@x.org nobody@x.org"}`)
		if code != 200 || !strings.Contains(body, `"outcome":"cancelled"`) || !strings.Contains(body, `"outcome":"not_invited"`) {
			t.Errorf("cancel many: %d %s", code, body)
		}

		// Direct creation: without notify or password, the one-time link comes back.
		code, body = inviteCall(t, mux, true, "POST", "/api/v1/users", `{"email": "ext@x.org", "first_name": "Ext",
			"last_name": "Ernal", "notify": false, "groups": [{"group_id": `+gid+`, "role": "learner"}], "delete_at": "2027-06-30"}`)
		var created struct {
			User
			SetupLink string `json:"setup_link"`
		}
		if code != 201 || json.Unmarshal([]byte(body), &created) != nil || created.DeleteAt == nil ||
			!strings.HasPrefix(created.SetupLink, "https://roster.test/account/setup/") || created.Username != "ext@x.org" {
			t.Errorf("create: %d %s", code, body)
		}
		code, body = inviteCall(t, mux, true, "POST", "/api/v1/users", `{"email": "ext@x.org", "first_name": "", "last_name": "X"}`)
		if code != 422 || !strings.Contains(body, `"field":"first_name"`) {
			t.Errorf("create with bad input: %d %s", code, body)
		}
	})
}
