package mail

import (
	"context"
	"fmt"
	"testing"
	"time"

	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testenv"
)

const benchMessages = 10000

// BenchmarkDeliver10000 measures how long the worker takes to deliver 10,000 queued messages
// (target: under 30 s), to MailDev and to smtpSink, a minimal SMTP server in this process
// that shows the worker's own speed when MailDev is the bottleneck. Run:
//
//	go test ./internal/mail -run '^$' -bench Deliver10000 -benchtime 1x
func BenchmarkDeliver10000(b *testing.B) {
	for _, target := range []string{"maildev", "sink"} {
		for _, dbName := range []string{"sqlite", "postgres"} {
			b.Run(target+"/"+dbName, func(b *testing.B) {
				var db *store.DB
				if dbName == "sqlite" {
					db, _ = storetest.OpenSQLite(b)
				} else {
					db, _ = storetest.OpenPostgres(b)
				}
				var (
					addr  string
					reset = func() {}
				)
				if target == "maildev" {
					md := testenv.StartMailDev(b)
					addr, reset = md.SMTPAddr, func() { md.DeleteAll(b) }
				} else {
					addr = startSMTPSink(b).Addr
				}
				var total time.Duration
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					reset()
					enqueueMany(b, db, i)
					b.StartTimer()
					total += deliverAll(b, db, newSender(b, addr))
				}
				perRun := total / time.Duration(b.N)
				b.ReportMetric(perRun.Seconds(), "s/10k")
				b.ReportMetric(float64(benchMessages)/perRun.Seconds(), "msgs/s")
			})
		}
	}
}

// enqueueMany queues benchMessages messages, in transactions of 1,000.
func enqueueMany(b *testing.B, db *store.DB, round int) {
	b.Helper()
	for start := 0; start < benchMessages; start += 1000 {
		msgs := make([]Message, 1000)
		for i := range msgs {
			msgs[i] = setupMessage(fmt.Sprintf("user%d.%d@example.org", round, start+i), start+i)
		}
		mustEnqueue(b, db, msgs...)
	}
}

// deliverAll runs a worker until no message is queued and returns how long it took.
func deliverAll(b *testing.B, db *store.DB, s *Sender) time.Duration {
	b.Helper()
	start := time.Now()
	w := NewWorker(db, s, quietLog())
	w.Poll = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := start.Add(2 * time.Minute)
	for {
		var queued int
		err := db.QueryRowContext(context.Background(),
			`SELECT count(*) FROM outbox WHERE status = 'queued'`).Scan(&queued)
		if err != nil {
			b.Fatal(err)
		}
		if queued == 0 {
			elapsed := time.Since(start)
			var bad int
			err := db.QueryRowContext(context.Background(),
				`SELECT count(*) FROM outbox WHERE status <> 'sent' OR attempts <> 1`).Scan(&bad)
			if err != nil || bad != 0 {
				b.Fatalf("%d messages failed or retried (%v)", bad, err)
			}
			return elapsed
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d messages still queued after %v", queued, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
