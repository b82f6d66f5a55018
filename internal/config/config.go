// Package config holds Roster's settings: defaults, then ROSTER_* environment variables (or
// ROSTER_*_FILE for secrets), then command-line flags. Values are copied into the parts that
// need them; nothing reads configuration globally.
package config

import (
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"roster/internal/i18n"
)

// Config is the effective configuration.
type Config struct {
	DB       string        // sqlite:PATH or postgres://URL
	Addr     string        // where serve listens
	BaseURL  string        // used to build links in emails; default http:// + Addr
	SMTP     string        // smtp://user:pass@host:port or smtps://...; empty keeps mail in the outbox
	MailFrom string        // sender of every email
	ResetTTL time.Duration // how long a password-reset link works
	Language string        // the site's language (en, fr); empty: the one chosen at first set-up
	TimeZone string        // the site's time zone (IANA name); empty: the one chosen at first set-up

	// TrustedProxies are the CIDRs (comma or space separated; a bare address is one host) of
	// the reverse proxies whose X-Forwarded-For / Forwarded headers are believed.
	TrustedProxies string
	// MetricsAddr is a separate listener for /metrics; empty: /metrics on the main listener,
	// for platform-admin tokens only.
	MetricsAddr string
	// SecretKey is the key material that seals what must not be readable at rest (environment
	// only: ROSTER_SECRET_KEY or ROSTER_SECRET_KEY_FILE). Empty with SQLite: a key file beside
	// the database file (KeyFile), created at first start.
	SecretKey string
}

// Default returns the configuration before environment and flags.
func Default() Config {
	return Config{
		DB:       "sqlite:roster.db",
		Addr:     "127.0.0.1:8080",
		MailFrom: "Roster <noreply@localhost>",
		ResetTTL: 30 * time.Minute,
	}
}

// setting describes one configuration value once, for the environment, the flag and the table
// printed by Describe.
type setting struct {
	flag, env, usage string
	secret           bool
	envOnly          bool // no flag: a secret that must not show in the process list
	str              *string
	dur              *time.Duration
}

func (c *Config) settings() []setting {
	return []setting{
		{flag: "db", env: "ROSTER_DB", usage: "database: sqlite:PATH or a postgres:// URL", secret: true, str: &c.DB},
		{flag: "addr", env: "ROSTER_ADDR", usage: "address serve listens on", str: &c.Addr},
		{flag: "base-url", env: "ROSTER_BASE_URL", usage: "public URL used in links (default http:// + addr)", str: &c.BaseURL},
		{flag: "smtp", env: "ROSTER_SMTP", usage: "smtp://user:pass@host:port (smtps:// for TLS); empty keeps mail in the outbox", secret: true, str: &c.SMTP},
		{flag: "mail-from", env: "ROSTER_MAIL_FROM", usage: "sender of every email", str: &c.MailFrom},
		{flag: "reset-ttl", env: "ROSTER_RESET_TTL", usage: "how long a password-reset link works", dur: &c.ResetTTL},
		{flag: "language", env: "ROSTER_LANGUAGE", usage: "the site's language (en, fr): pages and emails for people who have none of their own", str: &c.Language},
		{flag: "timezone", env: "ROSTER_TIMEZONE", usage: "the site's time zone (IANA name, e.g. Europe/Paris)", str: &c.TimeZone},
		{flag: "trusted-proxies", env: "ROSTER_TRUSTED_PROXIES", usage: "CIDRs of reverse proxies whose X-Forwarded-For / Forwarded is believed", str: &c.TrustedProxies},
		{flag: "metrics-addr", env: "ROSTER_METRICS_ADDR", usage: "separate listener for /metrics (empty: /metrics needs a platform-admin token)", str: &c.MetricsAddr},
		{flag: "secret-key", env: "ROSTER_SECRET_KEY", secret: true, envOnly: true, str: &c.SecretKey},
	}
}

// FromEnv applies ROSTER_* variables (and ROSTER_*_FILE, whose file holds the value) to c.
func (c *Config) FromEnv(getenv func(string) string) error {
	for _, s := range c.settings() {
		v := getenv(s.env)
		if path := getenv(s.env + "_FILE"); path != "" && v == "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("%s_FILE: %w", s.env, err)
			}
			v = strings.TrimSpace(string(b))
		}
		if v == "" {
			continue
		}
		if err := s.set(v); err != nil {
			return fmt.Errorf("%s: %w", s.env, err)
		}
	}
	return nil
}

func (s setting) set(v string) error {
	if s.dur != nil {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("not a duration (e.g. 30m): %q", v)
		}
		*s.dur = d
		return nil
	}
	*s.str = v
	return nil
}

// Register adds the configuration flags to fs; parsed flags override the environment. A
// command whose own flag has the name of a setting passes it in except: that setting then
// comes from the environment only (e.g. "user add --language" is the person's language).
func (c *Config) Register(fs *flag.FlagSet, except ...string) {
	for _, s := range c.settings() {
		if s.envOnly || slices.Contains(except, s.flag) {
			continue
		}
		if s.dur != nil {
			fs.DurationVar(s.dur, s.flag, *s.dur, s.usage)
		} else {
			fs.StringVar(s.str, s.flag, *s.str, s.usage)
		}
	}
}

// Finish fills derived defaults and validates.
func (c *Config) Finish() error {
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base-url: %q is not an http(s) URL", c.BaseURL)
	}
	if !strings.HasPrefix(c.DB, "sqlite:") && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		return fmt.Errorf("db: %q: expected sqlite:PATH or postgres://URL", mask(c.DB))
	}
	if c.SMTP != "" {
		u, err := url.Parse(c.SMTP)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return fmt.Errorf("smtp: %q: expected smtp://user:pass@host:port or smtps://...", mask(c.SMTP))
		}
	}
	if c.ResetTTL <= 0 {
		return fmt.Errorf("reset-ttl: must be positive")
	}
	if c.Language != "" && !i18n.Supported(c.Language) {
		return fmt.Errorf("language: %q: expected one of %s", c.Language, strings.Join(i18n.Languages, ", "))
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "Local" {
			return fmt.Errorf("timezone: %q: expected an IANA time zone such as Europe/Paris", c.TimeZone)
		}
	}
	if _, err := c.Proxies(); err != nil {
		return err
	}
	return nil
}

// Proxies returns TrustedProxies parsed.
func (c Config) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(c.TrustedProxies, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("trusted-proxies: %q is not a CIDR (e.g. 10.0.0.0/8) or an address", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// KeyFile is where the secret key is kept when SecretKey is empty: beside the SQLite file,
// with its extension replaced by ".key" (roster.db: roster.key). It is "" for PostgreSQL,
// whose instances must all be given the same key (ROSTER_SECRET_KEY or _FILE).
func (c Config) KeyFile() string {
	path, ok := strings.CutPrefix(c.DB, "sqlite:")
	if !ok || path == "" {
		return ""
	}
	path, _, _ = strings.Cut(path, "?")
	if filepath.Ext(path) == ".key" {
		return path + ".key"
	}
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".key"
}

// SecureCookies reports whether cookies must carry the Secure flag (the site is served by HTTPS).
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Describe returns the effective configuration, one "name = value" line each, secrets masked.
func (c Config) Describe() string {
	var b strings.Builder
	for _, s := range c.settings() {
		v := ""
		if s.dur != nil {
			v = s.dur.String()
		} else {
			v = *s.str
		}
		switch {
		case s.envOnly && v != "":
			v = "(set)"
		case s.envOnly && c.KeyFile() != "":
			v = "(key file " + c.KeyFile() + ")"
		case s.envOnly:
			v = "(not set)"
		case s.secret:
			v = mask(v)
		}
		fmt.Fprintf(&b, "%s = %s\n", s.flag, v)
	}
	return b.String()
}

// mask hides the password of a URL.
func mask(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
