package mail

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"roster/internal/secret"
	"roster/internal/store"
)

// No working link at rest. A reset, set-up or invitation link lets whoever holds it in, so
// the outbox never keeps one that works:
//   - while a message waits, the token of each link is sealed with the database's key
//     (store.DB.Key, held outside the database): BASE/password/reset/sealed.XXXX. A copy of
//     the database without the key holds nothing that can be replayed;
//   - the worker opens the links in memory just before sending;
//   - once the message is sent or has finally failed, its links are cut to BASE/PATH/… in the
//     stored subject and bodies (redactLinks), so not even the key opens them any more.
//
// An administrator who must unblock someone re-sends the email or copies a fresh link (a new
// token); nobody reads a working link back from the outbox.

// sealPurpose binds sealed tokens to this use of the key.
const sealPurpose = "outbox link"

// sealedPrefix marks a sealed token inside a link.
const sealedPrefix = "sealed."

// sealedToken matches a sealed token in a token link (only there: "sealed." elsewhere in a
// text is text); group 1 is the link's path, group 2 the sealed value.
var sealedToken = regexp.MustCompile(`(/(?:invitation|account/setup|password/reset|setup)/)sealed\.([A-Za-z0-9_-]+)`)

// errNoKey is a programming error: every program that writes to the outbox sets the key.
var errNoKey = errors.New("mail: the database has no secret key to seal links with")

// sealLinks replaces the token of every token link in s by its sealed form.
func sealLinks(key *secret.Key, s string) (string, error) {
	if !tokenLink.MatchString(s) {
		return s, nil
	}
	if key == nil {
		return "", errNoKey
	}
	return tokenLink.ReplaceAllStringFunc(s, func(m string) string {
		sub := tokenLink.FindStringSubmatch(m)
		token := strings.TrimPrefix(m, sub[1])
		if strings.HasPrefix(token, sealedPrefix) || token == "" {
			return m
		}
		return sub[1] + sealedPrefix + key.Seal(sealPurpose, []byte(token))
	}), nil
}

// OpenLinks returns s with its sealed links opened, as the worker sends it. It fails with
// secret.ErrNotOpened when a link was sealed with another key. Tests use it to follow the
// links of queued emails, as their recipients would.
func OpenLinks(key *secret.Key, s string) (string, error) {
	if !strings.Contains(s, sealedPrefix) {
		return s, nil
	}
	if key == nil {
		return "", errNoKey
	}
	var failed error
	out := sealedToken.ReplaceAllStringFunc(s, func(m string) string {
		sub := sealedToken.FindStringSubmatch(m)
		plain, err := key.Open(sealPurpose, sub[2])
		if err != nil {
			failed = err
			return m
		}
		return sub[1] + string(plain)
	})
	return out, failed
}

// sendOpened sends batch with its links opened, reporting each outcome to done as
// Sender.deliver does. A message whose links cannot be opened (the key changed since it was
// queued) is not sent: it fails like an undeliverable message, and an operator who restores
// the right key sees it delivered at a later attempt.
func (w *Worker) sendOpened(ctx context.Context, batch []outgoing, now time.Time, done func(i int, r result) bool) {
	ready := make([]outgoing, 0, len(batch))
	index := make([]int, 0, len(batch))
	for i, o := range batch {
		var err error
		o.subject, err = OpenLinks(w.db.Key, o.subject)
		if err == nil {
			o.text, err = OpenLinks(w.db.Key, o.text)
		}
		if err == nil {
			o.html, err = OpenLinks(w.db.Key, o.html)
		}
		if err != nil {
			if !done(i, result{err: fmt.Errorf("links sealed with another secret key (ROSTER_SECRET_KEY): %w", err)}) {
				return
			}
			continue
		}
		ready = append(ready, o)
		index = append(index, i)
	}
	w.sender.deliver(ctx, ready, now, func(j int, r result) bool { return done(index[j], r) })
}

// redactLinks cuts every token link of the given messages (sent, or failed for good) to
// BASE/PATH/… in the stored subject and bodies, within tx. The messages are as claimed, links
// still sealed: only those that hold a link are written, 100 to a statement.
func redactLinks(ctx context.Context, tx *store.Tx, msgs []outgoing) error {
	var todo []Record
	for _, o := range msgs {
		r := Record{ID: o.id, Subject: o.subject, Text: o.text, HTML: o.html}
		if m := Masked(r); m.Subject != r.Subject || m.Text != r.Text || m.HTML != r.HTML {
			todo = append(todo, m)
		}
	}
	// VALUES names its columns column1, column2... on both databases.
	for len(todo) > 0 {
		n := min(len(todo), 100)
		var (
			rows []string
			args []any
		)
		for _, r := range todo[:n] {
			k := len(args)
			rows = append(rows, fmt.Sprintf("(CAST($%d AS BIGINT), $%d, $%d, $%d)", k+1, k+2, k+3, k+4))
			args = append(args, r.ID, r.Subject, r.Text, r.HTML)
		}
		todo = todo[n:]
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET subject = v.column2, text_body = v.column3, html_body = v.column4
			FROM (SELECT * FROM (VALUES `+strings.Join(rows, ", ")+`) AS x) AS v WHERE outbox.id = v.column1`, args...); err != nil {
			return fmt.Errorf("mail: redact: %w", err)
		}
	}
	return nil
}
