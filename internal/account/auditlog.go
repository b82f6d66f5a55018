package account

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Reading the audit log (written by the audit package): who did what to whom, when, from
// which address. Platform administrators only.

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	ActorID int64  // events by this account
	Target  string // events about this target id (a user id, a group id, ...)
	// Action is an exact action ("user.delete"), or a prefix ending in "." ("user.").
	Action string
	Limit  int    // 1..500, default 50
	Cursor string // from the previous page
}

// AuditEntry is one audit event, with the usernames of its actor and (for users) its target.
type AuditEntry struct {
	ID         int64
	At         time.Time
	ActorID    int64  // 0: the command line, a platform token or a background job
	Actor      string // the actor's username, "" if none
	Action     string
	TargetType string
	TargetID   string
	Target     string // the target user's username, when the target is a user
	IP         string
	Details    map[string]any
}

// AuditLog returns a page of audit events, newest first, and the cursor of the next page.
// Errors: Unauthorized/Forbidden, Invalid naming "limit" or "cursor".
func AuditLog(ctx context.Context, q store.Querier, f AuditFilter) ([]AuditEntry, string, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, "", err
	}
	var fe errs.Fields
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 500 {
		fe.AddCode("limit", "limit_range", errs.P{"max": 500})
	}
	var before int64
	if f.Cursor != "" {
		n, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || n <= 0 {
			fe.AddCode("cursor", "bad_cursor")
		}
		before = n
	}
	if err := fe.Err(); err != nil {
		return nil, "", err
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.ActorID != 0 {
		where = append(where, "e.actor_id = "+arg(f.ActorID))
	}
	if f.Target = strings.TrimSpace(f.Target); f.Target != "" {
		where = append(where, "e.target_id = "+arg(f.Target))
	}
	if f.Action = strings.TrimSpace(f.Action); strings.HasSuffix(f.Action, ".") {
		where = append(where, "e.action LIKE "+arg(escapeLike(f.Action)+"%")+` ESCAPE '\'`)
	} else if f.Action != "" {
		where = append(where, "e.action = "+arg(f.Action))
	}
	if before != 0 {
		where = append(where, "e.id < "+arg(before))
	}
	query := `SELECT e.id, e.at, e.actor_id, COALESCE(a.username, ''), e.action, e.target_type, e.target_id,
		COALESCE(t.username, ''), e.ip, e.details
		FROM audit_events e
		LEFT JOIN users a ON a.id = e.actor_id
		LEFT JOIN users t ON e.target_type = 'user' AND CAST(t.id AS TEXT) = e.target_id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY e.id DESC LIMIT " + arg(f.Limit+1)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", wrap(err, "audit log")
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var (
			e       AuditEntry
			at      int64
			actor   sql.NullInt64
			details string
		)
		if err := rows.Scan(&e.ID, &at, &actor, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &e.Target, &e.IP,
			&details); err != nil {
			return nil, "", wrap(err, "audit log")
		}
		e.At, e.ActorID = store.Time(at), actor.Int64
		e.Details = map[string]any{}
		_ = json.Unmarshal([]byte(details), &e.Details) // a malformed detail hides itself, not the event
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err, "audit log")
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = strconv.FormatInt(out[len(out)-1].ID, 10)
	}
	return out, next, nil
}
