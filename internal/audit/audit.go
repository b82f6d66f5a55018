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
	var actor any
	if p := authz.From(ctx); p != nil && p.UserID != 0 {
		actor = p.UserID
	}
	ip := e.IP
	if ip == "" {
		ip = IP(ctx)
	}
	details := "{}"
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		details = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (at, actor_id, action, target_type, target_id, ip, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, tx.Now.Unix(), actor, e.Action, e.TargetType, e.TargetID, ip, details)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
