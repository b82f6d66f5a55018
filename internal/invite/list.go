package invite

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/mail"
	"roster/internal/store"
)

// Filter selects invitations for List.
type Filter struct {
	// Status is pending (the default), accepted, cancelled, expired or all.
	Status string
	// GroupID keeps the invitations granting a role in this group; with Subgroups, in this
	// group or any below it. 0: every invitation the caller may see.
	GroupID   int64
	Subgroups bool
	// CourseID keeps the invitations into this course; the caller needs the right to invite
	// into it (the registered CourseCheck: its teachers, platform administrators), and sees
	// them whatever their groups (listed with the caller's groups only). 0: any course.
	CourseID int64
	Q        string // part of the address or name, any case
	Limit    int    // default 50, at most 500
	Cursor   string // next_cursor of the previous page
}

// Limits of a page of List.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// List returns invitations, newest first, with who invited, the number of sendings and the
// latest delivery status of the address, and the cursor of the next page ("" at the end).
//
// Rights: platform administrators see every invitation; others those granting a role in a
// group where they may invite (authz.InviteTo), and with GroupID they need that right there;
// with CourseID, the invitations into a course where they may invite (see Filter.CourseID).
// Errors: Unauthorized, Forbidden, Invalid naming status, limit or cursor.
func (s *Service) List(ctx context.Context, f Filter) ([]Invitation, string, error) {
	if _, err := authz.RequireUser(ctx); err != nil {
		return nil, "", err
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if f.Limit < 1 || f.Limit > MaxLimit {
		return nil, "", errs.FieldCode("limit", "limit_range", errs.P{"max": MaxLimit})
	}
	now := s.db.Now()
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	switch strings.TrimSpace(f.Status) {
	case "", StatusPending:
		where = append(where, `i.status = 'pending' AND (i.expires_at IS NULL OR i.expires_at > `+arg(now.Unix())+`)`)
	case StatusExpired:
		where = append(where, `(i.status = 'expired' OR (i.status = 'pending' AND i.expires_at <= `+arg(now.Unix())+`))`)
	case StatusAccepted, StatusCancelled:
		where = append(where, `i.status = `+arg(f.Status))
	case "all":
	default:
		return nil, "", errs.FieldCode("status", "bad_invitation_status")
	}
	if f.Cursor != "" {
		c, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || c <= 0 {
			return nil, "", errs.FieldCode("cursor", "bad_cursor")
		}
		where = append(where, `i.id < `+arg(c))
	}
	if q := strings.ToLower(strings.TrimSpace(f.Q)); q != "" {
		like := arg("%" + escapeLike(q) + "%")
		where = append(where, `(i.email_norm LIKE `+like+` ESCAPE '\' OR lower(i.name) LIKE `+like+` ESCAPE '\')`)
	}
	all, roots, err := authz.GroupScope(ctx, s.db, authz.InviteTo)
	if err != nil {
		return nil, "", err
	}
	if f.CourseID != 0 {
		if _, err := s.checkCourse(ctx, s.db, f.CourseID); err != nil {
			return nil, "", err
		}
		where = append(where, `i.course_id = `+arg(f.CourseID))
	}
	if f.GroupID != 0 {
		if err := authz.CanInviteTo(ctx, s.db, f.GroupID); err != nil {
			return nil, "", err
		}
		if f.Subgroups {
			where = append(where, `EXISTS (SELECT 1 FROM invitation_groups ig JOIN group_paths p ON p.descendant_id = ig.group_id
				WHERE ig.invitation_id = i.id AND p.ancestor_id = `+arg(f.GroupID)+`)`)
		} else {
			where = append(where, `EXISTS (SELECT 1 FROM invitation_groups ig WHERE ig.invitation_id = i.id AND ig.group_id = `+
				arg(f.GroupID)+`)`)
		}
	} else if f.CourseID == 0 {
		if !all {
			if len(roots) == 0 {
				// A teacher who administers no group sees the invitations they sent into
				// courses (and may manage those while they teach the course).
				if err := s.mayManageSome(ctx, s.db); err != nil {
					return nil, "", errs.Coded(errs.Forbidden, "forbidden_invitations")
				}
				where = append(where, `i.invited_by = `+arg(authz.From(ctx).UserID)+` AND i.course_id IS NOT NULL`)
			}
			ph := make([]string, len(roots))
			for i, r := range roots {
				ph[i] = arg(r)
			}
			if len(roots) > 0 {
				where = append(where, `EXISTS (SELECT 1 FROM invitation_groups ig JOIN group_paths p ON p.descendant_id = ig.group_id
				WHERE ig.invitation_id = i.id AND p.ancestor_id IN (`+strings.Join(ph, ", ")+`))`)
			}
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = " AND " + strings.Join(where, " AND ")
	}
	items, err := queryInvitations(ctx, s.db, now, cond+` ORDER BY i.id DESC LIMIT `+arg(f.Limit+1), args...)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > f.Limit {
		items = items[:f.Limit]
		next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	if err := s.fillGroupsAndRights(ctx, items); err != nil {
		return nil, "", err
	}
	if !all && len(roots) == 0 {
		for i := range items {
			items[i].Groups = nil // a teacher's course invitations: none of their groups
		}
	} else if !all {
		if err := keepScoped(ctx, s.db, roots, items); err != nil {
			return nil, "", err
		}
	}
	addrs := make([]string, len(items))
	for i, inv := range items {
		addrs[i] = inv.Email
	}
	status, err := mail.LastStatusFor(ctx, s.db, addrs)
	if err != nil {
		return nil, "", err
	}
	names := map[int64]string{}
	for i := range items {
		items[i].LastDelivery = status[items[i].Email]
		if c := items[i].CourseID; c != 0 {
			if _, ok := names[c]; !ok {
				if names[c], err = s.courseName(ctx, s.db, c); err != nil && !errs.Is(err, errs.Invalid) && !errs.Is(err, errs.NotFound) {
					return nil, "", err
				}
			}
			items[i].CourseName = names[c]
		}
	}
	return items, next, nil
}

// keepScoped drops from each invitation the grants outside the groups below roots: an
// invitation that also grants roles elsewhere (another administrator invited the same
// address, see batch.merge) is listed with the caller's groups only, never the others.
func keepScoped(ctx context.Context, q store.Querier, roots []int64, items []Invitation) error {
	ids := map[int64]bool{}
	var args []any
	for _, r := range roots {
		args = append(args, r)
	}
	n := len(args)
	for _, inv := range items {
		for _, g := range inv.Groups {
			if !ids[g.GroupID] {
				ids[g.GroupID] = true
				args = append(args, g.GroupID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT descendant_id FROM group_paths WHERE ancestor_id IN (`+
		store.Placeholders(1, n)+`) AND descendant_id IN (`+store.Placeholders(n+1, len(ids))+`)`, args...)
	if err != nil {
		return wrap(err, "list scope")
	}
	defer rows.Close()
	in := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return wrap(err, "list scope")
		}
		in[id] = true
	}
	if err := rows.Err(); err != nil {
		return wrap(err, "list scope")
	}
	for i := range items {
		items[i].Groups = slices.DeleteFunc(items[i].Groups, func(g GroupGrant) bool { return !in[g.GroupID] })
	}
	return nil
}

// Get returns one invitation with its groups. Rights: as for managing it (see canManage); an
// invitation the caller may not manage is NotFound, and someone who may manage no invitation
// gets Forbidden whatever the id. Errors: Unauthorized, Forbidden, NotFound.
func (s *Service) Get(ctx context.Context, id int64) (*Invitation, error) {
	return s.loadManaged(ctx, s.db, s.db.Now(), id)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

const selectInvitation = `SELECT i.id, i.email, i.name, i.status, COALESCE(i.course_id, 0), i.language, i.delete_at,
	i.custom_fields, COALESCE(i.invited_by, 0), COALESCE(u.first_name, ''), COALESCE(u.last_name, ''), i.created_at,
	i.sent_count, i.last_sent_at, i.expires_at, i.due_at, COALESCE(i.accepted_user_id, 0), i.accepted_at, i.cancelled_at
	FROM invitations i LEFT JOIN users u ON u.id = i.invited_by WHERE `

// loadInvitation returns the one invitation matching cond, with its groups. Errors: NotFound.
func loadInvitation(ctx context.Context, q store.Querier, now time.Time, cond string, args ...any) (*Invitation, error) {
	items, err := queryInvitations(ctx, q, now, ` AND `+cond, args...)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errs.Coded(errs.NotFound, "no_invitation")
	}
	if err := fillGroups(ctx, q, items[:1]); err != nil {
		return nil, err
	}
	return &items[0], nil
}

// queryInvitations runs selectInvitation with more conditions (starting with " AND ").
func queryInvitations(ctx context.Context, q store.Querier, now time.Time, more string, args ...any) ([]Invitation, error) {
	rows, err := q.QueryContext(ctx, selectInvitation+`1 = 1`+more, args...)
	if err != nil {
		return nil, wrap(err, "list")
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		var (
			inv                                          Invitation
			custom, first, last                          string
			created                                      int64
			deleteAt, lastSent, expires, due, acc, cance sql.NullInt64
		)
		if err := rows.Scan(&inv.ID, &inv.Email, &inv.Name, &inv.Status, &inv.CourseID, &inv.Language, &deleteAt,
			&custom, &inv.InvitedBy, &first, &last, &created, &inv.SentCount, &lastSent, &expires, &due,
			&inv.AcceptedUserID, &acc, &cance); err != nil {
			return nil, wrap(err, "list")
		}
		inv.InviterName = strings.TrimSpace(first + " " + last)
		inv.CreatedAt = store.Time(created)
		inv.DeleteAt, inv.LastSentAt, inv.ExpiresAt = store.NullTime(deleteAt), store.NullTime(lastSent), store.NullTime(expires)
		inv.DueAt, inv.AcceptedAt, inv.CancelledAt = store.NullTime(due), store.NullTime(acc), store.NullTime(cance)
		inv.CustomFields = map[string]string{}
		if custom != "" {
			if err := json.Unmarshal([]byte(custom), &inv.CustomFields); err != nil {
				return nil, wrap(err, "custom fields of invitation "+idStr(inv.ID))
			}
		}
		if inv.Status == StatusPending && inv.ExpiresAt != nil && !inv.ExpiresAt.After(now) {
			inv.Status = StatusExpired
		}
		out = append(out, inv)
	}
	return out, wrap(rows.Err(), "list")
}

// fillGroups reads the group grants of items.
func fillGroups(ctx context.Context, q store.Querier, items []Invitation) error {
	if len(items) == 0 {
		return nil
	}
	byID := make(map[int64]*Invitation, len(items))
	args := make([]any, len(items))
	for i := range items {
		byID[items[i].ID] = &items[i]
		args[i] = items[i].ID
	}
	rows, err := q.QueryContext(ctx, `SELECT ig.invitation_id, ig.group_id, ig.role, g.name FROM invitation_groups ig
		JOIN groups g ON g.id = ig.group_id WHERE ig.invitation_id IN (`+store.Placeholders(1, len(args))+`)
		ORDER BY g.name, ig.role`, args...)
	if err != nil {
		return wrap(err, "groups of invitations")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			g  GroupGrant
		)
		if err := rows.Scan(&id, &g.GroupID, &g.Role, &g.GroupName); err != nil {
			return wrap(err, "groups of invitations")
		}
		byID[id].Groups = append(byID[id].Groups, g)
	}
	return wrap(rows.Err(), "groups of invitations")
}

// fillGroupsAndRights loads the groups of each invitation and says whether the caller may
// manage it (Invitation.Manageable), before List keeps only the caller's groups in view.
func (s *Service) fillGroupsAndRights(ctx context.Context, items []Invitation) error {
	if err := fillGroups(ctx, s.db, items); err != nil {
		return err
	}
	for i := range items {
		if err := s.canManage(ctx, s.db, &items[i]); err == nil {
			items[i].Manageable = true
		} else if c := errs.As(err).Code; c == errs.Internal || c == errs.Unavailable {
			return err
		}
	}
	return nil
}

// PendingAddresses returns which of the given addresses (lower case) have a pending
// invitation that still works: imports warn that creating the account overtakes it. It checks
// no rights (it says only whether an address is invited, to callers that already import
// accounts). At most 1,000 addresses a call.
func PendingAddresses(ctx context.Context, q store.Querier, now time.Time, emails []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(emails) == 0 {
		return out, nil
	}
	if len(emails) > 1000 {
		return nil, errs.New(errs.Invalid, "at most 1000 addresses")
	}
	// The addresses as one parameter (store's In): a statement of a thousand "$N" would cost
	// SQLite more to parse and bind than to answer.
	in, args := " IN ("+store.Placeholders(2, len(emails))+")", make([]any, len(emails))
	for i, e := range emails {
		args[i] = e
	}
	if d, ok := store.DialectOf(q); ok {
		in, args = d.In(2, emails)
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT email_norm FROM invitations WHERE status = 'pending'
		AND (expires_at IS NULL OR expires_at > $1) AND email_norm`+in, append([]any{now.Unix()}, args...)...)
	if err != nil {
		return nil, wrap(err, "pending addresses")
	}
	defer rows.Close()
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, wrap(err, "pending addresses")
		}
		out[e] = true
	}
	return out, wrap(rows.Err(), "pending addresses")
}
