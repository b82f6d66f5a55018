package mail

import (
	"context"
	"testing"

	"roster/internal/site"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestSiteLanguageForPeopleWithout: an email to someone without a saved language goes out in
// the site's language; someone's own language still wins.
func TestSiteLanguageForPeopleWithout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		data := func() map[string]any {
			return map[string]any{"Username": "ext", "Link": "https://roster.test/setup/T"}
		}
		mustEnqueue(t, db, Message{Template: "account_setup", To: "a@example.org", Data: data()})
		if err := site.Configure(ctx, db, "fr", "Europe/Paris"); err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, db, Message{Template: "account_setup", To: "b@example.org", Data: data()},
			Message{Template: "account_setup", To: "c@example.org", Language: "en", Data: data()})
		for to, want := range map[string]string{"a@example.org": "en", "b@example.org": "fr", "c@example.org": "en"} {
			var lang, subject string
			if err := db.QueryRowContext(ctx, `SELECT language, subject FROM outbox WHERE to_addr = $1`, to).Scan(&lang, &subject); err != nil {
				t.Fatal(err)
			}
			if lang != want {
				t.Errorf("%s: language %s (%q), want %s", to, lang, subject, want)
			}
		}
		var subject string
		db.QueryRowContext(ctx, `SELECT subject FROM outbox WHERE to_addr = 'b@example.org'`).Scan(&subject)
		if subject != "Un compte a été créé pour vous" {
			t.Errorf("subject %q", subject)
		}
	})
}
