package jobs

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

var bg = context.Background()

func counting(name string, every time.Duration, n *atomic.Int32, err error) Task {
	return Task{Name: name, Every: every, Run: func(context.Context) error { n.Add(1); return err }}
}

func runDue(t *testing.T, r *Runner, want ...string) {
	t.Helper()
	ran, err := r.RunDue(bg)
	if err != nil || !slices.Equal(ran, want) {
		t.Fatalf("ran %v (%v), want %v", ran, err, want)
	}
}

// TestSchedule: each task runs when due, once, by the clock; a failing task is retried
// sooner, a panicking one does not stop the others.
func TestSchedule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		var hourly, daily, failing, panicking atomic.Int32
		r := New(db, nil,
			counting("hourly", time.Hour, &hourly, nil),
			counting("daily", 24*time.Hour, &daily, nil),
			counting("failing", 24*time.Hour, &failing, errors.New("boom")),
			Task{Name: "panicking", Every: 24 * time.Hour, Run: func(context.Context) error { panicking.Add(1); panic("oops") }},
		)
		runDue(t, r, "hourly", "daily", "failing", "panicking")
		runDue(t, r)
		// Failures are retried after a fifth of the period, at most 10 minutes.
		clock.Advance(10*time.Minute - time.Second)
		runDue(t, r)
		clock.Advance(time.Second)
		runDue(t, r, "failing", "panicking")
		clock.Advance(50*time.Minute - time.Second)
		runDue(t, r, "failing", "panicking")
		clock.Advance(time.Second)
		runDue(t, r, "hourly")
		var lastErr string
		db.QueryRowContext(bg, `SELECT last_error FROM scheduled_tasks WHERE name = 'panicking'`).Scan(&lastErr)
		if !strings.Contains(lastErr, "oops") {
			t.Fatalf("last_error %q", lastErr)
		}
		clock.Advance(23 * time.Hour)
		runDue(t, r, "hourly", "daily", "failing", "panicking")
		if hourly.Load() != 3 || daily.Load() != 2 || failing.Load() != 4 || panicking.Load() != 4 {
			t.Fatalf("runs %d %d %d %d", hourly.Load(), daily.Load(), failing.Load(), panicking.Load())
		}
	})
}

// TestOneInstanceAtATime: while one instance runs a task, another does not run it; a runner
// stopped in the middle of a task hands its claim back at once.
func TestOneInstanceAtATime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		started, release := make(chan struct{}), make(chan struct{})
		var runs atomic.Int32
		blocking := Task{Name: "slow", Every: time.Hour, Run: func(ctx context.Context) error {
			runs.Add(1)
			close(started)
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
		a, b := New(db, nil, blocking), New(db, nil, blocking)
		done := make(chan []string)
		go func() { ran, _ := a.RunDue(bg); done <- ran }()
		<-started
		runDue(t, b) // claimed by a
		close(release)
		if ran := <-done; !slices.Equal(ran, []string{"slow"}) {
			t.Fatalf("a ran %v", ran)
		}
		runDue(t, b) // done by a: not due for an hour

		// Stopping a runner during a task gives the task back at once.
		clock.Advance(time.Hour)
		started, release = make(chan struct{}), make(chan struct{})
		ctx, stop := context.WithCancel(bg)
		stopped := make(chan error)
		go func() { stopped <- a.Run(ctx) }()
		<-started
		stop()
		if err := <-stopped; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
		started = make(chan struct{})
		release = make(chan struct{})
		close(release)
		runDue(t, b, "slow")
		if runs.Load() != 3 {
			t.Fatalf("runs %d", runs.Load())
		}
	})
}

// TestAccountTasks: the tasks serve starts are registered under stable names.
func TestAccountTasks(t *testing.T) {
	ts := AccountTasks(nil, nil)
	if len(ts) != 3 || ts[0].Name != "account.deletions" || ts[0].Every != 24*time.Hour ||
		ts[1].Name != "account.purge" || ts[1].Every != time.Hour ||
		ts[2].Name != "account.password_wrap" || ts[2].Every != time.Minute || ts[2].Lease != 10*time.Minute {
		t.Fatalf("%+v", ts)
	}
}
