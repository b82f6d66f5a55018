package oidcp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
)

// Signing keys live in the database so that every instance signs with the same key and
// publishes the same JWKS. The newest key signs; after KeyRotation a new key is made at the
// next signature, and the older ones stay published until every token they signed has
// expired (retire_at), then are deleted.
//
// The private key is stored sealed with the site's secret key (store.DB.Key, held outside
// the database, the same on every instance): a copy of the database cannot sign tokens.

// sealedPrefix marks a sealed key; sealPurpose binds the sealed value to this use.
const (
	sealedPrefix = "sealed:"
	sealPurpose  = "oidc signing key"
)

type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.kid }

type publicKey struct {
	kid string
	key *rsa.PublicKey
}

func (k *publicKey) ID() string                         { return k.kid }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.key }

// parseKey reads a stored key, through an in-memory cache (parsing costs a few hundred
// microseconds, and keys never change).
func (p *Provider) parseKey(kid, pemText string) (*rsa.PrivateKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k, ok := p.keys[kid]; ok {
		return k, nil
	}
	if sealed, ok := strings.CutPrefix(pemText, sealedPrefix); ok {
		if p.db.Key == nil {
			return nil, errs.New(errs.Internal, "signing key %s is sealed and no secret key is set", kid)
		}
		plain, err := p.db.Key.Open(sealPurpose, sealed)
		if err != nil {
			return nil, errs.Wrap(err, "open signing key")
		}
		pemText = string(plain)
	}
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		return nil, errs.New(errs.Internal, "signing key %s: no PEM block", kid)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, errs.Wrap(err, "signing key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errs.New(errs.Internal, "signing key %s is not RSA", kid)
	}
	p.keys[kid] = rk
	return rk, nil
}

// signingKey returns the key that signs now, making a new one when there is none or the
// newest is older than KeyRotation.
func (p *Provider) currentKey(ctx context.Context) (*signingKey, error) {
	now := p.db.Now()
	var kid, pemText string
	var created int64
	err := p.db.QueryRowContext(ctx, `SELECT kid, private_pem, created_at FROM oidc_keys WHERE retire_at IS NULL
		ORDER BY created_at DESC, kid LIMIT 1`).Scan(&kid, &pemText, &created)
	if err != nil && !store.IsNoRows(err) {
		return nil, errs.Wrap(err, "signing key")
	}
	if err == nil && now.Sub(store.Time(created)) < p.cfg.KeyRotation {
		k, err := p.parseKey(kid, pemText)
		if err != nil {
			return nil, err
		}
		return &signingKey{kid: kid, key: k}, nil
	}
	return p.rotateKey(ctx)
}

// rotateKey makes a new signing key; the previous ones are kept in the JWKS for as long as a
// token they signed may live.
func (p *Provider) rotateKey(ctx context.Context) (*signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, errs.Wrap(err, "generate signing key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, errs.Wrap(err, "encode signing key")
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if p.db.Key != nil {
		pemText = sealedPrefix + p.db.Key.Seal(sealPurpose, []byte(pemText))
	}
	kid, _ := secret.New()
	kid = kid[:16]
	err = p.db.Tx(ctx, func(tx *store.Tx) error {
		retire := tx.Now.Add(p.cfg.longestToken()).Unix()
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_keys WHERE retire_at IS NOT NULL AND retire_at < $1`, tx.Now.Unix()); err != nil {
			return errs.Wrap(err, "drop retired keys")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_keys SET retire_at = $1 WHERE retire_at IS NULL`, retire); err != nil {
			return errs.Wrap(err, "retire signing key")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_keys (kid, private_pem, created_at) VALUES ($1, $2, $3)`,
			kid, pemText, tx.Now.Unix())
		return errs.Wrap(err, "insert signing key")
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.keys[kid] = key
	p.mu.Unlock()
	return &signingKey{kid: kid, key: key}, nil
}

// publicKeys are the keys of the JWKS: the signing key and those not yet retired.
func (p *Provider) publicKeys(ctx context.Context) ([]op.Key, error) {
	if _, err := p.currentKey(ctx); err != nil {
		return nil, err
	}
	rows, err := p.db.QueryContext(ctx, `SELECT kid, private_pem FROM oidc_keys WHERE retire_at IS NULL OR retire_at > $1
		ORDER BY CASE WHEN retire_at IS NULL THEN 0 ELSE 1 END, created_at DESC, kid`, p.db.Now().Unix())
	if err != nil {
		return nil, errs.Wrap(err, "keys")
	}
	defer rows.Close()
	type stored struct{ kid, pem string }
	var all []stored
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.kid, &s.pem); err != nil {
			return nil, errs.Wrap(err, "key")
		}
		all = append(all, s)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "keys")
	}
	rows.Close()
	out := make([]op.Key, 0, len(all))
	for _, s := range all {
		k, err := p.parseKey(s.kid, s.pem)
		if err != nil {
			return nil, err
		}
		out = append(out, &publicKey{kid: s.kid, key: &k.PublicKey})
	}
	return out, nil
}

func constantEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
