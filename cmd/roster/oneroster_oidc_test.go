package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster/internal/authz"
	"roster/internal/config"
	"roster/internal/httpx"
	"roster/internal/oidcp"
	"roster/internal/server"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestOneRosterWithClientCredentials: as `roster serve` wires them, a client registered for
// client credentials gets a token at the OpenID provider's token endpoint and reads the
// OneRoster users with it; without a token, or with a Roster API token, it is refused.
func TestOneRosterWithClientCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		db.Now = time.Now
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String()
		cfg := &config.Config{BaseURL: base}
		log := slog.New(slog.DiscardHandler)
		svc := newServices(db, cfg, log)
		deps, err := httpDeps(db, cfg, svc, log, httpx.NewMetrics())
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: server.New(deps), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })

		sys := authz.With(context.Background(), authz.System)
		name := "Rostering"
		grants := []string{oidcp.GrantClientCredentials}
		scopes := []string{oidcp.ScopeRosterReadonlyV1p1}
		c, secret, err := svc.oidc.CreateClient(sys, oidcp.ClientInput{Name: &name, GrantTypes: &grants, Scopes: &scopes})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", base+oidcp.PathToken, strings.NewReader(url.Values{"grant_type": {"client_credentials"},
			"scope": {oidcp.ScopeRosterReadonlyV1p1}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ClientID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if resp.StatusCode != 200 || tok.AccessToken == "" {
			t.Fatalf("token: %d", resp.StatusCode)
		}
		get := func(bearer string) int {
			req, _ := http.NewRequest("GET", base+"/ims/oneroster/v1p1/users?limit=5", nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if st := get(tok.AccessToken); st != 200 {
			t.Errorf("users with the client's token: %d", st)
		}
		if st := get(""); st != 401 {
			t.Errorf("users without a token: %d", st)
		}
		api, err := svc.accounts.CreateAPIToken(sys, "api", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if st := get(api); st != 401 {
			t.Errorf("users with a Roster API token: %d", st)
		}
	})
}
