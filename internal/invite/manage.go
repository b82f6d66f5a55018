package invite

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
)

// canManage says whether the caller may re-send, cancel, re-address or copy the link of inv:
// platform administrators always; others only if they could have sent it, that is if they may
// invite with every grant it carries and into its course (the registered CourseCheck). An
// invitation with neither group nor course is the platform's.
func (s *Service) canManage(ctx context.Context, q store.Querier, inv *Invitation) error {
	p, err := authz.RequireUser(ctx)
	if err != nil {
		return err
	}
	if p.PlatformAdmin || p.System {
		return nil
	}
	if len(inv.Groups) == 0 && (inv.CourseID == 0 || s.courseCheck == nil) {
		return errs.Coded(errs.Forbidden, "forbidden_manage_invitation")
	}
	for _, g := range inv.Groups {
		if err := checkGrant(ctx, q, forInvite, g.Grant); err != nil {
			return err
		}
	}
	if inv.CourseID != 0 && s.courseCheck != nil {
		if _, err := s.courseCheck(ctx, q, inv.CourseID); err != nil {
			return err
		}
	}
	return nil
}

// mayManageSome fails with Forbidden unless the caller may manage some invitations: a
// platform administrator, someone who may invite into a group, or (when course invitations
// are wired) a teacher. Those who may not get the same answer whatever they ask about.
func (s *Service) mayManageSome(ctx context.Context, q store.Querier) error {
	p, err := authz.RequireUser(ctx)
	if err != nil {
		return err
	}
	if p.PlatformAdmin || p.System {
		return nil
	}
	_, roots, err := authz.GroupScope(ctx, q, authz.InviteTo)
	if err != nil || len(roots) > 0 {
		return err
	}
	if s.courseCheck != nil {
		now := s.db.Now()
		if tx, ok := q.(*store.Tx); ok {
			now = tx.Now
		}
		if teaches, err := authz.TeachesSomeCourse(ctx, q, now); err != nil || teaches {
			return err
		}
	}
	return errs.New(errs.Forbidden, "you may not manage invitations")
}

// managed loads an invitation within tx and checks the caller may manage it. An invitation
// the caller may not manage answers NotFound, as an unknown id does: ids, addresses and
// groups of others' invitations are not for them to learn.
func (s *Service) managed(ctx context.Context, tx *store.Tx, id int64) (*Invitation, error) {
	return s.loadManaged(ctx, tx, tx.Now, id)
}

func (s *Service) loadManaged(ctx context.Context, q store.Querier, now time.Time, id int64) (*Invitation, error) {
	if err := s.mayManageSome(ctx, q); err != nil {
		return nil, err
	}
	inv, err := loadInvitation(ctx, q, now, `i.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if err := s.canManage(ctx, q, inv); errs.Is(err, errs.Forbidden) {
		return nil, errs.New(errs.NotFound, "no such invitation")
	} else if err != nil {
		return nil, err
	}
	return inv, nil
}

// closed is the Conflict error of an invitation that is no longer pending or expired.
func closed(inv *Invitation) error {
	if inv.Status == StatusAccepted {
		return errs.Coded(errs.Conflict, "invitation_of_accepted", errs.P{"email": inv.Email})
	}
	return errs.Coded(errs.Conflict, "invitation_of_cancelled", errs.P{"email": inv.Email})
}

// reissue gives a pending or expired invitation a new token and a new lifetime (the old link
// stops working) and returns the new link; with send it emails the link to the invited address
// and counts the sending. Either way it is no longer held (due_at): sent now, or its link handed
// over by other means. Errors: Conflict when the invitation is closed, or when it expired and a
// newer one of the same address is pending.
func (s *Service) reissue(ctx context.Context, tx *store.Tx, inv *Invitation, send bool) (string, error) {
	// Checked before the UPDATE, not by its unique violation: on PostgreSQL a failed statement
	// would spoil the rest of the transaction (ResendAll goes on with the next one).
	var other int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM invitations WHERE email_norm = $1 AND status = 'pending' AND id <> $2`,
		strings.ToLower(inv.Email), inv.ID).Scan(&other)
	if err == nil {
		return "", errs.Coded(errs.Conflict, "newer_invitation_pending", errs.P{"email": inv.Email})
	}
	if !store.IsNoRows(err) {
		return "", wrap(err, "reissue")
	}
	token, hash := secret.New()
	exp, err := expiry(ctx, tx)
	if err != nil {
		return "", err
	}
	sent, args := "", []any{hash, store.NullUnix(exp), inv.ID}
	if send {
		sent, args = `, sent_count = sent_count + 1, last_sent_at = $4`, append(args, tx.Now.Unix())
	}
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET token_hash = $1, expires_at = $2, status = 'pending', due_at = NULL`+sent+`
		WHERE id = $3 AND status IN ('pending', 'expired')`, args...)
	if store.IsUnique(err) {
		return "", errs.Coded(errs.Conflict, "newer_invitation_pending", errs.P{"email": inv.Email})
	}
	if err != nil {
		return "", wrap(err, "reissue")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", closed(inv)
	}
	link := s.link(token)
	if !send {
		return link, audit.Record(ctx, tx, audit.Event{Action: "invitation.link", TargetType: "invitation",
			TargetID: idStr(inv.ID), Details: map[string]any{"email": inv.Email}})
	}
	inviter := inv.InviterName
	if inviter == "" {
		if _, inviter, err = s.inviter(ctx, tx); err != nil {
			return "", err
		}
	}
	var names []string
	seen := map[int64]bool{}
	for _, g := range inv.Groups {
		if !seen[g.GroupID] {
			seen[g.GroupID] = true
			names = append(names, g.GroupName)
		}
	}
	course, err := s.courseName(ctx, tx, inv.CourseID)
	if err != nil {
		return "", err
	}
	if err := queueInvitation(ctx, tx, s, inv.Email, inv.Name, inv.Language, token, inviter, names, course); err != nil {
		return "", err
	}
	return link, audit.Record(ctx, tx, audit.Event{Action: "invitation.send", TargetType: "invitation",
		TargetID: idStr(inv.ID), Details: map[string]any{"email": inv.Email, "count": inv.SentCount + 1}})
}

// Resend emails a pending (or expired) invitation again, with a new link: the link of the
// earlier emails stops working, and an expired invitation gets a new lifetime.
// Errors: Unauthorized, Forbidden, NotFound, Conflict (accepted or cancelled, or held until
// its course opens: SendDue sends it then).
func (s *Service) Resend(ctx context.Context, id int64) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		inv, err := s.managed(ctx, tx, id)
		if err != nil {
			return err
		}
		if inv.DueAt != nil && inv.Status == StatusPending {
			return errs.Coded(errs.Conflict, "invitation_held", errs.P{"email": inv.Email, "date": inv.DueAt.Format("2006-01-02 15:04")})
		}
		_, err = s.reissue(ctx, tx, inv, true)
		return err
	})
}

// ResendAll re-sends every pending or expired invitation that grants a role in the group
// (not its sub-groups) and that the caller may manage, and returns how many it sent. Those
// held until their course opens are left to SendDue.
// Errors: Unauthorized, Forbidden (authz.CanInviteTo), NotFound.
func (s *Service) ResendAll(ctx context.Context, groupID int64) (int, error) {
	if err := authz.CanInviteTo(ctx, s.db, groupID); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := groupName(ctx, tx, groupID); err != nil {
			return err
		}
		items, err := queryInvitations(ctx, tx, tx.Now, ` AND i.status IN ('pending', 'expired') AND EXISTS
			(SELECT 1 FROM invitation_groups ig WHERE ig.invitation_id = i.id AND ig.group_id = $1) ORDER BY i.id`, groupID)
		if err != nil {
			return err
		}
		if err := fillGroups(ctx, tx, items); err != nil {
			return err
		}
		for i := range items {
			if items[i].DueAt != nil || s.canManage(ctx, tx, &items[i]) != nil {
				continue
			}
			if _, err := s.reissue(ctx, tx, &items[i], true); err != nil {
				if errs.Is(err, errs.Conflict) {
					continue // an expired one superseded by a newer invitation
				}
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// FreshLink returns a new link for a pending (or expired) invitation, for the administrator to
// hand over by other means when the email never arrives. The earlier link stops working.
// Errors: Unauthorized, Forbidden, NotFound, Conflict.
func (s *Service) FreshLink(ctx context.Context, id int64) (string, error) {
	var link string
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		inv, err := s.managed(ctx, tx, id)
		if err != nil {
			return err
		}
		link, err = s.reissue(ctx, tx, inv, false)
		return err
	})
	return link, err
}

// Cancel cancels a pending (or expired) invitation: its link then answers "this invitation
// was cancelled". Cancelling a cancelled invitation changes nothing.
// Errors: Unauthorized, Forbidden, NotFound, Conflict (accepted already).
func (s *Service) Cancel(ctx context.Context, id int64) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		inv, err := s.managed(ctx, tx, id)
		if err != nil {
			return err
		}
		return cancel(ctx, tx, inv)
	})
}

func cancel(ctx context.Context, tx *store.Tx, inv *Invitation) error {
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET status = 'cancelled', cancelled_at = $1
		WHERE id = $2 AND status IN ('pending', 'expired')`, tx.Now.Unix(), inv.ID)
	if err != nil {
		return wrap(err, "cancel")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if inv.Status == StatusCancelled {
			return nil
		}
		return closed(inv)
	}
	return audit.Record(ctx, tx, audit.Event{Action: "invitation.cancel", TargetType: "invitation",
		TargetID: idStr(inv.ID), Details: map[string]any{"email": inv.Email}})
}

// CancelMany cancels the pending invitations of a pasted list of addresses (as Invite reads
// them), in one transaction, and returns one Result per entry: Cancelled, NotInvited (no
// pending invitation the caller may manage: whether someone else invited the address is not
// said) or InvalidAddress.
// Errors: Unauthorized, Forbidden (the caller may manage no invitation at all, whatever the
// addresses), Invalid naming emails.
func (s *Service) CancelMany(ctx context.Context, emails string) ([]Result, error) {
	if err := s.mayManageSome(ctx, s.db); err != nil {
		return nil, err
	}
	entries := ParseAddresses(emails)
	switch {
	case len(entries) == 0:
		return nil, errs.FieldCode("emails", "no_address")
	case len(entries) > MaxAddresses:
		return nil, errs.FieldCode("emails", "too_many_addresses", errs.P{"limit": MaxAddresses, "count": len(entries)})
	}
	results := make([]Result, len(entries))
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var norms []string
		for _, e := range entries {
			if e.Valid() {
				norms = append(norms, strings.ToLower(e.Email))
			}
		}
		pending, err := pendingByEmail(ctx, tx, norms)
		if err != nil {
			return err
		}
		for i, e := range entries {
			if !e.Valid() {
				results[i] = Result{Email: e.Input, Outcome: InvalidAddress, Message: e.Problem, Code: e.Code}
				continue
			}
			results[i] = Result{Email: e.Email, Name: e.Name}
			p, ok := pending[strings.ToLower(e.Email)]
			if !ok {
				results[i].Outcome, results[i].Message = NotInvited, "no pending invitation for this address"
				continue
			}
			inv, err := loadInvitation(ctx, tx, tx.Now, `i.id = $1`, p.id)
			if err != nil {
				return err
			}
			if err := s.canManage(ctx, tx, inv); err != nil {
				if !errs.Is(err, errs.Forbidden) {
					return err
				}
				results[i].Outcome, results[i].Message = NotInvited, "no pending invitation for this address"
				continue
			}
			results[i].InvitationID = p.id
			if err := cancel(ctx, tx, inv); err != nil {
				return err
			}
			results[i].Outcome = Cancelled
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// ChangeAddress replaces the address of a pending (or expired) invitation in one step: it is
// cancelled, and the new address is invited with the same grants and settings (a new email,
// a new link). It returns the new invitation's Result.
// Errors: Unauthorized, Forbidden, NotFound; Invalid naming email; Conflict when the
// invitation is closed or the new address has an account or a pending invitation.
func (s *Service) ChangeAddress(ctx context.Context, id int64, newEmail string) (*Result, error) {
	if _, err := authz.RequireUser(ctx); err != nil {
		return nil, err
	}
	entries := ParseAddresses(newEmail)
	if len(entries) != 1 {
		return nil, errs.FieldCode("email", "one_address")
	}
	e := entries[0]
	if !e.Valid() {
		return nil, &errs.Error{Code: errs.Invalid, Key: e.Code, Message: "email: " + e.Problem,
			Fields: []errs.FieldError{{Field: "email", Code: e.Code, Message: e.Problem}}}
	}
	var out *Result
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		inv, err := s.managed(ctx, tx, id)
		if err != nil {
			return err
		}
		if strings.EqualFold(inv.Email, e.Email) {
			return errs.FieldCode("email", "same_address")
		}
		if inv.Status != StatusPending && inv.Status != StatusExpired {
			return closed(inv)
		}
		users, err := usersByEmail(ctx, tx, []string{strings.ToLower(e.Email)})
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return errs.FieldCode("email", "has_account").Class(errs.Conflict)
		}
		if err := cancel(ctx, tx, inv); err != nil {
			return err
		}
		if err := expireOverdue(ctx, tx, []string{strings.ToLower(e.Email)}); err != nil {
			return err
		}
		grants := make([]GroupGrant, len(inv.Groups))
		copy(grants, inv.Groups)
		b, err := s.newBatch(ctx, tx, grants, inv.CourseID, "", options{Language: inv.Language, DeleteAt: inv.DeleteAt,
			CustomFields: inv.CustomFields, CustomJSON: mustJSON(inv.CustomFields)})
		if err != nil {
			return err
		}
		if inv.CourseID != 0 && s.courseCheck != nil {
			if b.courseName, err = s.courseCheck(ctx, tx, inv.CourseID); err != nil {
				return err
			}
		}
		if b.dueAt, err = s.holdUntil(ctx, tx, inv.CourseID); err != nil {
			return err
		}
		name := e.Name
		if name == "" {
			name = inv.Name
		}
		created, err := b.insert([]newInvitation{{Email: e.Email, Name: name}})
		if err != nil {
			return err
		}
		newID, ok := created[strings.ToLower(e.Email)]
		if !ok {
			return errs.FieldCode("email", "has_pending_invitation").Class(errs.Conflict)
		}
		out = &Result{Email: e.Email, Name: name, Outcome: Invited, InvitationID: newID}
		return audit.Record(ctx, tx, audit.Event{Action: "invitation.change_address", TargetType: "invitation",
			TargetID: idStr(inv.ID), Details: map[string]any{"old": inv.Email, "new": e.Email, "new_id": newID}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func mustJSON(m map[string]string) string {
	if m == nil {
		m = map[string]string{}
	}
	b, _ := json.Marshal(m)
	return string(b)
}
