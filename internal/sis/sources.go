package sis

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Source kinds.
const (
	KindCSV       = "csv"
	KindOneRoster = "oneroster"
	KindSQL       = "sql"
)

// Config is a configured source (a row of sis_sources). Location is a path, or for the sql
// kind a postgres:// URL, which is a secret: what List and Get return has its password
// masked (MaskURL); an update that sends the masked URL back keeps the stored one.
type Config struct {
	ID             int64   `json:"id"`
	Name           string  `json:"name"`
	Kind           string  `json:"kind"`
	Location       string  `json:"location"`
	Query          string  `json:"query,omitempty"`
	Action         string  `json:"action"`
	Threshold      float64 `json:"threshold"`
	Schedule       string  `json:"schedule"`
	CreateAccounts bool    `json:"create_accounts"`
	AccountAuth    string  `json:"account_auth"`
	// CreateCourses (OneRoster): a class whose course does not exist creates it, as Moodle's
	// OneRoster enrolment plugin does (shortname: classCode, else title).
	CreateCourses bool       `json:"create_courses"`
	Enabled       bool       `json:"enabled"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LastRun       *RunRecord `json:"last_run,omitempty"`
}

// Service manages configured sources and runs them.
type Service struct {
	db       *store.DB
	accounts *account.Service
}

// NewService returns the sources' service; accounts creates the accounts of sources that may.
func NewService(db *store.DB, accounts *account.Service) *Service {
	return &Service{db: db, accounts: accounts}
}

const sourceCols = `id, name, kind, location, query, action, threshold, schedule, create_accounts, account_auth, enabled, created_at, updated_at, create_courses`

func scanConfig(sc interface{ Scan(...any) error }) (*Config, error) {
	var c Config
	var created, updated int64
	err := sc.Scan(&c.ID, &c.Name, &c.Kind, &c.Location, &c.Query, &c.Action, &c.Threshold, &c.Schedule, &c.CreateAccounts,
		&c.AccountAuth, &c.Enabled, &created, &updated, &c.CreateCourses)
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = store.Time(created), store.Time(updated)
	return &c, nil
}

func masked(c *Config) *Config {
	if c.Kind == KindSQL {
		c.Location = MaskURL(c.Location)
	}
	return c
}

// List returns the configured sources by name, each with its last run, locations masked.
// Errors: Forbidden.
func (s *Service) List(ctx context.Context) ([]*Config, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	list, err := s.all(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range list {
		masked(c)
		runs, err := Runs(ctx, s.db, c.Name, 1)
		if err != nil {
			return nil, err
		}
		if len(runs) > 0 {
			c.LastRun = &runs[0]
		}
	}
	return list, nil
}

func (s *Service) all(ctx context.Context) ([]*Config, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceCols+` FROM sis_sources ORDER BY name`)
	if err != nil {
		return nil, errs.Wrap(err, "sis: sources")
	}
	defer rows.Close()
	out := []*Config{}
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			return nil, errs.Wrap(err, "sis: sources")
		}
		out = append(out, c)
	}
	return out, errs.Wrap(rows.Err(), "sis: sources")
}

func (s *Service) load(ctx context.Context, q store.Querier, name string) (*Config, error) {
	c, err := scanConfig(q.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sis_sources WHERE name = $1`, name))
	if store.IsNoRows(err) {
		return nil, errs.Coded(errs.NotFound, "no_sync_source", errs.P{"source": name})
	}
	if err != nil {
		return nil, errs.Wrap(err, "sis: source")
	}
	return c, nil
}

// Get returns one source, location masked. Errors: Forbidden, NotFound.
func (s *Service) Get(ctx context.Context, name string) (*Config, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	c, err := s.load(ctx, s.db, name)
	if err != nil {
		return nil, err
	}
	return masked(c), nil
}

// normalize fills the defaults and checks a source. Errors: Invalid naming the field.
func (c *Config) normalize() error {
	c.Name = strings.TrimSpace(c.Name)
	c.Kind = strings.ToLower(strings.TrimSpace(c.Kind))
	c.Location = strings.TrimSpace(c.Location)
	c.Schedule = strings.Join(strings.Fields(c.Schedule), " ")
	if c.Action == "" {
		c.Action = ActionSuspend
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.Schedule == "" {
		c.Schedule = DefaultSchedule
	}
	if c.AccountAuth == "" {
		c.AccountAuth = account.AuthCAS
	}
	switch {
	case c.Name == "" || len(c.Name) > 100 || strings.ContainsAny(c.Name, "/:? \t"):
		return errs.FieldCode("name", "bad_sync_source_name")
	case c.Kind != KindCSV && c.Kind != KindOneRoster && c.Kind != KindSQL:
		return errs.FieldCode("kind", "bad_sync_kind")
	case c.Location == "":
		return errs.FieldCode("location", "sync_location_required")
	case c.Kind == KindSQL && !strings.HasPrefix(c.Location, "postgres://") && !strings.HasPrefix(c.Location, "postgresql://"):
		return errs.FieldCode("location", "sync_location_postgres")
	case c.Kind == KindSQL && strings.TrimSpace(c.Query) == "":
		return errs.FieldCode("query", "sync_query_required")
	case c.Action != ActionSuspend && c.Action != ActionUnenrol && c.Action != ActionKeep:
		return errs.FieldCode("action", "bad_sync_action")
	case c.Threshold < 0 || c.Threshold > 100:
		return errs.FieldCode("threshold", "bad_threshold")
	case c.AccountAuth != account.AuthCAS && c.AccountAuth != account.AuthOIDC:
		return errs.FieldCode("account_auth", "bad_account_auth")
	}
	if c.Kind != KindSQL {
		c.Query = ""
	}
	if _, err := ParseCron(c.Schedule); err != nil {
		return errs.FieldCode("schedule", "bad_schedule")
	}
	return nil
}

// Create adds a source. Errors: Forbidden, Invalid, Conflict (the name is taken).
func (s *Service) Create(ctx context.Context, in Config) (*Config, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		err := tx.QueryRowContext(ctx, `INSERT INTO sis_sources (name, kind, location, query, action, threshold, schedule,
			create_accounts, account_auth, enabled, last_checked_at, created_at, updated_at, create_courses)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11, $12) RETURNING id`,
			in.Name, in.Kind, in.Location, in.Query, in.Action, in.Threshold, in.Schedule, in.CreateAccounts, in.AccountAuth,
			in.Enabled, now, in.CreateCourses).Scan(&in.ID)
		if store.IsUnique(err) {
			return errs.FieldCode("name", "sync_source_exists")
		}
		return errs.Wrap(err, "sis: create source")
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, in.Name)
}

// Update replaces the settings of the source named name (which may be renamed: its past
// enrolments stay with the old name, so renaming starts a new source). A location equal to
// the masked stored one keeps the stored one. Errors: Forbidden, NotFound, Invalid, Conflict.
func (s *Service) Update(ctx context.Context, name string, in Config) (*Config, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		old, err := s.load(ctx, tx, name)
		if err != nil {
			return err
		}
		if in.Location == "" || (old.Kind == KindSQL && in.Location == MaskURL(old.Location)) {
			in.Location = old.Location
		}
		if err := in.normalize(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sis_sources SET name = $1, kind = $2, location = $3, query = $4, action = $5,
			threshold = $6, schedule = $7, create_accounts = $8, account_auth = $9, enabled = $10, updated_at = $11,
			create_courses = $13 WHERE id = $12`,
			in.Name, in.Kind, in.Location, in.Query, in.Action, in.Threshold, in.Schedule, in.CreateAccounts, in.AccountAuth,
			in.Enabled, tx.Now.Unix(), old.ID, in.CreateCourses)
		if store.IsUnique(err) {
			return errs.FieldCode("name", "sync_source_exists")
		}
		return errs.Wrap(err, "sis: update source")
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, in.Name)
}

// Delete removes a source's configuration; the enrolments it made stay (as those of its
// course methods). Errors: Forbidden, NotFound.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sis_sources WHERE name = $1`, name)
		if err != nil {
			return errs.Wrap(err, "sis: delete source")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Coded(errs.NotFound, "no_sync_source", errs.P{"source": name})
		}
		return nil
	})
}

// RunNow runs the source named name once (a dry run applies nothing) and returns its report.
// Errors: Forbidden, NotFound, Conflict (a run of it is under way); a source that cannot be
// read is an error and its run is recorded as failed.
func (s *Service) RunNow(ctx context.Context, name string, dryRun bool) (*Report, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	return s.RunConfigured(ctx, name, dryRun)
}

// RunConfigured runs a configured source without checking the caller: for the host's
// `roster sync NAME` and the scheduler. Errors as RunNow's, without Forbidden.
func (s *Service) RunConfigured(ctx context.Context, name string, dryRun bool) (*Report, error) {
	c, err := s.load(ctx, s.db, name)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, c, dryRun)
}

func (s *Service) run(ctx context.Context, c *Config, dryRun bool) (*Report, error) {
	opt := RunOptions{Action: c.Action, Threshold: c.Threshold, DryRun: dryRun, CreateCourses: c.CreateCourses}
	if opt.Threshold <= 0 {
		opt.Threshold = 1e-9 // 0 %: no removal at all
	}
	if c.CreateAccounts {
		opt.Accounts, opt.AccountAuth = s.accounts, c.AccountAuth
	}
	var src *Source
	var err error
	switch c.Kind {
	case KindSQL:
		src, err = ReadSQL(ctx, c.Location, c.Query)
	default:
		src, err = Open(c.Kind+":"+c.Location, "")
	}
	if err != nil {
		// Recorded, so that the page shows why the source could not be read.
		return nil, recordFailure(ctx, s.db, c.Name, c.Action, dryRun, err)
	}
	src.Name = c.Name
	return Run(ctx, s.db, src, opt)
}

// recordFailure records a run that could not read its source, and returns err.
func recordFailure(ctx context.Context, db *store.DB, source, action string, dryRun bool, cause error) error {
	ctx = context.WithoutCancel(ctx)
	_ = db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		// The report carries the message as a code, for pages in the reader's language.
		report, err := json.Marshal(map[string]any{"message_code": "sync_source_unreadable", "message_params": errs.P{"source": source}})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sync_runs (source, status, dry_run, action, message, report, started_at, finished_at)
			VALUES ($1, 'failed', $2, $3, $4, $5, $6, $6)`, source, dryRun, action, cause.Error(), string(report), now)
		return err
	})
	return cause
}

// RunDue runs, one after the other, the enabled sources whose schedule matched a minute
// since the scheduler last looked at them (jobs.SISTasks calls it every minute, claimed so
// that one instance runs it). A source that fails is recorded and does not stop the others.
// It returns the names of the sources it ran.
func (s *Service) RunDue(ctx context.Context) ([]string, error) {
	list, err := s.all(ctx)
	if err != nil {
		return nil, err
	}
	now := s.db.Now().UTC()
	var ran []string
	var failures []string
	for _, c := range list {
		if !c.Enabled {
			continue
		}
		var last sql.NullInt64
		if err := s.db.QueryRowContext(ctx, `SELECT last_checked_at FROM sis_sources WHERE id = $1`, c.ID).Scan(&last); err != nil {
			return ran, errs.Wrap(err, "sis: due sources")
		}
		after := now.Add(-time.Minute)
		if last.Valid {
			after = time.Unix(last.Int64, 0).UTC()
		}
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sis_sources SET last_checked_at = $1 WHERE id = $2`, now.Unix(), c.ID)
			return err
		}); err != nil {
			return ran, errs.Wrap(err, "sis: due sources")
		}
		cron, err := ParseCron(c.Schedule)
		if err != nil || !cron.MatchedBetween(after, now) {
			continue
		}
		ran = append(ran, c.Name)
		if _, err := s.run(ctx, c, false); err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", c.Name, err))
		}
	}
	if len(failures) > 0 {
		return ran, fmt.Errorf("sis: %s", strings.Join(failures, "; "))
	}
	return ran, nil
}
