package account

import (
	"context"

	"roster/internal/mail"
	"roster/internal/store"
)

// The accounts an import creates carry users.created_by_import (the import batch). Until that
// import is applied (its last transaction commits and marks it so), they are not billable
// (billing skips accounts of an import still applying); if it never is (failure, crash),
// PurgeImportTx deletes them for good, leaving no erased row behind, so that importing the
// file again gives exactly its people.

// HoldForImportTx marks accounts that an import created in tx as the import's (see above).
func (s *Service) HoldForImportTx(ctx context.Context, tx *store.Tx, batchID int64, ids ...int64) error {
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET created_by_import = $1 WHERE id = $2`, batchID, id); err != nil {
			return wrap(err, "hold for import")
		}
	}
	return nil
}

// PurgeImportTx deletes, within tx, the accounts of the import batchID that did not complete,
// with what refers to them (memberships, enrolments, sessions, tokens: ON DELETE CASCADE) and
// the emails still queued for them. An account someone has logged in to since is real: it is
// kept. It returns how many accounts were deleted.
func (s *Service) PurgeImportTx(ctx context.Context, tx *store.Tx, batchID int64) (int, error) {
	var ids []int64
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE created_by_import = $1 AND last_login_at IS NULL`, batchID)
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
	if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE created_by_import = $1 AND last_login_at IS NULL`, batchID); err != nil {
		return 0, wrap(err, "purge import")
	}
	return len(ids), nil
}
