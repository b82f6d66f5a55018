package api

import (
	"encoding/json"
	"net/http"
	"time"

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
	for _, run := range runs {
		out.Items = append(out.Items, SyncRun{ID: ID(run.ID), Source: run.Source, Status: run.Status, DryRun: run.DryRun,
			Action: run.Action, Added: run.Added, Changed: run.Changed, Removed: run.Removed, Skipped: run.Skipped,
			Message: run.Message, Report: run.Report, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, DurationMS: run.DurationMS})
	}
	writeJSON(w, http.StatusOK, out)
}
