package api

import (
	"context"
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

// TestInviteInvitedAddressOfAnotherGroup: POST /api/v1/invitations, by a group administrator,
// for an address someone of a sibling group invited: already_invited with a null
// invitation_id and no word of the other group; a platform administrator gets the id.
func TestInviteInvitedAddressOfAnotherGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := authz.With(context.Background(), authz.System)
		accounts := account.NewService(db, account.Config{BaseURL: "https://roster.test"})
		invites := invite.NewService(db, accounts, invite.Config{BaseURL: "https://roster.test"})
		mux := http.NewServeMux()
		New(Config{}, Services{Log: slog.New(slog.DiscardHandler), DB: db, Accounts: accounts, Invites: invites}).Routes(mux)
		gs := group.NewService(db)
		north, err := gs.Create(ctx, group.Group{Name: "Northgroup"})
		if err != nil {
			t.Fatal(err)
		}
		south, err := gs.Create(ctx, group.Group{Name: "Southgroup"})
		if err != nil {
			t.Fatal(err)
		}
		var bob *account.User
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			bob, err = accounts.CreateUser(ctx, tx, account.NewUser{Email: "bob@example.org", FirstName: "Bob", LastName: "Brown"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := gs.AddMember(ctx, south.ID, bob.ID, group.GroupAdmin, ""); err != nil {
			t.Fatal(err)
		}
		first, err := invites.Invite(ctx, invite.Request{Emails: "kim@x.org", Groups: []invite.Grant{{GroupID: north.ID, Role: group.Learner}}})
		if err != nil {
			t.Fatal(err)
		}
		id := ID(first[0].InvitationID)
		call := func(c context.Context, body string) (int, string) {
			req := httptest.NewRequest("POST", "/api/v1/invitations", strings.NewReader(body)).WithContext(c)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			return rec.Code, rec.Body.String()
		}
		code, body := call(authz.With(context.Background(), accounts.PrincipalFor(bob)),
			`{"emails": "kim@x.org", "groups": [{"group_id": "`+ID(south.ID)+`", "role": "learner"}]}`)
		if code != 200 || !strings.Contains(body, `"outcome":"already_invited","invitation_id":null`) ||
			strings.Contains(body, id) || strings.Contains(body, "Northgroup") {
			t.Errorf("scoped administrator: %d %s", code, body)
		}
		code, body = call(ctx, `{"emails": "kim@x.org", "groups": [{"group_id": "`+ID(south.ID)+`", "role": "trainer"}]}`)
		if code != 200 || !strings.Contains(body, `"outcome":"already_invited","invitation_id":"`+id+`"`) {
			t.Errorf("platform: %d %s", code, body)
		}
	})
}
