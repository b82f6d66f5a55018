package sso

import (
	"context"
	"time"

	"golang.org/x/oauth2"

	"github.com/coreos/go-oidc/v3/oidc"

	"roster/internal/errs"
	"roster/internal/httpx"
	"roster/internal/secret"
	"roster/internal/store"
)

// Start is where a login goes first: the provider's URL, and the flow token to keep in the
// FlowCookie until the person comes back.
type Start struct {
	RedirectURL string
	FlowToken   string
	MaxAge      time.Duration // of the cookie
}

// flow is a login under way, as stored.
type flow struct {
	nonceHash, verifier, next string
}

// Begin starts a login with the provider slug, to come back to next (a local path). For CAS
// the URL is CAS/login?service=...; for OIDC it is the authorization endpoint with state,
// nonce and a PKCE S256 challenge. Errors: NotFound (unknown or disabled provider),
// Unavailable (the OIDC provider's discovery failed).
func (s *Service) Begin(ctx context.Context, slug, next string) (*Start, error) {
	p, err := providerBySlug(ctx, s.db, slug)
	if err != nil {
		return nil, err
	}
	state, _ := secret.New()
	var nonce, verifier, redirect string
	switch p.Kind {
	case KindCAS:
		redirect = s.casLoginURL(p)
	case KindOIDC:
		conf, _, err := s.oauthConfig(ctx, p)
		if err != nil {
			return nil, err
		}
		nonce, _ = secret.New()
		verifier = oauth2.GenerateVerifier()
		redirect = conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	}
	nonceHash := ""
	if nonce != "" {
		nonceHash = secret.Hash(nonce)
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// Forget flows nobody finished, a day after they expired.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sso_flows WHERE expires_at < $1`, tx.Now.Add(-24*time.Hour).Unix()); err != nil {
			return wrap(err, "purge flows")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_flows (state_hash, provider_id, nonce_hash, verifier, next, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, secret.Hash(state), p.ID, nonceHash, verifier, httpx.LocalPath(next),
			tx.Now.Unix(), tx.Now.Add(s.cfg.FlowTTL).Unix())
		return wrap(err, "insert flow")
	})
	if err != nil {
		return nil, err
	}
	return &Start{RedirectURL: redirect, FlowToken: state, MaxAge: s.cfg.FlowTTL}, nil
}

func errFlow() error {
	return refuse(errs.Gone, ReasonFlow, "sso_link_invalid")
}

// consumeFlow uses up the flow of state for provider p: check and marking are one UPDATE,
// so a flow serves exactly once. Errors: Gone (reason flow).
func consumeFlow(ctx context.Context, db *store.DB, providerID int64, state string) (*flow, error) {
	if state == "" {
		return nil, errFlow()
	}
	var f flow
	err := db.Tx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE sso_flows SET used_at = $1
			WHERE state_hash = $2 AND provider_id = $3 AND used_at IS NULL AND expires_at > $1
			RETURNING nonce_hash, verifier, next`, tx.Now.Unix(), secret.Hash(state), providerID).Scan(&f.nonceHash, &f.verifier, &f.next)
	})
	if store.IsNoRows(err) {
		return nil, errFlow()
	}
	if err != nil {
		return nil, wrap(err, "consume flow")
	}
	return &f, nil
}
