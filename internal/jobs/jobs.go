// Package jobs runs Roster's periodic tasks inside `roster serve`: the daily deletion of
// accounts whose date has come, the hourly purge of expired sessions and links, and whatever
// else is added. Each task has a row in scheduled_tasks; an instance runs a task only after
// claiming its row by moving next_run_at past now in one UPDATE ... WHERE next_run_at <= now
// RETURNING, which succeeds for exactly one of several `roster serve` sharing a database. A
// claim is a lease: if the instance dies, the task is due again when the lease ends. Tasks are
// idempotent, so a task cut short and run again does no harm.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"roster/internal/store"
)

// Task is one periodic task.
type Task struct {
	Name  string        // unique; the key of its row
	Every time.Duration // from the start of one run to the next
	// Lease bounds one run (its context ends then), and is how long the claim holds another
	// instance off. Default 15 minutes.
	Lease time.Duration
	Run   func(ctx context.Context) error
}

// DefaultLease is a task's lease when it sets none.
const DefaultLease = 15 * time.Minute

// Runner runs tasks when they are due.
type Runner struct {
	db    *store.DB
	log   *slog.Logger
	tasks []Task
	// Poll is how often Run looks for due tasks. Default one minute.
	Poll time.Duration
}

// New returns a runner of tasks over db.
func New(db *store.DB, log *slog.Logger, tasks ...Task) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for i := range tasks {
		if tasks[i].Lease <= 0 {
			tasks[i].Lease = DefaultLease
		}
	}
	return &Runner{db: db, log: log, tasks: tasks, Poll: time.Minute}
}

// Run runs due tasks until ctx ends, then returns ctx's error once the task under way (if
// any) has stopped. A task that fails is logged and tried again later; it does not stop the
// runner.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(r.Poll)
	defer t.Stop()
	for {
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RunDue runs, one after the other, each task that is due and that this instance claims, and
// returns the names of those it ran. The time is the database clock (db.Now), so tests move
// it instead of sleeping. A task's failure is recorded in its row and logged; the error
// returned is only about the runner's own work (reaching the database).
func (r *Runner) RunDue(ctx context.Context) (ran []string, err error) {
	for _, t := range r.tasks {
		if ctx.Err() != nil {
			return ran, ctx.Err()
		}
		claimed, err := r.claim(ctx, t)
		if err != nil {
			return ran, err
		}
		if !claimed {
			continue
		}
		ran = append(ran, t.Name)
		if err := r.runClaimed(ctx, t); err != nil {
			return ran, err
		}
	}
	return ran, nil
}

// claim makes sure the task has its row (due at once the first time), then takes it if due.
func (r *Runner) claim(ctx context.Context, t Task) (bool, error) {
	claimed := false
	err := r.db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		if _, err := tx.ExecContext(ctx, `INSERT INTO scheduled_tasks (name, next_run_at) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, t.Name, now); err != nil {
			return err
		}
		var name string
		err := tx.QueryRowContext(ctx, `UPDATE scheduled_tasks SET next_run_at = $1, started_at = $2, runs = runs + 1
			WHERE name = $3 AND next_run_at <= $2 RETURNING name`, tx.Now.Add(t.Lease).Unix(), now, t.Name).Scan(&name)
		if store.IsNoRows(err) {
			return nil
		}
		claimed = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("jobs: claim %s: %w", t.Name, err)
	}
	return claimed, nil
}

// runClaimed runs a claimed task and records the outcome: next run Every after this one's
// start, or, after a failure, in a fifth of Every (at most 10 minutes). If the runner is
// stopped during the run, the claim is handed back so that another instance can take the
// task at once.
func (r *Runner) runClaimed(ctx context.Context, t Task) error {
	start := r.db.Now().UTC().Truncate(time.Second)
	runCtx, cancel := context.WithTimeout(ctx, t.Lease)
	err := safeRun(runCtx, t)
	cancel()
	record := context.WithoutCancel(ctx)
	if err != nil && ctx.Err() != nil {
		return r.finish(record, t.Name, start, "stopped: "+err.Error())
	}
	if err != nil {
		r.log.Error("jobs: task failed", "task", t.Name, "err", err)
		retry := min(t.Every/5, 10*time.Minute)
		return r.finish(record, t.Name, r.db.Now().Add(retry), err.Error())
	}
	r.log.Debug("jobs: task done", "task", t.Name)
	return r.finish(record, t.Name, start.Add(t.Every), "")
}

func (r *Runner) finish(ctx context.Context, name string, next time.Time, lastErr string) error {
	err := r.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE scheduled_tasks SET next_run_at = $1, finished_at = $2, last_error = $3 WHERE name = $4`,
			next.Unix(), tx.Now.Unix(), lastErr, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("jobs: record %s: %w", name, err)
	}
	return nil
}

// safeRun runs the task, turning a panic into an error so that one bad task cannot stop the
// others or the server.
func safeRun(ctx context.Context, t Task) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	if t.Run == nil {
		return errors.New("no Run function")
	}
	return t.Run(ctx)
}
