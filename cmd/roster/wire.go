package main

import (
	"context"
	"log/slog"

	"roster/internal/account"
	"roster/internal/config"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/invite"
	"roster/internal/sso"
	"roster/internal/store"
)

// services are Roster's feature services, built once and shared by the web pages, the API,
// SCIM and the background jobs. The hooks between features are connected here, in one place.
type services struct {
	accounts *account.Service
	groups   *group.Service
	invites  *invite.Service
	courses  *course.Service
	sso      *sso.Service
}

func newServices(db *store.DB, cfg *config.Config, log *slog.Logger) *services {
	s := &services{
		accounts: account.NewService(db, accountConfig(cfg)),
		groups:   group.NewService(db),
		courses:  course.NewService(db, course.Config{BaseURL: cfg.BaseURL}),
	}
	s.invites = invite.NewService(db, s.accounts, invite.Config{BaseURL: cfg.BaseURL})
	s.sso = sso.NewService(db, s.accounts, sso.Config{BaseURL: cfg.BaseURL, Log: log})

	// An accepted invitation into a course enrols the person in the same transaction.
	s.invites.OnAccept(func(ctx context.Context, tx *store.Tx, inv *invite.Invitation, userID int64) error {
		if inv.CourseID == 0 {
			return nil
		}
		return s.courses.EnrolInvited(ctx, tx, inv.CourseID, userID)
	})
	// A person's first single sign-on login applies the invitations waiting for their email.
	s.sso.FirstLogin = func(ctx context.Context, tx *store.Tx, userID int64, email string) error {
		_, err := s.invites.ApplyPendingFor(ctx, tx, userID, email)
		return err
	}
	return s
}
