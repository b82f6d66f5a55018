package account

import (
	"context"
	"sort"
	"strconv"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/group"
	"roster/internal/mail"
	"roster/internal/store"
)

// Deleting an account anonymises it: the row stays, with its billing dates, so that past
// months are still billed right and audit events still point somewhere; everything that
// identifies or lets the person in goes.

// DeletionNoticeBefore is how long before an automatic deletion the platform administrators
// are told about it.
const DeletionNoticeBefore = 7 * 24 * time.Hour

// anonymize deletes account id within tx and records "user.delete" with the reason
// ("admin" or "deletion_date"): names, email, logins (username, external id, single sign-on
// identities, password) and custom fields are erased; the account is suspended and billing
// stops; sessions end, API tokens are revoked, one-time links and group memberships go.
func (s *Service) anonymize(ctx context.Context, tx *store.Tx, id int64, reason string) error {
	now := tx.Now.Unix()
	// A username with a space can never be typed or created (see NewUser.Validate), so it
	// frees the old one without ever colliding with a real account.
	res, err := tx.ExecContext(ctx, `UPDATE users SET username = $1, email = '', email_norm = '', first_name = '',
		last_name = '', idnumber = '', password_hash = '', custom_fields = '{}', is_admin = false, status = 'suspended',
		deactivated_at = COALESCE(deactivated_at, $2), delete_at = NULL, deletion_noticed_at = NULL, deleted_at = $2,
		updated_at = $2 WHERE id = $3 AND deleted_at IS NULL`, "deleted "+strconv.FormatInt(id, 10), now, id)
	if err != nil {
		return wrap(err, "anonymise")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // already deleted: deleting is idempotent
	}
	for _, q := range []string{
		`DELETE FROM sessions WHERE user_id = $1`,
		`DELETE FROM one_time_tokens WHERE user_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return wrap(err, "anonymise")
		}
	}
	if err := group.RemoveUserTx(ctx, tx, id); err != nil {
		return err
	}
	for _, forget := range s.onDelete {
		if err := forget(ctx, tx, id); err != nil {
			return err
		}
	}
	if _, err := revokeUserTokens(ctx, tx, id); err != nil {
		return err
	}
	return wrap(audit.Record(ctx, tx, audit.Event{Action: "user.delete", TargetType: "user",
		TargetID: strconv.FormatInt(id, 10), Details: map[string]any{"reason": reason}}), "audit")
}

// OnDeleteTx adds what another package forgets of an account when it is deleted, run in the
// deletion's transaction (single sign-on: the account's identities). Call it while wiring,
// before serving.
func (s *Service) OnDeleteTx(forget func(ctx context.Context, tx *store.Tx, userID int64) error) {
	s.onDelete = append(s.onDelete, forget)
}

// DeletionReport says what a run of RunDeletions did.
type DeletionReport struct {
	Deleted  int // accounts anonymised because their date had come
	Noticed  int // accounts whose coming deletion was announced
	Messages int // notices queued (one per date and platform administrator)
}

// RunDeletions is the daily deletion job. First it deletes the accounts whose deletion date
// has come and which were announced in an earlier run; then it announces, to every platform
// administrator with an email address, the accounts whose date is at most
// DeletionNoticeBefore away (template deletion_notice, one message per date). An account is
// therefore never deleted without notice: one whose date is already past when it is first
// seen is announced, then deleted at the next run. Each account is deleted in its own
// transaction; every step only picks what is still to do, so running it again, or after a
// crash, is harmless.
func (s *Service) RunDeletions(ctx context.Context) (DeletionReport, error) {
	var rep DeletionReport
	ctx = authz.With(ctx, authz.System)
	now := s.now().Unix()
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM users WHERE delete_at <= $1 AND deleted_at IS NULL
		AND deletion_noticed_at < $1 ORDER BY id`, now)
	if err != nil {
		return rep, wrap(err, "due deletions")
	}
	var due []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return rep, wrap(err, "due deletions")
		}
		due = append(due, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, wrap(err, "due deletions")
	}
	for _, id := range due {
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			// Check again inside the transaction: the date may have been moved meanwhile.
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = $1 AND delete_at <= $2 AND deleted_at IS NULL
				AND deletion_noticed_at IS NOT NULL`, id, tx.Now.Unix()).Scan(&one)
			if store.IsNoRows(err) {
				return nil
			}
			if err != nil {
				return wrap(err, "due deletion")
			}
			rep.Deleted++
			return s.anonymize(ctx, tx, id, "deletion_date")
		})
		if err != nil {
			return rep, err
		}
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error { return s.announceDeletions(ctx, tx, &rep) })
	return rep, err
}

// announceDeletions queues the notices of the deletions coming within DeletionNoticeBefore.
func (s *Service) announceDeletions(ctx context.Context, tx *store.Tx, rep *DeletionReport) error {
	now := tx.Now
	rows, err := tx.QueryContext(ctx, `SELECT id, delete_at FROM users WHERE delete_at <= $1 AND deleted_at IS NULL
		AND deletion_noticed_at IS NULL`, now.Add(DeletionNoticeBefore).Unix())
	if err != nil {
		return wrap(err, "coming deletions")
	}
	byDate := map[time.Time]int{}
	var ids []any
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return wrap(err, "coming deletions")
		}
		// A date already past is carried out at the next run: announce that day.
		when := store.Time(at)
		if !when.After(now) {
			when = now.Add(24 * time.Hour)
		}
		byDate[time.Date(when.Year(), when.Month(), when.Day(), 0, 0, 0, 0, time.UTC)]++
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap(err, "coming deletions")
	}
	if len(ids) == 0 {
		return nil
	}
	admins, err := platformAdmins(ctx, tx)
	if err != nil {
		return err
	}
	dates := make([]time.Time, 0, len(byDate))
	for d := range byDate {
		dates = append(dates, d)
	}
	sort.Slice(dates, func(i, j int) bool { return dates[i].Before(dates[j]) })
	for _, d := range dates {
		for _, a := range admins {
			if err := mail.Enqueue(ctx, tx, mail.Message{Template: "deletion_notice", To: a.Email, ToName: a.Name(),
				UserID: a.ID, Language: a.Language, Data: map[string]any{"Count": byDate[d], "Date": d}}); err != nil {
				return wrap(err, "deletion notice")
			}
			rep.Messages++
		}
		if err := audit.Record(ctx, tx, audit.Event{Action: "user.deletion_notice", TargetType: "date",
			TargetID: d.Format(time.DateOnly), Details: map[string]any{"count": byDate[d], "admins": len(admins)}}); err != nil {
			return wrap(err, "audit")
		}
	}
	// Mark in chunks, to stay within the databases' parameter limits.
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := append([]any{now.Unix()}, ids[:n]...)
		if _, err := tx.ExecContext(ctx, `UPDATE users SET deletion_noticed_at = $1 WHERE id IN (`+
			store.Placeholders(2, n)+`)`, args...); err != nil {
			return wrap(err, "mark noticed")
		}
		rep.Noticed += n
		ids = ids[n:]
	}
	return nil
}

// platformAdmins are the active platform administrators with an email address.
func platformAdmins(ctx context.Context, q store.Querier) ([]*User, error) {
	rows, err := q.QueryContext(ctx, selectUser+` WHERE is_admin AND status = 'active' AND deleted_at IS NULL
		AND email <> '' ORDER BY id`)
	if err != nil {
		return nil, wrap(err, "platform admins")
	}
	defer rows.Close()
	var out []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err(), "platform admins")
}
