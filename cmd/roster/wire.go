package main

import (
	"context"
	"log/slog"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/config"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/invite"
	"roster/internal/oidcp"
	"roster/internal/sis"
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
	sis      *sis.Service
	// oidc is the OpenID provider and OAuth 2 authorization server (nil when the base URL
	// cannot be an issuer).
	oidc *oidcp.Provider
}

func newServices(db *store.DB, cfg *config.Config, log *slog.Logger) *services {
	s := &services{
		accounts: account.NewService(db, accountConfig(cfg)),
		groups:   group.NewService(db),
		courses:  course.NewService(db, course.Config{BaseURL: cfg.BaseURL, Log: log}),
	}
	s.invites = invite.NewService(db, s.accounts, invite.Config{BaseURL: cfg.BaseURL})
	s.sso = sso.NewService(db, s.accounts, sso.Config{BaseURL: cfg.BaseURL, Log: log})
	// Configured sync sources create the accounts of unknown people with the account service.
	s.sis = sis.NewService(db, s.accounts)
	if p, err := oidcp.New(db, s.accounts, oidcp.Config{BaseURL: cfg.BaseURL, Secure: cfg.SecureCookies(), Log: log}); err != nil {
		if log != nil {
			log.Error("openid provider disabled", "err", err)
		}
	} else {
		s.oidc = p
	}

	// Invitations into a course: the inviter must manage the course's participants (a teacher
	// of the course, or a platform administrator), the email names the course; invitations to
	// a course that has not opened are held until it opens (jobs.InvitationTasks sends them);
	// an invited address with an active account is enrolled at once.
	s.invites.SetCourseHooks(func(ctx context.Context, q store.Querier, courseID int64) (string, error) {
		return courseForInvitation(ctx, q, courseID, db.Now())
	}, course.CourseOpen, course.EnrolInvitedTx)
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

// courseForInvitation checks that the caller may invite into the course (authz.CanInCourse
// with ManageParticipants, at now) and returns its full name for the invitation email.
// Within a transaction, now is the transaction's time. Errors: Unauthorized, Forbidden;
// Invalid naming course_id for an unknown course (checked after the right, so only those who
// may manage every course learn which ids exist).
func courseForInvitation(ctx context.Context, q store.Querier, courseID int64, now time.Time) (string, error) {
	if tx, ok := q.(*store.Tx); ok {
		now = tx.Now
	}
	if err := authz.CanInCourse(ctx, q, authz.ManageParticipants, courseID, now); err != nil {
		return "", err
	}
	var name string
	err := q.QueryRowContext(ctx, `SELECT fullname FROM courses WHERE id = $1`, courseID).Scan(&name)
	if store.IsNoRows(err) {
		return "", errs.Field("course_id", "no course with id %d", courseID)
	}
	if err != nil {
		return "", errs.Wrap(err, "invitation course")
	}
	return name, nil
}
