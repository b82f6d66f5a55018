package mail

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"roster/internal/store"
)

// Backoff is the wait after each failed attempt: after the first failure a message is tried
// again 30 seconds later, after the second 2 minutes later, and so on. After MaxAttempts
// failures (about 22 hours of trying) the message is marked failed.
var Backoff = []time.Duration{
	30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour,
	3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
}

// MaxAttempts is how many times a message is tried before it is marked failed.
const MaxAttempts = 8

// Worker delivers the outbox. Run it once per process, only when --smtp is set: without a
// Sender there is no worker, messages stay queued, and platform administrators read them at
// /admin/mail. Several processes may run workers on one PostgreSQL database: claims use
// FOR UPDATE SKIP LOCKED, so no message goes to two workers.
type Worker struct {
	db     *store.DB
	sender *Sender
	log    *slog.Logger

	// The settings below have working defaults; tests and benchmarks change them before Run.

	BatchSize int           // messages claimed and sent over one connection (100)
	Lanes     int           // connections used at once (4)
	Poll      time.Duration // how often to look for due messages without a wake-up (5 s)
	ClaimFor  time.Duration // how long a claim holds; a crashed worker's claims expire after it (5 min)
	Grace     time.Duration // at shutdown, how long the batch in flight may still take (20 s)
}

// NewWorker returns a worker that delivers db's outbox through sender.
func NewWorker(db *store.DB, sender *Sender, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.Default()
	}
	return &Worker{
		db: db, sender: sender, log: log.With("component", "mail"),
		BatchSize: 100, Lanes: 4, Poll: 5 * time.Second, ClaimFor: 5 * time.Minute, Grace: 20 * time.Second,
	}
}

// Run delivers due messages until ctx is cancelled, then finishes the batches in flight
// (for at most Grace) and returns nil. A commit that queues mail wakes it at once; otherwise
// it looks every Poll.
func (w *Worker) Run(ctx context.Context) error {
	if w.sender == nil {
		return fmt.Errorf("mail: worker without a sender")
	}
	w.log.Info("mail worker started", "smtp", w.sender.String(), "from", w.sender.From())
	// Sends use a context that outlives ctx by Grace, so a batch in flight is finished.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(w.Grace, cancelSends) })
	defer stop()

	var wg sync.WaitGroup
	for range max(w.Lanes, 1) {
		wg.Go(func() { w.lane(ctx, sendCtx) })
	}
	wg.Wait()
	w.log.Info("mail worker stopped")
	return nil
}

// lane claims and sends batches one after the other over its own connection.
func (w *Worker) lane(ctx, sendCtx context.Context) {
	woken, unsubscribe := subscribe()
	defer unsubscribe()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, err := w.deliverBatch(ctx, sendCtx)
		if err != nil {
			w.log.Error("mail delivery", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if n == w.BatchSize && err == nil {
			continue // more may be due
		}
		timer.Reset(w.Poll)
		select {
		case <-ctx.Done():
			return
		case <-woken:
		case <-timer.C:
		}
	}
}

// DeliverOnce claims one batch of due messages, sends them and records the outcome. It
// returns how many messages it claimed. Tests use it to step the worker by hand.
func (w *Worker) DeliverOnce(ctx context.Context) (int, error) {
	return w.deliverBatch(ctx, ctx)
}

func (w *Worker) deliverBatch(ctx, sendCtx context.Context) (int, error) {
	batch, err := w.claim(ctx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	results := w.sendOpened(sendCtx, batch, w.db.Now())
	return len(batch), w.record(context.WithoutCancel(ctx), batch, results)
}

// claim takes up to BatchSize due messages for ClaimFor, oldest due first. A message is due
// when it is queued, its next attempt time has come and no live claim holds it (a claim whose
// time has passed belongs to a worker that died, and is taken over).
func (w *Worker) claim(ctx context.Context) ([]outgoing, error) {
	if ctx.Err() != nil {
		return nil, nil
	}
	lock := ""
	if w.db.Dialect == store.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var batch []outgoing
	err := w.db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		// The claim also moves next_attempt_at to its end: claimed messages leave the due
		// range of the outbox_due index, and come back into it if the claimer dies.
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET claimed_until = $1, next_attempt_at = $1
			WHERE id IN (SELECT id FROM outbox
				WHERE status = 'queued' AND next_attempt_at <= $2 AND claimed_until < $2
				ORDER BY next_attempt_at, id LIMIT $3`+lock+`)
			RETURNING id, to_addr, to_name, subject, text_body, html_body, attempts, created_at`,
			now+int64(w.ClaimFor/time.Second), now, w.BatchSize)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o outgoing
			if err := rows.Scan(&o.id, &o.to, &o.name, &o.subject, &o.text, &o.html, &o.attempts, &o.createdAt); err != nil {
				return err
			}
			batch = append(batch, o)
		}
		return rows.Err()
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, fmt.Errorf("mail: claim: %w", err)
	}
	slices.SortFunc(batch, func(a, b outgoing) int { return int(a.id - b.id) })
	return batch, nil
}

// record writes the outcome of a batch in one transaction: sent messages get status sent,
// failed ones a later attempt (or status failed after MaxAttempts), and those not attempted
// because of shutdown are released for the next worker.
func (w *Worker) record(ctx context.Context, batch []outgoing, results []result) error {
	var sent, released []any
	var done []outgoing // sent or failed for good: their links are redacted
	for i, r := range results {
		switch {
		case r.sent:
			sent = append(sent, batch[i].id)
			done = append(done, batch[i])
		case r.err == nil:
			released = append(released, batch[i].id)
		}
	}
	return w.db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		for _, ids := range chunks(sent, 500) {
			args := append([]any{now}, ids...)
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = $1, next_attempt_at = $1,
				attempts = attempts + 1, last_error = '', claimed_until = 0
				WHERE id IN (`+store.Placeholders(2, len(ids))+`)`, args...); err != nil {
				return fmt.Errorf("mail: record sent: %w", err)
			}
		}
		for _, ids := range chunks(released, 500) {
			args := append([]any{now}, ids...)
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_until = 0, next_attempt_at = $1
				WHERE id IN (`+store.Placeholders(2, len(ids))+`)`, args...); err != nil {
				return fmt.Errorf("mail: release: %w", err)
			}
		}
		for i, r := range results {
			if r.sent || r.err == nil {
				continue
			}
			o := batch[i]
			attempts := o.attempts + 1
			status, next := "queued", tx.Now.Add(backoff(attempts)).Unix()
			if attempts >= MaxAttempts {
				status, next = "failed", now
				done = append(done, o)
			}
			msg := truncate(r.err.Error(), 1000)
			w.log.Warn("mail not delivered", "id", o.id, "to", o.to, "attempt", attempts, "status", status, "err", msg)
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, attempts = $2,
				last_error = $3, next_attempt_at = $4, claimed_until = 0 WHERE id = $5`,
				status, attempts, msg, next, o.id); err != nil {
				return fmt.Errorf("mail: record failure: %w", err)
			}
		}
		// Sent or failed for good: the links are of no more use in the outbox.
		return redactLinks(ctx, tx, done)
	})
}

// backoff is the wait after the given number of failed attempts.
func backoff(attempts int) time.Duration {
	return Backoff[min(max(attempts, 1), len(Backoff))-1]
}

func chunks(ids []any, n int) [][]any {
	var out [][]any
	for len(ids) > 0 {
		k := min(n, len(ids))
		out = append(out, ids[:k])
		ids = ids[k:]
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// wakers are the channels of running workers; wake pokes each without blocking.
var (
	wakeMu sync.Mutex
	wakers = map[chan struct{}]struct{}{}
)

// wake tells the waiting workers that mail is queued, so that delivery starts at once
// rather than at the next poll. It is called after the enqueuing transaction commits.
func wake() {
	wakeMu.Lock()
	defer wakeMu.Unlock()
	for c := range wakers {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// subscribe returns a channel that wake pokes, and a function to stop.
func subscribe() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	wakeMu.Lock()
	wakers[c] = struct{}{}
	wakeMu.Unlock()
	return c, func() {
		wakeMu.Lock()
		delete(wakers, c)
		wakeMu.Unlock()
	}
}
