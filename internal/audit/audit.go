// Package audit records who did what to whom, when and from where.
package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"roster/internal/authz"
	"roster/internal/store"
)

// Event is one audited action.
type Event struct {
	Action     string // e.g. "user.create", "password.reset"
	TargetType string // e.g. "user"
	TargetID   string
	IP         string
	Details    map[string]any
}

type ipKey struct{}

// WithIP returns ctx carrying the client address, for the events recorded under it.
func WithIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ipKey{}, ip)
}

// IP returns the client address in ctx, or "".
func IP(ctx context.Context) string { s, _ := ctx.Value(ipKey{}).(string); return s }

// Record writes e within tx; the actor is the principal in ctx.
func Record(ctx context.Context, tx *store.Tx, e Event) error {
	return RecordMany(ctx, tx, []Event{e})
}

// insertEvents is the statement of RecordMany.
var insertEvents = store.Insert{Table: "audit_events",
	Columns: []string{"at", "actor_id", "action", "target_type", "target_id", "ip", "details"},
	Types:   []store.ColType{store.Int, store.Int, store.Text, store.Text, store.Text, store.Text, store.Text}}

// RecordMany writes events within tx, many rows a statement; the actor is the principal in
// ctx, the address each event's IP or else ctx's.
func RecordMany(ctx context.Context, tx *store.Tx, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	var actor any
	if p := authz.From(ctx); p != nil && p.UserID != 0 {
		actor = p.UserID
	}
	details := make([]string, len(events))
	var buf []byte
	for i, e := range events {
		details[i] = "{}"
		if len(e.Details) > 0 {
			b, ok := appendDetails(buf[:0], e.Details)
			if !ok {
				var err error
				if b, err = json.Marshal(e.Details); err != nil {
					return fmt.Errorf("audit: %w", err)
				}
			}
			buf = b
			details[i] = string(b)
		}
	}
	now, ctxIP := tx.Now.Unix(), IP(ctx)
	err := tx.InsertMany(ctx, insertEvents, len(events), func(i int, v []any) {
		e := events[i]
		ip := e.IP
		if ip == "" {
			ip = ctxIP
		}
		v[0], v[1], v[2], v[3], v[4], v[5], v[6] = now, actor, e.Action, e.TargetType, e.TargetID, ip, details[i]
	}, nil)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
