package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

// TestDeliverToMailDev sends three messages through a real SMTP server and reads them back.
func TestDeliverToMailDev(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		md := testenv.StartMailDev(t)
		sender, err := NewSender("smtp://"+md.SMTPAddr, "Roster Test <roster@example.org>")
		if err != nil {
			t.Fatal(err)
		}
		w := NewWorker(db, sender, quietLog())
		w.Poll = time.Hour // only the wake-up after commit can start delivery in time
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()

		msgs := []Message{
			{Template: "password_reset", To: "anne@example.org", ToName: "Anne Élise Martin", Language: "fr",
				Data: map[string]any{"FirstName": "Anne", "Username": "amartin", "TTL": 30 * time.Minute,
					"Link": "http://roster.test/password/reset/RESET1"}},
			{Template: "account_setup", To: "bob@example.org", ToName: "Bob Stone", Language: "en",
				Data: map[string]any{"FirstName": "Bob", "Username": "bstone",
					"Link": "http://roster.test/account/setup/SETUP2"}},
			{Template: "invitation", To: "carol@example.org", Language: "en",
				Data: map[string]any{"InviterName": "Anne Martin", "PlatformName": "Campus",
					"Link": "http://roster.test/invitation/INVITE3"}},
		}
		mustEnqueue(t, db, msgs...)

		for _, m := range msgs {
			got := md.WaitFor(t, m.To, 1, 10*time.Second)
			if len(got) != 1 {
				t.Fatalf("%s: %d messages", m.To, len(got))
			}
			r, _ := render(m)
			g := got[0]
			if g.Subject != r.Subject {
				t.Errorf("%s: subject %q, want %q", m.To, g.Subject, r.Subject)
			}
			link := m.Data["Link"].(string)
			if linesEqual(strings.ReplaceAll(g.Text, "\r\n", "\n"), link) != 1 {
				t.Errorf("%s: the link is not on a line of its own in the text part:\n%s", m.To, g.Text)
			}
			if !strings.Contains(g.HTML, `href="`+link+`"`) {
				t.Errorf("%s: no link in the HTML part:\n%s", m.To, g.HTML)
			}
			if len(g.From) != 1 || g.From[0].Address != "roster@example.org" || g.From[0].Name != "Roster Test" {
				t.Errorf("%s: from %+v", m.To, g.From)
			}
			if len(g.To) != 1 || g.To[0].Address != m.To || g.To[0].Name != m.ToName {
				t.Errorf("%s: to %+v, want %q <%s>", m.To, g.To, m.ToName, m.To)
			}
			if !strings.HasPrefix(g.Header("message-id"), "<roster.") || g.Header("date") == "" {
				t.Errorf("%s: Message-ID %q, Date %q", m.To, g.Header("message-id"), g.Header("date"))
			}
			if ct := g.Header("content-type"); !strings.HasPrefix(ct, "multipart/alternative") {
				t.Errorf("%s: content type %q", m.To, ct)
			}
		}
		// The outbox says sent once the worker has recorded it.
		deadline := time.Now().Add(5 * time.Second)
		for {
			rs := mustRecords(t, db, Filter{Status: StatusSent})
			if len(rs) == len(msgs) {
				for _, r := range rs {
					if r.Attempts != 1 || r.SentAt == nil || !r.SentAt.Equal(clock.T) || r.LastError != "" {
						t.Errorf("%+v", r)
					}
					// Delivered: the links are cut in the stored copy, sealed or not.
					stored := r.Subject + r.Text + r.HTML
					for _, tok := range []string{"RESET1", "SETUP2", "INVITE3", "sealed."} {
						if strings.Contains(stored, tok) {
							t.Errorf("message %d still holds %q after delivery:\n%s", r.ID, tok, r.Text)
						}
					}
					if !strings.Contains(r.Text, "/…") {
						t.Errorf("message %d: no redacted link:\n%s", r.ID, r.Text)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d messages marked sent", len(rs), len(msgs))
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := len(md.Messages(t)); n != len(msgs) {
			t.Errorf("MailDev holds %d messages, want %d (one delivery each)", n, len(msgs))
		}
	})
}
