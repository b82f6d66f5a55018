package sso

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"roster/internal/errs"
	"roster/internal/secret"
)

// OpenID Connect: authorization code with PKCE (S256), state and nonce kept server-side as
// hashes, discovery, and ID token verification by go-oidc (signature against the provider's
// published keys, issuer, audience, expiry against the service's clock), then the nonce.
// Claims missing from the ID token are read from the userinfo endpoint, whose subject must
// be the ID token's.

// discoveryTTL is how long a provider's metadata is trusted before it is read again; the
// keys themselves are refreshed by go-oidc when an unknown key id appears.
const discoveryTTL = time.Hour

type discovered struct {
	provider *oidc.Provider
	fetched  time.Time
}

// discover returns the provider metadata of an issuer, cached. Errors: Unavailable.
func (s *Service) discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	s.mu.Lock()
	d := s.discovery[issuer]
	s.mu.Unlock()
	if d != nil && time.Since(d.fetched) < discoveryTTL {
		return d.provider, nil
	}
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, s.cfg.HTTPClient), issuer)
	if err != nil {
		s.log.Warn("sso: OpenID Connect discovery failed", "issuer", issuer, "err", err)
		return nil, refuse(errs.Unavailable, ReasonProvider, "sso_provider_unreachable")
	}
	s.mu.Lock()
	s.discovery[issuer] = &discovered{provider: op, fetched: time.Now()}
	s.mu.Unlock()
	return op, nil
}

// oauthConfig is the OAuth 2.0 client of provider p.
func (s *Service) oauthConfig(ctx context.Context, p *Provider) (*oauth2.Config, *oidc.Provider, error) {
	op, err := s.discover(ctx, p.Settings.Issuer)
	if err != nil {
		return nil, nil, err
	}
	return &oauth2.Config{
		ClientID:     p.Settings.ClientID,
		ClientSecret: p.Settings.ClientSecret,
		Endpoint:     op.Endpoint(),
		RedirectURL:  s.CallbackURL(p),
		Scopes:       p.Settings.Scopes,
	}, op, nil
}

func oidcRefused(format string, args ...any) error {
	return refuse(errs.Unauthorized, ReasonProvider, "sso_oidc_refused", errs.P{"detail": fmt.Sprintf(format, args...)})
}

// exchangeCode trades the code for tokens with the PKCE verifier, verifies the ID token
// against the flow's nonce, and returns the person. Errors: Unauthorized (reason provider).
func (s *Service) exchangeCode(ctx context.Context, p *Provider, f *flow, code string) (*Identity, error) {
	if code == "" {
		return nil, oidcRefused("no authorization code came back.")
	}
	conf, op, err := s.oauthConfig(ctx, p)
	if err != nil {
		return nil, err
	}
	hctx := oidc.ClientContext(ctx, s.cfg.HTTPClient)
	tok, err := conf.Exchange(hctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		s.log.Warn("sso: code exchange failed", "provider", p.Slug, "err", err)
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, oidcRefused("it did not accept the authorization code (%s).", re.ErrorCode)
		}
		return nil, refuse(errs.Unavailable, ReasonProvider, "sso_provider_unreachable")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, oidcRefused("it sent no ID token.")
	}
	verifier := op.Verifier(&oidc.Config{ClientID: p.Settings.ClientID, Now: s.db.Now})
	idt, err := verifyIDToken(hctx, verifier, raw, f.nonceHash)
	if err != nil {
		s.log.Warn("sso: ID token refused", "provider", p.Slug, "err", err)
		return nil, err
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, oidcRefused("its ID token's claims cannot be read.")
	}
	if op.UserInfoEndpoint() != "" {
		ui, err := op.UserInfo(hctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			s.log.Warn("sso: userinfo failed", "provider", p.Slug, "err", err)
			return nil, oidcRefused("its userinfo endpoint failed.")
		}
		if ui.Subject != idt.Subject {
			return nil, oidcRefused("the userinfo subject is not the ID token's.")
		}
		more := map[string]any{}
		if err := ui.Claims(&more); err == nil {
			for k, v := range more {
				if _, ok := claims[k]; !ok {
					claims[k] = v
				}
			}
		}
	}
	return claimsIdentity(idt.Subject, claims), nil
}

// verifyIDToken checks raw with verifier (signature, issuer, audience, expiry) and then that
// its nonce is the flow's. Errors: Unauthorized (reason provider), naming what failed.
func verifyIDToken(ctx context.Context, verifier *oidc.IDTokenVerifier, raw, nonceHash string) (*oidc.IDToken, error) {
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, oidcRefused("the ID token has expired.")
		}
		msg := strings.TrimPrefix(err.Error(), "oidc: ")
		return nil, oidcRefused("the ID token is not valid (%s).", msg)
	}
	if nonceHash == "" || idt.Nonce == "" || secret.Hash(idt.Nonce) != nonceHash {
		return nil, oidcRefused("the ID token's nonce is not this login's.")
	}
	return idt, nil
}

// claimsIdentity turns claims into attributes: strings, numbers and booleans as one value,
// lists as several; nested objects are left out.
func claimsIdentity(sub string, claims map[string]any) *Identity {
	id := &Identity{Subject: sub, Attributes: map[string][]string{}}
	for k, v := range claims {
		switch v := v.(type) {
		case string:
			id.Attributes[k] = []string{v}
		case bool:
			id.Attributes[k] = []string{strconv.FormatBool(v)}
		case float64:
			id.Attributes[k] = []string{strconv.FormatFloat(v, 'f', -1, 64)}
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					id.Attributes[k] = append(id.Attributes[k], s)
				} else {
					id.Attributes[k] = append(id.Attributes[k], fmt.Sprint(e))
				}
			}
		}
	}
	switch v := claims["email_verified"].(type) {
	case bool:
		id.EmailVerified = v
	case string:
		id.EmailVerified = v == "true"
	}
	return id
}
