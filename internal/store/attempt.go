package store

import (
	"context"
	"fmt"
)

// Attempt runs fn within a savepoint of tx: when fn fails, what it wrote is rolled back and
// the transaction goes on, so the caller may try another way (PostgreSQL otherwise aborts the
// whole transaction at the first error). fn's error is returned as it is.
func (tx *Tx) Attempt(ctx context.Context, fn func() error) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT roster_attempt`); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT roster_attempt`); rerr != nil {
			return fmt.Errorf("store: rollback to savepoint: %w (after %v)", rerr, err)
		}
		if _, rerr := tx.ExecContext(ctx, `RELEASE SAVEPOINT roster_attempt`); rerr != nil {
			return fmt.Errorf("store: release savepoint: %w (after %v)", rerr, err)
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT roster_attempt`); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	return nil
}

// CommitLater lets tx's commit return before its changes are on disk: on PostgreSQL
// synchronous_commit is off for this transaction only (SET LOCAL), so the commit does not wait
// for its WAL to be flushed; on SQLite it does nothing (WAL with synchronous NORMAL does not
// sync at commit already). A crash may lose such a commit, and the ones after it, but never
// leaves a transaction half written; the next commit that waits for its WAL (any ordinary
// transaction) makes every earlier one durable with it. For a long job made of many
// transactions whose last one, ordinary, is what makes it count (an import's batches before
// the one that marks it applied): a crash before that one leaves the job to be rolled back as
// unfinished, which it would be anyway.
func (tx *Tx) CommitLater(ctx context.Context) error {
	if tx.Dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
		return fmt.Errorf("store: synchronous_commit: %w", err)
	}
	return nil
}
