package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"roster/internal/store"
)

// Backoff is the wait after each failed attempt of one message (a refusal by the SMTP server
// of that message): after the first failure a message is tried again 30 seconds later, after
// the second 2 minutes later, and so on. After MaxAttempts failures (about 22 hours of trying)
// the message is marked failed. A server that cannot be reached is not a failure of the
// message: see RetryCap.
var Backoff = []time.Duration{
	30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour,
	3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
}

// MaxAttempts is how many times a message is tried before it is marked failed.
const MaxAttempts = 8

// Worker delivers the outbox. Run it once per process, only when --smtp is set: without a
// Sender there is no worker, messages stay queued, and platform administrators read them at
// /admin/mail. Several processes may run workers on one database: claims use FOR UPDATE SKIP
// LOCKED on PostgreSQL and the write lock on SQLite, so no message goes to two live workers.
//
// The promise is "at least once; duplicates only for messages in flight at a crash": each
// message's outcome is written as soon as the SMTP server has answered, before the next
// message goes; claims are short leases that the worker renews while it lives, so the claims
// of a killed worker come back within ClaimFor, and only the message each lane was sending
// (at most Lanes messages) can be sent again, with the same Message-ID.
type Worker struct {
	db     *store.DB
	sender *Sender
	log    *slog.Logger

	serverDown atomic.Int32 // consecutive connection failures, for the retry delay

	// The settings below have working defaults; tests and benchmarks change them before Run.

	BatchSize int           // messages claimed at once by a lane and sent over one connection (100)
	Lanes     int           // connections used at once: also the most messages in flight (4)
	Poll      time.Duration // how often to look for due messages without a wake-up (5 s)
	ClaimFor  time.Duration // a claim's lease, renewed every third of it while sending (15 s)
	RetryCap  time.Duration // longest wait while the SMTP server cannot be reached (30 s)
	Grace     time.Duration // at shutdown, how long the batch in flight may still take (20 s)
}

// NewWorker returns a worker that delivers db's outbox through sender.
func NewWorker(db *store.DB, sender *Sender, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.Default()
	}
	return &Worker{
		db: db, sender: sender, log: log.With("component", "mail"),
		BatchSize: 100, Lanes: 4, Poll: 5 * time.Second, ClaimFor: 15 * time.Second,
		RetryCap: 30 * time.Second, Grace: 20 * time.Second,
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

// errServerDown says that the SMTP server could not be reached or dropped the connection.
var errServerDown = errors.New("mail: SMTP server unavailable")

// lane claims and sends batches one after the other over its own connection. While the
// database or the SMTP server fails, it waits longer each time (doubling, up to RetryCap for
// the server and a minute for the database) instead of trying and logging every Poll.
func (w *Worker) lane(ctx, sendCtx context.Context) {
	woken, unsubscribe := subscribe()
	defer unsubscribe()
	timer := time.NewTimer(0)
	defer timer.Stop()
	dbFails := 0
	for {
		n, err := w.deliverBatch(ctx, sendCtx)
		if ctx.Err() != nil {
			return
		}
		wait := w.Poll
		switch {
		case errors.Is(err, errServerDown):
			wait = w.serverRetry()
		case err != nil:
			dbFails++
			wait = doubling(w.Poll, time.Minute, dbFails)
			if dbFails == 1 || wait == time.Minute {
				w.log.Error("mail delivery", "err", err, "retry_in", wait)
			}
		default:
			dbFails = 0
			if n == w.BatchSize {
				continue // more may be due
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-woken:
			if errors.Is(err, errServerDown) {
				// New mail does not bring the server back: wait the retry delay out.
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
			}
		case <-timer.C:
		}
	}
}

// serverRetry is the wait after the latest connection failure: 1 s, 2 s, 4 s... up to RetryCap,
// so that mail flows again within RetryCap of the server coming back.
func (w *Worker) serverRetry() time.Duration {
	return doubling(time.Second, w.RetryCap, int(w.serverDown.Load()))
}

// doubling is base doubled n-1 times, at most limit.
func doubling(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// DeliverOnce claims one batch of due messages, sends them and records the outcome. It
// returns how many messages it claimed. Tests use it to step the worker by hand.
func (w *Worker) DeliverOnce(ctx context.Context) (int, error) {
	return w.deliverBatch(ctx, ctx)
}

// deliverBatch claims a batch, renews its lease while sending, and records each message's
// outcome as soon as the server has answered. Messages not attempted (shutdown, or the
// database failed) and those the server could not take (connection failure) are released.
func (w *Worker) deliverBatch(ctx, sendCtx context.Context) (int, error) {
	batch, err := w.claim(ctx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	recCtx := context.WithoutCancel(ctx)
	stopRenewing := w.renew(recCtx, batch)
	defer stopRenewing()

	var (
		recordErr error
		down      error
		attempted = make([]bool, len(batch))
		retry     []any // not taken because the server is unavailable
	)
	w.sendOpened(sendCtx, batch, w.db.Now(), func(i int, r result) bool {
		attempted[i] = true
		var ce *connError
		if errors.As(r.err, &ce) {
			down = r.err
			retry = append(retry, batch[i].id)
			return true
		}
		if err := w.record(recCtx, batch[i], r); err != nil {
			recordErr = err
			attempted[i] = false // still claimed: its lease runs out and it is tried again
			return false
		}
		return true
	})
	var untried []any
	for i, ok := range attempted {
		if !ok {
			untried = append(untried, batch[i].id)
		}
	}
	if recordErr != nil {
		return len(batch), recordErr
	}
	if err := w.release(recCtx, untried, 0, ""); err != nil {
		return len(batch), err
	}
	if down == nil {
		w.serverDown.Store(0)
		return len(batch), nil
	}
	fails := w.serverDown.Add(1)
	wait := w.serverRetry()
	if fails == 1 || wait == w.RetryCap {
		w.log.Warn("SMTP server unavailable", "err", down, "messages", len(retry), "retry_in", wait)
	}
	if err := w.release(recCtx, retry, wait, truncate(down.Error(), 1000)); err != nil {
		return len(batch), err
	}
	return len(batch), fmt.Errorf("%w: %v", errServerDown, down)
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
		// range of the outbox_due index, and come back into it if the claimer dies. The first
		// claim gives the message its Message-ID, kept for every later attempt.
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET claimed_until = $1, next_attempt_at = $1,
				message_id = CASE WHEN message_id = '' THEN 'roster.' || CAST(id AS TEXT) || '.' || CAST(created_at AS TEXT) || '@' || $4
					ELSE message_id END
			WHERE id IN (SELECT id FROM outbox
				WHERE status = 'queued' AND next_attempt_at <= $2 AND claimed_until < $2
				ORDER BY next_attempt_at, id LIMIT $3`+lock+`)
			RETURNING id, to_addr, to_name, subject, text_body, html_body, attempts, created_at, message_id`,
			now+leaseSeconds(w.ClaimFor), now, w.BatchSize, w.domain())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o outgoing
			if err := rows.Scan(&o.id, &o.to, &o.name, &o.subject, &o.text, &o.html, &o.attempts, &o.createdAt, &o.messageID); err != nil {
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

// domain is the right-hand side of the Message-IDs the worker gives: the sender's domain.
func (w *Worker) domain() string {
	if w.sender == nil || w.sender.domain == "" {
		return "localhost"
	}
	return w.sender.domain
}

func leaseSeconds(d time.Duration) int64 { return max(int64(d/time.Second), 1) }

// renew extends the lease of the batch's messages still claimed, every third of ClaimFor,
// until the returned function is called. A worker that dies stops renewing, and its
// messages are due again within ClaimFor.
func (w *Worker) renew(ctx context.Context, batch []outgoing) (stop func()) {
	ids := make([]any, len(batch))
	for i, o := range batch {
		ids[i] = o.id
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(max(w.ClaimFor/3, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			err := w.db.Tx(ctx, func(tx *store.Tx) error {
				until := tx.Now.Unix() + leaseSeconds(w.ClaimFor)
				_, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_until = $1, next_attempt_at = $1
					WHERE status = 'queued' AND claimed_until > 0 AND id IN (`+store.Placeholders(2, len(ids))+`)`,
					append([]any{until}, ids...)...)
				return err
			})
			if err != nil {
				w.log.Warn("mail: renew claims", "err", err)
			}
		}
	}()
	return func() { close(done); <-finished }
}

// record writes the outcome of one message at once, in its own transaction: a sent message
// gets status sent; a refused one a later attempt, or status failed after MaxAttempts. It
// tries a few times if the database fails, since a sent message not recorded would be sent
// again.
func (w *Worker) record(ctx context.Context, o outgoing, r result) error {
	var err error
	for try := range 5 {
		if try > 0 {
			time.Sleep(doubling(100*time.Millisecond, 2*time.Second, try))
		}
		if r.sent {
			err = w.markSent(ctx, o)
		} else {
			err = w.markFailed(ctx, o, r.err)
		}
		if err == nil {
			return nil
		}
	}
	return err
}

// markSent records that the SMTP server accepted o.
func (w *Worker) markSent(ctx context.Context, o outgoing) error {
	return w.db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = $1, next_attempt_at = $1,
			attempts = attempts + 1, last_error = '', claimed_until = 0 WHERE id = $2`, now, o.id); err != nil {
			return fmt.Errorf("mail: record sent: %w", err)
		}
		// Sent: its links are of no more use in the outbox.
		return redactLinks(ctx, tx, []outgoing{o})
	})
}

// markFailed records a refusal of o: another attempt after the backoff, or status failed.
func (w *Worker) markFailed(ctx context.Context, o outgoing, cause error) error {
	return w.db.Tx(ctx, func(tx *store.Tx) error {
		attempts := o.attempts + 1
		status, next := "queued", tx.Now.Add(backoff(attempts)).Unix()
		if attempts >= MaxAttempts {
			status, next = "failed", tx.Now.Unix()
		}
		msg := truncate(cause.Error(), 1000)
		w.log.Warn("mail not delivered", "id", o.id, "to", o.to, "attempt", attempts, "status", status, "err", msg)
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, attempts = $2,
			last_error = $3, next_attempt_at = $4, claimed_until = 0 WHERE id = $5`,
			status, attempts, msg, next, o.id); err != nil {
			return fmt.Errorf("mail: record failure: %w", err)
		}
		if status == "failed" { // failed for good: its links are of no more use either
			return redactLinks(ctx, tx, []outgoing{o})
		}
		return nil
	})
}

// release gives claimed messages back, due after wait, without counting an attempt; lastErr,
// when not empty, says why (the server could not be reached).
func (w *Worker) release(ctx context.Context, ids []any, wait time.Duration, lastErr string) error {
	if len(ids) == 0 {
		return nil
	}
	return w.db.Tx(ctx, func(tx *store.Tx) error {
		next := tx.Now.Add(wait).Unix()
		for _, part := range chunks(ids, 500) {
			set := "claimed_until = 0, next_attempt_at = $1"
			args := []any{next}
			if lastErr != "" {
				set += ", last_error = $2"
				args = append(args, lastErr)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET `+set+`
				WHERE id IN (`+store.Placeholders(len(args)+1, len(part))+`)`, append(args, part...)...); err != nil {
				return fmt.Errorf("mail: release: %w", err)
			}
		}
		return nil
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
