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
