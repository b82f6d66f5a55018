package oidcp

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
)

// storage implements op.Storage (and client credentials, userinfo from the request, and
// logout from the request) over Roster's database.
type storage struct{ p *Provider }

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

// errNotFound is what op sees for unknown requests, codes and tokens.
var errNotFound = errors.New("not found")

// ---- authorization requests ----

type authRequest struct {
	id, idHash                 string // id is known only to the browser's flow; idHash is stored
	clientID, redirectURI      string
	scopes                     []string
	state, nonce               string
	responseType, responseMode string
	prompt                     []string
	maxAge                     *int64 // seconds; prompt=login is 0 (op sets it)
	createdAt                  time.Time
	challenge, method          string
	userID                     int64
	authTime                   time.Time
	codeHash                   string // once the code is issued
}

func (a *authRequest) GetID() string {
	if a.id != "" {
		return a.id
	}
	return "h:" + a.idHash
}
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAMR() []string      { return nil } // password, CAS or upstream OIDC: not told
func (a *authRequest) GetAudience() []string { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.authTime
}
func (a *authRequest) GetClientID() string { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.challenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.challenge, Method: oidc.CodeChallengeMethod(a.method)}
}
func (a *authRequest) GetNonce() string                   { return a.nonce }
func (a *authRequest) GetRedirectURI() string             { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.responseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.responseMode) }
func (a *authRequest) GetScopes() []string                { return a.scopes }
func (a *authRequest) GetState() string                   { return a.state }
func (a *authRequest) GetSubject() string {
	if a.userID == 0 {
		return ""
	}
	return strconv.FormatInt(a.userID, 10)
}
func (a *authRequest) Done() bool { return a.userID != 0 }

// hashOfID is the stored form of an auth request id as GetID returns it.
func hashOfID(id string) string {
	if h, ok := strings.CutPrefix(id, "h:"); ok {
		return h
	}
	return secret.Hash(id)
}

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrInvalidRequest().WithDescription("only the code flow (response_type=code) is supported")
	}
	id, hash := secret.New()
	a := &authRequest{id: id, idHash: hash, clientID: req.ClientID, redirectURI: req.RedirectURI, scopes: req.Scopes,
		state: req.State, nonce: req.Nonce, responseType: string(req.ResponseType), responseMode: string(req.ResponseMode),
		prompt: req.Prompt, challenge: req.CodeChallenge, method: string(req.CodeChallengeMethod)}
	if req.MaxAge != nil {
		a.maxAge = new(int64(*req.MaxAge))
	}
	err := s.p.db.Tx(ctx, func(tx *store.Tx) error {
		// Expired requests go as new ones come.
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at < $1`, tx.Now.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_auth_requests (id_hash, client_id, redirect_uri, scopes, state, nonce,
			response_type, response_mode, prompt, max_age, challenge, challenge_method, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			hash, a.clientID, a.redirectURI, jsonOf(a.scopes), a.state, a.nonce, a.responseType, a.responseMode,
			strings.Join(a.prompt, " "), a.maxAge, a.challenge, a.method, tx.Now.Unix(), tx.Now.Add(s.p.cfg.AuthRequestTTL).Unix())
		a.createdAt = store.Time(tx.Now.Unix())
		return err
	})
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return a, nil
}

const authCols = `id_hash, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode, prompt, challenge,
	challenge_method, user_id, auth_time, code_hash, max_age, created_at`

func scanAuth(row interface{ Scan(...any) error }) (*authRequest, error) {
	var a authRequest
	var scopes, prompt string
	var uid, at *int64
	var code *string
	var created int64
	err := row.Scan(&a.idHash, &a.clientID, &a.redirectURI, &scopes, &a.state, &a.nonce, &a.responseType, &a.responseMode,
		&prompt, &a.challenge, &a.method, &uid, &at, &code, &a.maxAge, &created)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &a.scopes); err != nil {
		return nil, err
	}
	a.prompt = strings.Fields(prompt)
	a.createdAt = store.Time(created)
	if uid != nil {
		a.userID = *uid
	}
	if at != nil {
		a.authTime = store.Time(*at)
	}
	if code != nil {
		a.codeHash = *code
	}
	return &a, nil
}

// authRequestByID returns a pending request (not yet turned into a code).
func (p *Provider) authRequestByID(ctx context.Context, id string) (*authRequest, error) {
	a, err := scanAuth(p.db.QueryRowContext(ctx, `SELECT `+authCols+` FROM oidc_auth_requests
		WHERE id_hash = $1 AND expires_at > $2 AND code_hash IS NULL`, hashOfID(id), p.db.Now().Unix()))
	if store.IsNoRows(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, errs.Wrap(err, "auth request")
	}
	if !strings.HasPrefix(id, "h:") {
		a.id = id
	}
	return a, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	return s.p.authRequestByID(ctx, id)
}

// AuthRequestByCode uses the code up: a code works once, even for two exchanges at the same
// moment on two instances. A code presented again revokes the tokens it gave (RFC 6749
// §4.1.2): someone else has it.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	var a *authRequest
	err := s.p.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_auth_requests SET code_used = true
			WHERE code_hash = $1 AND code_used = false AND expires_at > $2`, secret.Hash(code), tx.Now.Unix())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errNotFound
		}
		a, err = scanAuth(tx.QueryRowContext(ctx, `SELECT `+authCols+` FROM oidc_auth_requests WHERE code_hash = $1`, secret.Hash(code)))
		return err
	})
	if errors.Is(err, errNotFound) {
		if _, err := s.p.db.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE code_hash = $1`, secret.Hash(code)); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.p.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_auth_requests SET code_hash = $1, expires_at = $2
			WHERE id_hash = $3 AND code_hash IS NULL AND user_id IS NOT NULL`, secret.Hash(code), tx.Now.Add(s.p.cfg.CodeTTL).Unix(), hashOfID(id))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errNotFound
		}
		return nil
	})
}

// DeleteAuthRequest forgets a request, except one whose code was used: it stays (used) until
// the code would have expired, so that a replay is recognised.
func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := s.p.db.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id_hash = $1 AND code_used = false`, hashOfID(id))
	return err
}

// completeAuthRequest records who logged in for a pending request.
func (p *Provider) completeAuthRequest(ctx context.Context, id string, userID int64, authTime time.Time) error {
	return p.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE oidc_auth_requests SET user_id = $1, auth_time = $2
			WHERE id_hash = $3 AND code_hash IS NULL AND expires_at > $4`, userID, authTime.Unix(), hashOfID(id), tx.Now.Unix())
		return errs.Wrap(err, "complete auth request")
	})
}

// ---- tokens ----

// ccRequest is a client credentials token request.
type ccRequest struct {
	clientID string
	scopes   []string
}

func (r *ccRequest) GetSubject() string    { return r.clientID }
func (r *ccRequest) GetAudience() []string { return []string{r.clientID} }
func (r *ccRequest) GetScopes() []string   { return r.scopes }

// refreshRequest is what a refresh token carries.
type refreshRequest struct {
	clientID string
	userID   int64
	scopes   []string
	authTime time.Time
	codeHash string
}

func (r *refreshRequest) GetAMR() []string             { return nil }
func (r *refreshRequest) GetAudience() []string        { return []string{r.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time       { return r.authTime }
func (r *refreshRequest) GetClientID() string          { return r.clientID }
func (r *refreshRequest) GetScopes() []string          { return r.scopes }
func (r *refreshRequest) GetSubject() string           { return strconv.FormatInt(r.userID, 10) }
func (r *refreshRequest) SetCurrentScopes(sc []string) { r.scopes = sc }

type grant struct {
	clientID string
	userID   int64 // 0 for client credentials
	scopes   []string
	authTime time.Time
	codeHash string // the code the grant came from, if any
}

// grantOf says to whom a token request grants: the client, the person, the scopes, when the
// person logged in, and the code it came from.
func grantOf(req op.TokenRequest) (grant, error) {
	switch r := req.(type) {
	case *authRequest:
		return grant{r.clientID, r.userID, r.scopes, r.authTime, r.codeHash}, nil
	case *refreshRequest:
		return grant{r.clientID, r.userID, r.scopes, r.authTime, r.codeHash}, nil
	case *ccRequest:
		return grant{clientID: r.clientID, scopes: r.scopes}, nil
	}
	return grant{}, oidc.ErrUnsupportedGrantType()
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullUnix(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func newTokenID() string {
	id, _ := secret.New()
	return id[:32]
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, err := grantOf(req)
	if err != nil {
		return "", time.Time{}, err
	}
	id := newTokenID()
	var exp time.Time
	err = s.p.db.Tx(ctx, func(tx *store.Tx) error {
		exp = tx.Now.Add(s.p.cfg.AccessTokenTTL)
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE expires_at < $1 AND refresh_hash IS NULL`, tx.Now.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_tokens (id, client_id, user_id, scopes, auth_time, code_hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, g.clientID, nullInt(g.userID), jsonOf(g.scopes), nullUnix(g.authTime),
			nullStr(g.codeHash), tx.Now.Unix(), exp.Unix())
		return err
	})
	if err != nil {
		return "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	return id, exp, nil
}

// CreateAccessAndRefreshTokens issues an access token and a refresh token; a refresh token
// presented (current) is used up in the same transaction: each works once.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, err := grantOf(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if g.userID == 0 {
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	id := newTokenID()
	refresh, refreshHash := secret.New()
	var exp time.Time
	err = s.p.db.Tx(ctx, func(tx *store.Tx) error {
		exp = tx.Now.Add(s.p.cfg.AccessTokenTTL)
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE refresh_expires_at < $1`, tx.Now.Unix()); err != nil {
			return err
		}
		if current != "" {
			res, err := tx.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE refresh_hash = $1 AND client_id = $2 AND refresh_expires_at > $3`,
				secret.Hash(current), g.clientID, tx.Now.Unix())
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_tokens (id, client_id, user_id, scopes, auth_time, refresh_hash,
			refresh_expires_at, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			id, g.clientID, g.userID, jsonOf(g.scopes), nullUnix(g.authTime), refreshHash, tx.Now.Add(s.p.cfg.RefreshTokenTTL).Unix(),
			nullStr(g.codeHash), tx.Now.Unix(), exp.Unix())
		return err
	})
	if err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) {
			return "", "", time.Time{}, oe
		}
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	return id, refresh, exp, nil
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, refresh string) (op.RefreshTokenRequest, error) {
	var r refreshRequest
	var scopes string
	var at *int64
	var code *string
	err := s.p.db.QueryRowContext(ctx, `SELECT client_id, user_id, scopes, auth_time, code_hash FROM oidc_tokens
		WHERE refresh_hash = $1 AND refresh_expires_at > $2`, secret.Hash(refresh), s.p.db.Now().Unix()).Scan(&r.clientID, &r.userID, &scopes, &at, &code)
	if err != nil {
		return nil, op.ErrInvalidRefreshToken
	}
	if err := json.Unmarshal([]byte(scopes), &r.scopes); err != nil {
		return nil, err
	}
	if at != nil {
		r.authTime = store.Time(*at)
	}
	if code != nil {
		r.codeHash = *code
	}
	// A suspended or deleted account gets no new tokens.
	if _, err := s.p.activeUser(ctx, r.userID); err != nil {
		return nil, op.ErrInvalidRefreshToken
	}
	return &r, nil
}

// TerminateSession revokes the tokens of a person for a client.
func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	_, err := s.p.db.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE user_id = $1 AND client_id = $2`, userID, clientID)
	return err
}

func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	var err error
	if userID != "" {
		_, err = s.p.db.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE id = $1 AND client_id = $2`, tokenOrID, clientID)
	} else {
		_, err = s.p.db.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE refresh_hash = $1 AND client_id = $2`, secret.Hash(tokenOrID), clientID)
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	var uid int64
	var id string
	err := s.p.db.QueryRowContext(ctx, `SELECT user_id, id FROM oidc_tokens WHERE refresh_hash = $1 AND client_id = $2`,
		secret.Hash(token), clientID).Scan(&uid, &id)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return strconv.FormatInt(uid, 10), id, nil
}

// tokenRow is a valid (known, unexpired) access token.
type tokenRow struct {
	clientID string
	userID   int64
	scopes   []string
	expires  time.Time
}

func (p *Provider) tokenRow(ctx context.Context, id string) (*tokenRow, error) {
	var t tokenRow
	var uid *int64
	var scopes string
	var exp int64
	err := p.db.QueryRowContext(ctx, `SELECT client_id, user_id, scopes, expires_at FROM oidc_tokens WHERE id = $1 AND expires_at > $2`,
		id, p.db.Now().Unix()).Scan(&t.clientID, &uid, &scopes, &exp)
	if store.IsNoRows(err) {
		return nil, errs.New(errs.Unauthorized, "unknown, expired or revoked token")
	}
	if err != nil {
		return nil, errs.Wrap(err, "token")
	}
	if uid != nil {
		t.userID = *uid
	}
	if err := json.Unmarshal([]byte(scopes), &t.scopes); err != nil {
		return nil, errs.Wrap(err, "token scopes")
	}
	t.expires = store.Time(exp)
	return &t, nil
}

// ---- keys ----

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) { return s.p.currentKey(ctx) }
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) { return s.p.publicKeys(ctx) }

// ---- clients ----

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := clientByClientID(ctx, s.p.db, clientID)
	if errs.Is(err, errs.NotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &opClient{c: c, p: s.p}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, clientSecret string) error {
	c, err := clientByClientID(ctx, s.p.db, clientID)
	if errs.Is(err, errs.NotFound) {
		return errNotFound
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if !c.checkSecret(clientSecret) {
		return errors.New("wrong client secret")
	}
	return nil
}

func (s *storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, clientID, clientSecret); err != nil {
		return nil, err
	}
	return s.GetClientByClientID(ctx, clientID)
}

// ClientCredentialsTokenRequest grants the scopes asked for among those the client is
// registered for (all of its OneRoster scopes when none is asked for).
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, err := clientByClientID(ctx, s.p.db, clientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient()
	}
	granted := []string{}
	if len(scopes) == 0 {
		for _, sc := range c.Scopes {
			if slices.Contains(rosterScopes, sc) {
				granted = append(granted, sc)
			}
		}
	}
	for _, sc := range scopes {
		if !slices.Contains(rosterScopes, sc) || !slices.Contains(c.Scopes, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope not registered for this client: %s", sc)
		}
		granted = append(granted, sc)
	}
	return &ccRequest{clientID: clientID, scopes: granted}, nil
}

// ---- claims ----

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	uid, err := strconv.ParseInt(req.GetSubject(), 10, 64)
	if err != nil {
		return err
	}
	return s.p.setUserinfo(ctx, info, uid, req.GetClientID(), scopes)
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.p.tokenRow(ctx, tokenID)
	if err != nil {
		return err
	}
	if t.userID == 0 || strconv.FormatInt(t.userID, 10) != subject {
		return errors.New("not a token of a person")
	}
	return s.p.setUserinfo(ctx, info, t.userID, t.clientID, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.p.tokenRow(ctx, tokenID)
	if err != nil {
		return err
	}
	if t.clientID != clientID {
		return errors.New("token of another client")
	}
	resp.Active = true
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Subject = subject
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) Health(ctx context.Context) error { return s.p.db.PingContext(ctx) }

// ---- logout ----

// TerminateSessionFromRequest ends the Roster session of the browser when the ID token hint
// names its person (without a hint, a link on any site could log people out), revokes the
// person's tokens for the client, and sends the browser to the registered post-logout URI,
// else to Roster's login page (session ended) or home page.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	ls, _ := ctx.Value(logoutKey{}).(*logoutState)
	if ls != nil && ls.userID != 0 && req.IDTokenHintClaims != nil && req.IDTokenHintClaims.Subject == strconv.FormatInt(ls.userID, 10) {
		if err := s.p.accounts.EndSession(ctx, ls.token); err != nil {
			return "", err
		}
		ls.ended = true
		if req.ClientID != "" {
			if err := s.TerminateSession(ctx, strconv.FormatInt(ls.userID, 10), req.ClientID); err != nil {
				return "", err
			}
		}
	}
	switch {
	case req.RedirectURI != "":
		return req.RedirectURI, nil
	case ls != nil && ls.ended:
		return s.p.cfg.BaseURL + "/login?done=logout", nil
	}
	return s.p.cfg.BaseURL + "/", nil
}

// ---- the client as op sees it ----

type opClient struct {
	c *Client
	p *Provider
}

func (o *opClient) GetID() string                    { return o.c.ClientID }
func (o *opClient) RedirectURIs() []string           { return o.c.RedirectURIs }
func (o *opClient) PostLogoutRedirectURIs() []string { return o.c.PostLogoutRedirectURIs }
func (o *opClient) ApplicationType() op.ApplicationType {
	if o.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}
func (o *opClient) AuthMethod() oidc.AuthMethod {
	if o.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (o *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (o *opClient) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, 0, len(o.c.GrantTypes))
	for _, g := range o.c.GrantTypes {
		out = append(out, oidc.GrantType(g))
	}
	return out
}
func (o *opClient) LoginURL(id string) string {
	return o.p.cfg.BaseURL + PathLogin + "?id=" + url.QueryEscape(id)
}
func (o *opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (o *opClient) IDTokenLifetime() time.Duration      { return o.p.cfg.IDTokenTTL }
func (o *opClient) DevMode() bool                       { return false }
func (o *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (o *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (o *opClient) IsScopeAllowed(scope string) bool     { return slices.Contains(o.c.Scopes, scope) }
func (o *opClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (o *opClient) ClockSkew() time.Duration             { return 0 }
