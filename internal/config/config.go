// Package config holds Roster's settings: defaults, then ROSTER_* environment variables (or
// ROSTER_*_FILE for secrets), then command-line flags. Values are copied into the parts that
// need them; nothing reads configuration globally.
package config

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
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
		if slices.Contains(except, s.flag) {
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
	if c.Language != "" && c.Language != "en" && c.Language != "fr" {
		return fmt.Errorf("language: %q: expected en or fr", c.Language)
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "Local" {
			return fmt.Errorf("timezone: %q: expected an IANA time zone such as Europe/Paris", c.TimeZone)
		}
	}
	return nil
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
		if s.secret {
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
