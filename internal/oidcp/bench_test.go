package oidcp_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"roster/internal/oidcp"
	"roster/internal/store/storetest"
)

// BenchmarkVerifyAccessToken: what every OneRoster request pays to check its bearer token
// (signature, then the token's row and its client), on SQLite. Floor: 2 ms a call.
func BenchmarkVerifyAccessToken(b *testing.B) {
	db, _ := storetest.OpenSQLite(b)
	db.Now = time.Now
	r := startRoster(b, db, oidcp.Config{})
	cc, sec, err := r.OP.CreateClient(admin(), oidcp.ClientInput{Name: ptr("Rostering"),
		GrantTypes: ptr([]string{oidcp.GrantClientCredentials}), Scopes: ptr([]string{oidcp.ScopeRosterReadonly})})
	if err != nil {
		b.Fatal(err)
	}
	_, out := tokenCall(b, r.Base, cc.ClientID, sec, url.Values{"grant_type": {"client_credentials"}})
	tok, _ := out["access_token"].(string)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.OP.VerifyAccessToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if per := b.Elapsed() / time.Duration(b.N); per >= 2*time.Millisecond {
		b.Errorf("%v a call, floor 2 ms", per)
	}
}
