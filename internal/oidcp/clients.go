package oidcp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
)

// The grant types a client may be registered for.
const (
	GrantCode              = "authorization_code"
	GrantRefresh           = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Scopes beyond OpenID Connect's standard ones (openid, profile, email, offline_access, which
// every client may ask for) that a client must be registered for.
const (
	ScopeGroups = "groups" // the groups the person belongs to, claim "groups"
	ScopeRoles  = "roles"  // the person's course roles, claim "roles"
	// The OneRoster 1.2 rostering scopes, for the client credentials grant only.
	ScopeRosterReadonly     = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
	ScopeRosterCoreReadonly = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
	// The same in OneRoster 1.1, which Moodle's OneRoster enrolment plugin speaks.
	ScopeRosterReadonlyV1p1     = "https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly"
	ScopeRosterCoreReadonlyV1p1 = "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"
)

var (
	knownGrants  = []string{GrantCode, GrantRefresh, GrantClientCredentials}
	userScopes   = []string{"openid", "profile", "email", "offline_access", ScopeGroups, ScopeRoles}
	rosterScopes = []string{ScopeRosterReadonly, ScopeRosterCoreReadonly, ScopeRosterReadonlyV1p1, ScopeRosterCoreReadonlyV1p1}
)

// Client is a registered relying party (a course platform, a tool).
type Client struct {
	ID                     int64     `json:"id,string"`
	ClientID               string    `json:"client_id"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"` // no secret: PKCE only (apps, single-page tools)
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	GrantTypes             []string  `json:"grant_types"`
	Scopes                 []string  `json:"scopes"`
	GroupID                int64     `json:"group_id"` // client credentials: the group subtree; 0 = all
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`

	secretHash string
}

// ClientInput is what creating a client takes, and what PATCH changes (nil: unchanged).
type ClientInput struct {
	Name                   *string   `json:"name"`
	Public                 *bool     `json:"public"`
	RedirectURIs           *[]string `json:"redirect_uris"`
	PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris"`
	GrantTypes             *[]string `json:"grant_types"`
	Scopes                 *[]string `json:"scopes"`
	GroupID                *int64    `json:"group_id"`
}

func (in ClientInput) apply(c *Client) {
	if in.Name != nil {
		c.Name = strings.TrimSpace(*in.Name)
	}
	if in.Public != nil {
		c.Public = *in.Public
	}
	if in.RedirectURIs != nil {
		c.RedirectURIs = trimAll(*in.RedirectURIs)
	}
	if in.PostLogoutRedirectURIs != nil {
		c.PostLogoutRedirectURIs = trimAll(*in.PostLogoutRedirectURIs)
	}
	if in.GrantTypes != nil {
		c.GrantTypes = trimAll(*in.GrantTypes)
	}
	if in.Scopes != nil {
		c.Scopes = trimAll(*in.Scopes)
	}
	if in.GroupID != nil {
		c.GroupID = *in.GroupID
	}
}

func trimAll(in []string) []string {
	out := []string{}
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// validate checks a client before it is stored.
func validate(ctx context.Context, q store.Querier, c *Client) error {
	var f errs.Fields
	if c.Name == "" {
		f.AddCode("name", "required")
	} else if len(c.Name) > 200 {
		f.AddCode("name", "too_long", errs.P{"limit": 200})
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantCode}
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(knownGrants, g) {
			f.AddCode("grant_types", "oidc_unknown_grant", errs.P{"grant": g})
		}
	}
	code := slices.Contains(c.GrantTypes, GrantCode)
	cc := slices.Contains(c.GrantTypes, GrantClientCredentials)
	if slices.Contains(c.GrantTypes, GrantRefresh) && !code {
		f.AddCode("grant_types", "oidc_refresh_needs_code")
	}
	if cc && c.Public {
		f.AddCode("grant_types", "oidc_public_no_client_credentials")
	}
	if code && len(c.RedirectURIs) == 0 {
		f.AddCode("redirect_uris", "oidc_redirect_required")
	}
	for _, u := range c.RedirectURIs {
		if key := checkURI(u, c.Public); key != "" {
			f.AddCode("redirect_uris", key, errs.P{"uri": u})
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if key := checkURI(u, c.Public); key != "" {
			f.AddCode("post_logout_redirect_uris", key, errs.P{"uri": u})
		}
	}
	for _, s := range c.Scopes {
		switch {
		case slices.Contains(userScopes, s):
			if !code {
				f.AddCode("scopes", "oidc_scope_needs_code", errs.P{"scope": s})
			}
		case slices.Contains(rosterScopes, s):
			if !cc {
				f.AddCode("scopes", "oidc_scope_needs_client_credentials", errs.P{"scope": s})
			}
		default:
			f.AddCode("scopes", "oidc_unknown_scope", errs.P{"scope": s})
		}
	}
	if c.GroupID < 0 {
		f.AddCode("group_id", "oidc_group_id")
	} else if c.GroupID > 0 {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM groups WHERE id = $1`, c.GroupID).Scan(&one)
		if store.IsNoRows(err) {
			f.AddCode("group_id", "no_such_group")
		} else if err != nil {
			return errs.Wrap(err, "client group")
		}
	}
	return f.Err()
}

// checkURI returns the error key of why u cannot be a redirect URI, or "".
func checkURI(u string, public bool) string {
	p, err := url.Parse(u)
	switch {
	case err != nil || p.Scheme == "" || !p.IsAbs():
		return "uri_not_absolute"
	case p.Fragment != "" || strings.Contains(u, "#"):
		return "uri_fragment"
	case (p.Scheme == "http" || p.Scheme == "https") && p.Host == "":
		return "uri_no_host"
	case p.Scheme != "http" && p.Scheme != "https" && !public:
		return "uri_not_http"
	}
	return ""
}

func newClientID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const clientCols = `id, client_id, secret_hash, public, name, redirect_uris, post_logout_redirect_uris, grant_types, scopes, group_id, created_at, updated_at`

func scanClient(row interface{ Scan(...any) error }) (*Client, error) {
	var c Client
	var ru, plu, gt, sc string
	var created, updated int64
	if err := row.Scan(&c.ID, &c.ClientID, &c.secretHash, &c.Public, &c.Name, &ru, &plu, &gt, &sc, &c.GroupID, &created, &updated); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		s string
		v *[]string
	}{{ru, &c.RedirectURIs}, {plu, &c.PostLogoutRedirectURIs}, {gt, &c.GrantTypes}, {sc, &c.Scopes}} {
		if err := json.Unmarshal([]byte(p.s), p.v); err != nil {
			return nil, err
		}
		if *p.v == nil {
			*p.v = []string{}
		}
	}
	c.CreatedAt, c.UpdatedAt = store.Time(created), store.Time(updated)
	return &c, nil
}

func jsonOf(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// clientByClientID loads a client by its OAuth client_id (no permission check: the protocol
// endpoints authenticate the client themselves).
func clientByClientID(ctx context.Context, q store.Querier, clientID string) (*Client, error) {
	c, err := scanClient(q.QueryRowContext(ctx, `SELECT `+clientCols+` FROM oidc_clients WHERE client_id = $1`, clientID))
	if store.IsNoRows(err) {
		return nil, errs.New(errs.NotFound, "no such client")
	}
	if err != nil {
		return nil, errs.Wrap(err, "client")
	}
	return c, nil
}

// CreateClient registers a client and returns it with its secret, shown this once (empty for
// a public client). Platform administrators only.
func (p *Provider) CreateClient(ctx context.Context, in ClientInput) (*Client, string, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, "", err
	}
	c := &Client{}
	in.apply(c)
	if err := validate(ctx, p.db, c); err != nil {
		return nil, "", err
	}
	var plain string
	if !c.Public {
		plain, c.secretHash = secret.New()
	}
	c.ClientID = newClientID()
	err := p.db.Tx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO oidc_clients (client_id, secret_hash, public, name, redirect_uris,
			post_logout_redirect_uris, grant_types, scopes, group_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
			c.ClientID, c.secretHash, c.Public, c.Name, jsonOf(c.RedirectURIs), jsonOf(c.PostLogoutRedirectURIs),
			jsonOf(c.GrantTypes), jsonOf(c.Scopes), c.GroupID, tx.Now.Unix()).Scan(&c.ID)
		if err != nil {
			return errs.Wrap(err, "insert client")
		}
		c.CreatedAt, c.UpdatedAt = store.Time(tx.Now.Unix()), store.Time(tx.Now.Unix())
		return audited(ctx, tx, "oidc_client.create", c)
	})
	if err != nil {
		return nil, "", err
	}
	return c, plain, nil
}

func audited(ctx context.Context, tx *store.Tx, action string, c *Client) error {
	err := audit.Record(ctx, tx, audit.Event{Action: action, TargetType: "oidc_client", TargetID: strconv.FormatInt(c.ID, 10),
		Details: map[string]any{"name": c.Name, "client_id": c.ClientID}})
	if err != nil {
		return errs.Wrap(err, "audit")
	}
	return nil
}

// Clients lists the registered clients. Platform administrators only.
func (p *Provider) Clients(ctx context.Context) ([]*Client, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	rows, err := p.db.QueryContext(ctx, `SELECT `+clientCols+` FROM oidc_clients ORDER BY name, id`)
	if err != nil {
		return nil, errs.Wrap(err, "clients")
	}
	defer rows.Close()
	out := []*Client{}
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, errs.Wrap(err, "client")
		}
		out = append(out, c)
	}
	return out, errs.Wrap(rows.Err(), "clients")
}

// Client returns one client. Platform administrators only.
func (p *Provider) Client(ctx context.Context, id int64) (*Client, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	return clientByID(ctx, p.db, id)
}

func clientByID(ctx context.Context, q store.Querier, id int64) (*Client, error) {
	c, err := scanClient(q.QueryRowContext(ctx, `SELECT `+clientCols+` FROM oidc_clients WHERE id = $1`, id))
	if store.IsNoRows(err) {
		return nil, errs.New(errs.NotFound, "no such client")
	}
	if err != nil {
		return nil, errs.Wrap(err, "client")
	}
	return c, nil
}

// UpdateClient changes the fields of in that are set. Turning a client public drops its
// secret; turning a public client confidential needs a new secret (NewSecret).
// Platform administrators only.
func (p *Provider) UpdateClient(ctx context.Context, id int64, in ClientInput) (*Client, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	var c *Client
	err := p.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = clientByID(ctx, tx, id); err != nil {
			return err
		}
		in.apply(c)
		if err := validate(ctx, tx, c); err != nil {
			return err
		}
		if c.Public {
			c.secretHash = ""
		}
		_, err = tx.ExecContext(ctx, `UPDATE oidc_clients SET name = $1, public = $2, secret_hash = $3, redirect_uris = $4,
			post_logout_redirect_uris = $5, grant_types = $6, scopes = $7, group_id = $8, updated_at = $9 WHERE id = $10`,
			c.Name, c.Public, c.secretHash, jsonOf(c.RedirectURIs), jsonOf(c.PostLogoutRedirectURIs), jsonOf(c.GrantTypes),
			jsonOf(c.Scopes), c.GroupID, tx.Now.Unix(), id)
		if err != nil {
			return errs.Wrap(err, "update client")
		}
		c.UpdatedAt = store.Time(tx.Now.Unix())
		return audited(ctx, tx, "oidc_client.update", c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteClient removes a client and every token issued to it. Platform administrators only.
func (p *Provider) DeleteClient(ctx context.Context, id int64) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	return p.db.Tx(ctx, func(tx *store.Tx) error {
		c, err := clientByID(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM oidc_tokens WHERE client_id = $1`, `DELETE FROM oidc_auth_requests WHERE client_id = $1`,
			`DELETE FROM oidc_clients WHERE client_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, c.ClientID); err != nil {
				return errs.Wrap(err, "delete client")
			}
		}
		return audited(ctx, tx, "oidc_client.delete", c)
	})
}

// NewSecret gives a client a new secret, returned this once; the old one stops working, and
// so do the tokens issued with it. Platform administrators only.
func (p *Provider) NewSecret(ctx context.Context, id int64) (*Client, string, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, "", err
	}
	var c *Client
	var plain string
	err := p.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = clientByID(ctx, tx, id); err != nil {
			return err
		}
		plain, c.secretHash = secret.New()
		c.Public = false
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_clients SET secret_hash = $1, public = $2, updated_at = $3 WHERE id = $4`,
			c.secretHash, false, tx.Now.Unix(), id); err != nil {
			return errs.Wrap(err, "client secret")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_tokens WHERE client_id = $1`, c.ClientID); err != nil {
			return errs.Wrap(err, "client tokens")
		}
		c.UpdatedAt = store.Time(tx.Now.Unix())
		return audited(ctx, tx, "oidc_client.secret", c)
	})
	if err != nil {
		return nil, "", err
	}
	return c, plain, nil
}

// checkSecret compares a presented secret with the stored hash in constant time.
func (c *Client) checkSecret(s string) bool {
	if c.Public || c.secretHash == "" || s == "" {
		return false
	}
	return constantEqual(secret.Hash(s), c.secretHash)
}
