package mail

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
)

// Record is one outbox message as administrators see it (at /admin/mail and GET
// /api/v1/mail). Show it through Masked: the links of a queued message are sealed (seal.go)
// but still there.
type Record struct {
	ID            int64
	Template      string
	To            string
	ToName        string
	Subject       string
	Text          string
	HTML          string
	Status        string // queued, sent or failed
	Attempts      int
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
	NextAttemptAt time.Time
}

// The delivery statuses.
const (
	StatusQueued = "queued"
	StatusSent   = "sent"
	StatusFailed = "failed"
)

// Filter selects outbox messages. The zero Filter lists the 50 newest.
type Filter struct {
	To       string // one address, compared case-insensitively
	Status   string // "", queued, sent or failed
	Limit    int    // 1 to 1000; 0 means 50
	BeforeID int64  // for the next page: only messages older than this id
}

// List returns the messages matching f, newest first. It fails with errs.Invalid naming the
// field for a bad status or limit.
func List(ctx context.Context, q store.Querier, f Filter) ([]Record, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.To != "" {
		where = append(where, "lower(to_addr) = "+arg(strings.ToLower(strings.TrimSpace(f.To))))
	}
	switch f.Status {
	case "":
	case StatusQueued, StatusSent, StatusFailed:
		where = append(where, "status = "+arg(f.Status))
	default:
		return nil, errs.Field("status", "must be queued, sent or failed")
	}
	if f.BeforeID > 0 {
		where = append(where, "id < "+arg(f.BeforeID))
	}
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 0 || f.Limit > 1000:
		return nil, errs.Field("limit", "must be between 1 and 1000")
	}
	query := `SELECT id, template, to_addr, to_name, subject, text_body, html_body, status,
		attempts, last_error, created_at, sent_at, next_attempt_at FROM outbox`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT " + arg(f.Limit)

	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, errs.Wrap(err, "mail: list")
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var (
			r             Record
			created, next int64
			sent          sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Template, &r.To, &r.ToName, &r.Subject, &r.Text, &r.HTML,
			&r.Status, &r.Attempts, &r.LastError, &created, &sent, &next); err != nil {
			return nil, errs.Wrap(err, "mail: list")
		}
		r.CreatedAt, r.SentAt, r.NextAttemptAt = store.Time(created), store.NullTime(sent), store.Time(next)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "mail: list")
	}
	return out, nil
}

// tokenLink matches the token of every link that grants something to whoever holds it, plain
// or sealed (seal.go).
var tokenLink = regexp.MustCompile(`(/(?:invitation|account/setup|password/reset|setup)/)[A-Za-z0-9_\-=%.]+`)

// Masked returns r with every token link cut to BASE/PATH/…, in the subject and both bodies.
// An administrator reading someone's mail must not be able to use their link: to unblock
// someone, they re-send or copy a fresh one.
func Masked(r Record) Record {
	mask := func(s string) string { return tokenLink.ReplaceAllString(s, "${1}…") }
	r.Subject, r.Text, r.HTML = mask(r.Subject), mask(r.Text), mask(r.HTML)
	return r
}

// LastStatusFor returns the delivery status of the latest message to each of addrs that has
// one (queued, sent or failed), keyed by the address as given. Addresses compare
// case-insensitively; those never written to are absent from the map.
func LastStatusFor(ctx context.Context, q store.Querier, addrs []string) (map[string]string, error) {
	byLower := map[string][]string{}
	for _, a := range addrs {
		l := strings.ToLower(strings.TrimSpace(a))
		byLower[l] = append(byLower[l], a)
	}
	keys := make([]any, 0, len(byLower))
	for l := range byLower {
		keys = append(keys, l)
	}
	out := make(map[string]string, len(addrs))
	for _, part := range chunks(keys, 500) {
		rows, err := q.QueryContext(ctx, `SELECT l.a, o.status FROM outbox o
			JOIN (SELECT lower(to_addr) AS a, max(id) AS id FROM outbox
				WHERE lower(to_addr) IN (`+store.Placeholders(1, len(part))+`)
				GROUP BY lower(to_addr)) l ON o.id = l.id`, part...)
		if err != nil {
			return nil, errs.Wrap(err, "mail: last status")
		}
		for rows.Next() {
			var a, status string
			if err := rows.Scan(&a, &status); err != nil {
				rows.Close()
				return nil, errs.Wrap(err, "mail: last status")
			}
			for _, orig := range byLower[a] {
				out[orig] = status
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, errs.Wrap(err, "mail: last status")
		}
	}
	return out, nil
}
