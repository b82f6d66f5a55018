package account

import (
	"context"

	"roster/internal/mail"
	"roster/internal/store"
)

// The accounts an import creates belong to it until its last transaction commits: they carry
// users.pending_import (the import batch) and no activated_at, so that they are never billable
// while the import may still be rolled back. ActivateImportTx hands them over when the import
// completes; PurgeImportTx deletes them for good when it does not (failure, crash), leaving no
// erased row behind, so that importing the file again gives exactly its people.

// HoldForImportTx marks accounts that an import created in tx as the import's own (see above).
func (s *Service) HoldForImportTx(ctx context.Context, tx *store.Tx, batchID int64, ids ...int64) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_import = $1, activated_at = NULL WHERE id = $2`,
			batchID, id); err != nil {
			return wrap(err, "hold for import")
		}
	}
	return nil
}

// ActivateImportTx completes the import batchID's accounts within tx, the transaction that
// marks the import applied: the active ones become billable from now. It returns how many.
func (s *Service) ActivateImportTx(ctx context.Context, tx *store.Tx, batchID int64) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE users SET activated_at = $1 WHERE pending_import = $2 AND status = 'active'
		AND deleted_at IS NULL`, tx.Now.Unix(), batchID)
	if err != nil {
		return 0, wrap(err, "activate import")
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_import = NULL WHERE pending_import = $1`, batchID); err != nil {
		return 0, wrap(err, "activate import")
	}
	return int(n), nil
}

// PurgeImportTx deletes, within tx, the accounts of the import batchID that did not complete,
// with what refers to them (memberships, enrolments, sessions, tokens: ON DELETE CASCADE) and
// the emails still queued for them. An account someone has logged in to since is real: it is
// kept and activated instead. It returns how many accounts were deleted.
func (s *Service) PurgeImportTx(ctx context.Context, tx *store.Tx, batchID int64) (int, error) {
	var ids []int64
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE pending_import = $1 AND last_login_at IS NULL`, batchID)
	if err != nil {
		return 0, wrap(err, "purge import")
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, wrap(err, "purge import")
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, wrap(err, "purge import")
	}
	if err := mail.CancelQueuedTx(ctx, tx, ids); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE pending_import = $1 AND last_login_at IS NULL`, batchID); err != nil {
		return 0, wrap(err, "purge import")
	}
	if _, err := s.ActivateImportTx(ctx, tx, batchID); err != nil {
		return 0, err
	}
	return len(ids), nil
}
