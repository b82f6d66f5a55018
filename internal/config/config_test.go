package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPrecedenceDefaultsEnvFlags(t *testing.T) {
	c := Default()
	secret := filepath.Join(t.TempDir(), "smtp")
	os.WriteFile(secret, []byte("smtp://u:hunter2@mail.example:25\n"), 0o600)
	env := map[string]string{"ROSTER_ADDR": "127.0.0.1:9000", "ROSTER_SMTP_FILE": secret, "ROSTER_RESET_TTL": "45m"}
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.Register(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:9100"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" {
		t.Errorf("flag must win over env: addr = %s", c.Addr)
	}
	if c.BaseURL != "http://127.0.0.1:9100" {
		t.Errorf("base url default = %s", c.BaseURL)
	}
	if c.ResetTTL != 45*time.Minute || c.SMTP != "smtp://u:hunter2@mail.example:25" || c.DB != "sqlite:roster.db" {
		t.Errorf("env not applied: %+v", c)
	}
	d := c.Describe()
	if strings.Contains(d, "hunter2") || !strings.Contains(d, "smtp = smtp://u:xxxxx@mail.example:25") {
		t.Errorf("secret not masked:\n%s", d)
	}
}

func TestBadValuesAreNamed(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"ROSTER_RESET_TTL=soon", "ROSTER_RESET_TTL"},
		{"ROSTER_DB=mysql://x", "db:"},
		{"ROSTER_SMTP=http://x", "smtp:"},
		{"ROSTER_BASE_URL=ftp://x", "base-url"},
		{"ROSTER_TRUSTED_PROXIES=10.0.0.0/33", "trusted-proxies"},
		{"ROSTER_TRUSTED_PROXIES=proxy.example", "trusted-proxies"},
	} {
		c := Default()
		k, v, _ := strings.Cut(tc.env, "=")
		err := c.FromEnv(func(s string) string {
			if s == k {
				return v
			}
			return ""
		})
		if err == nil {
			err = c.Finish()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v should name %s", tc.env, err, tc.want)
		}
	}
}

func TestTrustedProxiesAndKeyFile(t *testing.T) {
	c := Default()
	c.TrustedProxies = "10.0.0.0/8, 192.0.2.7 2001:db8::/32"
	ps, err := c.Proxies()
	if err != nil || len(ps) != 3 || ps[1].String() != "192.0.2.7/32" {
		t.Fatalf("%v %v", ps, err)
	}
	for db, want := range map[string]string{"sqlite:roster.db": "roster.key", "sqlite:/var/lib/roster/site.sqlite": "/var/lib/roster/site.key",
		"sqlite:data": "data.key", "sqlite:x.key": "x.key.key", "postgres://h/db": ""} {
		c.DB = db
		if got := c.KeyFile(); got != want {
			t.Errorf("%s: key file %q, want %q", db, got, want)
		}
	}
}
