package sis

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// RunRecord is one recorded run, as the API and the pages show it.
type RunRecord struct {
	ID         int64           `json:"id"`
	Source     string          `json:"source"`
	Status     string          `json:"status"`
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

// Runs lists the latest runs, newest first, of one source or of every source (source ""),
// with their reports. It needs a platform administrator. Errors: Forbidden.
func Runs(ctx context.Context, q store.Querier, source string, limit int) ([]RunRecord, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := q.QueryContext(ctx, `SELECT id, source, status, dry_run, action, added, changed, removed, skipped, message, report,
		started_at, finished_at, duration_ms FROM sync_runs WHERE ($1 = '' OR source = $1) ORDER BY id DESC LIMIT $2`, source, limit)
	if err != nil {
		return nil, errs.Wrap(err, "sis: runs")
	}
	defer rows.Close()
	out := []RunRecord{}
	for rows.Next() {
		var r RunRecord
		var report string
		var started int64
		var finished sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Source, &r.Status, &r.DryRun, &r.Action, &r.Added, &r.Changed, &r.Removed, &r.Skipped,
			&r.Message, &report, &started, &finished, &r.DurationMS); err != nil {
			return nil, errs.Wrap(err, "sis: runs")
		}
		r.Report = json.RawMessage(report)
		r.StartedAt = store.Time(started)
		r.FinishedAt = store.NullTime(finished)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sis: runs")
	}
	return out, nil
}
