package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"roster/internal/errs"
	"roster/internal/sis"
)

// SyncRun is one run of the student-information-system sync with its report (skipped rows
// with file, line and reason).
type SyncRun struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	Status     string          `json:"status"` // running | done | dry_run | stopped | failed
	DryRun     bool            `json:"dry_run"`
	Action     string          `json:"action"`
	Added      int             `json:"added"`
	Changed    int             `json:"changed"`
	Removed    int             `json:"removed"`
	Skipped    int             `json:"skipped"`
	Message    string          `json:"message,omitempty"`
	Report     json.RawMessage `json:"report"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	DurationMS int64           `json:"duration_ms"`
}

// syncRuns lists the latest sync runs (?source=NAME, ?limit=), newest first; platform
// administrators only.
func (a *API) syncRuns(w http.ResponseWriter, r *http.Request) {
	n, err := limit(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	runs, err := sis.Runs(r.Context(), a.db, r.URL.Query().Get("source"), n)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[SyncRun]{Items: make([]SyncRun, 0, len(runs))}
	for i := range runs {
		out.Items = append(out.Items, *syncRunOut(&runs[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// SyncSource is a configured sync source. Location is a path, or for kind sql a postgres://
// URL shown with its password masked (sending the masked URL back keeps the stored one).
type SyncSource struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Kind           string   `json:"kind"` // csv | oneroster | sql
	Location       string   `json:"location"`
	Query          string   `json:"query,omitempty"`
	Action         string   `json:"action"`    // suspend | unenrol | keep
	Threshold      float64  `json:"threshold"` // percent
	Schedule       string   `json:"schedule"`  // 5-field cron expression (UTC)
	CreateAccounts bool     `json:"create_accounts"`
	AccountAuth    string   `json:"account_auth"` // cas | oidc
	CreateCourses  bool     `json:"create_courses"`
	Enabled        bool     `json:"enabled"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
	LastRun        *SyncRun `json:"last_run,omitempty"`
}

// syncSourceIn is the body of POST /api/v1/sync/sources and PUT .../{name}.
type syncSourceIn struct {
	Name           string   `json:"name"`
	Kind           string   `json:"kind"`
	Location       string   `json:"location"`
	Query          string   `json:"query"`
	Action         string   `json:"action"`
	Threshold      *float64 `json:"threshold"`
	Schedule       string   `json:"schedule"`
	CreateAccounts bool     `json:"create_accounts"`
	AccountAuth    string   `json:"account_auth"`
	CreateCourses  bool     `json:"create_courses"` // oneroster: classes whose course does not exist create it
	Enabled        *bool    `json:"enabled"`        // default true
}

func (in syncSourceIn) config() sis.Config {
	c := sis.Config{Name: in.Name, Kind: in.Kind, Location: in.Location, Query: in.Query, Action: in.Action,
		Schedule: in.Schedule, CreateAccounts: in.CreateAccounts, AccountAuth: in.AccountAuth, Enabled: in.Enabled == nil || *in.Enabled,
		CreateCourses: in.CreateCourses}
	if in.Threshold != nil {
		c.Threshold = *in.Threshold
		if c.Threshold == 0 {
			c.Threshold = 1e-9 // 0 %: no removal at all
		}
	}
	return c
}

func syncRunOut(run *sis.RunRecord) *SyncRun {
	if run == nil {
		return nil
	}
	return &SyncRun{ID: ID(run.ID), Source: run.Source, Status: run.Status, DryRun: run.DryRun,
		Action: run.Action, Added: run.Added, Changed: run.Changed, Removed: run.Removed, Skipped: run.Skipped,
		Message: run.Message, Report: run.Report, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, DurationMS: run.DurationMS}
}

func syncSourceOut(c *sis.Config) SyncSource {
	return SyncSource{ID: ID(c.ID), Name: c.Name, Kind: c.Kind, Location: c.Location, Query: c.Query, Action: c.Action,
		Threshold: c.Threshold, Schedule: c.Schedule, CreateAccounts: c.CreateAccounts, AccountAuth: c.AccountAuth,
		CreateCourses: c.CreateCourses, Enabled: c.Enabled, CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: c.UpdatedAt.UTC().Format(time.RFC3339),
		LastRun: syncRunOut(c.LastRun)}
}

// syncSources lists the configured sources with their last run; platform administrators only.
func (a *API) syncSources(w http.ResponseWriter, r *http.Request) {
	list, err := a.SIS.List(r.Context())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[SyncSource]{Items: make([]SyncSource, 0, len(list))}
	for _, c := range list {
		out.Items = append(out.Items, syncSourceOut(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// createSyncSource adds a source: 201 with it.
func (a *API) createSyncSource(w http.ResponseWriter, r *http.Request) {
	var in syncSourceIn
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	c, err := a.SIS.Create(r.Context(), in.config())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, syncSourceOut(c))
}

// updateSyncSource replaces a source's settings.
func (a *API) updateSyncSource(w http.ResponseWriter, r *http.Request) {
	var in syncSourceIn
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	c, err := a.SIS.Update(r.Context(), r.PathValue("name"), in.config())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, syncSourceOut(c))
}

// deleteSyncSource removes a source's configuration (its enrolments stay): 204.
func (a *API) deleteSyncSource(w http.ResponseWriter, r *http.Request) {
	if err := a.SIS.Delete(r.Context(), r.PathValue("name")); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// SyncReport is what POST /api/v1/sync/sources/{name}/run returns.
type SyncReport struct {
	RunID      string      `json:"run_id"`
	Source     string      `json:"source"`
	Status     string      `json:"status"` // done | dry_run | stopped | failed
	DryRun     bool        `json:"dry_run"`
	Added      int         `json:"added"`
	Changed    int         `json:"changed"`
	Removed    int         `json:"removed"`
	Kept       int         `json:"kept"`
	Created    int         `json:"accounts_created"`
	Courses    int         `json:"courses_created"`
	Skipped    int         `json:"skipped"`
	Issues     []sis.Issue `json:"skipped_rows"`
	Message    string      `json:"message,omitempty"`
	DurationMS int64       `json:"duration_ms"`
}

// runSyncSource runs a source now (?dry_run=true applies nothing) and returns its report.
// A source that cannot be read is a 422 naming why (the run is recorded as failed).
func (a *API) runSyncSource(w http.ResponseWriter, r *http.Request) {
	dry := r.URL.Query().Get("dry_run")
	rep, err := a.SIS.RunNow(r.Context(), r.PathValue("name"), dry == "true" || dry == "1")
	if err != nil {
		var e *errs.Error
		if !errors.As(err, &e) {
			err = errs.Coded(errs.Invalid, "api_sync_source_failed", errs.P{"detail": err.Error()})
		}
		a.problem(w, r, err)
		return
	}
	issues := rep.Issues
	if len(issues) > 1000 {
		issues = issues[:1000]
	}
	if issues == nil {
		issues = []sis.Issue{}
	}
	writeJSON(w, http.StatusOK, SyncReport{RunID: ID(rep.RunID), Source: rep.Source, Status: rep.Status, DryRun: rep.DryRun,
		Added: rep.Added, Changed: rep.Changed, Removed: rep.Removed, Kept: rep.Kept, Created: rep.Created, Courses: rep.CoursesCreated, Skipped: rep.Skipped,
		Issues: issues, Message: rep.Message, DurationMS: rep.Duration.Milliseconds()})
}
