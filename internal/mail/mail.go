// Package mail writes Roster's emails to the outbox, in the transaction of the change that
// causes them, and delivers them by SMTP from a background worker.
package mail

import (
	"context"
	"fmt"
	"strings"

	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/site"
	"roster/internal/store"
)

// Message is an email to queue: a template, its data and its recipient. The subject and the
// plain-text and HTML bodies are rendered when it is queued, in the recipient's language.
type Message struct {
	Template string         // e.g. "password_reset", "account_setup"
	To       string         // address
	ToName   string         // display name
	UserID   int64          // the recipient's account, when there is one
	Language string         // "fr" or "en"; anything else falls back to the site's language
	Data     map[string]any // template data; "Link" is the one link the reader acts on
}

// Enqueue renders m and writes it to the outbox within tx. It is delivered after commit.
//
// It fails with an errs.Invalid error naming the field "email" when m.To is not one plain
// address (net/mail syntax, no display name: that goes in ToName), and with a plain error
// when the template is unknown or its data incomplete (a programming error).
func Enqueue(ctx context.Context, tx *store.Tx, m Message) error {
	to, err := checkAddress(m.To)
	if err != nil {
		return err
	}
	m.To = to
	if strings.ContainsAny(m.ToName, "\r\n") {
		return errs.FieldCode("name", "one_line")
	}
	if i18n.Norm(m.Language) == "" {
		// No language of their own (e.g. added from a teacher's "external users" block): the
		// site's.
		m.Language = site.Language(ctx, tx)
	}
	r, err := render(m)
	if err != nil {
		return fmt.Errorf("mail: render %s: %w", m.Template, err)
	}
	// Links are kept sealed while the message waits (seal.go).
	for _, f := range []*string{&r.Subject, &r.Text, &r.HTML} {
		if *f, err = sealLinks(tx.Key, *f); err != nil {
			return err
		}
	}
	var uid any
	if m.UserID != 0 {
		uid = m.UserID
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox
		(template, to_addr, to_name, user_id, language, subject, text_body, html_body, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		m.Template, m.To, m.ToName, uid, r.Language, r.Subject, r.Text, r.HTML, tx.Now.Unix())
	if err != nil {
		return fmt.Errorf("mail: enqueue: %w", err)
	}
	tx.AfterCommit(wake)
	return nil
}

// checkAddress returns addr trimmed if it is one plain email address (AddressProblem).
func checkAddress(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", errs.FieldCode("email", "required")
	}
	if code := AccountEmailCode(addr); code != "" {
		// errkeys: email_no_dot invalid_email
		return "", errs.FieldCode("email", code)
	}
	return addr, nil
}

// CancelQueuedTx deletes, within tx, the messages still queued for the given accounts: an
// import that did not complete takes back the set-password emails of the accounts it created.
// A message being sent at that instant may still go.
func CancelQueuedTx(ctx context.Context, tx *store.Tx, userIDs []int64) error {
	for len(userIDs) > 0 {
		part := userIDs[:min(500, len(userIDs))]
		userIDs = userIDs[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE status = 'queued' AND user_id IN (`+
			store.Placeholders(1, len(part))+`)`, args...); err != nil {
			return fmt.Errorf("mail: cancel queued: %w", err)
		}
	}
	return nil
}
