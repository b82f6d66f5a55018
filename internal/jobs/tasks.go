package jobs

import (
	"context"
	"log/slog"
	"time"

	"roster/internal/account"
)

// AccountTasks are the periodic tasks of the account service: the daily deletion of accounts
// whose date has come (after a week's notice to platform administrators) and the hourly purge
// of expired sessions, links and throttle rows.
func AccountTasks(accounts *account.Service, log *slog.Logger) []Task {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return []Task{
		{Name: "account.deletions", Every: 24 * time.Hour, Run: func(ctx context.Context) error {
			rep, err := accounts.RunDeletions(ctx)
			if rep != (account.DeletionReport{}) {
				log.Info("account deletions", "deleted", rep.Deleted, "announced", rep.Noticed, "notices", rep.Messages)
			}
			return err
		}},
		{Name: "account.purge", Every: time.Hour, Run: accounts.Purge},
	}
}
