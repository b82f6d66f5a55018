package bulk_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"roster/internal/bulk"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// BenchmarkImport measures the target: N users (ROSTER_BENCH_ROWS, default 100,000)
// with one course enrolment and one group each, from one Moodle CSV, previewed then applied.
// Run it with:
//
//	go test ./internal/bulk -run '^$' -bench Import -benchtime 1x                 (SQLite)
//	ROSTER_TEST_POSTGRES=postgres://... go test ./internal/bulk -run '^$' -bench Import -benchtime 1x
//
// The figures include the check pass Apply makes before writing. For the process's peak
// memory: go test -c -o /tmp/bulk.test ./internal/bulk && cd internal/bulk &&
// /usr/bin/time -f 'maxrss %M KB' /tmp/bulk.test -test.run '^$' -test.bench Import -test.benchtime 1x
func BenchmarkImport(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	b.Run("sqlite", func(b *testing.B) {
		db, _ := storetest.OpenSQLite(b)
		benchImport(b, db, n)
	})
	if os.Getenv("ROSTER_TEST_POSTGRES") != "" {
		b.Run("postgres", func(b *testing.B) {
			db, _ := storetest.OpenPostgres(b)
			benchImport(b, db, n)
		})
	}
}

func benchImport(b *testing.B, db *store.DB, n int) {
	e := newEnv(b, db)
	const groups = 50
	for i := range groups {
		if _, err := e.groups.Create(admin, group.Group{Name: fmt.Sprintf("Class %d", i), IDNumber: fmt.Sprintf("C%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "users.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "username,firstname,lastname,email,course1,role1,cohort1")
	courses := []string{"math102", "management1", "film1"}
	for i := range n {
		fmt.Fprintf(w, "user%d,First%d,Last%d,user%d@example.org,%s,student,C%d\n", i, i, i, i, courses[i%3], i%groups)
	}
	w.Flush()
	f.Close()
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	o := bulk.Options{Format: bulk.FormatMoodle}

	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if v := ms.HeapInuse + ms.StackInuse; v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	start := time.Now()
	rc, _ := open()
	rep, err := e.svc.Preview(admin, rc, o)
	rc.Close()
	if err != nil || rep.Summary.Created != n {
		b.Fatalf("preview: %v %+v", err, rep.Summary)
	}
	preview := time.Since(start)
	start = time.Now()
	rep, err = e.svc.Apply(admin, open, o)
	if err != nil || rep.Summary.Created != n || rep.Summary.Enrolled != n {
		b.Fatalf("apply: %v %+v", err, rep.Summary)
	}
	apply := time.Since(start)
	b.StopTimer()
	close(stop)
	b.ReportMetric(preview.Seconds(), "preview-s")
	b.ReportMetric(apply.Seconds(), "apply-s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.Logf("%s, %d rows: preview %s, apply %s (includes its own check pass), peak heap %d MB", db.Dialect, n, preview, apply, peak.Load()>>20)
}
