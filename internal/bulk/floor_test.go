package bulk_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// The floors of BenchmarkImport: the rows an import of n people leaves in users,
// course_enrolments and group_members (one account, one enrolment, one membership each),
// inserted without Roster into a fresh SQLite database, one transaction.
//
// BenchmarkInsertFloor takes that insert apart: the same rows into the same three tables
// with only their primary keys (the raw floor), then with each thing Roster's schema
// adds to them, one after the other, up to Roster's schema itself; then the statement form
// (one row a statement, or many), the pragmas, and the other rows an import writes (audit
// events, its records for undo). Each line is a fresh database; wall time and the process's
// CPU time (SQLite runs inside it: on a busy machine the CPU time moves less).
//
//	cd internal/bulk && go test -c -o /tmp/bulk.test . &&
//	/tmp/bulk.test -test.run '^$' -test.bench 'InsertFloor' -test.benchtime 1x
//
// ROSTER_BENCH_ROWS sets the number of people (100,000).

// floorTables are the tables the floors write.
var floorTables = []string{"users", "course_enrolments", "group_members"}

// floorSchema is what Roster's migrated schema has on the floor's tables.
type floorSchema struct {
	columns  map[string][]floorColumn
	indexes  []floorIndex // unique ones first, then by table and name
	triggers []string     // CREATE TRIGGER statements on the tables
	// trigger0008 is the text 0008 gave each row trigger of group_members and
	// course_enrolments, by name.
	trigger0008 map[string]string
}

type floorColumn struct {
	name, typ, dflt string
	notNull, auto   bool
	pk              int
	ref             string // "REFERENCES t (c) ON DELETE ..." when the column has one
}

type floorIndex struct{ table, name, sql string }

func readFloorSchema(tb testing.TB, db *store.DB) floorSchema {
	tb.Helper()
	s := floorSchema{columns: map[string][]floorColumn{}}
	q := func(query string, fn func(r *sql.Rows) error) {
		rows, err := db.Query(query)
		if err != nil {
			tb.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				tb.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
	}
	for _, t := range floorTables {
		var create string
		if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1`, t).Scan(&create); err != nil {
			tb.Fatal(err)
		}
		refs := map[string]string{}
		q(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list('`+t+`')`, func(r *sql.Rows) error {
			var table, from, to, onDelete string
			if err := r.Scan(&table, &from, &to, &onDelete); err != nil {
				return err
			}
			refs[from] = "REFERENCES " + table + " (" + to + ")"
			if onDelete != "NO ACTION" {
				refs[from] += " ON DELETE " + onDelete
			}
			return nil
		})
		q(`SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_xinfo('`+t+`')`, func(r *sql.Rows) error {
			var c floorColumn
			if err := r.Scan(&c.name, &c.typ, &c.notNull, &c.dflt, &c.pk); err != nil {
				return err
			}
			c.ref = refs[c.name]
			c.auto = c.pk == 1 && strings.Contains(create, "AUTOINCREMENT")
			s.columns[t] = append(s.columns[t], c)
			return nil
		})
	}
	in := `('users', 'course_enrolments', 'group_members')`
	q(`SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN `+in, func(r *sql.Rows) error {
		var ix floorIndex
		if err := r.Scan(&ix.table, &ix.name, &ix.sql); err != nil {
			return err
		}
		s.indexes = append(s.indexes, ix)
		return nil
	})
	// users.username is UNIQUE in its column: the same index, created by name here.
	s.indexes = append(s.indexes, floorIndex{"users", "users_username (UNIQUE column)", `CREATE UNIQUE INDEX users_username ON users (username)`})
	sort.SliceStable(s.indexes, func(i, j int) bool {
		ui, uj := strings.Contains(s.indexes[i].sql, "UNIQUE"), strings.Contains(s.indexes[j].sql, "UNIQUE")
		if ui != uj {
			return ui
		}
		if s.indexes[i].table != s.indexes[j].table {
			return s.indexes[i].table < s.indexes[j].table
		}
		return s.indexes[i].name < s.indexes[j].name
	})
	q(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN `+in, func(r *sql.Rows) error {
		var t string
		if err := r.Scan(&t); err != nil {
			return err
		}
		s.triggers = append(s.triggers, t)
		return nil
	})
	ms, err := store.Migrations(store.SQLite)
	if err != nil {
		tb.Fatal(err)
	}
	s.trigger0008 = map[string]string{}
	for _, m := range ms {
		if m.Version == 8 {
			for _, t := range regexp.MustCompile(`(?s)CREATE TRIGGER (course_sync_\w+) AFTER .*?\nEND;`).FindAllStringSubmatch(m.SQL, -1) {
				s.trigger0008[t[1]] = t[0]
			}
		}
	}
	if len(s.trigger0008) < 4 {
		tb.Fatalf("0008's triggers not found: %d", len(s.trigger0008))
	}
	return s
}

// floorLevel is how much of Roster's schema a floor database has on the floor's tables.
type floorLevel struct {
	name     string
	roster   bool // Roster's schema as migrated (nothing rebuilt)
	auto     bool // AUTOINCREMENT where Roster has it
	indexes  int  // the first indexes of floorSchema.indexes
	fks      bool
	triggers bool
	// On Roster's schema: the row triggers of group_members and course_enrolments as 0008
	// wrote them (before 0032 guarded them), or none.
	triggers0008, noTriggers bool
}

// rebuild replaces the floor's tables of a migrated database by tables with the level's share
// of Roster's schema.
func (s floorSchema) rebuild(tb testing.TB, db *store.DB, l floorLevel) {
	tb.Helper()
	if l.roster {
		if l.triggers0008 || l.noTriggers {
			for _, name := range []string{"course_sync_group_insert", "course_sync_group_delete", "course_sync_meta_insert",
				"course_sync_meta_delete"} {
				if _, err := db.Exec(`DROP TRIGGER ` + name); err != nil {
					tb.Fatal(err)
				}
				if l.triggers0008 {
					if _, err := db.Exec(s.trigger0008[name]); err != nil {
						tb.Fatal(err)
					}
				}
			}
		}
		return
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	exec(`PRAGMA foreign_keys = OFF`)
	for _, t := range floorTables {
		exec(`DROP TABLE ` + t)
		var cols, pk []string
		for _, c := range s.columns[t] {
			def := c.name + " " + c.typ
			if c.pk == 1 && strings.EqualFold(c.typ, "INTEGER") {
				def += " PRIMARY KEY"
				if l.auto && c.auto {
					def += " AUTOINCREMENT"
				}
			} else if c.pk > 0 {
				pk = append(pk, c.name)
			}
			if c.notNull {
				def += " NOT NULL"
			}
			if c.dflt != "" {
				def += " DEFAULT " + c.dflt
			}
			if l.fks && c.ref != "" {
				def += " " + c.ref
			}
			cols = append(cols, def)
		}
		if len(pk) > 0 {
			cols = append(cols, "PRIMARY KEY ("+strings.Join(pk, ", ")+")")
		}
		exec(`CREATE TABLE ` + t + ` (` + strings.Join(cols, ", ") + `)`)
	}
	for _, ix := range s.indexes[:l.indexes] {
		exec(ix.sql)
	}
	if l.triggers {
		for _, t := range s.triggers {
			exec(t)
		}
	}
	exec(`PRAGMA foreign_keys = ON`)
}

// floorFixture is what the floor's rows refer to: the benchmark's groups and courses.
type floorFixture struct {
	groups  []int64
	methods [][2]int64 // course, manual method
}

func newFloorDB(tb testing.TB) (*store.DB, floorFixture) {
	tb.Helper()
	db, _ := storetest.OpenSQLite(tb)
	e := newEnv(tb, db)
	var fx floorFixture
	for i := range 50 {
		g, err := e.groups.Create(admin, group.Group{Name: fmt.Sprintf("Class %d", i), IDNumber: fmt.Sprintf("C%d", i)})
		if err != nil {
			tb.Fatal(err)
		}
		fx.groups = append(fx.groups, g.ID)
	}
	for _, c := range []string{"math102", "management1", "film1"} {
		var m [2]int64
		if err := db.QueryRow(`SELECT course_id, id FROM course_methods WHERE course_id = $1 AND type = 'manual' ORDER BY id LIMIT 1`,
			e.course[c]).Scan(&m[0], &m[1]); err != nil {
			tb.Fatal(err)
		}
		fx.methods = append(fx.methods, m)
	}
	return db, fx
}

// floorOptions say how the rows are written.
type floorOptions struct {
	multi   bool     // many rows a statement (about 960 parameters, as store.InsertMany) instead of one
	pragmas []string // run on the transaction's connection before it begins
	more    bool     // also the other rows an import writes: two audit events a person, import_rows, import_changes
}

const floorBatch = 5000 // people a group of statements (the import's DefaultBatchSize)

// insertFloor writes the rows of n people into db, in one transaction, and returns the wall
// and CPU time it took.
func insertFloor(tb testing.TB, db *store.DB, fx floorFixture, n int, o floorOptions) (wall, cpu time.Duration) {
	tb.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	for _, p := range o.pragmas {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			tb.Fatal(err)
		}
	}
	var batch int64
	if o.more {
		if err := conn.QueryRowContext(ctx, `INSERT INTO import_batches (format, options, status, created_at, rows_total)
			VALUES ('moodle', '{}', 'applying', 0, $1) RETURNING id`, n).Scan(&batch); err != nil {
			tb.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).Unix()
	type table struct {
		name string
		cols []string
		row  func(i int, id int64) []any // person i, account id
	}
	users := table{"users", []string{"username", "email", "email_norm", "first_name", "last_name", "language", "status", "auth",
		"password_hash", "is_admin", "idnumber", "custom_fields", "created_at", "updated_at", "activated_at", "created_by_import",
		"email_shared", "delete_at"}, func(i int, _ int64) []any {
		name := "user" + strconv.Itoa(i)
		return []any{name, name + "@example.org", name + "@example.org", "First" + strconv.Itoa(i), "Last" + strconv.Itoa(i), "",
			"active", "local", "", false, "", "{}", now, now, now, max(batch, 1), false, nil}
	}}
	enrols := table{"course_enrolments", []string{"course_id", "method_id", "user_id", "role", "status", "starts_at", "ends_at",
		"sync_run_id", "created_at", "updated_at"}, func(i int, id int64) []any {
		m := fx.methods[i%3]
		return []any{m[0], m[1], id, "student", "active", nil, nil, nil, now, now}
	}}
	members := table{"group_members", []string{"group_id", "user_id", "role", "source_kind", "source_ref", "created_at", "anchors"},
		func(i int, id int64) []any {
			return []any{fx.groups[i%50], id, "learner", "import", max(batch, 1), now, true}
		}}
	tables := []table{users, enrols, members}
	if o.more {
		event := func(action, target string, details func(i int, id int64) string) func(int, int64) []any {
			return func(i int, id int64) []any {
				return []any{now, 1, action, target, strconv.FormatInt(id, 10), "", details(i, id)}
			}
		}
		evCols := []string{"at", "actor_id", "action", "target_type", "target_id", "ip", "details"}
		tables = append(tables,
			table{"audit_events", evCols, event("user.create", "user", func(i int, _ int64) string {
				return `{"admin":false,"auth":"local","username":"user` + strconv.Itoa(i) + `"}`
			})},
			table{"audit_events", evCols, func(i int, id int64) []any {
				return []any{now, 1, "group.member.add", "group", strconv.FormatInt(fx.groups[i%50], 10), "",
					`{"propagated_to":null,"role":"learner","source":"import:` + strconv.FormatInt(batch, 10) + `","user_id":` +
						strconv.FormatInt(id, 10) + `}`}
			}},
			table{"import_changes", []string{"batch_id", "kind", "course_id", "ref_id", "user_id", "role", "status", "starts_at", "ends_at"},
				func(i int, id int64) []any {
					m := fx.methods[i%3]
					return []any{batch, "enrol", m[0], m[1], id, "student", "active", nil, nil}
				}},
			table{"import_rows", []string{"batch_id", "line", "action", "user_id", "group_id", "before", "message", "codes"},
				func(i int, id int64) []any { return []any{batch, i + 2, "create", id, nil, "", "", ""} }})
	}
	var start time.Time
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start = time.Now()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	stmts := map[string]*sql.Stmt{}
	prepare := func(t table, rows int) *sql.Stmt {
		key := t.name + "/" + strings.Join(t.cols, ",") + "/" + strconv.Itoa(rows)
		if s := stmts[key]; s != nil {
			return s
		}
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
		q := "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", ")
		s, err := tx.PrepareContext(ctx, q)
		if err != nil {
			tb.Fatal(err)
		}
		stmts[key] = s
		return s
	}
	if !o.multi {
		for i := range n {
			res, err := prepare(users, 1).ExecContext(ctx, users.row(i, 0)...)
			if err != nil {
				tb.Fatal(err)
			}
			id, _ := res.LastInsertId()
			for _, t := range tables[1:] {
				if _, err := prepare(t, 1).ExecContext(ctx, t.row(i, id)...); err != nil {
					tb.Fatal(err)
				}
			}
		}
	} else {
		var base int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM users`).Scan(&base); err != nil {
			tb.Fatal(err)
		}
		var args []any
		for from := 0; from < n; from += floorBatch {
			to := min(n, from+floorBatch)
			for _, t := range tables {
				per := 960 / len(t.cols)
				for s := from; s < to; s += per {
					rows := min(per, to-s)
					args = args[:0]
					for i := s; i < s+rows; i++ {
						args = append(args, t.row(i, base+int64(i)+1)...)
					}
					if _, err := prepare(t, rows).ExecContext(ctx, args...); err != nil {
						tb.Fatal(err)
					}
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	wall = time.Since(start)
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu = time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	var got int
	if err := db.QueryRow(`SELECT count(*) FROM course_enrolments e JOIN users u ON u.id = e.user_id
		JOIN group_members m ON m.user_id = u.id`).Scan(&got); err != nil || got != n {
		tb.Fatalf("floor: %d rows joined, %v", got, err)
	}
	return wall, cpu
}

func benchRows() int {
	if v, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_ROWS")); err == nil && v > 0 {
		return v
	}
	return 100000
}

func BenchmarkInsertFloor(b *testing.B) {
	n := benchRows()
	db, _ := newFloorDB(b)
	schema := readFloorSchema(b, db)
	db.Close()
	var lines []string
	var prev time.Duration
	run := func(name string, l floorLevel, o floorOptions, delta bool) {
		b.Run(name, func(b *testing.B) {
			db, fx := newFloorDB(b)
			schema.rebuild(b, db, l)
			wall, cpu := insertFloor(b, db, fx, n, o)
			b.ReportMetric(wall.Seconds(), "wall-s")
			b.ReportMetric(cpu.Seconds(), "cpu-s")
			d := ""
			if delta {
				d = fmt.Sprintf("%+.2f s", (cpu - prev).Seconds())
				prev = cpu
			}
			lines = append(lines, fmt.Sprintf("| %s | %.2f s | %.2f s | %s |", name, wall.Seconds(), cpu.Seconds(), d))
		})
	}
	levels := []floorLevel{{name: "a. primary keys only (raw floor)"}, {name: "+ AUTOINCREMENT", auto: true}}
	unique := 0
	for _, ix := range schema.indexes {
		if strings.Contains(ix.sql, "UNIQUE") {
			unique++
		}
	}
	levels = append(levels, floorLevel{name: "b. + the unique indexes", auto: true, indexes: unique})
	for i := unique; i < len(schema.indexes); i++ {
		levels = append(levels, floorLevel{name: "c. + " + schema.indexes[i].name, auto: true, indexes: i + 1})
	}
	all := len(schema.indexes)
	levels = append(levels,
		floorLevel{name: "+ foreign keys", auto: true, indexes: all, fks: true},
		floorLevel{name: "d. + triggers", auto: true, indexes: all, fks: true, triggers: true},
		floorLevel{name: "Roster's schema as migrated", roster: true})
	for _, l := range levels {
		run(l.name, l, floorOptions{}, true)
	}
	raw, roster := levels[0], floorLevel{roster: true}
	big := []string{"PRAGMA cache_size = -262144"}
	mem := []string{"PRAGMA temp_store = MEMORY"}
	noTriggers := levels[len(levels)-3]
	for _, v := range []struct {
		name string
		l    floorLevel
		o    floorOptions
	}{
		{"e. raw floor, many rows a statement", raw, floorOptions{multi: true}},
		{"e. Roster's schema, many rows a statement", roster, floorOptions{multi: true}},
		{"raw floor, cache_size 256 MiB", raw, floorOptions{pragmas: big}},
		{"Roster's schema, cache_size 256 MiB", roster, floorOptions{pragmas: big}},
		{"Roster's schema, many rows a statement, cache_size 256 MiB", roster, floorOptions{multi: true, pragmas: big}},
		{"raw floor, synchronous OFF", raw, floorOptions{pragmas: []string{"PRAGMA synchronous = OFF"}}},
		{"raw floor, journal_mode DELETE", raw, floorOptions{pragmas: []string{"PRAGMA journal_mode = DELETE"}}},
		{"t. raw floor, temp_store MEMORY", raw, floorOptions{pragmas: mem}},
		{"t. Roster's schema without its triggers, temp_store MEMORY", noTriggers, floorOptions{pragmas: mem}},
		{"t. Roster's schema, temp_store MEMORY", roster, floorOptions{pragmas: mem}},
		{"t. Roster's schema, many rows a statement, temp_store MEMORY", roster, floorOptions{multi: true, pragmas: mem}},
		{"t. Roster's schema, many rows a statement, temp_store MEMORY, cache_size 16 MiB", roster,
			floorOptions{multi: true, pragmas: append(mem, "PRAGMA cache_size = -16384")}},
		{"t. Roster's schema without its triggers, many rows a statement, temp_store MEMORY, cache_size 16 MiB", noTriggers,
			floorOptions{multi: true, pragmas: append(mem, "PRAGMA cache_size = -16384")}},
		{"t. Roster's schema + audit events and import records, many rows a statement, temp_store MEMORY, cache_size 16 MiB", roster,
			floorOptions{more: true, multi: true, pragmas: append(mem, "PRAGMA cache_size = -16384")}},
		{"f. Roster's schema, row triggers of 0008, many rows a statement, temp_store MEMORY, cache_size 16 MiB",
			floorLevel{roster: true, triggers0008: true}, floorOptions{multi: true, pragmas: append(mem, "PRAGMA cache_size = -16384")}},
		{"f. Roster's schema, row triggers of 0032, many rows a statement, temp_store MEMORY, cache_size 16 MiB", roster,
			floorOptions{multi: true, pragmas: append(mem, "PRAGMA cache_size = -16384")}},
		{"f. Roster's schema, no row triggers, many rows a statement, temp_store MEMORY, cache_size 16 MiB",
			floorLevel{roster: true, noTriggers: true}, floorOptions{multi: true, pragmas: append(mem, "PRAGMA cache_size = -16384")}},
		{"Roster's schema + audit events and import records", roster, floorOptions{more: true}},
		{"Roster's schema + audit events and import records, many rows a statement, cache_size 256 MiB", roster,
			floorOptions{more: true, multi: true, pragmas: big}},
	} {
		run(v.name, v.l, v.o, false)
	}
	fmt.Printf("%d people (%d rows):\n| what | wall | CPU | CPU added |\n| --- | --- | --- | --- |\n%s\n", n, 3*n, strings.Join(lines, "\n"))
}
