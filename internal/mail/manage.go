package mail

import (
	"context"
	"strconv"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// An administrator unblocks the outbox by hand: a queued message waiting after a failed
// attempt is tried at once (SendNow), one that should not go (a wrong address that keeps
// bouncing, a message sent by mistake) is cancelled (Cancel). Sent and failed messages are
// history: their links are gone (redactLinks), so to reach the person again the page that
// caused the email sends a fresh one (resend the invitation, forgotten password).

// CancelledError is the last_error of a message an administrator cancelled.
const CancelledError = "cancelled by an administrator"

// SendNow makes the queued message id due now. Platform administrators only. Errors:
// Unauthorized/Forbidden, NotFound, Conflict (mail_not_queued: already sent or given up).
func SendNow(ctx context.Context, db *store.DB, id int64) error {
	return manage(ctx, db, id, "mail.send_now", func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = $1 WHERE id = $2`, tx.Now.Unix(), id)
		if err == nil {
			tx.AfterCommit(wake)
		}
		return err
	})
}

// Cancel gives up the queued message id: it is never sent, its status becomes failed with
// CancelledError, and its links are cut. Platform administrators only. Errors as SendNow's.
func Cancel(ctx context.Context, db *store.DB, id int64) error {
	return manage(ctx, db, id, "mail.cancel", func(tx *store.Tx) error {
		var o outgoing
		if err := tx.QueryRowContext(ctx, `SELECT subject, text_body, html_body FROM outbox WHERE id = $1`, id).
			Scan(&o.subject, &o.text, &o.html); err != nil {
			return err
		}
		o.id = id
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'failed', last_error = $1, claimed_until = 0
			WHERE id = $2`, CancelledError, id); err != nil {
			return err
		}
		return redactLinks(ctx, tx, []outgoing{o})
	})
}

// manage runs change on the queued message id, in one transaction with its audit event.
func manage(ctx context.Context, db *store.DB, id int64, action string, change func(*store.Tx) error) error {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return err
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		var status, to string
		// A worker holding the message (claimed_until in the future) may be sending it now:
		// it is not queued for us to change.
		var claimed int64
		lock := ""
		if tx.Dialect == store.Postgres {
			lock = " FOR UPDATE"
		}
		err := tx.QueryRowContext(ctx, `SELECT status, to_addr, claimed_until FROM outbox WHERE id = $1`+lock, id).
			Scan(&status, &to, &claimed)
		if store.IsNoRows(err) {
			return errs.Coded(errs.NotFound, "mail_not_found")
		}
		if err != nil {
			return errs.Wrap(err, "mail: "+action)
		}
		if status != StatusQueued || claimed > tx.Now.Unix() {
			return errs.Coded(errs.Conflict, "mail_not_queued")
		}
		if err := change(tx); err != nil {
			return errs.Wrap(err, "mail: "+action)
		}
		return audit.Record(ctx, tx, audit.Event{Action: action, TargetType: "mail", TargetID: strconv.FormatInt(id, 10),
			Details: map[string]any{"to": to}})
	})
}
