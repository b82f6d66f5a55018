package sso

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"roster/internal/secret"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// Tokens made with a test key and checked by go-oidc's verifier exactly as exchangeCode
// configures it (client id as audience, the service's clock): a good token passes, and a
// tampered one, another audience, an expired one, another issuer, another key and another
// nonce are all refused.
func TestVerifyIDTokenRefusals(t *testing.T) {
	const issuer, clientID = "https://op.example", "roster"
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	verifier := oidc.NewVerifier(issuer, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{key.Public()}},
		&oidc.Config{ClientID: clientID, Now: func() time.Time { return now }})
	nonce := "the-nonce-of-this-login"
	claims := func(change func(map[string]any)) map[string]any {
		c := map[string]any{"iss": issuer, "sub": "id-alice", "aud": clientID, "nonce": nonce,
			"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix(), "email": "alice@op.example"}
		if change != nil {
			change(c)
		}
		return c
	}
	sign := func(k *rsa.PrivateKey, c map[string]any) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, nil)
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(c)
		jws, err := signer.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		return s
	}
	good := sign(key, claims(nil))
	if idt, err := verifyIDToken(context.Background(), verifier, good, secret.Hash(nonce)); err != nil || idt.Subject != "id-alice" {
		t.Fatalf("a good token is refused: %v", err)
	}
	// Tampered: the payload of a good token changed to another subject, signature kept.
	parts := strings.Split(good, ".")
	forged, _ := json.Marshal(claims(func(c map[string]any) { c["sub"] = "id-mallory" }))
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	for name, tc := range map[string]struct {
		token, nonceHash, want string
	}{
		"tampered":       {tampered, secret.Hash(nonce), "signature"},
		"wrong audience": {sign(key, claims(func(c map[string]any) { c["aud"] = "another-client" })), secret.Hash(nonce), "audience"},
		"expired":        {sign(key, claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), secret.Hash(nonce), "expired"},
		"wrong issuer":   {sign(key, claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), secret.Hash(nonce), "issued by a different provider"},
		"other key":      {sign(other, claims(nil)), secret.Hash(nonce), "signature"},
		"wrong nonce":    {good, secret.Hash("another login's nonce"), "nonce"},
		"no nonce":       {sign(key, claims(func(c map[string]any) { delete(c, "nonce") })), secret.Hash(nonce), "nonce"},
		"not a jwt":      {"not.a.token", secret.Hash(nonce), "not valid"},
	} {
		_, err := verifyIDToken(context.Background(), verifier, tc.token, tc.nonceHash)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if ReasonOf(err) != ReasonProvider || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v (reason %q), want reason provider mentioning %q", name, err, ReasonOf(err), tc.want)
		}
	}
}
