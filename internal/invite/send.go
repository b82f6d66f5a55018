package invite

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/mail"
	"roster/internal/secret"
	"roster/internal/store"
)

// Request is what an invitation of one or many addresses takes.
type Request struct {
	// Emails is one string of addresses separated by commas, semicolons, spaces or new lines;
	// "Name <addr>" is accepted (see ParseAddresses).
	Emails       string
	Groups       []Grant
	CourseID     int64 // 0: none (see SetCourseCheck)
	Language     string
	DeleteAt     *time.Time
	CustomFields map[string]string
}

// Invite invites every address of req.Emails in one transaction and returns one Result per
// entry, in the order given: Invited (an email is queued, not sent), AlreadyInvited (the
// pending invitation, which gains the request's group grants; its id only for a caller who may
// manage it, see batch.merge), AlreadyActive (an account has this address; AddExisting puts
// it in the groups) or InvalidAddress (Message says why). Nothing is written when the request
// itself is wrong.
//
// With a course (see SetCourseHooks): invitations to a course that has not opened are held
// (due_at is its opening, no email is queued) until SendDue sends them; an address whose
// account is active is enrolled in the course at once, in the same transaction.
//
// Rights: authz.CanInviteTo and authz.CanGrantRole for every grant; an invitation without any
// group or course needs a platform administrator.
//
// Errors: Unauthorized; Invalid naming emails, groups[i]..., language, delete_at,
// custom_fields, course_id; Forbidden naming the group and role.
func (s *Service) Invite(ctx context.Context, req Request) ([]Result, error) {
	if _, err := authz.RequireUser(ctx); err != nil {
		return nil, err
	}
	entries := ParseAddresses(req.Emails)
	var f errs.Fields
	switch {
	case len(entries) == 0:
		f.AddCode("emails", "no_address")
	case len(entries) > MaxAddresses:
		f.AddCode("emails", "too_many_addresses", errs.P{"limit": MaxAddresses, "count": len(entries)})
	}
	opts := normalizeOptions(&f, req.Language, req.DeleteAt, req.CustomFields, s.db.Now())
	if err := opts.checkCustomFields(ctx, s.db, &f); err != nil {
		return nil, err
	}
	grants, gerr := normalizeGrants(req.Groups)
	if gerr != nil {
		f = append(f, errs.As(gerr).Fields...)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if len(grants) == 0 && req.CourseID == 0 {
		if err := authz.RequirePlatformAdmin(ctx); err != nil {
			return nil, onlyAdmins(err)
		}
	}
	var results []Result
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		named, err := checkGrants(ctx, tx, forInvite, grants)
		if err != nil {
			return err
		}
		course, err := s.checkCourse(ctx, tx, req.CourseID)
		if err != nil {
			return err
		}
		b, err := s.newBatch(ctx, tx, named, req.CourseID, course, opts)
		if err != nil {
			return err
		}
		if b.dueAt, err = s.holdUntil(ctx, tx, req.CourseID); err != nil {
			return err
		}
		results, err = b.invite(entries)
		return err
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// onlyAdmins replaces a Forbidden error: only platform administrators may invite people
// without a group.
func onlyAdmins(err error) error {
	if errs.Is(err, errs.Forbidden) {
		return errs.Coded(errs.Forbidden, "forbidden_invite_no_group")
	}
	return err
}

// AddExisting gives existing accounts the grants, in one transaction: the "add these accounts
// to the groups instead" that follows AlreadyActive outcomes. Memberships that exist already
// are left as they are. Rights: as Invite, for every grant. Adding an existing account is a
// weaker right than managing it: the memberships anchor the person (authz.CanOnUser) only
// when the caller may manage the account, so the adder gains nothing over it.
//
// Errors: Unauthorized, Forbidden, Invalid (user_ids, groups), NotFound naming user_id.
func (s *Service) AddExisting(ctx context.Context, userIDs []int64, grants []Grant) error {
	if _, err := authz.RequireUser(ctx); err != nil {
		return err
	}
	grants, err := normalizeGrants(grants)
	if err != nil {
		return err
	}
	if len(grants) == 0 {
		return errs.FieldCode("groups", "no_grant")
	}
	if len(userIDs) == 0 {
		return errs.FieldCode("user_ids", "no_account_given")
	}
	if len(userIDs) > MaxAddresses {
		return errs.FieldCode("user_ids", "too_many_accounts", errs.P{"limit": MaxAddresses})
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := checkGrants(ctx, tx, forInvite, grants); err != nil {
			return err
		}
		for _, uid := range userIDs {
			for _, g := range grants {
				if err := group.AddExistingTx(ctx, tx, g.GroupID, uid, g.Role, group.SourceManual); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// batch is the shared part of the invitations one call creates: what they grant, the
// inviter, the expiry, the email data.
type batch struct {
	s          *Service
	ctx        context.Context
	tx         *store.Tx
	grants     []GroupGrant
	courseID   int64
	courseName string
	opts       options
	inviterID  int64
	inviter    string
	expires    *time.Time
	dueAt      *time.Time // the course's opening when the invitations are held until then
}

func (s *Service) newBatch(ctx context.Context, tx *store.Tx, grants []GroupGrant, courseID int64, courseName string,
	opts options) (*batch, error) {
	b := &batch{s: s, ctx: ctx, tx: tx, grants: grants, courseID: courseID, courseName: courseName, opts: opts}
	var err error
	if b.inviterID, b.inviter, err = s.inviter(ctx, tx); err != nil {
		return nil, err
	}
	if b.expires, err = expiry(ctx, tx); err != nil {
		return nil, err
	}
	return b, nil
}

// inviter is the caller's account id and name for the email; platform tokens and the command
// line sign with the platform's name.
func (s *Service) inviter(ctx context.Context, q store.Querier) (int64, string, error) {
	p := authz.From(ctx)
	fallback := s.cfg.PlatformName
	if fallback == "" {
		fallback = "Roster"
	}
	if p == nil || p.UserID == 0 {
		return 0, fallback, nil
	}
	var first, last string
	err := q.QueryRowContext(ctx, `SELECT first_name, last_name FROM users WHERE id = $1`, p.UserID).Scan(&first, &last)
	if err != nil && !store.IsNoRows(err) {
		return 0, "", wrap(err, "inviter")
	}
	name := strings.TrimSpace(first + " " + last)
	if name == "" {
		name = fallback
	}
	return p.UserID, name, nil
}

func (b *batch) groupNames() []string {
	var names []string
	seen := map[int64]bool{}
	for _, g := range b.grants {
		if !seen[g.GroupID] {
			seen[g.GroupID] = true
			names = append(names, g.GroupName)
		}
	}
	return names
}

// chunk is how many rows one multi-row statement writes (twice as many addresses for reads).
// Small on purpose: SQLite looks each $N parameter up by name, so a statement's parse time
// grows with the square of its parameters; 50 rows of 14 values measured fastest.
const chunk = 50

// invite runs the per-address part of Invite.
func (b *batch) invite(entries []Entry) ([]Result, error) {
	results := make([]Result, len(entries))
	var norms []string
	for i, e := range entries {
		results[i] = Result{Email: e.Email, Name: e.Name}
		if !e.Valid() {
			results[i] = Result{Email: e.Input, Outcome: InvalidAddress, Message: e.Problem, Code: e.Code}
			continue
		}
		norms = append(norms, strings.ToLower(e.Email))
	}
	users, err := usersByEmail(b.ctx, b.tx, norms)
	if err != nil {
		return nil, err
	}
	if err := expireOverdue(b.ctx, b.tx, norms); err != nil {
		return nil, err
	}
	var fresh []int // indexes of entries to invite
	for i, e := range entries {
		if !e.Valid() {
			continue
		}
		if u, ok := users[strings.ToLower(e.Email)]; ok {
			results[i].Outcome, results[i].UserID = AlreadyActive, u.id
			results[i].Message = "this address has an account"
			if u.status != "active" {
				results[i].Message = "this address has an account, which is " + u.status
			} else if b.courseID != 0 && b.s.enrolExisting != nil {
				if err := b.s.enrolExisting(b.ctx, b.tx, b.courseID, u.id); err != nil {
					return nil, err
				}
				results[i].Message = "this address has an account: enrolled in the course directly"
			}
			continue
		}
		fresh = append(fresh, i)
	}
	var conflicts []int
	for start := 0; start < len(fresh); start += chunk {
		part := fresh[start:min(start+chunk, len(fresh))]
		rows := make([]newInvitation, len(part))
		for j, i := range part {
			rows[j] = newInvitation{Email: entries[i].Email, Name: entries[i].Name}
		}
		created, err := b.insert(rows)
		if err != nil {
			return nil, err
		}
		for j, i := range part {
			if id, ok := created[strings.ToLower(rows[j].Email)]; ok {
				results[i].Outcome, results[i].InvitationID = Invited, id
			} else {
				conflicts = append(conflicts, i)
			}
		}
	}
	if len(conflicts) > 0 {
		var cn []string
		for _, i := range conflicts {
			cn = append(cn, strings.ToLower(entries[i].Email))
		}
		pending, err := pendingByEmail(b.ctx, b.tx, cn)
		if err != nil {
			return nil, err
		}
		for _, i := range conflicts {
			p, ok := pending[strings.ToLower(entries[i].Email)]
			if !ok {
				return nil, wrap(fmt.Errorf("no pending invitation for %s after a conflict", entries[i].Email), "invite")
			}
			if err := b.merge(&results[i], p); err != nil {
				return nil, err
			}
		}
	}
	return results, nil
}

// merge answers an address that already has a pending invitation p. The batch's group grants
// are added to that invitation (the person gets them on accepting: inviting an invited address
// to another group must not drop the new group and role), and the outcome is AlreadyInvited.
//
// Only a caller who may manage the invitation (canManage: who may give every grant it carries)
// learns its id and date; another is told that someone else invited the address and that
// their groups were added, never the id or the other groups. An invitation that now carries
// grants of two branches is managed by whoever may give all of them, as an account that
// belongs to two branches is (authz.ManageUser). The course of the batch is not merged (an
// invitation enrols in one course): the message says so.
func (b *batch) merge(r *Result, p pendingRef) error {
	ctx, tx := b.ctx, b.tx
	var added []string
	for _, g := range b.grants {
		res, err := tx.ExecContext(ctx, `INSERT INTO invitation_groups (invitation_id, group_id, role) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, p.id, g.GroupID, g.Role)
		if err != nil {
			return wrap(err, "merge grants")
		}
		if n, err := res.RowsAffected(); err != nil {
			return wrap(err, "merge grants")
		} else if n > 0 {
			added = append(added, strconv.FormatInt(g.GroupID, 10)+":"+g.Role)
		}
	}
	if len(added) > 0 {
		if err := audit.Record(ctx, tx, audit.Event{Action: "invitation.grants_add", TargetType: "invitation",
			TargetID: idStr(p.id), Details: map[string]any{"groups": added}}); err != nil {
			return wrap(err, "audit")
		}
	}
	inv, err := loadInvitation(ctx, tx, tx.Now, `i.id = $1`, p.id)
	if err != nil {
		return err
	}
	r.Outcome, r.GrantsAdded = AlreadyInvited, len(added) > 0
	var msg []string
	switch err := b.s.canManage(ctx, tx, inv); {
	case err == nil:
		r.InvitationID = p.id
		msg = append(msg, "already invited on "+p.created.Format("2006-01-02"))
		if len(added) > 0 {
			msg = append(msg, "the new groups and roles were added to that invitation")
		}
	case errs.Is(err, errs.Forbidden):
		msg = append(msg, "already invited by someone else")
		if len(added) > 0 {
			msg = append(msg, "your groups and roles were added to that invitation")
		}
	default:
		return err
	}
	if b.courseID != 0 && inv.CourseID != b.courseID {
		r.CourseNotAdded = true
		msg = append(msg, "the course was not added: enrol the person once they have an account")
	}
	r.Message = strings.Join(msg, "; ")
	return nil
}

// newInvitation is one invitation to write.
type newInvitation struct {
	Email, Name string
}

// insert writes invitations, their grants, their emails and audit events, and returns the ids
// of those created by lower-cased address. An address that already has a pending invitation
// is skipped by the unique index (ON CONFLICT DO NOTHING): whoever commits first wins, and the
// others see AlreadyInvited.
func (b *batch) insert(rows []newInvitation) (map[string]int64, error) {
	ctx, tx := b.ctx, b.tx
	tokens := make(map[string]string, len(rows))
	var (
		q    strings.Builder
		args []any
	)
	q.WriteString(`INSERT INTO invitations (email, email_norm, name, token_hash, status, course_id, language,
		delete_at, custom_fields, invited_by, created_at, sent_count, last_sent_at, expires_at, due_at) VALUES `)
	var course, inviter any
	if b.courseID != 0 {
		course = b.courseID
	}
	if b.inviterID != 0 {
		inviter = b.inviterID
	}
	now := tx.Now.Unix()
	// A held invitation is not sent yet; its lifetime starts when SendDue sends it.
	sentCount, lastSent, expires := 1, any(now), store.NullUnix(b.expires)
	if b.dueAt != nil {
		sentCount, lastSent, expires = 0, nil, nil
	}
	for i, r := range rows {
		token, hash := secret.New()
		norm := strings.ToLower(r.Email)
		tokens[norm] = token
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, 'pending', $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)",
			n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12, n+13, n+14)
		args = append(args, r.Email, norm, r.Name, hash, course, b.opts.Language, store.NullUnix(b.opts.DeleteAt),
			b.opts.CustomJSON, inviter, now, sentCount, lastSent, expires, store.NullUnix(b.dueAt))
	}
	q.WriteString(` ON CONFLICT DO NOTHING RETURNING id, email_norm`)
	res, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, wrap(err, "insert invitations")
	}
	created := map[string]int64{}
	for res.Next() {
		var (
			id   int64
			norm string
		)
		if err := res.Scan(&id, &norm); err != nil {
			res.Close()
			return nil, wrap(err, "insert invitations")
		}
		created[norm] = id
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, wrap(err, "insert invitations")
	}
	if err := b.insertGrants(created); err != nil {
		return nil, err
	}
	names := b.groupNames()
	for _, r := range rows {
		norm := strings.ToLower(r.Email)
		id, ok := created[norm]
		if !ok {
			continue
		}
		if err := b.mail(r.Email, r.Name, tokens[norm], names); err != nil {
			return nil, err
		}
		if err := audit.Record(ctx, tx, audit.Event{Action: "invitation.create", TargetType: "invitation",
			TargetID: idStr(id), Details: b.auditDetails(r.Email)}); err != nil {
			return nil, wrap(err, "audit")
		}
	}
	return created, nil
}

func (b *batch) auditDetails(email string) map[string]any {
	d := map[string]any{"email": email}
	if len(b.grants) > 0 {
		var gs []string
		for _, g := range b.grants {
			gs = append(gs, strconv.FormatInt(g.GroupID, 10)+":"+g.Role)
		}
		d["groups"] = gs
	}
	if b.courseID != 0 {
		d["course_id"] = b.courseID
	}
	if b.dueAt != nil {
		d["due_at"] = b.dueAt.Unix()
	}
	return d
}

// insertGrants writes the group grants of the invitations just created.
func (b *batch) insertGrants(created map[string]int64) error {
	if len(b.grants) == 0 || len(created) == 0 {
		return nil
	}
	var ids []int64
	for _, id := range created {
		ids = append(ids, id)
	}
	per := max(1, chunk/len(b.grants))
	for start := 0; start < len(ids); start += per {
		part := ids[start:min(start+per, len(ids))]
		var (
			q    strings.Builder
			args []any
		)
		q.WriteString(`INSERT INTO invitation_groups (invitation_id, group_id, role) VALUES `)
		for _, id := range part {
			for _, g := range b.grants {
				if len(args) > 0 {
					q.WriteString(", ")
				}
				fmt.Fprintf(&q, "($%d, $%d, $%d)", len(args)+1, len(args)+2, len(args)+3)
				args = append(args, id, g.GroupID, g.Role)
			}
		}
		if _, err := b.tx.ExecContext(b.ctx, q.String(), args...); err != nil {
			return wrap(err, "insert grants")
		}
	}
	return nil
}

// mail queues the invitation email, unless the invitation is held until its course opens.
func (b *batch) mail(email, name, token string, groupNames []string) error {
	if b.dueAt != nil {
		return nil
	}
	return queueInvitation(b.ctx, b.tx, b.s, email, name, b.opts.Language, token, b.inviter, groupNames, b.courseName)
}

func queueInvitation(ctx context.Context, tx *store.Tx, s *Service, email, name, lang, token, inviter string,
	groupNames []string, courseName string) error {
	data := map[string]any{"InviterName": inviter, "Link": s.link(token), "GroupNames": groupNames}
	if s.cfg.PlatformName != "" {
		data["PlatformName"] = s.cfg.PlatformName
	}
	if courseName != "" {
		data["CourseName"] = courseName
	}
	if err := mail.Enqueue(ctx, tx, mail.Message{Template: "invitation", To: email, ToName: name,
		Language: lang, Data: data}); err != nil {
		return wrap(err, "invitation mail")
	}
	return nil
}

// userRef is an account found by address.
type userRef struct {
	id     int64
	status string
}

// usersByEmail finds the accounts (not deleted) of lower-cased addresses. When several share
// an address, the oldest is given.
func usersByEmail(ctx context.Context, q store.Querier, norms []string) (map[string]userRef, error) {
	out := map[string]userRef{}
	for start := 0; start < len(norms); start += chunk * 2 {
		part := norms[start:min(start+chunk*2, len(norms))]
		args := make([]any, len(part))
		for i, n := range part {
			args[i] = n
		}
		// "+deleted_at": without it SQLite answers the IN list through users_live (deleted_at,
		// id), reading every live account, instead of the address index.
		rows, err := q.QueryContext(ctx, `SELECT id, email_norm, status FROM users
			WHERE email_norm IN (`+store.Placeholders(1, len(part))+`) AND +deleted_at IS NULL ORDER BY id`, args...)
		if err != nil {
			return nil, wrap(err, "users by email")
		}
		for rows.Next() {
			var (
				u    userRef
				norm string
			)
			if err := rows.Scan(&u.id, &norm, &u.status); err != nil {
				rows.Close()
				return nil, wrap(err, "users by email")
			}
			if _, seen := out[norm]; !seen {
				out[norm] = u
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "users by email")
		}
	}
	return out, nil
}

type pendingRef struct {
	id      int64
	created time.Time
}

// pendingByEmail finds the pending invitation of each lower-cased address that has one.
func pendingByEmail(ctx context.Context, q store.Querier, norms []string) (map[string]pendingRef, error) {
	out := map[string]pendingRef{}
	for start := 0; start < len(norms); start += chunk * 2 {
		part := norms[start:min(start+chunk*2, len(norms))]
		args := make([]any, len(part))
		for i, n := range part {
			args[i] = n
		}
		rows, err := q.QueryContext(ctx, `SELECT id, email_norm, created_at FROM invitations
			WHERE status = 'pending' AND email_norm IN (`+store.Placeholders(1, len(part))+`)`, args...)
		if err != nil {
			return nil, wrap(err, "pending by email")
		}
		for rows.Next() {
			var (
				p       pendingRef
				norm    string
				created int64
			)
			if err := rows.Scan(&p.id, &norm, &created); err != nil {
				rows.Close()
				return nil, wrap(err, "pending by email")
			}
			p.created = store.Time(created)
			out[norm] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "pending by email")
		}
	}
	return out, nil
}

// expireOverdue marks as expired the pending invitations of these addresses whose lifetime
// has passed, so that a new invitation can take their place.
func expireOverdue(ctx context.Context, tx *store.Tx, norms []string) error {
	for start := 0; start < len(norms); start += chunk * 2 {
		part := norms[start:min(start+chunk*2, len(norms))]
		args := []any{tx.Now.Unix()}
		for _, n := range part {
			args = append(args, n)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET status = 'expired'
			WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at <= $1
			AND email_norm IN (`+store.Placeholders(2, len(part))+`)`, args...); err != nil {
			return wrap(err, "expire overdue")
		}
	}
	return nil
}
