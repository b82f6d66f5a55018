package store_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestSchemasAgree applies both migration trees to real databases (SQLite, PostgreSQL) and
// compares what they made: tables and columns with their types (mapped between the dialects:
// INTEGER and BIGINT are one integer), nullability, defaults and primary keys; indexes (their
// columns or expressions, uniqueness, partial conditions, access method); unique, foreign-key
// and check constraints; and triggers (table, timing, events, the columns an UPDATE trigger
// watches). One set of queries serves both databases only if these agree. What may differ,
// and why, is allowedSchemaDifferences; nothing else may.
func TestSchemasAgree(t *testing.T) {
	lite, _ := storetest.OpenSQLite(t)
	pg, _ := storetest.OpenPostgres(t)
	a, b := sqliteSchema(t, lite), postgresSchema(t, pg)
	if len(a) < 100 || len(b) < 100 {
		t.Fatalf("too few facts read: sqlite %d, postgres %d", len(a), len(b))
	}
	for _, kind := range []string{"column ", "index ", "pk ", "fk ", "trigger "} {
		if !hasPrefix(a, kind) || !hasPrefix(b, kind) {
			t.Fatalf("no %q fact read from one of the databases", kind)
		}
	}
	if testing.Verbose() {
		for _, f := range a {
			t.Log("sqlite: " + f)
		}
	}
	onlyLite, onlyPG := diff(a, b)
	used := map[string]bool{}
	report := func(side string, facts []string) {
		for _, f := range facts {
			if reason, ok := allowed(side, f); ok {
				used[reason] = true
				continue
			}
			t.Errorf("only in %s: %s", side, f)
		}
	}
	report("sqlite", onlyLite)
	report("postgres", onlyPG)
	for _, d := range allowedSchemaDifferences {
		if !used[d.reason] && !d.optional {
			t.Errorf("allowed difference no longer found (remove it): %s %s", d.side, d.fact)
		}
	}
}

// allowedSchemaDifferences are the facts one database has and the other has not, on
// purpose. fact is a regular expression over a whole fact as schema facts print it.
var allowedSchemaDifferences = []struct {
	side, fact, reason string
	optional           bool // present only where the database offers it
}{
	// 0012: substring filters (co, ew) of SCIM lists. SQLite cannot index them: each name
	// index also holds the scope, the deletion mark and the account id, so that the scan
	// reads the narrow index and not the table. PostgreSQL answers them with trigram GIN
	// indexes instead, and its B-tree name indexes stay those of 0007.
	{"sqlite", `index scim_users_(given|family|display)_name on scim_users \(\w+_name,scope_group_id,deleted_at,user_id\)`,
		"0012: SQLite's covering name indexes", false},
	{"postgres", `index scim_users_(given|family|display)_name on scim_users \(\w+_name\)`,
		"0012: PostgreSQL keeps 0007's name indexes", false},
	{"sqlite", `index scim_users_title on scim_users \(title,scope_group_id,deleted_at,user_id\)`,
		"0012: SQLite's covering title index", false},
	{"postgres", `index scim_users_title on scim_users \(title\)`,
		"0012: PostgreSQL's plain title index", false},
	// 0022: the live accounts in id order. SQLite's planner does not pick a partial index to
	// count and page them; PostgreSQL's does, and does not walk (deleted_at, id) in id order.
	{"sqlite", `index users_live on users \(deleted_at,id\)`, "0022: SQLite's two-column index", false},
	{"postgres", `index users_live on users \(id\) where deleted_atisnull`, "0022: PostgreSQL's partial index", false},
	// Created only when the pg_trgm extension is installed or can be (0012 says so in a
	// NOTICE otherwise): a test database may or may not have it.
	{"postgres", `index scim_users_(given|family|display)_name_trgm on scim_users using gin \(\w+_name\)`,
		"0012: trigram indexes, where pg_trgm is available", true},
	// 0008, 0029: a PostgreSQL trigger with transition tables (one statement queues each
	// method once, whatever the number of rows) cannot name the columns it watches, so it
	// fires on every UPDATE and its function compares the old and new rows of those
	// columns: TestSyncQueueTriggersAgree checks that both databases queue the same methods.
	{"sqlite", `trigger course_sync_group_update on group_members after update of group_id`,
		"0008: SQLite names group_id", false},
	{"postgres", `trigger course_sync_group_update on group_members after update`,
		"0008: PostgreSQL compares group_id in its function", false},
	{"sqlite", `trigger course_sync_meta_update on course_enrolments after update of status,role`,
		"0008: SQLite names status and role", false},
	{"postgres", `trigger course_sync_meta_update on course_enrolments after update`,
		"0008: PostgreSQL compares status and role in its function", false},
	// 0035: the participants summary's stale marks, the same way (TestSummaryFollowsWrites in
	// internal/course checks the lists after each write on both databases).
	{"sqlite", `trigger course_participants_(access|enrol|group|member|user)_update on \w+ after update of [a-z_,]+`,
		"0035: SQLite names the columns the participants list shows", false},
	{"postgres", `trigger course_participants_(access|enrol|group|member|user)_update on \w+ after update`,
		"0035: PostgreSQL compares them in its function", false},
	// SQLite: a row trigger on every enrolment added cost a bulk sync a third of its time; the
	// course package marks the courses it enrols people in (markStale).
	{"postgres", `trigger course_participants_enrol_insert on course_enrolments after insert`,
		"0035: PostgreSQL marks enrolments added by a statement trigger", false},
}

func allowed(side, fact string) (string, bool) {
	for _, d := range allowedSchemaDifferences {
		if d.side == side && regexp.MustCompile(`^(?:`+d.fact+`)$`).MatchString(fact) {
			return d.reason, true
		}
	}
	return "", false
}

func hasPrefix(facts []string, p string) bool {
	for _, f := range facts {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

// diff returns what only a has and what only b has.
func diff(a, b []string) (onlyA, onlyB []string) {
	in := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range s {
			m[x] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	for _, x := range a {
		if !mb[x] {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !ma[x] {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}

// rows runs q and returns every row as strings (NULL as "").
func rows(t *testing.T, db *store.DB, q string, args ...any) [][]string {
	t.Helper()
	rs, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
			case []byte:
				row[i] = string(x)
			default:
				row[i] = fmt.Sprint(x)
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// canonType maps a declared column type of either database to one word.
func canonType(decl string) string {
	d := strings.ToLower(strings.TrimSpace(decl))
	switch {
	case d == "integer" || d == "bigint" || d == "int" || d == "smallint" || d == "int8" || d == "int4":
		return "integer"
	case d == "text" || strings.HasPrefix(d, "varchar") || strings.HasPrefix(d, "character varying"):
		return "text"
	case d == "boolean" || d == "bool":
		return "boolean"
	case d == "real" || d == "double precision" || d == "double" || d == "float":
		return "real"
	case d == "blob" || d == "bytea":
		return "blob"
	}
	return "?" + d
}

var (
	castRe   = regexp.MustCompile(`::[a-z_ ]+?(\[\])?([,)\]\s]|$)`)
	anyRe    = regexp.MustCompile(`= any \(array\[([^\]]*)\]\)`)
	spacesRe = regexp.MustCompile(`[\s()"]+`)
)

// canonExpr is an SQL expression (a default, an index column, a condition) in a form both
// databases give alike: lower case, without PostgreSQL's casts ('x'::text), with its
// "= ANY (ARRAY[...])" read back as IN and its ~~ as LIKE, without parentheses, quotes and
// spaces.
func canonExpr(e string) string {
	e = strings.ToLower(strings.TrimSpace(e))
	for {
		n := castRe.ReplaceAllString(e, "$2")
		if n == e {
			break
		}
		e = n
	}
	e = anyRe.ReplaceAllString(e, "in ($1)")
	e = strings.NewReplacer(" !~~* ", " not ilike ", " ~~* ", " ilike ", " !~~ ", " not like ", " ~~ ", " like ").Replace(e)
	switch e {
	case "true":
		e = "1"
	case "false":
		e = "0"
	}
	e = strings.ReplaceAll(e, " = true", "")
	return spacesRe.ReplaceAllString(e, "")
}

// topLevel splits s at the commas outside parentheses.
func topLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// balanced returns the text inside the parentheses that open at s[i].
func balanced(s string, i int) string {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s[i+1 : j]
			}
		}
	}
	return s[i+1:]
}

func indexFact(name, table string, unique bool, method string, cols []string, where string) string {
	f := "index " + name + " on " + table
	if method != "" && method != "btree" {
		f += " using " + method
	}
	for i, c := range cols {
		cols[i] = canonExpr(c)
	}
	f += " (" + strings.Join(cols, ",") + ")"
	if unique {
		f += " unique"
	}
	if where != "" {
		f += " where " + canonExpr(where)
	}
	return f
}

var (
	liteIndexRe   = regexp.MustCompile(`(?is)^create\s+(unique\s+)?index\s+(if\s+not\s+exists\s+)?\S+\s+on\s+\S+\s*\(`)
	liteTriggerRe = regexp.MustCompile(`(?is)^create\s+trigger\s+(?:if\s+not\s+exists\s+)?\S+\s+(before|after|instead\s+of)?\s*(insert|delete|update(?:\s+of\s+(.+?))?)\s+on\s`)
	pgTriggerRe   = regexp.MustCompile(`(?is)^create\s+(?:constraint\s+)?trigger\s+\S+\s+(before|after|instead of)\s+(.+?)\s+on\s`)
	checkRe       = regexp.MustCompile(`(?i)\bcheck\s*\(`)
)

func sqliteSchema(t *testing.T, db *store.DB) []string {
	var facts []string
	tables := rows(t, db, `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	for _, tb := range tables {
		table, ddl := tb[0], tb[1]
		var pk []string
		for _, c := range rows(t, db, `SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_info($1) ORDER BY pk`, table) {
			notNull := c[2] == "1" || c[4] != "0" // a primary key is never NULL in PostgreSQL
			facts = append(facts, columnFact(table, c[0], c[1], notNull, c[3]))
			if c[4] != "0" {
				pk = append(pk, c[0])
			}
		}
		if len(pk) > 0 {
			facts = append(facts, "pk "+table+" ("+strings.Join(pk, ",")+")")
		}
		fks := map[string][]string{} // id -> from, table, to, on update, on delete
		for _, fk := range rows(t, db, `SELECT id, "table", "from", COALESCE("to", ''), on_update, on_delete FROM pragma_foreign_key_list($1) ORDER BY id, seq`, table) {
			to := fk[3]
			if to == "" { // the referenced table's primary key
				to = rows(t, db, `SELECT name FROM pragma_table_info($1) WHERE pk = 1`, fk[1])[0][0]
			}
			cur := fks[fk[0]]
			if cur == nil {
				cur = []string{"", fk[1], "", fk[4], fk[5]}
			}
			cur[0] = strings.TrimPrefix(cur[0]+","+fk[2], ",")
			cur[2] = strings.TrimPrefix(cur[2]+","+to, ",")
			fks[fk[0]] = cur
		}
		for _, fk := range fks {
			facts = append(facts, fkFact(table, fk[0], fk[1], fk[2], fk[3], fk[4]))
		}
		for _, loc := range checkRe.FindAllStringIndex(ddl, -1) {
			facts = append(facts, "check "+table+" "+canonExpr(balanced(ddl, loc[1]-1)))
		}
		for _, ix := range rows(t, db, `SELECT il.name, il."unique", il.origin, COALESCE(m.sql, '') FROM pragma_index_list($1) il
			LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = il.name`, table) {
			name, unique, origin, sql := ix[0], ix[1] == "1", ix[2], ix[3]
			switch origin {
			case "pk": // the primary key fact says it
			case "u":
				var cols []string
				for _, c := range rows(t, db, `SELECT name FROM pragma_index_info($1) ORDER BY seqno`, name) {
					cols = append(cols, c[0])
				}
				facts = append(facts, "unique "+table+" ("+strings.Join(cols, ",")+")")
			default:
				loc := liteIndexRe.FindStringIndex(sql)
				if loc == nil {
					t.Fatalf("cannot read index %s: %s", name, sql)
				}
				inside := balanced(sql, loc[1]-1)
				where := ""
				rest := sql[loc[1]+len(inside)+1:]
				if i := strings.Index(strings.ToLower(rest), "where"); i >= 0 {
					where = rest[i+len("where"):]
				}
				var cols []string
				for _, c := range topLevel(inside) {
					c = regexp.MustCompile(`(?i)\s+(asc|desc)\s*$`).ReplaceAllString(strings.TrimSpace(c), "")
					cols = append(cols, c)
				}
				facts = append(facts, indexFact(name, table, unique, "", cols, where))
			}
		}
	}
	for _, tr := range rows(t, db, `SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'`) {
		m := liteTriggerRe.FindStringSubmatch(tr[2])
		if m == nil {
			t.Fatalf("cannot read trigger %s: %.200s", tr[0], tr[2])
		}
		timing := strings.ToLower(m[1])
		if timing == "" {
			timing = "before"
		}
		event := strings.ToLower(strings.Fields(m[2])[0])
		facts = append(facts, triggerFact(tr[0], tr[1], timing, []string{event}, m[3]))
	}
	sort.Strings(facts)
	return facts
}

func postgresSchema(t *testing.T, db *store.DB) []string {
	var facts []string
	for _, c := range rows(t, db, `SELECT table_name, column_name, data_type, is_nullable, COALESCE(column_default, ''),
		COALESCE(identity_generation, '') FROM information_schema.columns WHERE table_schema = current_schema()`) {
		def := c[4]
		if c[5] != "" || strings.HasPrefix(def, "nextval(") {
			def = "" // an identity: SQLite's INTEGER PRIMARY KEY numbers rows itself
		}
		facts = append(facts, columnFact(c[0], c[1], c[2], c[3] == "NO", def))
	}
	for _, con := range rows(t, db, `SELECT cl.relname, co.contype, pg_get_constraintdef(co.oid),
		(SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(co.conkey) WITH ORDINALITY k(attnum, n)
			JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum),
		COALESCE(fcl.relname, ''),
		COALESCE((SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(co.confkey) WITH ORDINALITY k(attnum, n)
			JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum), ''),
		co.confupdtype, co.confdeltype
		FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
		LEFT JOIN pg_class fcl ON fcl.oid = co.confrelid
		WHERE n.nspname = current_schema() AND co.contype IN ('p', 'u', 'f', 'c')`) {
		table, kind, def, cols := con[0], con[1], con[2], con[3]
		switch kind {
		case "p":
			facts = append(facts, "pk "+table+" ("+cols+")")
		case "u":
			facts = append(facts, "unique "+table+" ("+cols+")")
		case "f":
			action := map[string]string{"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
			facts = append(facts, fkFact(table, cols, con[4], con[5], action[con[6]], action[con[7]]))
		case "c":
			facts = append(facts, "check "+table+" "+canonExpr(strings.TrimPrefix(def, "CHECK ")))
		}
	}
	for _, ix := range rows(t, db, `SELECT i.relname, c.relname, ix.indisunique, am.amname, ix.indnkeyatts,
		COALESCE(pg_get_expr(ix.indpred, ix.indrelid), ''), ix.indexrelid
		FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = i.relam
		WHERE n.nspname = current_schema()
		AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = ix.indexrelid AND co.contype IN ('p', 'u'))`) {
		var cols []string
		var nkeys int
		fmt.Sscan(ix[4], &nkeys)
		for k := 1; k <= nkeys; k++ {
			cols = append(cols, rows(t, db, `SELECT pg_get_indexdef($1::oid, $2, true)`, ix[6], k)[0][0])
		}
		for i, c := range cols {
			// An operator class (gin_trgm_ops) says how, not what: the method says it.
			cols[i] = regexp.MustCompile(`\s+\S*_ops$`).ReplaceAllString(c, "")
		}
		facts = append(facts, indexFact(ix[0], ix[1], ix[2] == "true", ix[3], cols, ix[5]))
	}
	for _, tr := range rows(t, db, `SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid)
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND NOT t.tgisinternal`) {
		m := pgTriggerRe.FindStringSubmatch(tr[2])
		if m == nil {
			t.Fatalf("cannot read trigger %s: %s", tr[0], tr[2])
		}
		var events []string
		cols := ""
		for _, e := range strings.Split(m[2], " OR ") {
			e = strings.TrimSpace(e)
			if rest, ok := strings.CutPrefix(e, "UPDATE OF "); ok {
				e, cols = "UPDATE", rest
			}
			events = append(events, strings.ToLower(e))
		}
		facts = append(facts, triggerFact(tr[0], tr[1], strings.ToLower(m[1]), events, cols))
	}
	sort.Strings(facts)
	return facts
}

func columnFact(table, column, decl string, notNull bool, def string) string {
	f := "column " + table + "." + column + " " + canonType(decl)
	if notNull {
		f += " not null"
	}
	if def != "" {
		f += " default " + canonExpr(def)
	}
	return f
}

func fkFact(table, from, ref, to, onUpdate, onDelete string) string {
	f := "fk " + table + " (" + from + ") references " + ref + " (" + to + ")"
	if d := strings.ToLower(onDelete); d != "no action" {
		f += " on delete " + d
	}
	if u := strings.ToLower(onUpdate); u != "no action" {
		f += " on update " + u
	}
	return f
}

// triggerFact: SQLite's triggers are all FOR EACH ROW; PostgreSQL's may be FOR EACH
// STATEMENT over transition tables. The level is not compared: what a trigger does is
// checked by the tests of the feature it serves.
func triggerFact(name, table, timing string, events []string, cols string) string {
	sort.Strings(events)
	f := "trigger " + name + " on " + table + " " + strings.Join(strings.Fields(timing), " ") + " " + strings.Join(events, " or ")
	if cols = strings.TrimSpace(cols); cols != "" {
		var cs []string
		for _, c := range strings.Split(cols, ",") {
			cs = append(cs, strings.ToLower(strings.TrimSpace(c)))
		}
		f += " of " + strings.Join(cs, ",")
	}
	return f
}

// TestCanonExpr: PostgreSQL's rewriting of an expression reads back as SQLite's text.
func TestCanonExpr(t *testing.T) {
	for _, tc := range []struct{ lite, pg string }{
		{`status IN ('active', 'suspended')`, `(status = ANY (ARRAY['active'::text, 'suspended'::text]))`},
		{`deleted_at IS NULL`, `(deleted_at IS NULL)`},
		{`idnumber <> ''`, `(idnumber <> ''::text)`},
		{`false`, `false`},
		{`'{}'`, `'{}'::text`},
		{`lower(email)`, `lower(email)`},
		{`password_hash LIKE '$2%' OR x NOT LIKE 'a'`, `((password_hash ~~ '$2%'::text) OR (x !~~ 'a'::text))`},
	} {
		if a, b := canonExpr(tc.lite), canonExpr(tc.pg); a != b {
			t.Errorf("%q reads %q, %q reads %q", tc.lite, a, tc.pg, b)
		}
	}
	if canonExpr(`status = 'active'`) == canonExpr(`status = 'pending'`) {
		t.Error("different conditions read alike")
	}
}
