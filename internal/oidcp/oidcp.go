// Package oidcp makes Roster an OpenID Connect provider, so that course platforms (Moodle's
// OAuth 2 services, Canvas, any OpenID Connect client) log people in with their Roster
// account, and an OAuth 2 authorization server whose client-credentials tokens let registered
// tools read the OneRoster rostering service.
//
// The protocol is zitadel/oidc's op package (a certified implementation); this package is its
// storage, in Roster's database so that several instances share it: the registered clients
// (admins manage them: clients.go), the RSA signing keys, rotated (keys.go), the
// authorization requests and codes, and the tokens (storage.go). People log in through
// Roster's own login page (local password, CAS or an upstream OpenID provider): the
// authorization endpoint sends a person without a session to /login and continues after
// (login.go). Registered clients are first-party: there is no consent screen.
package oidcp

import (
	"context"
	"crypto/rand"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"crypto/rsa"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/httpx"
	"roster/internal/store"
)

// Config holds the provider's settings.
type Config struct {
	// BaseURL is Roster's public address and the issuer.
	BaseURL string
	// Secure: session cookies carry the Secure flag (logout clears them with it).
	Secure bool
	Log    *slog.Logger
	// Lifetimes. Defaults: ID and access tokens 1 hour, refresh tokens 30 days, a login at
	// the authorization endpoint 30 minutes, a code 5 minutes after it is issued.
	IDTokenTTL, AccessTokenTTL, RefreshTokenTTL, AuthRequestTTL, CodeTTL time.Duration
	// KeyRotation is the age after which a new signing key is made. Default 30 days.
	KeyRotation time.Duration
}

func (c Config) longestToken() time.Duration {
	return max(c.IDTokenTTL, c.AccessTokenTTL) + 5*time.Minute
}

// The paths of the endpoints; discovery lists them.
const (
	PathDiscovery = "/.well-known/openid-configuration"
	PathAuthorize = "/oidc/authorize"
	PathCallback  = "/oidc/authorize/callback"
	PathToken     = "/oidc/token"
	PathUserinfo  = "/oidc/userinfo"
	PathKeys      = "/oidc/keys"
	PathEndSess   = "/oidc/end_session"
	PathRevoke    = "/oidc/revoke"
	PathIntrospec = "/oidc/introspect"
	PathLogin     = "/oidc/login"
)

// OwnAuth reports whether path is an endpoint of this package, which authenticates its
// callers itself (client secrets in a Basic header, Roster's bearer access tokens): the
// server's middleware must leave the Authorization header to it.
func OwnAuth(path string) bool {
	return path == PathDiscovery || strings.HasPrefix(path, "/oidc/")
}

// Provider is the OpenID provider and the clients' registry.
type Provider struct {
	db       *store.DB
	accounts *account.Service
	cfg      Config
	log      *slog.Logger
	op       *op.Provider
	verifier *op.AccessTokenVerifier // Roster's own access tokens, outside op's requests

	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey // parsed signing keys, by kid
}

// New returns the provider.
func New(db *store.DB, accounts *account.Service, cfg Config) (*Provider, error) {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.IDTokenTTL, time.Hour)
	def(&cfg.AccessTokenTTL, time.Hour)
	def(&cfg.RefreshTokenTTL, 30*24*time.Hour)
	def(&cfg.AuthRequestTTL, 30*time.Minute)
	def(&cfg.CodeTTL, 5*time.Minute)
	def(&cfg.KeyRotation, 30*24*time.Hour)
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	p := &Provider{db: db, accounts: accounts, cfg: cfg, log: cfg.Log, keys: map[string]*rsa.PrivateKey{}}
	// The crypto key only encrypts the request id inside codes, which the storage looks up
	// by hash and never decrypts (access tokens are JWTs): a key per process is enough.
	var ck [32]byte
	rand.Read(ck[:])
	conf := &op.Config{
		CryptoKey:                ck,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.French, language.English},
		SupportedScopes:          append(append([]string{}, userScopes...), rosterScopes...),
		SupportedClaims:          append(slices.Clone(op.DefaultSupportedClaims), "groups", "roles"),
		DefaultLogoutRedirectURI: cfg.BaseURL + "/",
	}
	opts := []op.Option{
		op.WithCustomEndpoints(op.NewEndpoint(PathAuthorize), op.NewEndpoint(PathToken), op.NewEndpoint(PathUserinfo),
			op.NewEndpoint(PathRevoke), op.NewEndpoint(PathEndSess), op.NewEndpoint(PathKeys)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(PathIntrospec)),
	}
	if strings.HasPrefix(cfg.BaseURL, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	st := &storage{p: p}
	o, err := op.NewProvider(conf, st, op.StaticIssuer(cfg.BaseURL), opts...)
	if err != nil {
		return nil, errs.Wrap(err, "openid provider")
	}
	p.op = o
	p.verifier = op.NewAccessTokenVerifier(cfg.BaseURL, &op.OpenIDKeySet{Storage: st})
	return p, nil
}

// Routes registers the provider's endpoints.
func (p *Provider) Routes(mux httpx.Router) {
	h := p.op.HttpHandler()
	mux.Handle("GET "+PathDiscovery, h)
	mux.Handle("GET "+PathKeys, h)
	mux.Handle("GET "+PathAuthorize, h)
	mux.Handle("POST "+PathAuthorize, h)
	mux.HandleFunc("GET "+PathCallback, p.callback)
	mux.Handle("POST "+PathToken, h)
	mux.Handle("GET "+PathUserinfo, h)
	mux.Handle("POST "+PathUserinfo, h)
	mux.Handle("POST "+PathRevoke, h)
	mux.Handle("POST "+PathIntrospec, h)
	mux.HandleFunc("GET "+PathEndSess, p.endSession)
	mux.HandleFunc("POST "+PathEndSess, p.endSession)
	mux.HandleFunc("GET "+PathLogin, p.login)
}

// CrossOriginEndpoints are the endpoints that other sites' pages may call (a single-page
// tool exchanging its code, reading userinfo): the server's cross-origin protection must let
// them through. None of them acts on a session cookie.
var CrossOriginEndpoints = []string{"POST " + PathToken, "POST " + PathUserinfo, "POST " + PathRevoke, "POST " + PathIntrospec, "POST " + PathAuthorize}

// ClientGrant is what a client-credentials access token grants.
type ClientGrant struct {
	ClientID string
	GroupID  int64 // the group subtree the client may read; 0 = the whole platform
	Scopes   []string
}

// VerifyAccessToken checks a bearer access token issued by the token endpoint and returns
// the registered client it was issued to: its id, its group subtree (0 = whole platform) and
// its scopes. Errors: Unauthorized for unknown, expired or revoked tokens (and tokens issued
// to a person rather than to a client).
func (p *Provider) VerifyAccessToken(ctx context.Context, token string) (ClientGrant, error) {
	claims, err := op.VerifyAccessToken[*oidc.AccessTokenClaims](ctx, token, p.verifier)
	if err != nil {
		return ClientGrant{}, errs.New(errs.Unauthorized, "invalid access token")
	}
	row, err := p.tokenRow(ctx, claims.JWTID)
	if err != nil {
		return ClientGrant{}, err
	}
	if row.userID != 0 {
		return ClientGrant{}, errs.New(errs.Unauthorized, "not a client credentials token")
	}
	c, err := clientByClientID(ctx, p.db, row.clientID)
	if err != nil {
		return ClientGrant{}, errs.New(errs.Unauthorized, "invalid access token")
	}
	return ClientGrant{ClientID: c.ClientID, GroupID: c.GroupID, Scopes: row.scopes}, nil
}

// Issuer is the provider's issuer (the base URL).
func (p *Provider) Issuer() string { return p.cfg.BaseURL }

// RotateKey makes a new signing key now (the command line, or a test); the previous keys
// stay published until the tokens they signed have expired.
func (p *Provider) RotateKey(ctx context.Context) (string, error) {
	k, err := p.rotateKey(ctx)
	if err != nil {
		return "", err
	}
	return k.kid, nil
}
