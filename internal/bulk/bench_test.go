package bulk_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
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
//	go test ./internal/bulk -run '^$' -bench '^BenchmarkImport$' -benchtime 1x                 (SQLite)
//	ROSTER_TEST_POSTGRES=postgres://... go test ./internal/bulk -run '^$' -bench '^BenchmarkImport$' -benchtime 1x
//
// The figures include the check pass Apply makes before writing; BenchmarkImport/sqlite-floor
// gives the floors of the same rows in the same run (see rawFloor) and the apply's ratio to
// each. For the process's peak memory of the import alone (an unanchored "Import" also runs
// BenchmarkImportPasswords, whose argon2id wrapping has its own peak):
//
//	go test -c -o /tmp/bulk.test ./internal/bulk && cd internal/bulk &&
//	/usr/bin/time -f 'maxrss %M KB' /tmp/bulk.test -test.run '^$' -test.bench '^BenchmarkImport$/^sqlite$' -test.benchtime 1x
func BenchmarkImport(b *testing.B) {
	n := benchRows()
	var apply time.Duration // the SQLite apply of this run, for the floor's ratios
	b.Run("sqlite", func(b *testing.B) {
		db, _ := storetest.OpenSQLite(b)
		apply = benchImport(b, db, n)
	})
	// The floors, in the same run: the same rows (accounts, their enrolment and their group)
	// inserted without Roster into a fresh SQLite database, one transaction, one prepared
	// statement a table: into the three tables with their primary keys only (the raw floor;
	// the target: the import's apply at most 3 times this), and into Roster's schema.
	b.Run("sqlite-floor", func(b *testing.B) {
		raw := rawFloor(b, n, false)
		schema := rawFloor(b, n, true)
		b.ReportMetric(raw.Seconds(), "floor-s")
		b.ReportMetric(schema.Seconds(), "schema-floor-s")
		b.Logf("sqlite floors, %d accounts with one enrolment and one group each: raw (primary keys only) %s, Roster's schema %s",
			n, raw, schema)
		if apply > 0 {
			b.ReportMetric(apply.Seconds()/raw.Seconds(), "apply/floor")
			b.ReportMetric(apply.Seconds()/schema.Seconds(), "apply/schema-floor")
			b.Logf("apply %s: %.2f× the raw floor, %.2f× the floor with Roster's schema", apply,
				apply.Seconds()/raw.Seconds(), apply.Seconds()/schema.Seconds())
		}
	})
	if os.Getenv("ROSTER_TEST_POSTGRES") != "" {
		b.Run("postgres", func(b *testing.B) {
			db, _ := storetest.OpenPostgresNamed(b, benchApp)
			benchImport(b, db, n)
		})
	}
}

func benchImport(b *testing.B, db *store.DB, n int) time.Duration {
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
				if path := os.Getenv("ROSTER_BENCH_HEAPPROF"); path != "" {
					// The live heap of the last GC before the peak, for `go tool pprof`.
					if f, err := os.Create(path); err == nil {
						_ = pprof.Lookup("heap").WriteTo(f, 0)
						f.Close()
					}
				}
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
	goCPU, pgCPU := storetest.ProcessCPU(), storetest.BackendCPU(b, db, benchApp)
	start = time.Now()
	rep, err = e.svc.Apply(admin, open, o)
	if err != nil || rep.Summary.Created != n || rep.Summary.Enrolled != n {
		b.Fatalf("apply: %v %+v", err, rep.Summary)
	}
	apply := time.Since(start)
	goCPU, pgCPU = storetest.ProcessCPU()-goCPU, storetest.BackendCPU(b, db, benchApp)-pgCPU
	b.StopTimer()
	close(stop)
	b.ReportMetric(preview.Seconds(), "preview-s")
	b.ReportMetric(apply.Seconds(), "apply-s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	// The CPU the apply used, in this process and (PostgreSQL on this machine) in the
	// backends of its connections: on a busy machine the wall time is mostly waiting for a
	// core, these are not.
	b.ReportMetric(goCPU.Seconds(), "apply-go-cpu-s")
	cpu := ""
	if pgCPU > 0 {
		b.ReportMetric(pgCPU.Seconds(), "apply-pg-cpu-s")
		cpu = fmt.Sprintf(", backends %.2fs", pgCPU.Seconds())
	}
	b.Logf("%s, %d rows: preview %s, apply %s (includes its own check pass; CPU: this process %.2fs%s), peak heap %d MB",
		db.Dialect, n, preview, apply, goCPU.Seconds(), cpu, peak.Load()>>20)
	return apply
}

// benchApp names the connections of BenchmarkImport/postgres (see storetest.BackendCPU).
const benchApp = "roster-bench-import"

// rawFloor inserts, into a fresh SQLite database, the rows an import of n people (the
// benchmark's file) leaves in users, course_enrolments and group_members, without Roster: one
// transaction, one prepared single-row INSERT a table (see floor_test.go). schema false: the
// three tables with their primary keys only (the raw floor); true: Roster's schema as
// migrated (its indexes, foreign keys and triggers).
func rawFloor(b *testing.B, n int, schema bool) time.Duration {
	db, fx := newFloorDB(b)
	if !schema {
		readFloorSchema(b, db).rebuild(b, db, floorLevel{})
	}
	wall, _ := insertFloor(b, db, fx, n, floorOptions{})
	return wall
}

// BenchmarkImportPasswords measures the passwords target: 10,000 people
// (ROSTER_BENCH_ROWS) with 12-character passwords in clear, one course enrolment each,
// previewed then applied; beside it, in the same run, the same file without the password
// column (the floor); then the task that wraps every imported hash in argon2id
// (account.WrapPasswords), timed until none is left, and a login with a wrapped password.
//
//	go test ./internal/bulk -run '^$' -bench ImportPasswords -benchtime 1x -timeout 30m
//
// (ROSTER_BENCH_WRAP=0: the imports only.)
func BenchmarkImportPasswords(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	dbs := map[string]func(testing.TB) (*store.DB, *storetest.Clock){"sqlite": storetest.OpenSQLite}
	if os.Getenv("ROSTER_TEST_POSTGRES") != "" {
		dbs["postgres"] = storetest.OpenPostgres
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := dbs[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			importFile := func(withPasswords bool) (*env, time.Duration) {
				db, _ := open(b)
				e := newEnv(b, db)
				var buf bytes.Buffer
				if withPasswords {
					fmt.Fprintln(&buf, "username,firstname,lastname,email,password,course1,role1")
				} else {
					fmt.Fprintln(&buf, "username,firstname,lastname,email,course1,role1")
				}
				courses := []string{"math102", "management1", "film1"}
				for i := range n {
					pw := ""
					if withPasswords {
						pw = fmt.Sprintf("Kx7%06dQz!,", i) // 12 characters
					}
					fmt.Fprintf(&buf, "user%d,First%d,Last%d,user%d@example.org,%s%s,student\n", i, i, i, i, pw, courses[i%3])
				}
				o := bulk.Options{Format: bulk.FormatMoodle}
				start := time.Now()
				rep, err := e.svc.Preview(admin, io.NopCloser(bytes.NewReader(buf.Bytes())), o)
				if err != nil || rep.Summary.Created != n {
					b.Fatalf("preview: %v %+v", err, rep.Summary)
				}
				rep, err = e.svc.Apply(admin, opener(buf.Bytes()), o)
				if err != nil || rep.Summary.Created != n || rep.Summary.Enrolled != n {
					b.Fatalf("apply: %v %+v", err, rep.Summary)
				}
				return e, time.Since(start)
			}
			_, floor := importFile(false)
			e, took := importFile(true)
			unwrapped := func() int {
				return e.count(b, `SELECT count(*) FROM users WHERE password_hash NOT LIKE '$roster-wrap$%'`)
			}
			if got := unwrapped(); got != n {
				b.Fatalf("%d accounts not under the fast hash", got)
			}
			b.ReportMetric(floor.Seconds(), "no-passwords-s")
			b.ReportMetric(took.Seconds(), "import-s")
			if os.Getenv("ROSTER_BENCH_WRAP") == "0" {
				return // the import alone
			}
			start := time.Now()
			rep, err := e.accounts.WrapPasswords(context.Background())
			wrap := time.Since(start)
			if err != nil || rep.Wrapped != n || unwrapped() != 0 {
				b.Fatalf("wrap: %+v %v, %d left", rep, err, unwrapped())
			}
			if _, err := e.accounts.Login(context.Background(), "user42", fmt.Sprintf("Kx7%06dQz!", 42), ""); err != nil {
				b.Fatalf("login with a wrapped password: %v", err)
			}
			b.ReportMetric(wrap.Seconds(), "wrap-s")
			b.ReportMetric(float64(wrap.Milliseconds())/float64(n), "wrap-ms/account")
		})
	}
}
