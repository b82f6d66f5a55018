package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/config"
	"roster/internal/secret"
	"roster/internal/site"
	"roster/internal/store"
)

// flags returns a flag set with the global configuration flags, read from the environment
// first so that flags win.
func (m *Main) flags(name string, except ...string) (*flag.FlagSet, *config.Config, error) {
	cfg := config.Default()
	if err := cfg.FromEnv(m.Getenv); err != nil {
		return nil, nil, err
	}
	fs := flag.NewFlagSet("roster "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	cfg.Register(fs, except...)
	return fs, &cfg, nil
}

func (m *Main) parse(fs *flag.FlagSet, cfg *config.Config, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg.Finish()
}

// open connects to the database, gives it its secret key and migrates it.
func (m *Main) open(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	key, err := m.secretKey(cfg)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	db.Key = key
	m.closers = append(m.closers, db.Close)
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	// ROSTER_LANGUAGE and ROSTER_TIMEZONE, when set, win over what the admin pages stored.
	if err := site.Configure(ctx, db, cfg.Language, cfg.TimeZone); err != nil {
		return nil, err
	}
	m.setLanguage(ctx, db)
	return db, nil
}

func accountConfig(cfg *config.Config) account.Config {
	return account.Config{BaseURL: cfg.BaseURL, ResetTTL: cfg.ResetTTL}
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	fs, cfg, err := m.flags("migrate")
	if err != nil {
		return err
	}
	if err := m.parse(fs, cfg, args); err != nil {
		return err
	}
	if _, err := m.open(ctx, cfg); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, m.t("cli.migrated"))
	return nil
}

func (m *Main) printConfig(args []string) error {
	fs, cfg, err := m.flags("config")
	if err != nil {
		return err
	}
	if err := m.parse(fs, cfg, args); err != nil {
		return err
	}
	fmt.Fprint(m.Stdout, cfg.Describe())
	return nil
}

// userAdd creates an active account and prints its id. Without --password-stdin, a person
// with an email receives a link to choose their password.
func (m *Main) userAdd(ctx context.Context, args []string) error {
	// --language is the person's language here; the site's comes from ROSTER_LANGUAGE.
	fs, cfg, err := m.flags("user add", "language")
	if err != nil {
		return err
	}
	var in account.NewUser
	var fromStdin bool
	fs.StringVar(&in.Email, "email", "", "email address")
	fs.StringVar(&in.FirstName, "first-name", "", "first name")
	fs.StringVar(&in.LastName, "last-name", "", "last name")
	fs.StringVar(&in.Username, "username", "", "username (default: from the email)")
	fs.StringVar(&in.Language, "language", "", "language: en or fr")
	fs.BoolVar(&in.IsAdmin, "admin", false, "make a platform administrator")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	if err := m.parse(fs, cfg, args); err != nil {
		return err
	}
	if fromStdin {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("--password-stdin: no password on standard input")
		}
		in.Password = strings.TrimRight(line, "\r\n")
	}
	db, err := m.open(ctx, cfg)
	if err != nil {
		return err
	}
	accounts := account.NewService(db, accountConfig(cfg))
	ctx = authz.With(ctx, authz.System)
	var u *account.User
	err = db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = accounts.CreateUser(ctx, tx, in); err != nil {
			return err
		}
		if in.Password == "" && u.Email != "" {
			_, err = accounts.IssueAccountSetup(ctx, tx, u)
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, u.ID)
	return nil
}

// tokenCreate prints a new API token once; only its hash is kept.
func (m *Main) tokenCreate(ctx context.Context, args []string) error {
	fs, cfg, err := m.flags("token create")
	if err != nil {
		return err
	}
	var name, login string
	var scim bool
	var group int64
	fs.StringVar(&name, "name", "", "what the token is for")
	fs.StringVar(&login, "user", "", "act as this user (username or email), with that user's rights")
	fs.BoolVar(&scim, "scim", false, "a SCIM provisioning token (needs --group)")
	fs.Int64Var(&group, "group", 0, "with --scim: the group under which it provisions")
	if err := m.parse(fs, cfg, args); err != nil {
		return err
	}
	if name == "" {
		return fmt.Errorf("--name is required")
	}
	if scim != (group != 0) {
		return fmt.Errorf("--scim and --group go together")
	}
	db, err := m.open(ctx, cfg)
	if err != nil {
		return err
	}
	accounts := account.NewService(db, accountConfig(cfg))
	var userID int64
	if login != "" {
		u, err := accounts.UserByLogin(ctx, db, login)
		if err != nil {
			return fmt.Errorf("--user %s: %w", login, err)
		}
		userID = u.ID
	}
	token, err := accounts.CreateAPIToken(authz.With(ctx, authz.System), name, userID, group)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, token)
	// What it may do, on stderr so that the token stays the only line a script reads.
	switch {
	case group != 0:
		fmt.Fprintln(m.Stderr, m.t("cli.token_scim", authz.TokenSCIM, fmt.Sprint(group)))
	case login != "":
		fmt.Fprintln(m.Stderr, m.t("cli.token_user", authz.TokenAPI, login))
	default:
		fmt.Fprintln(m.Stderr, m.t("cli.token_admin", authz.TokenAPI))
	}
	return nil
}

// secretKey returns the key that seals the links of queued emails (store.DB.Key):
// ROSTER_SECRET_KEY (or _FILE) when set; with SQLite, otherwise, the key file beside the
// database, created at first start. PostgreSQL without a key is refused rather than given a
// key file of its own: its instances run on several machines, and links sealed by one
// instance must open on the others.
func (m *Main) secretKey(cfg *config.Config) (*secret.Key, error) {
	if cfg.SecretKey != "" {
		k, err := secret.ParseKey(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("ROSTER_SECRET_KEY: %w", err)
		}
		return k, nil
	}
	path := cfg.KeyFile()
	if path == "" {
		return nil, fmt.Errorf("with PostgreSQL, set ROSTER_SECRET_KEY or ROSTER_SECRET_KEY_FILE, the same on every instance " +
			"(make one with: head -c 32 /dev/urandom | base64); see docs/security.md")
	}
	k, created, err := secret.LoadKeyFile(path, true)
	if err != nil {
		return nil, err
	}
	if created {
		m.Log.Info("secret key created: keep it with the database, but back it up separately", "file", path)
	}
	return k, nil
}
