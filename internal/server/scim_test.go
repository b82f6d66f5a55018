package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/api"
	"roster/internal/authz"
	"roster/internal/group"
	"roster/internal/httpx"
	"roster/internal/scim"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/web"
)

// A bad token on /scim/v2 is refused by the authentication middleware, before the SCIM
// handler, in SCIM's error format (RFC 7644 §3.12; Okta's "Check status 401" test wants
// "schemas" and "status": "401"); elsewhere the same refusal stays problem details.
func TestSCIMUnauthorized(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		accounts := account.NewService(db, account.Config{BaseURL: "http://roster.test"})
		groups := group.NewService(db)
		pages, err := web.New(web.Config{BaseURL: "http://roster.test"}, web.Services{Log: log, DB: db, Accounts: accounts})
		if err != nil {
			t.Fatal(err)
		}
		h := New(Deps{Log: log, DB: db, Accounts: accounts, Web: pages, Metrics: httpx.NewMetrics(),
			API:  api.New(api.Config{}, api.Services{Log: log, DB: db, Accounts: accounts}),
			SCIM: scim.New(scim.Services{DB: db, Accounts: accounts, Groups: groups}, scim.Config{BaseURL: "http://roster.test"})})
		ctx := authz.With(context.Background(), authz.System)
		g, err := groups.Create(ctx, group.Group{Name: "Contoso"})
		if err != nil {
			t.Fatal(err)
		}
		token, err := accounts.CreateAPIToken(ctx, "okta", 0, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		call := func(path, auth string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("GET", path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		if rec := call("/scim/v2/Users", "Bearer "+token); rec.Code != 200 {
			t.Fatalf("good token: %d %s", rec.Code, rec.Body)
		}
		var id int64
		if err := db.QueryRowContext(ctx, `SELECT id FROM api_tokens WHERE scim_group_id = $1`, g.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if err := accounts.RevokeAPIToken(ctx, id); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, path, auth string }{
			{"wrong token", "/scim/v2/Users?filter=userName%20eq%20%22x%22", "Bearer not-a-token"},
			{"revoked token", "/scim/v2/Users", "Bearer " + token},
			{"not a bearer token", "/scim/v2/ServiceProviderConfig", "Basic dXNlcjpwYXNz"},
			{"no token", "/scim/v2/Groups", ""},
		} {
			rec := call(tc.path, tc.auth)
			var body struct {
				Schemas []string `json:"schemas"`
				Status  string   `json:"status"`
				Detail  string   `json:"detail"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Errorf("%s: %v: %s", tc.name, err, rec.Body)
				continue
			}
			if rec.Code != 401 || rec.Header().Get("Content-Type") != "application/scim+json" ||
				len(body.Schemas) != 1 || body.Schemas[0] != scim.ErrorSchema || body.Status != "401" || body.Detail == "" ||
				!strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d %s %s", tc.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
		}
		if rec := call("/api/v1/mail", "Bearer not-a-token"); rec.Code != 401 || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("API with a wrong token: %d %s", rec.Code, rec.Header().Get("Content-Type"))
		}
	})
}
