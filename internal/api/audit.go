package api

import (
	"net/http"
	"strconv"
	"time"

	"roster/internal/account"
	"roster/internal/errs"
)

// AuditEvent is one event of GET /api/v1/audit: who (actor), what (action, details), whom
// (target), when (at) and from which address (ip).
type AuditEvent struct {
	ID         string         `json:"id"`
	At         time.Time      `json:"at"`
	ActorID    *string        `json:"actor_id"` // null: the command line, a platform token or a job
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Target     string         `json:"target"`
	IP         string         `json:"ip"`
	Details    map[string]any `json:"details"`
}

// audit lists events, newest first: ?actor=USER_ID&target=ID&action=ACTION (or a prefix
// ending in ".", e.g. user.).
func (a *API) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := limit(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	f := account.AuditFilter{Target: q.Get("target"), Action: q.Get("action"), Limit: n, Cursor: q.Get("cursor")}
	if v := q.Get("actor"); v != "" {
		if f.ActorID, err = strconv.ParseInt(v, 10, 64); err != nil || f.ActorID <= 0 {
			a.problem(w, r, errs.FieldCode("actor", "api_bad_user_id", errs.P{"value": v}))
			return
		}
	}
	events, next, err := account.AuditLog(r.Context(), a.db, f)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[AuditEvent]{Items: make([]AuditEvent, 0, len(events)), NextCursor: next}
	for _, e := range events {
		ev := AuditEvent{ID: ID(e.ID), At: e.At, Actor: e.Actor, Action: e.Action, TargetType: e.TargetType,
			TargetID: e.TargetID, Target: e.Target, IP: e.IP, Details: e.Details}
		if e.ActorID != 0 {
			id := ID(e.ActorID)
			ev.ActorID = &id
		}
		out.Items = append(out.Items, ev)
	}
	writeJSON(w, http.StatusOK, out)
}
