package jobs

import (
	"context"
	"log/slog"
	"roster/internal/bulk"
	"time"

	"roster/internal/account"
	"roster/internal/course"
	"roster/internal/invite"
	"roster/internal/sis"
)

// AccountTasks are the periodic tasks of the account service: the daily deletion of accounts
// whose date has come (after a week's notice to platform administrators), the hourly purge
// of expired sessions, links and throttle rows, and the wrapping of imported passwords.
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
		// Imported passwords wrapped in argon2id (account.WrapPasswords): every minute, so that
		// no account stays under an import's fast hash for long.
		{Name: "account.password_wrap", Every: time.Minute, Lease: 10 * time.Minute, Run: func(ctx context.Context) error {
			rep, err := accounts.WrapPasswords(ctx)
			if rep.Wrapped > 0 {
				log.Info("passwords wrapped in argon2id", "accounts", rep.Wrapped, "oldest", rep.Oldest.Round(time.Second))
			}
			return err
		}},
	}
}

// InvitationTasks are the periodic tasks of invitations: every minute, the invitations held
// until their course opens are sent once it has (invite.Service.SendDue).
func InvitationTasks(invites *invite.Service, log *slog.Logger) []Task {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return []Task{
		{Name: "invite.due", Every: time.Minute, Run: func(ctx context.Context) error {
			n, err := invites.SendDue(ctx)
			if n > 0 {
				log.Info("held invitations sent", "sent", n)
			}
			return err
		}},
	}
}

// CourseTasks are the periodic tasks of courses: every minute, the welcome emails held until
// their course opens are sent once it has (course.Service.SendDueWelcomes).
func CourseTasks(courses *course.Service, log *slog.Logger) []Task {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return []Task{
		{Name: "course.welcome", Every: time.Minute, Run: func(ctx context.Context) error {
			n, err := courses.SendDueWelcomes(ctx)
			if n > 0 {
				log.Info("held welcome emails sent", "sent", n)
			}
			return err
		}},
	}
}

// SISTasks are the periodic tasks of the student-information-system sync: every minute, the
// enabled configured sources whose cron expression matched since the last look are run
// (sis.Service.RunDue). The claim on the task's row makes one instance run it; each source
// also holds its own run lock. The lease is long: a large source takes minutes.
func SISTasks(sources *sis.Service, log *slog.Logger) []Task {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return []Task{
		{Name: "sis.sync", Every: time.Minute, Lease: 2 * time.Hour, Run: func(ctx context.Context) error {
			ran, err := sources.RunDue(ctx)
			if len(ran) > 0 {
				log.Info("sync sources run", "sources", ran)
			}
			return err
		}},
	}
}

// ImportTasks rolls back, every minute, the imports whose apply stopped with its process
// (bulk.Service.Recover): on another instance, or on this one after a restart; and deletes,
// every hour, the uploaded files whose wait for Apply has expired.
func ImportTasks(imports *bulk.Service, log *slog.Logger) []Task {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return []Task{
		{Name: "imports.recover", Every: time.Minute, Lease: 30 * time.Minute, Run: func(ctx context.Context) error {
			ids, err := imports.Recover(ctx)
			if len(ids) > 0 {
				log.Warn("interrupted imports rolled back", "batches", ids)
			}
			return err
		}},
		{Name: "imports.uploads", Every: time.Hour, Run: func(ctx context.Context) error {
			_, err := imports.PurgeUploads(ctx)
			return err
		}},
	}
}
