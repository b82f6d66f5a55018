package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/invite"
	"roster/internal/mail"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

// TestNoWorkingLinkAtRest copies the database after invitations, password resets and account
// set-ups, some delivered and some still queued, reads every column of every table of the
// copy, and tries everything that looks like a token (every run of 16 or more URL-safe
// characters, and every 43-character window of a longer run) as a reset, set-up and
// invitation token. None may work. The same check on a link as delivered proves it would
// have noticed one.
func TestNoWorkingLinkAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		r := newWireRig(t, db, clock)
		md := testenv.StartMailDev(t)
		sender, err := mail.NewSender("smtp://"+md.SMTPAddr, "Roster <roster@example.org>")
		if err != nil {
			t.Fatal(err)
		}
		worker := mail.NewWorker(db, sender, nil)

		// Every kind of link, twice: the first round delivered, the second left queued.
		var queuedInvitation int64
		for round, suffix := range []string{"sent", "queued"} {
			res, err := r.svc.invites.Invite(r.admin, invite.Request{Emails: "guest-" + suffix + "@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			queuedInvitation = res[0].InvitationID
			err = db.Tx(ctx, func(tx *store.Tx) error {
				u, err := r.svc.accounts.CreateUser(ctx, tx, account.NewUser{Email: "new-" + suffix + "@example.org",
					FirstName: "New", LastName: "Person"})
				if err != nil {
					return err
				}
				_, err = r.svc.accounts.IssueAccountSetup(ctx, tx, u)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			holder := fmt.Sprintf("holder%d", round)
			r.user(holder)
			if _, err := db.ExecContext(ctx, `UPDATE users SET password_hash = 'x' WHERE username = $1`, holder); err != nil {
				t.Fatal(err)
			}
			if err := r.svc.accounts.RequestReset(ctx, holder, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			if suffix == "sent" {
				if n, err := worker.DeliverOnce(ctx); err != nil || n != 3 {
					t.Fatalf("delivered %d, %v", n, err)
				}
			}
		}
		// Links handed to an administrator: a fresh invitation link ("copy a fresh link"), and
		// the set-up link of an account without email.
		fresh, err := r.svc.invites.FreshLink(r.admin, queuedInvitation)
		if err != nil {
			t.Fatal(err)
		}
		var setupLink string
		err = db.Tx(ctx, func(tx *store.Tx) error {
			u, err := r.svc.accounts.CreateUser(ctx, tx, account.NewUser{Username: "nomail", FirstName: "No", LastName: "Mail"})
			if err != nil {
				return err
			}
			setupLink, err = r.svc.accounts.IssueSetupLink(ctx, tx, u.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var queued int
		db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE status = 'queued'`).Scan(&queued)
		if queued != 3 {
			t.Fatalf("%d messages queued, want 3", queued)
		}

		snap := db
		if db.Dialect == store.SQLite { // a copy of the file, opened without the key
			path := filepath.Join(t.TempDir(), "copy.db")
			if _, err := db.ExecContext(ctx, `VACUUM INTO '`+path+`'`); err != nil {
				t.Fatal(err)
			}
			if snap, err = store.Open(ctx, "sqlite:"+path); err != nil {
				t.Fatal(err)
			}
			defer snap.Close()
		} // PostgreSQL: the schema itself, as a dump would hold it

		works := func(token string) string {
			if err := r.svc.accounts.ResetPassword(ctx, token, "a long enough passphrase 1"); err == nil {
				return "reset"
			}
			if err := r.svc.accounts.CompleteAccountSetup(ctx, token, "a long enough passphrase 1"); err == nil {
				return "set-up"
			}
			if _, err := r.svc.invites.Accept(ctx, invite.Acceptance{Token: token, FirstName: "A", LastName: "B",
				Password: "a long enough passphrase 1"}); err == nil {
				return "invitation"
			}
			return ""
		}

		candidates := tokenCandidates(t, snap)
		if len(candidates) < 6 {
			t.Fatalf("only %d candidates found: the scan reads nothing", len(candidates))
		}
		for c, where := range candidates {
			if kind := works(c); kind != "" {
				t.Errorf("a working %s token at rest, in %s: %s", kind, where, c)
			}
		}

		// The control: the same check finds the token of a link as it was delivered.
		got := md.WaitFor(t, "guest-sent@example.org", 1, 10*time.Second)
		m := regexp.MustCompile(`/invitation/([A-Za-z0-9_-]{43})`).FindStringSubmatch(got[0].Text)
		if m == nil {
			t.Fatalf("no link in the delivered invitation:\n%s", got[0].Text)
		}
		if kind := works(m[1]); kind != "invitation" {
			t.Fatalf("the delivered invitation link does not work (%q): the check proves nothing", kind)
		}
		// The links handed to the administrator work: copying a fresh link still does its job.
		for link, want := range map[string]string{fresh: "invitation", setupLink: "set-up"} {
			if kind := works(link[strings.LastIndexByte(link, '/')+1:]); kind != want {
				t.Errorf("%s: %q, want a working %s link", link, kind, want)
			}
		}
	})
}

var tokenish = regexp.MustCompile(`[A-Za-z0-9_-]{16,}`)

// tokenCandidates reads every column of every table and returns each token-like string with
// the table and column it was found in.
func tokenCandidates(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`
	if db.Dialect == store.Postgres {
		q = `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 20 {
		t.Fatalf("%d columns: the scan misses the schema", len(cols))
	}
	out := map[string]string{}
	for _, c := range cols {
		rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT CAST(%q AS TEXT) FROM %q WHERE %q IS NOT NULL`, c[1], c[0], c[1]))
		if err != nil {
			t.Fatalf("%s.%s: %v", c[0], c[1], err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			for _, run := range tokenish.FindAllString(v, -1) {
				out[run] = c[0] + "." + c[1]
				for i := 0; len(run) > 43 && i+43 <= len(run); i++ {
					out[run[i:i+43]] = c[0] + "." + c[1]
				}
			}
		}
		rows.Close()
	}
	return out
}
