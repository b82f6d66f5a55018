package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"roster/internal/errs"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func setupMessage(to string, i int) Message {
	return Message{Template: "account_setup", To: to, ToName: "Jeanne Dupont", Language: "fr",
		Data: map[string]any{"FirstName": "Jeanne", "Username": fmt.Sprintf("jdupont%d", i),
			"Link": fmt.Sprintf("http://roster.test/account/setup/TOKEN%d", i)}}
}

func mustEnqueue(t testing.TB, db *store.DB, msgs ...Message) {
	t.Helper()
	err := db.Tx(context.Background(), func(tx *store.Tx) error {
		for _, m := range msgs {
			if err := Enqueue(context.Background(), tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustRecords(t testing.TB, db *store.DB, f Filter) []Record {
	t.Helper()
	rs, err := List(context.Background(), db, f)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func newSender(t testing.TB, addr string) *Sender {
	t.Helper()
	s, err := NewSender("smtp://"+addr, "Roster Test <roster@example.org>")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEnqueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		t.Run("rolled back leaves nothing", func(t *testing.T) {
			boom := errors.New("boom")
			err := db.Tx(ctx, func(tx *store.Tx) error {
				if err := Enqueue(ctx, tx, setupMessage("rollback@example.org", 1)); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			if rs := mustRecords(t, db, Filter{To: "rollback@example.org"}); len(rs) != 0 {
				t.Fatalf("%d messages left by a rolled-back transaction", len(rs))
			}
		})
		t.Run("stored rendered and queued", func(t *testing.T) {
			mustEnqueue(t, db, setupMessage("Jeanne@Example.org", 2))
			rs := mustRecords(t, db, Filter{To: "jeanne@example.org"})
			if len(rs) != 1 {
				t.Fatalf("%d messages", len(rs))
			}
			r := rs[0]
			if r.Status != StatusQueued || r.Attempts != 0 || r.Subject != "Un compte a été créé pour vous" ||
				r.ToName != "Jeanne Dupont" || !r.CreatedAt.Equal(clock.T) || !r.NextAttemptAt.Equal(clock.T) || r.SentAt != nil {
				t.Fatalf("%+v", r)
			}
			// At rest the token is sealed; opened with the key it is the link as sent.
			if strings.Contains(r.Text+r.HTML, "TOKEN2") {
				t.Fatalf("the stored message holds the token in clear:\n%s", r.Text)
			}
			text, err := OpenLinks(db.Key, r.Text)
			if err != nil || linesEqual(text, "http://roster.test/account/setup/TOKEN2") != 1 {
				t.Fatalf("text: %v\n%s", err, text)
			}
		})
		t.Run("bad address", func(t *testing.T) {
			for _, addr := range []string{"", "nobody", "a@b@c.org", "Ann <ann@example.org>", "ann@", "ann @example.org", "x@nodot"} {
				err := db.Tx(ctx, func(tx *store.Tx) error { return Enqueue(ctx, tx, setupMessage(addr, 3)) })
				var e *errs.Error
				if !errors.As(err, &e) || e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "email" {
					t.Errorf("%q: err = %v, want an invalid email", addr, err)
				}
			}
		})
	})
}

func TestClaimNeverTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		const n = 300
		msgs := make([]Message, n)
		for i := range msgs {
			msgs[i] = setupMessage(fmt.Sprintf("u%d@example.org", i), i)
		}
		mustEnqueue(t, db, msgs...)
		w := NewWorker(db, nil, quietLog())
		w.BatchSize = 7
		var (
			mu   sync.Mutex
			seen = map[int64]int{}
			wg   sync.WaitGroup
		)
		for range 8 {
			wg.Go(func() {
				for {
					batch, err := w.claim(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					if len(batch) == 0 {
						return
					}
					mu.Lock()
					for _, o := range batch {
						seen[o.id]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("claimed %d distinct messages, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("message %d claimed %d times", id, c)
			}
		}
		// Claims expire: a worker that died holding them does not keep them forever.
		if batch, _ := w.claim(context.Background()); len(batch) != 0 {
			t.Fatalf("claimed %d messages that are held", len(batch))
		}
		clock.Advance(w.ClaimFor + time.Second)
		if batch, _ := w.claim(context.Background()); len(batch) != w.BatchSize {
			t.Fatalf("reclaimed %d stuck messages, want %d", len(batch), w.BatchSize)
		}
	})
}

func TestBackoffThenFailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		// The server refuses this recipient every time: each attempt counts.
		sink := startSMTPSink(t)
		refuse := "451 4.2.0 mailbox busy"
		sink.rcptCode.Store(&refuse)
		w := NewWorker(db, newSender(t, sink.Addr), quietLog())
		mustEnqueue(t, db, setupMessage("late@example.org", 1))
		for attempt := 1; attempt <= MaxAttempts; attempt++ {
			n, err := w.DeliverOnce(ctx)
			if err != nil || n != 1 {
				t.Fatalf("attempt %d: claimed %d, %v", attempt, n, err)
			}
			r := mustRecords(t, db, Filter{To: "late@example.org"})[0]
			if r.Attempts != attempt || r.LastError == "" || r.SentAt != nil {
				t.Fatalf("attempt %d: %+v", attempt, r)
			}
			if attempt == MaxAttempts {
				if r.Status != StatusFailed {
					t.Fatalf("after %d attempts: status %s", attempt, r.Status)
				}
				if strings.Contains(r.Text+r.HTML, "sealed.") || !strings.Contains(r.Text, "/account/setup/…") {
					t.Fatalf("failed for good, the link is still kept:\n%s", r.Text)
				}
				break
			}
			if !strings.Contains(r.Text, "/account/setup/sealed.") {
				t.Fatalf("attempt %d: the waiting message lost its sealed link:\n%s", attempt, r.Text)
			}
			wait := Backoff[attempt-1]
			if r.Status != StatusQueued || !r.NextAttemptAt.Equal(clock.T.Add(wait)) {
				t.Fatalf("attempt %d: status %s, next %v, want queued at now+%v", attempt, r.Status, r.NextAttemptAt, wait)
			}
			clock.Advance(wait - time.Second)
			if n, _ := w.DeliverOnce(ctx); n != 0 {
				t.Fatalf("attempt %d: tried again before the backoff", attempt)
			}
			clock.Advance(time.Second)
		}
		clock.Advance(48 * time.Hour)
		if n, _ := w.DeliverOnce(ctx); n != 0 {
			t.Fatal("a failed message was tried again")
		}
		if rs := mustRecords(t, db, Filter{Status: StatusFailed}); len(rs) != 1 || !strings.Contains(rs[0].LastError, "busy") {
			t.Fatalf("%+v", rs)
		}
	})
}

// A server that cannot be reached is not the messages' fault: no attempt is counted, and the
// retry delay doubles from one second up to RetryCap, so mail flows again within RetryCap of
// the server coming back, however long it was down.
func TestServerDownRetriesSoon(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
		w := NewWorker(db, newSender(t, addr), quietLog())
		mustEnqueue(t, db, setupMessage("a@example.org", 1), setupMessage("b@example.org", 2))
		want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
		for i, wait := range want {
			wait *= time.Second
			n, err := w.DeliverOnce(ctx)
			if n != 2 || !errors.Is(err, errServerDown) {
				t.Fatalf("try %d: claimed %d, %v", i, n, err)
			}
			for _, r := range mustRecords(t, db, Filter{Status: StatusQueued}) {
				if r.Attempts != 0 || !strings.Contains(r.LastError, "connect") || !r.NextAttemptAt.Equal(clock.T.Add(wait)) {
					t.Fatalf("try %d: %+v, want due at now+%v", i, r, wait)
				}
			}
			clock.Advance(wait)
		}
		// 40 minutes of failures later, the server comes back on the same address.
		sink := startSMTPSinkOn(t, addr)
		if n, err := w.DeliverOnce(ctx); n != 2 || err != nil {
			t.Fatalf("after the server came back: claimed %d, %v", n, err)
		}
		if got := sink.received.Load(); got != 2 {
			t.Fatalf("received %d", got)
		}
		for _, r := range mustRecords(t, db, Filter{Status: StatusSent}) {
			if r.Attempts != 1 || r.LastError != "" {
				t.Fatalf("%+v", r)
			}
		}
	})
}

// Each message's outcome is written before the next message goes, so that a crash can send
// again only the message in flight.
func TestOutcomeRecordedPerMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		const n = 12
		msgs := make([]Message, n)
		for i := range msgs {
			msgs[i] = setupMessage(fmt.Sprintf("p%d@example.org", i), i)
		}
		mustEnqueue(t, db, msgs...)
		sink := startSMTPSink(t)
		var bad []string
		sink.before = func() {
			var sent int
			if err := db.QueryRowContext(context.Background(),
				`SELECT count(*) FROM outbox WHERE status = 'sent'`).Scan(&sent); err != nil {
				bad = append(bad, err.Error())
			}
			if want := int(sink.received.Load()); sent != want {
				bad = append(bad, fmt.Sprintf("while accepting message %d, %d recorded sent", want+1, sent))
			}
		}
		w := NewWorker(db, newSender(t, sink.Addr), quietLog())
		w.Lanes = 1
		if got, err := w.DeliverOnce(context.Background()); got != n || err != nil {
			t.Fatalf("claimed %d, %v", got, err)
		}
		if len(bad) > 0 || sink.received.Load() != n {
			t.Fatalf("received %d; %v", sink.received.Load(), bad)
		}
	})
}

// A lease is renewed while the worker sends: another worker does not take over the messages
// of a live one, however long the batch takes.
func TestLeaseRenewedWhileSending(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	msgs := make([]Message, 6)
	for i := range msgs {
		msgs[i] = setupMessage(fmt.Sprintf("r%d@example.org", i), i)
	}
	mustEnqueue(t, db, msgs...)
	sink := startSMTPSink(t)
	sink.delay.Store(int64(500 * time.Millisecond))
	w := NewWorker(db, newSender(t, sink.Addr), quietLog())
	w.ClaimFor = time.Second // 6 messages take 3 s: without renewal the lease would lapse
	other := NewWorker(db, newSender(t, sink.Addr), quietLog())
	done := make(chan error, 1)
	go func() { _, err := w.DeliverOnce(context.Background()); done <- err }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if got := sink.received.Load(); got != int64(len(msgs)) {
				t.Fatalf("received %d, want %d", got, len(msgs))
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if batch, err := other.claim(context.Background()); err != nil || len(batch) > 0 {
			t.Fatalf("another worker took over %d messages of a live one (%v)", len(batch), err)
		}
	}
}

func TestLastStatusFor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		sink := startSMTPSink(t)
		mustEnqueue(t, db, setupMessage("a@example.org", 1))
		if _, err := NewWorker(db, newSender(t, sink.Addr), quietLog()).DeliverOnce(ctx); err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, db, setupMessage("b@example.org", 2), setupMessage("A@example.org", 3))
		got, err := LastStatusFor(ctx, db, []string{"a@example.org", "B@example.org", "c@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"a@example.org": "queued", "B@example.org": "queued"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		mustEnqueue(t, db, setupMessage("c@example.org", 4))
		if _, err := NewWorker(db, newSender(t, sink.Addr), quietLog()).DeliverOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ = LastStatusFor(ctx, db, []string{"c@example.org"})
		if got["c@example.org"] != "sent" {
			t.Fatalf("got %v", got)
		}
	})
}

func TestList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		for i := range 5 {
			mustEnqueue(t, db, setupMessage("page@example.org", i))
		}
		first := mustRecords(t, db, Filter{To: "page@example.org", Limit: 3})
		if len(first) != 3 || first[0].ID < first[1].ID {
			t.Fatalf("not newest first: %v", first)
		}
		rest := mustRecords(t, db, Filter{To: "page@example.org", BeforeID: first[2].ID})
		if len(rest) != 2 || rest[0].ID >= first[2].ID {
			t.Fatalf("second page: %v", rest)
		}
		if rs := mustRecords(t, db, Filter{Status: StatusSent}); len(rs) != 0 {
			t.Fatalf("%d sent", len(rs))
		}
		for _, f := range []Filter{{Status: "lost"}, {Limit: 1001}, {Limit: -1}} {
			var e *errs.Error
			if _, err := List(context.Background(), db, f); !errors.As(err, &e) || e.Code != errs.Invalid {
				t.Errorf("%+v: err = %v", f, err)
			}
		}
	})
}

func TestMasked(t *testing.T) {
	r := Record{
		Subject: "see https://r.example.org/invitation/abcDEF_-123",
		Text: "https://r.example.org/invitation/AAA\nhttps://r.example.org/account/setup/BBB\n" +
			"https://r.example.org/password/reset/CCC=\nhttps://r.example.org/setup/DDD\nhttps://r.example.org/login\n",
		HTML: `<a href="https://r.example.org/password/reset/EEE">https://r.example.org/password/reset/EEE</a>`,
	}
	m := Masked(r)
	for _, tok := range []string{"abcDEF", "AAA", "BBB", "CCC", "DDD", "EEE"} {
		if strings.Contains(m.Subject+m.Text+m.HTML, tok) {
			t.Errorf("token %s not masked:\n%s\n%s\n%s", tok, m.Subject, m.Text, m.HTML)
		}
	}
	wantText := "https://r.example.org/invitation/…\nhttps://r.example.org/account/setup/…\n" +
		"https://r.example.org/password/reset/…\nhttps://r.example.org/setup/…\nhttps://r.example.org/login\n"
	if m.Text != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", m.Text, wantText)
	}
	if r.Text == m.Text {
		t.Error("Masked changed its argument in place, or nothing")
	}
	// Real rendered emails: the link is gone from every part.
	for name := range specs {
		rr, err := render(Message{Template: name, Language: "fr", Data: sampleData(name)})
		if err != nil {
			t.Fatal(err)
		}
		m := Masked(Record{Subject: rr.Subject, Text: rr.Text, HTML: rr.HTML})
		if strings.Contains(m.Text+m.HTML, "TOKEN_abc-123") {
			t.Errorf("%s: token left after masking", name)
		}
	}
}

func TestNewSender(t *testing.T) {
	for _, bad := range []string{"http://x", "smtp://", "smtp://h:0", "smtp://h:99999", "smtp://h:port"} {
		if _, err := NewSender(bad, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := NewSender("smtp://h", "not an address"); err == nil {
		t.Error("bad --mail-from accepted")
	}
	s, err := NewSender("smtps://user:secret@mail.example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.String(), "secret") || s.From() != `"Roster" <noreply@localhost>` {
		t.Errorf("%s from %s", s, s.From())
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	sink := startSMTPSink(t)
	w := NewWorker(db, newSender(t, sink.Addr), quietLog())
	w.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	// The wake after commit starts delivery long before the next poll.
	mustEnqueue(t, db, setupMessage("woken@example.org", 1))
	deadline := time.Now().Add(5 * time.Second)
	for sink.received.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("not delivered after a wake-up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestShutdownFinishesTheBatchInFlight(t *testing.T) {
	for _, tc := range []struct {
		name    string
		grace   time.Duration
		wantAll bool
	}{
		{"within grace", 10 * time.Second, true},
		{"grace ran out", 150 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := storetest.OpenSQLite(t)
			sink := startSMTPSink(t)
			sink.delay.Store(int64(40 * time.Millisecond))
			msgs := make([]Message, 20)
			for i := range msgs {
				msgs[i] = setupMessage(fmt.Sprintf("s%d@example.org", i), i)
			}
			mustEnqueue(t, db, msgs...)
			w := NewWorker(db, newSender(t, sink.Addr), quietLog())
			w.Lanes, w.BatchSize, w.Grace = 1, len(msgs), tc.grace
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			for sink.received.Load() < 1 {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			sent := len(mustRecords(t, db, Filter{Status: StatusSent}))
			queued := mustRecords(t, db, Filter{Status: StatusQueued})
			if int64(sent) != sink.received.Load() || sent+len(queued) != len(msgs) {
				t.Fatalf("sent %d, received %d, queued %d", sent, sink.received.Load(), len(queued))
			}
			if tc.wantAll != (sent == len(msgs)) {
				t.Fatalf("sent %d of %d", sent, len(msgs))
			}
			for _, r := range queued { // released, not counted as an attempt, due again at once
				if r.Attempts != 0 || r.LastError != "" {
					t.Fatalf("%+v", r)
				}
			}
			if n, _ := w.DeliverOnce(context.Background()); n != len(queued) {
				t.Fatalf("released messages not claimable: %d of %d", n, len(queued))
			}
		})
	}
}

// Two instances share the outbox: two running workers deliver each message exactly once.
func TestTwoWorkersShareTheOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		const n = 300
		msgs := make([]Message, n)
		for i := range msgs {
			msgs[i] = setupMessage(fmt.Sprintf("two%d@example.org", i), i)
		}
		mustEnqueue(t, db, msgs...)
		sink := startSMTPSink(t)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 2 {
			w := NewWorker(db, newSender(t, sink.Addr), quietLog())
			w.BatchSize = 10
			wg.Go(func() { w.Run(ctx) })
		}
		for deadline := time.Now().Add(60 * time.Second); sink.received.Load() < n && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // anything sent twice would arrive now
		cancel()
		wg.Wait()
		sink.mu.Lock()
		defer sink.mu.Unlock()
		if len(sink.ids) != n || sink.received.Load() != n {
			t.Fatalf("%d distinct Message-IDs, %d messages, want %d", len(sink.ids), sink.received.Load(), n)
		}
		if sent := len(mustRecords(t, db, Filter{Status: StatusSent, Limit: 1000})); sent != n {
			t.Fatalf("%d recorded sent", sent)
		}
	})
}

// A message tried again keeps the Message-ID its first claim gave it, even when the sender's
// address has changed meanwhile: a duplicate after a crash can be recognised.
func TestMessageIDKeptAcrossAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		mustEnqueue(t, db, setupMessage("again@example.org", 1))
		sink := startSMTPSink(t)
		refuse := "451 4.3.0 try later"
		sink.rcptCode.Store(&refuse)
		if _, err := NewWorker(db, newSender(t, sink.Addr), quietLog()).DeliverOnce(ctx); err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := db.QueryRowContext(ctx, `SELECT message_id FROM outbox`).Scan(&stored); err != nil || !strings.HasSuffix(stored, "@example.org") {
			t.Fatalf("stored Message-ID %q %v", stored, err)
		}
		sink.rcptCode.Store(nil)
		clock.Advance(Backoff[0])
		other, err := NewSender("smtp://"+sink.Addr, "Roster <noreply@elsewhere.test>")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := NewWorker(db, other, quietLog()).DeliverOnce(ctx); n != 1 || err != nil {
			t.Fatalf("second attempt: %d %v", n, err)
		}
		sink.mu.Lock()
		defer sink.mu.Unlock()
		if sink.ids["<"+stored+">"] != 1 {
			t.Fatalf("received %v, want the stored <%s>", sink.ids, stored)
		}
	})
}

// TestSealedLinksNeedTheKey: a queued message's links open with the database's key only, and
// a message sealed with another key is not sent with a broken link: it fails like an
// undeliverable one.
func TestSealedLinksNeedTheKey(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	mustEnqueue(t, db, setupMessage("key@example.org", 7))
	r := mustRecords(t, db, Filter{To: "key@example.org"})[0]
	if _, err := OpenLinks(secret.NewKey(), r.Text); !errors.Is(err, secret.ErrNotOpened) {
		t.Fatalf("opened with another key: %v", err)
	}
	if text, err := OpenLinks(db.Key, r.Text); err != nil || !strings.Contains(text, "/account/setup/TOKEN7\n") {
		t.Fatalf("%v\n%s", err, text)
	}
	if m := Masked(r); strings.Contains(m.Text, "sealed") || !strings.Contains(m.Text, "/account/setup/…") {
		t.Fatalf("masked:\n%s", m.Text)
	}
	// "sealed." outside a link is text, left alone.
	if s, err := OpenLinks(db.Key, "The deal is sealed.Done, see /courses/sealed.x"); err != nil || s != "The deal is sealed.Done, see /courses/sealed.x" {
		t.Fatalf("%q %v", s, err)
	}

	db.Key = secret.NewKey() // the operator lost the key
	w := NewWorker(db, newSender(t, fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))), quietLog())
	if n, err := w.DeliverOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("claimed %d, %v", n, err)
	}
	r = mustRecords(t, db, Filter{To: "key@example.org"})[0]
	if r.Status != StatusQueued || r.Attempts != 1 || !strings.Contains(r.LastError, "ROSTER_SECRET_KEY") {
		t.Fatalf("%+v", r)
	}
}

// TestMigrationRedactsDeliveredLinks: links that earlier versions left in clear in sent and
// failed emails are cut by migration 0016; queued emails keep theirs until delivered.
func TestMigrationRedactsDeliveredLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		ctx := context.Background()
		tok := func(i int) string { return fmt.Sprintf("%s%03d", strings.Repeat("Ab_-9", 8), i) } // 43 characters
		insert := func(template, path, status string, i int) int64 {
			link := "https://roster.test" + path + tok(i)
			var id int64
			err := db.QueryRowContext(ctx, `INSERT INTO outbox (template, to_addr, to_name, language, subject, text_body, html_body,
				status, created_at, next_attempt_at) VALUES ($1, 'a@example.org', '', 'en', 'Hello', $2, $3, $4, 0, 0) RETURNING id`,
				template, "Open:\n\n"+link+"\n\nBye", `<a href="`+link+`">`+link+`</a>`, status).Scan(&id)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		sent := insert("password_reset", "/password/reset/", "sent", 1)
		failed := insert("invitation", "/invitation/", "failed", 2)
		setup := insert("account_setup", "/account/setup/", "sent", 3)
		queued := insert("password_reset", "/password/reset/", "queued", 4)
		ms, err := store.Migrations(db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Version == 16 {
				if _, err := db.ExecContext(ctx, m.SQL); err != nil {
					t.Fatal(err)
				}
			}
		}
		body := func(id int64) string {
			var text, html string
			db.QueryRowContext(ctx, `SELECT text_body, html_body FROM outbox WHERE id = $1`, id).Scan(&text, &html)
			return text + html
		}
		for i, id := range []int64{sent, failed, setup} {
			if b := body(id); strings.Contains(b, tok(i+1)) || strings.Count(b, "/…") != 3 || !strings.Contains(b, "Bye") {
				t.Errorf("message %d after the migration:\n%s", id, b)
			}
		}
		if b := body(queued); !strings.Contains(b, tok(4)) {
			t.Errorf("a queued message lost its link:\n%s", b)
		}
	})
}
