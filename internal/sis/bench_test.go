package sis

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// BenchmarkSyncScale is the benchmark of docs/benchmarks.md: 40,000 students, 2,000 courses,
// 500,000 enrolments; the first sync, then a nightly run with 2 % changed, then the same file
// again. Each step is reported as a metric (seconds), with the peak heap in use.
// ROSTER_SIS_BENCH=small runs a tenth of it; ROSTER_BENCH_ROWS=N runs N enrolments (people
// and courses scaled alike); ROSTER_BENCH_DB=sqlite or postgres runs one database;
// ROSTER_BENCH_PHASES=1 logs the time of each phase of each run:
//
//	go test ./internal/sis -run '^$' -bench SyncScale -benchtime 1x -timeout 40m
func BenchmarkSyncScale(b *testing.B) {
	users, courses, enrolments := 40000, 2000, 500000
	if os.Getenv("ROSTER_SIS_BENCH") == "small" {
		users, courses, enrolments = 4000, 200, 50000
	}
	if n, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_ROWS")); err == nil && n >= 1000 {
		users, courses, enrolments = n*2/25, max(1, n/250), n
	}
	dialects := []string{"sqlite", "postgres"}
	if d := os.Getenv("ROSTER_BENCH_DB"); d != "" {
		dialects = []string{d}
	}
	// As `roster sync` does: a soft memory limit, so garbage does not pile up between
	// collections.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(MemoryLimit))
	for _, dialect := range dialects {
		b.Run(dialect, func(b *testing.B) {
			if os.Getenv("ROSTER_BENCH_PHASES") != "" {
				last := cpuTime()
				var mu sync.Mutex // the read of the enrolments reports from its own goroutine
				phaseHook = func(name string, d time.Duration) {
					mu.Lock()
					defer mu.Unlock()
					now := cpuTime()
					fmt.Fprintf(os.Stderr, "  %s phase %-26s %8v wall %8v cpu\n", dialect, name, d.Round(time.Millisecond), (now - last).Round(time.Millisecond))
					last = now
				}
				defer func() { phaseHook = nil }()
			}
			for b.Loop() {
				b.StopTimer()
				var db *store.DB
				var clock *storetest.Clock
				if dialect == "sqlite" {
					db, clock = storetest.OpenSQLite(b)
				} else {
					db, clock = storetest.OpenPostgres(b)
				}
				b.StartTimer()
				syncScale(b, db, clock, users, courses, enrolments)
			}
		})
	}
}

func syncScale(t *testing.B, db *store.DB, clock *storetest.Clock, users, courses, enrolments int) {
	{
		ctx := context.Background()
		seed(t, db, courses, users)
		perUser := enrolments / users
		row := func(b *bytes.Buffer, u, j int, role string) {
			fmt.Fprintf(b, "c%d,u%d,%s\n", (j*157+u)%courses+1, u+1, role)
		}
		// The first night: every enrolment is new.
		var b bytes.Buffer
		b.WriteString("course,user,role\n")
		for u := 0; u < users; u++ {
			for j := 0; j < perUser+boolInt(u < enrolments%users); j++ {
				row(&b, u, j, "student")
			}
		}
		first := b.Bytes()
		// The next night: 2 % changed: 1 % new, 0.5 % role changes, 0.5 % gone.
		b = bytes.Buffer{}
		b.WriteString("course,user,role\n")
		n, changed, gone := 0, 0, 0
		for u := 0; u < users; u++ {
			for j := 0; j < perUser+boolInt(u < enrolments%users); j++ {
				n++
				switch {
				case n%200 == 0:
					gone++
					continue
				case n%200 == 100:
					changed++
					row(&b, u, j, "teacher")
				default:
					row(&b, u, j, "student")
				}
			}
			if u%8 == 0 { // 1 % new: one more course for an eighth of the people
				row(&b, u, perUser+1, "student")
			}
		}
		second := b.Bytes()

		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		defer close(stop)

		night := func(name, metric string, data []byte) *Report {
			start := time.Now()
			src, err := ReadCSV(bytes.NewReader(data), "nightly.csv")
			if err != nil {
				t.Fatal(err)
			}
			tracePhase("read+parse", start)
			src.Name = "nightly"
			rep, err := Run(ctx, db, src, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			d := time.Since(start)
			t.Logf("%s %s: %s in %v (parse+diff+apply), peak heap in use %d MB", db.Dialect, name, rep.Summary(),
				d.Round(time.Millisecond), peak.Load()>>20)
			t.ReportMetric(d.Seconds(), metric)
			t.ReportMetric(float64(peak.Load()>>20), "peak-heap-MB")
			return rep
		}
		if rep := night("first sync", "first-s", first); rep.Added != enrolments {
			t.Fatalf("first: %s", rep.Summary())
		}
		clock.Advance(24 * time.Hour)
		rep := night("nightly 2 %", "nightly-s", second)
		if rep.Added != users/8 || rep.Changed != changed || rep.Removed != gone {
			t.Fatalf("nightly: %s, want added %d changed %d removed %d", rep.Summary(), users/8, changed, gone)
		}
		clock.Advance(24 * time.Hour)
		if rep := night("same file again", "rerun-s", second); rep.Added+rep.Changed+rep.Removed != 0 {
			t.Fatalf("rerun: %s", rep.Summary())
		}
		// Last, so that its writes (and their checkpoint) weigh on no run above.
		floor(t, db)
	}
}

// cpuTime is the CPU time the process used so far (user and system, every thread).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// floor measures, in the same run, the raw insert of the enrolments the runs made: the same
// rows, written as multi-row INSERTs of literals in one transaction into a copy of
// course_enrolments with its indexes (no foreign keys, no triggers), the least a sync can do.
func floor(t *testing.B, db *store.DB) {
	ctx := context.Background()
	type row struct {
		course, method, user int64
		role                 string
	}
	var all []row
	rows, err := db.QueryContext(ctx, `SELECT course_id, method_id, user_id, role FROM course_enrolments`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.course, &r.method, &r.user, &r.role); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	rows.Close()
	for _, q := range []string{
		`CREATE TABLE floor_enrolments (id BIGINT, course_id BIGINT NOT NULL, method_id BIGINT NOT NULL, user_id BIGINT NOT NULL,
			role TEXT NOT NULL, status TEXT NOT NULL, starts_at BIGINT, ends_at BIGINT, sync_run_id BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX floor_method_user ON floor_enrolments (method_id, user_id)`,
		`CREATE INDEX floor_course_user ON floor_enrolments (course_id, user_id, status, starts_at, ends_at, role, method_id)`,
		`CREATE INDEX floor_user ON floor_enrolments (user_id, course_id)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	err = db.Tx(ctx, func(tx *store.Tx) error {
		for s := 0; s < len(all); s += 500 {
			var b strings.Builder
			b.WriteString(`INSERT INTO floor_enrolments VALUES `)
			for i, r := range all[s:min(s+500, len(all))] {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "(%d, %d, %d, %d, '%s', 'active', NULL, NULL, 1, 0, 0)", s+i+1, r.course, r.method, r.user, r.role)
			}
			if _, err := tx.ExecContext(ctx, b.String()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	t.Logf("%s floor: raw insert of the same %d enrolments in one transaction: %v", db.Dialect, len(all), d.Round(time.Millisecond))
	t.ReportMetric(d.Seconds(), "floor-first-s")
	if _, err := db.ExecContext(ctx, `DROP TABLE floor_enrolments`); err != nil {
		t.Fatal(err)
	}
}
