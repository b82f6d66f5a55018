package sso

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/httpx"
	"roster/internal/store"
)

// Kinds of provider.
const (
	KindCAS  = "cas"
	KindOIDC = "oidc"
)

// Provider is one identity provider a platform administrator configured. Kind, Slug and Name
// are columns; everything else is Settings, stored as JSON.
type Provider struct {
	ID        int64
	Kind      string // KindCAS or KindOIDC
	Slug      string // in URLs: /sso/{slug}/login; lower case letters, digits and dashes
	Name      string // the button on the login page, e.g. "Institutional account"
	Enabled   bool
	Settings  Settings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Settings is how Roster talks to a provider and what it makes of the person it vouches for.
type Settings struct {
	// CASURL is the CAS server's base URL, e.g. "https://cas.example.edu/cas": Roster
	// sends people to CASURL/login and validates tickets at CASURL/p3/serviceValidate.
	CASURL string `json:"cas_url,omitempty"`
	// EmailsVerified says the CAS server's email attribute is the institution's own,
	// verified address (CAS has no email_verified claim). Needed to link by email.
	EmailsVerified bool `json:"emails_verified,omitempty"`

	// Issuer is the OpenID Connect issuer; its /.well-known/openid-configuration is read.
	Issuer       string `json:"issuer,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// Scopes asked for; "openid" is always added. Default: openid profile email.
	Scopes []string `json:"scopes,omitempty"`

	Mapping Mapping `json:"mapping"`
	// Rules put people into groups by the values of an attribute.
	Rules []Rule `json:"rules,omitempty"`
	// CreateAccounts creates an account at a person's first login (just in time). Off: only
	// people who already have an account here may log in.
	CreateAccounts bool `json:"create_accounts"`
	// LinkByEmail lets a first login take over the existing local account with the same
	// email, but only when the provider vouches for the email (OIDC email_verified, or
	// EmailsVerified for CAS). Off: such a person is told to ask an administrator.
	LinkByEmail bool `json:"link_by_email"`
}

// Mapping names the attribute (CAS) or claim (OIDC) each account field comes from. An empty
// Username means the CAS user (cas:user) or, for OIDC, preferred_username.
type Mapping struct {
	Username  string `json:"username,omitempty"`
	Email     string `json:"email,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Language  string `json:"language,omitempty"`
}

// Rule: a person whose Attribute has Value becomes Role of the group whose idnumber is Group.
type Rule struct {
	Attribute string `json:"attribute"`
	Value     string `json:"value"`
	Group     string `json:"group"` // the group's idnumber
	Role      string `json:"role"`  // learner, trainer, group_admin, user_admin
}

// DefaultMapping is the mapping of a kind where an administrator leaves fields empty: the
// usual LDAP-style CAS attributes, and the standard OIDC claims.
func DefaultMapping(kind string) Mapping {
	if kind == KindOIDC {
		return Mapping{Username: "preferred_username", Email: "email", FirstName: "given_name",
			LastName: "family_name", Language: "locale"}
	}
	return Mapping{Email: "mail", FirstName: "givenName", LastName: "sn", Language: "preferredLanguage"}
}

// DefaultScopes are asked for when a provider lists none.
var DefaultScopes = []string{"openid", "profile", "email"}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

var roles = []string{"learner", "trainer", "group_admin", "user_admin"}

// normalize trims the input and fills defaults in place.
func (p *Provider) normalize() {
	p.Kind = strings.ToLower(strings.TrimSpace(p.Kind))
	p.Slug = strings.ToLower(strings.TrimSpace(p.Slug))
	p.Name = strings.TrimSpace(p.Name)
	s := &p.Settings
	s.CASURL = strings.TrimRight(strings.TrimSpace(s.CASURL), "/")
	s.Issuer = strings.TrimSpace(s.Issuer)
	s.ClientID = strings.TrimSpace(s.ClientID)
	var scopes []string
	for _, sc := range s.Scopes {
		for _, f := range strings.Fields(sc) {
			if !contains(scopes, f) {
				scopes = append(scopes, f)
			}
		}
	}
	if p.Kind == KindOIDC {
		if len(scopes) == 0 {
			scopes = append(scopes, DefaultScopes...)
		} else if !contains(scopes, "openid") {
			scopes = append([]string{"openid"}, scopes...)
		}
	}
	s.Scopes = scopes
	def := DefaultMapping(p.Kind)
	m := &s.Mapping
	fill := func(v *string, d string) {
		if *v = strings.TrimSpace(*v); *v == "" {
			*v = d
		}
	}
	fill(&m.Username, def.Username)
	fill(&m.Email, def.Email)
	fill(&m.FirstName, def.FirstName)
	fill(&m.LastName, def.LastName)
	fill(&m.Language, def.Language)
	for i := range s.Rules {
		r := &s.Rules[i]
		r.Attribute, r.Value, r.Group = strings.TrimSpace(r.Attribute), strings.TrimSpace(r.Value), strings.TrimSpace(r.Group)
		r.Role = strings.ToLower(strings.TrimSpace(r.Role))
		if r.Role == "" {
			r.Role = "learner"
		}
	}
	if p.Kind == KindCAS {
		s.Issuer, s.ClientID, s.ClientSecret, s.Scopes = "", "", "", nil
	} else {
		s.CASURL, s.EmailsVerified = "", false
	}
}

// Validate trims the input, fills its defaults and returns an Invalid error naming each bad
// field.
func (p *Provider) Validate() error {
	p.normalize()
	var f errs.Fields
	switch p.Kind {
	case KindCAS:
		if !httpURL(p.Settings.CASURL) {
			f.AddCode("cas_url", "sso_cas_url")
		}
	case KindOIDC:
		if !httpURL(p.Settings.Issuer) {
			f.AddCode("issuer", "sso_issuer")
		}
		if p.Settings.ClientID == "" {
			f.AddCode("client_id", "required")
		}
	default:
		f.AddCode("kind", "sso_kind")
	}
	if !slugPattern.MatchString(p.Slug) || len(p.Slug) > 40 {
		f.AddCode("slug", "sso_slug")
	}
	if p.Name == "" || len(p.Name) > 100 {
		f.AddCode("name", "required_max", errs.P{"limit": 100})
	}
	for i, r := range p.Settings.Rules {
		if r.Attribute == "" || r.Value == "" || r.Group == "" {
			f = append(f, errs.FieldError{Field: "rules", Line: i + 1, Message: "needs an attribute, a value and a group idnumber"})
		} else if !contains(roles, r.Role) {
			f = append(f, errs.FieldError{Field: "rules", Line: i + 1, Message: "role must be learner, trainer, group_admin or user_admin"})
		}
	}
	return f.Err()
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ParseRules reads rules written one a line as "attribute=value -> group_idnumber role"
// (role optional, default learner); blank lines and lines starting with # are skipped.
// Errors: Invalid, naming "rules" and the line.
func ParseRules(text string) ([]Rule, error) {
	var out []Rule
	var f errs.Fields
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cond, target, ok := strings.Cut(line, "->")
		attr, value, ok2 := strings.Cut(cond, "=")
		fields := strings.Fields(target)
		if !ok || !ok2 || len(fields) < 1 || len(fields) > 2 {
			f.AddAt(i+1, 0, "rules", "sso_rule_syntax")
			continue
		}
		r := Rule{Attribute: strings.TrimSpace(attr), Value: strings.TrimSpace(value), Group: fields[0], Role: "learner"}
		if len(fields) == 2 {
			r.Role = strings.ToLower(fields[1])
		}
		out = append(out, r)
	}
	return out, f.Err()
}

// FormatRules is ParseRules' inverse, for the edit form.
func FormatRules(rules []Rule) string {
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(r.Attribute + "=" + r.Value + " -> " + r.Group + " " + r.Role + "\n")
	}
	return b.String()
}

// ServiceURL is where a CAS server sends people back (and posts single-logout requests), and
// CallbackURL is an OIDC provider's redirect URI. Both must be registered at the provider.
func (s *Service) ServiceURL(p *Provider) string { return s.cfg.BaseURL + "/sso/" + p.Slug + "/cas" }

// CallbackURL is the OIDC redirect URI of a provider.
func (s *Service) CallbackURL(p *Provider) string {
	return s.cfg.BaseURL + "/sso/" + p.Slug + "/callback"
}

// Providers lists every provider, by name. It needs a platform administrator.
func (s *Service) Providers(ctx context.Context) ([]*Provider, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	return listProviders(ctx, s.db, false)
}

// Provider returns one provider. It needs a platform administrator. Errors: NotFound.
func (s *Service) Provider(ctx context.Context, id int64) (*Provider, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	return scanProvider(s.db.QueryRowContext(ctx, selectProvider+` WHERE id = $1`, id))
}

// Button is an entry of the login page: the provider's name and where it starts the login.
type Button struct{ Name, URL string }

// Buttons lists the enabled providers for the login page, each with a link that starts its
// login and comes back to next.
func (s *Service) Buttons(ctx context.Context, next string) ([]Button, error) {
	ps, err := listProviders(ctx, s.db, true)
	if err != nil {
		return nil, err
	}
	var out []Button
	for _, p := range ps {
		u := "/sso/" + p.Slug + "/login"
		if next = httpx.LocalPath(next); next != "/" {
			u += "?next=" + url.QueryEscape(next)
		}
		out = append(out, Button{Name: p.Name, URL: u})
	}
	return out, nil
}

// CreateProvider adds a provider. It needs a platform administrator.
// Errors: Forbidden, Invalid, Conflict on "slug".
func (s *Service) CreateProvider(ctx context.Context, p Provider) (*Provider, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	settings, err := json.Marshal(p.Settings)
	if err != nil {
		return nil, wrap(err, "settings")
	}
	var out *Provider
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO sso_providers (kind, slug, name, enabled, settings, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, p.Kind, p.Slug, p.Name, p.Enabled, string(settings), tx.Now.Unix()).Scan(&id)
		if store.IsUnique(err) {
			return slugTaken(p.Slug)
		}
		if err != nil {
			return wrap(err, "insert provider")
		}
		if err := audit.Record(ctx, tx, audit.Event{Action: "sso.provider.create", TargetType: "sso_provider",
			TargetID: strconv.FormatInt(id, 10), Details: map[string]any{"kind": p.Kind, "slug": p.Slug}}); err != nil {
			return wrap(err, "audit")
		}
		out, err = scanProvider(tx.QueryRowContext(ctx, selectProvider+` WHERE id = $1`, id))
		return err
	})
	return out, err
}

// UpdateProvider replaces a provider's settings; the kind cannot change. An empty client
// secret keeps the stored one (the form never shows it). It needs a platform administrator.
// Errors: Forbidden, NotFound, Invalid, Conflict on "slug".
func (s *Service) UpdateProvider(ctx context.Context, id int64, p Provider) (*Provider, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	var out *Provider
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		old, err := scanProvider(tx.QueryRowContext(ctx, selectProvider+` WHERE id = $1`, id))
		if err != nil {
			return err
		}
		p.Kind = old.Kind
		if p.Settings.ClientSecret == "" {
			p.Settings.ClientSecret = old.Settings.ClientSecret
		}
		if err := p.Validate(); err != nil {
			return err
		}
		settings, err := json.Marshal(p.Settings)
		if err != nil {
			return wrap(err, "settings")
		}
		_, err = tx.ExecContext(ctx, `UPDATE sso_providers SET slug = $1, name = $2, enabled = $3, settings = $4, updated_at = $5
			WHERE id = $6`, p.Slug, p.Name, p.Enabled, string(settings), tx.Now.Unix(), id)
		if store.IsUnique(err) {
			return slugTaken(p.Slug)
		}
		if err != nil {
			return wrap(err, "update provider")
		}
		if err := audit.Record(ctx, tx, audit.Event{Action: "sso.provider.update", TargetType: "sso_provider",
			TargetID: strconv.FormatInt(id, 10), Details: map[string]any{"slug": p.Slug, "enabled": p.Enabled}}); err != nil {
			return wrap(err, "audit")
		}
		out, err = scanProvider(tx.QueryRowContext(ctx, selectProvider+` WHERE id = $1`, id))
		return err
	})
	return out, err
}

func slugTaken(slug string) error {
	return &errs.Error{Code: errs.Conflict, Message: "slug: " + slug + " is already used by another provider",
		Fields: []errs.FieldError{{Field: "slug", Message: "is already used by another provider"}}}
}

// providerBySlug returns an enabled provider for a login. Errors: NotFound.
func providerBySlug(ctx context.Context, q store.Querier, slug string) (*Provider, error) {
	p, err := scanProvider(q.QueryRowContext(ctx, selectProvider+` WHERE slug = $1`, strings.ToLower(slug)))
	if err == nil && !p.Enabled {
		return nil, errs.Coded(errs.NotFound, "no_sso_method")
	}
	return p, err
}

const selectProvider = `SELECT id, kind, slug, name, enabled, settings, created_at, updated_at FROM sso_providers`

func listProviders(ctx context.Context, q store.Querier, enabledOnly bool) ([]*Provider, error) {
	query := selectProvider
	if enabledOnly {
		query += ` WHERE enabled = true`
	}
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, wrap(err, "list providers")
	}
	defer rows.Close()
	var out []*Provider
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list providers")
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanProvider(row scanner) (*Provider, error) {
	var (
		p                Provider
		settings         string
		created, updated int64
	)
	err := row.Scan(&p.ID, &p.Kind, &p.Slug, &p.Name, &p.Enabled, &settings, &created, &updated)
	if store.IsNoRows(err) {
		return nil, errs.Coded(errs.NotFound, "no_sso_method")
	}
	if err != nil {
		return nil, wrap(err, "scan provider")
	}
	if err := json.Unmarshal([]byte(settings), &p.Settings); err != nil {
		return nil, wrap(err, "settings of provider "+p.Slug)
	}
	p.CreatedAt, p.UpdatedAt = store.Time(created), store.Time(updated)
	return &p, nil
}
