package oneroster

// The read-only projection of Roster's tables as OneRoster entities. It reads the tables of the
// account (users), group (groups, group_paths, group_members) and course (courses,
// course_methods, course_enrolments, course_roles) packages with SQL joins, in this one file,
// and writes nothing.
//
// Each entity is a base query whose columns are the entity's fields (t.k is its key); lists
// filter, sort and page over it, then read the page's rows and the fields that need more than
// one row (a user's orgs, an org's children).

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"roster/internal/store"
)

// scope is what a client may read: the sub-tree of a group, or everything (group 0).
type scope struct {
	group int64
}

const rootOrg = "platform" // sourcedId of the org that stands for the whole platform

// schoolOf is the sourcedId of a course's school (an expression over the course id expression
// cid): the group of its oldest group sync inside the scope, else the scope's root org.
func schoolOf(q *query, sc scope, cid string) string {
	inScope := ""
	fallback := "'" + rootOrg + "'"
	if sc.group > 0 {
		g := q.arg(sc.group)
		inScope = " AND cm.group_id IN (SELECT p.descendant_id FROM group_paths p WHERE p.ancestor_id = " + g + ")"
		fallback = "'group-' || " + g
	}
	return "COALESCE((SELECT 'group-' || MIN(cm.group_id) FROM course_methods cm WHERE cm.course_id = " + cid +
		" AND cm.type = 'group_sync' AND cm.group_id IS NOT NULL" + inScope + "), " + fallback + ")"
}

// userInScope is the condition that user uid is readable.
func userInScope(q *query, sc scope, uid string) string {
	if sc.group == 0 {
		return "1 = 1"
	}
	return "EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = " + uid +
		" AND m.group_id IN (SELECT p.descendant_id FROM group_paths p WHERE p.ancestor_id = " + q.arg(sc.group) + "))"
}

// courseInScope is the condition that course cid is readable: linked by a group sync to a
// group of the sub-tree, or with a participant who is a member there.
func courseInScope(q *query, sc scope, cid string) string {
	if sc.group == 0 {
		return "1 = 1"
	}
	g := q.arg(sc.group)
	return "(EXISTS (SELECT 1 FROM course_methods cm JOIN group_paths p ON p.descendant_id = cm.group_id WHERE cm.course_id = " + cid +
		" AND cm.type = 'group_sync' AND p.ancestor_id = " + g + ") OR EXISTS (SELECT 1 FROM course_enrolments e JOIN group_members m ON m.user_id = e.user_id" +
		" JOIN group_paths p ON p.descendant_id = m.group_id WHERE e.course_id = " + cid + " AND p.ancestor_id = " + g + "))"
}

// entity is one OneRoster collection.
type entity struct {
	plural, single string
	fields         map[string]field // filterable and sortable
	base           func(q *query, sc scope) string
	numericKey     bool // t.k is an integer (else the sourcedId text)
	keyOf          func(sourcedID string) (any, bool)
}

func idAfter(prefix string) func(string) (any, bool) {
	return func(s string) (any, bool) {
		n, err := strconv.ParseInt(strings.TrimPrefix(s, prefix), 10, 64)
		if !strings.HasPrefix(s, prefix) || err != nil || n <= 0 {
			return nil, false
		}
		return n, true
	}
}

var common = map[string]field{"sourcedId": {"sid", kText}, "status": {"status", kText}, "dateLastModified": {"dlm", kTime}}

func withCommon(m map[string]field) map[string]field {
	for k, v := range common {
		m[k] = v
	}
	return m
}

var orgs = &entity{plural: "orgs", single: "org", numericKey: true,
	fields: withCommon(map[string]field{"name": {"name", kText}, "type": {"type", kText}, "identifier": {"identifier", kText}, "parent": {"parent", kText}}),
	keyOf: func(s string) (any, bool) {
		if s == rootOrg {
			return int64(0), true
		}
		return idAfter("group-")(s)
	},
	base: func(q *query, sc scope) string {
		cols := "g.id AS k, 'group-' || g.id AS sid, 'active' AS status, g.updated_at AS dlm, g.name AS name, 'school' AS type, g.idnumber AS identifier, "
		if sc.group > 0 {
			g := q.arg(sc.group)
			return "SELECT " + cols + "CASE WHEN g.id = " + g + " THEN NULL ELSE 'group-' || g.parent_id END AS parent FROM groups g" +
				" WHERE g.id IN (SELECT p.descendant_id FROM group_paths p WHERE p.ancestor_id = " + g + ")"
		}
		return "SELECT " + cols + "COALESCE('group-' || g.parent_id, '" + rootOrg + "') AS parent FROM groups g" +
			" UNION ALL SELECT 0, '" + rootOrg + "', 'active', 0, 'Roster', 'district', '', NULL"
	},
}

var userFields = withCommon(map[string]field{"username": {"username", kText}, "givenName": {"given_name", kText},
	"familyName": {"family_name", kText}, "email": {"email", kText}, "identifier": {"identifier", kText},
	"enabledUser": {"enabled", kBool}, "role": {"role", kText}})

// The role of a person is one rule written twice: in SQL in the users base (read by filters,
// sorts and the students and teachers collections) and in Go over a page's memberships
// (userRole, read by the documents). TestUserRoleRule checks that the two agree.
//
// administrator: a platform administrator (for a platform-wide client), or a group or user
// administrator of a group of the scope; teacher: a trainer of a group of the scope, or
// enrolled in some course with a teacher role; else student.
var adminGroupRoles = []string{"group_admin", "user_admin"}

const trainerGroupRole = "trainer"

// teachesSQL is the condition that person uid has a teacher role in some course.
func teachesSQL(uid string) string {
	return "EXISTS (SELECT 1 FROM course_enrolments e JOIN course_roles r ON r.shortname = e.role WHERE e.user_id = " + uid +
		" AND r.base_role IN " + teacherBases + ")"
}

// teacherBases are the base roles of a course that make a teacher.
const teacherBases = "('teacher', 'non_editing_teacher')"

// teachersAmong writes the condition that person u.id, one of keys, has a teacher role in some
// course: u.id is among the teachers of keys, found in one set (where teachesSQL looks each
// person up: on PostgreSQL, for a page of 1,000 people, it costs twice as much).
func teachersAmong(q *query, d store.Dialect, keys []any) {
	q.w("u.id IN (SELECT e.user_id FROM course_enrolments e JOIN course_roles r ON r.shortname = e.role WHERE r.base_role IN ", teacherBases,
		" AND e.user_id")
	q.in(d, keys, true)
	q.w(")")
}

// userRole is the role of a person with the given group roles in the scope (one a
// membership), platform administrator or not, teacher in some course or not.
func userRole(sc scope, isAdmin bool, groupRoles []string, teaches bool) string {
	if (sc.group == 0 && isAdmin) || slices.ContainsFunc(groupRoles, func(r string) bool { return slices.Contains(adminGroupRoles, r) }) {
		return "administrator"
	}
	if teaches || slices.Contains(groupRoles, trainerGroupRole) {
		return "teacher"
	}
	return "student"
}

// userCols are the columns of the users base but the role (u: the users table).
const userCols = "u.id AS k, 'user-' || u.id AS sid, CASE WHEN u.status = 'active' THEN 'active' ELSE 'tobedeleted' END AS status," +
	" u.updated_at AS dlm, u.username AS username, u.first_name AS given_name, u.last_name AS family_name, u.email AS email," +
	" u.idnumber AS identifier, CASE WHEN u.status = 'active' THEN 'true' ELSE 'false' END AS enabled"

var users = &entity{plural: "users", single: "user", numericKey: true, fields: userFields, keyOf: idAfter("user-"),
	base: func(q *query, sc scope) string {
		admin := "u.is_admin OR "
		inGroup := ""
		if sc.group > 0 {
			admin = ""
			inGroup = " AND m.group_id IN (SELECT p.descendant_id FROM group_paths p WHERE p.ancestor_id = " + q.arg(sc.group) + ")"
		}
		role := "CASE WHEN " + admin + "EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = u.id AND m.role IN ('" +
			strings.Join(adminGroupRoles, "', '") + "')" + inGroup + ") THEN 'administrator'" +
			" WHEN EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = u.id AND m.role = '" + trainerGroupRole + "'" + inGroup + ")" +
			" OR " + teachesSQL("u.id") + " THEN 'teacher' ELSE 'student' END"
		return "SELECT " + userCols + ", " + role + " AS role " + usersFrom(q, sc)
	},
}

// usersFrom is the FROM and WHERE of the users base: the live accounts (u) of the scope.
func usersFrom(q *query, sc scope) string {
	return "FROM users u WHERE u.deleted_at IS NULL AND " + userInScope(q, sc, "u.id")
}

var courseFields = withCommon(map[string]field{"title": {"title", kText}, "courseCode": {"code", kText}, "org": {"school", kText}})

var courses = &entity{plural: "courses", single: "course", numericKey: true, fields: courseFields, keyOf: idAfter("course-"),
	base: func(q *query, sc scope) string {
		return "SELECT c.id AS k, 'course-' || c.id AS sid, 'active' AS status, c.updated_at AS dlm, c.fullname AS title, c.shortname AS code, " +
			schoolOf(q, sc, "c.id") + " AS school FROM courses c WHERE " + courseInScope(q, sc, "c.id")
	},
}

var classFields = withCommon(map[string]field{"title": {"title", kText}, "classCode": {"code", kText}, "classType": {"class_type", kText},
	"course": {"course", kText}, "school": {"school", kText}, "terms": {"term", kText}})

var classes = &entity{plural: "classes", single: "class", numericKey: true, fields: classFields, keyOf: idAfter("class-"),
	base: func(q *query, sc scope) string {
		return "SELECT c.id AS k, 'class-' || c.id AS sid, 'active' AS status, c.updated_at AS dlm, c.fullname AS title, c.shortname AS code," +
			" 'scheduled' AS class_type, 'course-' || c.id AS course, '" + defaultTerm + "' AS term, " +
			schoolOf(q, sc, "c.id") + " AS school FROM courses c WHERE " + courseInScope(q, sc, "c.id")
	},
}

var enrollmentFields = withCommon(map[string]field{"role": {"role", kText}, "user": {"usr", kText}, "class": {"class", kText},
	"school": {"school", kText}, "primary": {"is_primary", kBool}, "beginDate": {"begin_at", kTime}, "endDate": {"end_at", kTime}})

// enrollments fold a person's enrolment rows in one course (one per method) into one
// enrollment per OneRoster role: teacher for the teacher roles, student for student roles;
// guests are not enrolled. Both the person and the course must be in the scope.
var enrollments = &entity{plural: "enrollments", single: "enrollment", fields: enrollmentFields,
	keyOf: func(s string) (any, bool) { return s, strings.HasPrefix(s, "enrollment-") },
	base: func(q *query, sc scope) string {
		orRole := "CASE WHEN r.base_role = 'student' THEN 'student' ELSE 'teacher' END"
		inner := "SELECT e.course_id AS cid, e.user_id AS uid, " + orRole + " AS role," +
			" MAX(CASE WHEN e.status = 'active' THEN 1 ELSE 0 END) AS active, MAX(e.updated_at) AS dlm, MIN(e.starts_at) AS begin_at," +
			" CASE WHEN COUNT(e.ends_at) = COUNT(*) THEN MAX(e.ends_at) END AS end_at" +
			" FROM course_enrolments e JOIN course_roles r ON r.shortname = e.role JOIN users u ON u.id = e.user_id AND u.deleted_at IS NULL" +
			" WHERE r.base_role IN ('student', 'teacher', 'non_editing_teacher') AND " + userInScope(q, sc, "e.user_id") +
			" AND " + courseInScope(q, sc, "e.course_id") + " GROUP BY 1, 2, 3"
		return "SELECT 'enrollment-' || x.cid || '-' || x.uid || '-' || x.role AS k, 'enrollment-' || x.cid || '-' || x.uid || '-' || x.role AS sid," +
			" CASE WHEN x.active = 1 THEN 'active' ELSE 'tobedeleted' END AS status, x.dlm AS dlm, x.role AS role," +
			" 'user-' || x.uid AS usr, 'class-' || x.cid AS class, " + schoolOf(q, sc, "x.cid") + " AS school, 'false' AS is_primary," +
			" x.begin_at AS begin_at, x.end_at AS end_at, x.cid AS cid, x.uid AS uid FROM (" + inner + ") x"
	},
}

// The one academic session: the current school year (1 September to 31 August), which every
// class is in.
const defaultTerm = "term-default"

var sessionFields = withCommon(map[string]field{"title": {"title", kText}, "type": {"type", kText}, "startDate": {"start_at", kTime},
	"endDate": {"end_at", kTime}, "schoolYear": {"school_year", kText}})

func schoolYear(now time.Time) (start, end time.Time, year int) {
	y := now.Year()
	if now.Month() < time.September {
		y--
	}
	start = time.Date(y, time.September, 1, 0, 0, 0, 0, time.UTC)
	end = time.Date(y+1, time.August, 31, 0, 0, 0, 0, time.UTC)
	return start, end, y + 1
}

func sessionsEntity(now func() time.Time) *entity {
	return &entity{plural: "academicSessions", single: "academicSession", numericKey: true, fields: sessionFields,
		keyOf: func(s string) (any, bool) { return int64(1), s == defaultTerm },
		base: func(q *query, sc scope) string {
			start, end, y := schoolYear(now())
			return "SELECT 1 AS k, '" + defaultTerm + "' AS sid, 'active' AS status, CAST(" + q.arg(start.Unix()) + " AS BIGINT) AS dlm," +
				" CAST(" + q.arg("School year "+strconv.Itoa(y-1)+"-"+strconv.Itoa(y)) + " AS TEXT) AS title, 'term' AS type," +
				" CAST(" + q.arg(start.Unix()) + " AS BIGINT) AS start_at, CAST(" + q.arg(end.Unix()) + " AS BIGINT) AS end_at," +
				" CAST(" + q.arg(strconv.Itoa(y)) + " AS TEXT) AS school_year"
		}}
}

// row is one entity's columns by name.
type row map[string]any

func (r row) str(c string) string {
	switch v := r[c].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

func (r row) num(c string) (int64, bool) {
	switch v := r[c].(type) {
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case float64:
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	case []byte:
		n, err := strconv.ParseInt(string(v), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// in writes " IN (...)" of keys (int64, or strings for text keys) as one parameter
// (store.Dialect.InIDs, store.Dialect.In).
func (q *query) in(d store.Dialect, keys []any, numeric bool) {
	var (
		frag string
		args []any
	)
	if numeric {
		ns := make([]int64, len(keys))
		for i, k := range keys {
			ns[i], _ = row{"k": k}.num("k")
		}
		frag, args = d.InIDs(len(q.args)+1, ns)
	} else {
		ss := make([]string, len(keys))
		for i, k := range keys {
			ss[i] = row{"k": k}.str("k")
		}
		frag, args = d.In(len(q.args)+1, ss)
	}
	q.args = append(q.args, args...)
	q.w(frag)
}

// restriction narrows a list: a raw condition over t written by the caller.
type restriction func(q *query) string

// snapshotMin is the size from which a list's keys are kept between pages (see snapshots).
var snapshotMin = 10_000

// snapshots keep, for a short while, the ordered keys of the large lists a consumer is paging
// through (but a platform-wide client's users in their default order: see list): counting
// 100,000 people of a sub-tree, and walking past offset of them, costs a scan of each for every
// page; with the keys kept, the next pages read only their own rows.
// A page may be up to snapshotTTL old in which people it lists (their rows are read fresh,
// and always through the scope: someone who left it is dropped from the page, never shown).
type snapshots struct {
	mu      sync.Mutex
	entries map[string]snapshot
}

type snapshot struct {
	keys keyList
	at   time.Time
}

// keyList is a list's ordered keys: integers, or text. (Kept as they are rather than as
// []any: 100,000 values boxed one by one cost more than reading them.)
type keyList struct {
	ints []int64
	strs []string
}

func (l keyList) len() int { return len(l.ints) + len(l.strs) }

// window returns the keys from i to j as byKeys takes them.
func (l keyList) window(i, j int) []any {
	out := make([]any, 0, j-i)
	if l.strs != nil {
		for _, k := range l.strs[i:j] {
			out = append(out, k)
		}
		return out
	}
	for _, k := range l.ints[i:j] {
		out = append(out, k)
	}
	return out
}

const (
	snapshotTTL = 30 * time.Second
	maxSnaps    = 32
)

func (c *snapshots) get(key string) (keyList, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Since(e.at) > snapshotTTL {
		return keyList{}, false
	}
	return e.keys, true
}

func (c *snapshots) put(key string, keys keyList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]snapshot{}
	}
	for k, e := range c.entries {
		if time.Since(e.at) > snapshotTTL {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= maxSnaps {
		oldest := ""
		for k, e := range c.entries {
			if oldest == "" || e.at.Before(c.entries[oldest].at) {
				oldest = k
			}
		}
		delete(c.entries, oldest)
	}
	c.entries[key] = snapshot{keys: keys, at: time.Now()}
}

// overlapFirstPage: the first page is read while the whole list's keys are (see list). The
// benchmark turns it off to compare: it saves wall time when a core and a connection are idle,
// and costs the page's own LIMIT/OFFSET read in CPU.
var overlapFirstPage = true

// list reads one page, and returns it with the function that gives the total. snaps may be
// nil (no keys kept): then it counts, and reads the page's keys alone.
//
// A platform-wide client's users in their default order, with no filter (what a rostering
// consumer pages through), are read fresh on every page by liveUsersPage: their count and a
// page's keys come from the index of live accounts, at the cost of a page's rows.
//
// Otherwise, with snaps, the total comes from the keys of the whole list, read in one
// statement (one row: see store.OrderedList; a sub-tree's people: subtreeUsers); lists of
// snapshotMin keys or more keep them for the next pages, which read only their own rows. On
// the first page of a list (no keys kept yet) in its default order, the page's own keys and
// rows are read meanwhile, on another connection, by LIMIT and OFFSET: the first page of
// 100,000 people waits for the longer of the two, not for both one after the other.
func list(ctx context.Context, db *store.DB, snaps *snapshots, e *entity, sc scope, p listParams, where []restriction) ([]row, func() (int, error), error) {
	filter := func(q *query) {
		q.w(" WHERE 1 = 1")
		for _, r := range where {
			q.w(" AND ", r(q))
		}
		if p.filter != nil {
			q.w(" AND ")
			p.filter.sql(q)
		}
	}
	var kq query
	kq.w("FROM (", e.base(&kq, sc), ") t")
	filter(&kq)
	dir := ""
	if p.desc {
		dir = " DESC"
	}
	order := "t.k" + dir
	if p.sort != "" {
		order = "t." + e.fields[p.sort].col + dir + ", " + order
	}
	totalIs := func(n int) func() (int, error) { return func() (int, error) { return n, nil } }
	if e == users && sc.group == 0 && p.filter == nil && p.sort == "" && len(where) == 0 {
		rows, n, err := liveUsersPage(ctx, db, order, p)
		return rows, totalIs(n), err
	}
	if snaps != nil {
		snapKey := kq.b.String() + "\x00" + order + "\x00" + fmt.Sprint(kq.args...)
		all, ok := snaps.get(snapKey)
		if ok {
			n := all.len()
			if p.offset >= n {
				return nil, totalIs(n), nil
			}
			rows, err := byKeys(ctx, db, e, sc, all.window(p.offset, min(p.offset+p.limit, n)))
			return rows, totalIs(n), err
		}
		type result struct {
			all keyList
			err error
		}
		done := make(chan result, 1)
		go func() {
			var r result
			if e == users && sc.group > 0 && p.filter == nil && p.sort == "" && len(where) == 0 {
				r.all, r.err = subtreeUsers(ctx, db, sc, p.desc)
			} else {
				r.all, r.err = allKeys(ctx, db, e, &kq, order)
			}
			if r.err == nil && r.all.len() >= snapshotMin {
				snaps.put(snapKey, r.all)
			}
			done <- r
		}()
		if p.sort != "" || !overlapFirstPage || (db.Dialect == store.Postgres && db.Stats().Idle < 2) {
			// Ordered by another field: the page is read from the keys (sorting the whole list
			// a second time for it would cost more than waiting). Likewise on PostgreSQL when
			// fewer than two connections are open and idle: a new connection is a new server
			// process, whose first queries read the catalog (tens of milliseconds, more than
			// reading the page meanwhile saves).
			r := <-done
			if r.err != nil {
				return nil, nil, r.err
			}
			n := r.all.len()
			if p.offset >= n {
				return nil, totalIs(n), nil
			}
			rows, err := byKeys(ctx, db, e, sc, r.all.window(p.offset, min(p.offset+p.limit, n)))
			return rows, totalIs(n), err
		}
		total := func() (int, error) { r := <-done; return r.all.len(), r.err }
		keys, err := pageKeys(ctx, db, &kq, order, p)
		if err != nil {
			return nil, nil, err
		}
		rows, err := byKeys(ctx, db, e, sc, keys)
		return rows, total, err
	}

	var cq query
	cq.w("SELECT COUNT(*) FROM (", e.base(&cq, sc), ") t")
	filter(&cq)
	var n int
	if err := db.QueryRowContext(ctx, cq.b.String(), cq.args...).Scan(&n); err != nil {
		return nil, nil, err
	}
	if n == 0 || p.offset >= n {
		return nil, totalIs(n), nil
	}
	keys, err := pageKeys(ctx, db, &kq, order, p)
	if err != nil {
		return nil, nil, err
	}
	rows, err := byKeys(ctx, db, e, sc, keys)
	return rows, totalIs(n), err
}

// liveUsersPage reads one page of a platform-wide client's users in id order (order: "t.k"
// or "t.k DESC"), with no filter and no restriction, and their number. The page's keys and the
// count are one statement, both read from the index of live accounts (users_live: a few
// milliseconds for 100,000 accounts, on either database), so that the page and its total
// agree; then the page's rows. Every page, the first one included, is read fresh: nothing is
// kept between pages.
func liveUsersPage(ctx context.Context, db *store.DB, order string, p listParams) ([]row, int, error) {
	// The base's FROM and WHERE alone (not its columns: a short statement for the database to
	// plan); its placeholders, if any, serve both uses.
	var q query
	from := usersFrom(&q, scope{})
	q.w("SELECT u.id, (SELECT COUNT(*) ", from, ") ", from, " ORDER BY ", strings.Replace(order, "t.k", "u.id", 1),
		" LIMIT ", q.arg(p.limit), " OFFSET ", q.arg(p.offset))
	rs, err := db.QueryContext(ctx, q.b.String(), q.args...)
	if err != nil {
		return nil, 0, err
	}
	defer rs.Close()
	var keys []any
	n := -1
	for rs.Next() {
		var k, count int64
		if err := rs.Scan(&k, &count); err != nil {
			return nil, 0, err
		}
		keys, n = append(keys, k), int(count)
	}
	if err := rs.Err(); err != nil {
		return nil, 0, err
	}
	rs.Close()
	if n < 0 { // past the end: the count alone
		var c query
		c.w("SELECT COUNT(*) ", usersFrom(&c, scope{}))
		if err := db.QueryRowContext(ctx, c.b.String(), c.args...).Scan(&n); err != nil {
			return nil, 0, err
		}
		return nil, n, nil
	}
	rows, err := byKeys(ctx, db, users, scope{}, keys)
	return rows, n, err
}

// pageKeys reads the keys of one page by LIMIT and OFFSET (kq: the list's FROM and WHERE).
func pageKeys(ctx context.Context, db *store.DB, kq *query, order string, p listParams) ([]any, error) {
	q := query{args: slices.Clone(kq.args)}
	q.w("SELECT t.k ", kq.b.String(), " ORDER BY ", order, " LIMIT ", q.arg(p.limit), " OFFSET ", q.arg(p.offset))
	rs, err := db.QueryContext(ctx, q.b.String(), q.args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var keys []any
	for rs.Next() {
		var k any
		if err := rs.Scan(&k); err != nil {
			return nil, err
		}
		if b, ok := k.([]byte); ok {
			k = string(b)
		}
		keys = append(keys, k)
	}
	return keys, rs.Err()
}

// allKeys reads the ordered keys of a list (kq: its FROM and WHERE) in one row.
func allKeys(ctx context.Context, db *store.DB, e *entity, kq *query, order string) (keyList, error) {
	var s string
	if err := db.QueryRowContext(ctx, "SELECT "+db.Dialect.OrderedList("t.k", kq.b.String(), order, !e.numericKey), kq.args...).Scan(&s); err != nil {
		return keyList{}, err
	}
	if !e.numericKey {
		l := keyList{strs: []string{}}
		return l, json.Unmarshal([]byte(s), &l.strs)
	}
	ids, _, err := parseIDs(s, nil)
	return keyList{ints: ids}, err
}

// parseIDs appends to out the integers of s, joined by commas, and returns the largest. (A
// loop over the bytes: a sub-tree's lists hold a few hundred thousand ids, which ParseInt
// over a split costs several times as much to read.)
func parseIDs(s string, out []int64) ([]int64, int64, error) {
	var top int64
	if s == "" {
		return out, top, nil
	}
	if out == nil {
		out = make([]int64, 0, strings.Count(s, ",")+1)
	}
	var n int64
	digits := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if digits == 0 {
				return nil, 0, fmt.Errorf("oneroster: not a list of ids at %d", i)
			}
			out = append(out, n)
			top = max(top, n)
			n, digits = 0, 0
			continue
		}
		d := s[i] - '0'
		if d > 9 || n > (math.MaxInt64-int64(d))/10 {
			return nil, 0, fmt.Errorf("oneroster: not a list of ids at %d", i)
		}
		n = n*10 + int64(d)
		digits++
	}
	return out, top, nil
}

// subtreeUsers returns, in id order (desc: reversed), the people of a scope: the members of
// its groups. By the propagation rule (see package group), a learner of a public group is
// also a learner of its parent (a propagated membership, kept in step when a visibility
// changes or a group moves); so the scope's top group and its private groups give all their
// members, and a public group below the top only those who are not learners there (trainers,
// administrators: through the index group_members_not_learners), its learners being found in
// its parent. Each group gives its list of ids in one text (store.IntList), from the index in
// its order and without a sort; the lists are joined and ordered here, through a bitmap of ids
// (or a sort when ids are too sparse for one). This costs a few milliseconds, where the
// database would test, person by person, whether one of their memberships lies in the
// sub-tree (twice as long on SQLite for 100,000 people, more on PostgreSQL). Anonymised
// accounts have no memberships left (account removes them), so none is counted; nor would
// their rows be read (byKeys goes through the users base, which leaves them out).
func subtreeUsers(ctx context.Context, db *store.DB, sc scope, desc bool) (keyList, error) {
	members := db.Dialect.IntList("m.user_id") + " FROM group_members m WHERE m.group_id = p.descendant_id"
	rs, err := db.QueryContext(ctx, "SELECT CASE WHEN p.depth = 0 OR g.visibility <> 'public' THEN (SELECT "+members+")"+
		" ELSE (SELECT "+members+" AND m.role <> 'learner') END"+
		" FROM group_paths p JOIN groups g ON g.id = p.descendant_id WHERE p.ancestor_id = $1", sc.group)
	if err != nil {
		return keyList{}, err
	}
	defer rs.Close()
	var lists []string
	n := 0
	for rs.Next() {
		var s string
		if err := rs.Scan(&s); err != nil {
			return keyList{}, err
		}
		if s != "" {
			lists = append(lists, s)
			n += strings.Count(s, ",") + 1
		}
	}
	if err := rs.Err(); err != nil {
		return keyList{}, err
	}
	all := make([]int64, 0, n) // read once, not grown list by list
	var top int64
	for _, s := range lists {
		var t int64
		if all, t, err = parseIDs(s, all); err != nil {
			return keyList{}, err
		}
		top = max(top, t)
	}
	var ids []int64
	if top < int64(len(all))*16+1<<16 {
		seen := make([]uint64, top/64+1)
		for _, id := range all {
			seen[id/64] |= 1 << (id % 64)
		}
		ids = all[:0] // the ids, once each, fit where they were read
		for w, word := range seen {
			for ; word != 0; word &= word - 1 {
				ids = append(ids, int64(w)*64+int64(bits.TrailingZeros64(word)))
			}
		}
	} else {
		slices.Sort(all)
		ids = slices.Compact(all)
	}
	if desc {
		slices.Reverse(ids)
	}
	return keyList{ints: ids}, nil
}

// byKeys reads the rows of the given keys, in their order; missing keys are left out.
func byKeys(ctx context.Context, db *store.DB, e *entity, sc scope, keys []any) ([]row, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if e == users {
		return userRows(ctx, db, sc, keys)
	}
	var q query
	q.w("SELECT t.* FROM (", e.base(&q, sc), ") t WHERE t.k")
	q.in(db.Dialect, keys, e.numericKey)
	rs, err := db.QueryContext(ctx, q.b.String(), q.args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	found := map[string]row{}
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := row{}
		for i, c := range cols {
			r[c] = vals[i]
		}
		found[r.str("k")] = r
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	out := make([]row, 0, len(keys))
	for _, k := range keys {
		if r, ok := found[row{"k": k}.str("k")]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// userRows reads the rows of the given people in the scope, in their order (missing keys
// left out), as the users base has them, each with its orgs ("orgs": the ids of the groups
// of the scope the person is a member of, in order). Two statements over the page's keys: the
// accounts (with whether each teaches in some course), then their memberships, each marked in
// the scope or not: those in it give their orgs, their role (userRole) and, for a client of a
// sub-tree, whether they are in it at all. The base would test each person's memberships in
// three subqueries, and their orgs in a fourth read.
func userRows(ctx context.Context, db *store.DB, sc scope, keys []any) ([]row, error) {
	var q query
	q.w("SELECT ", userCols, ", u.is_admin, CASE WHEN ")
	teachersAmong(&q, db.Dialect, keys)
	q.w(" THEN 1 ELSE 0 END AS teaches FROM users u WHERE u.deleted_at IS NULL AND u.id")
	q.in(db.Dialect, keys, true)
	rs, err := db.QueryContext(ctx, q.b.String(), q.args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, err
	}
	cols = cols[:len(cols)-2]
	type person struct {
		r       row
		admin   bool
		teaches int64
		roles   []string
		groups  []int64
	}
	found := make(map[int64]*person, len(keys))
	for rs.Next() {
		p := &person{r: make(row, len(cols)+2)}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols)+2)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		ptrs[len(cols)], ptrs[len(cols)+1] = &p.admin, &p.teaches
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, c := range cols {
			p.r[c] = vals[i]
		}
		k, _ := p.r.num("k")
		found[k] = p
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	rs.Close()
	if len(found) == 0 {
		return nil, nil
	}

	// The people's memberships, each with whether its group is in the scope: tested row by row
	// (one lookup in group_paths each) rather than joined, which PostgreSQL's generic plan of
	// the prepared statement (its choice after five runs) would turn into probing each group of
	// the sub-tree for the whole page (13 ms for 11 groups and 1,000 people, against 2).
	var m query
	m.w("SELECT m.user_id, m.group_id, m.role, ")
	if sc.group > 0 {
		m.w("CASE WHEN EXISTS (SELECT 1 FROM group_paths p WHERE p.ancestor_id = ", m.arg(sc.group),
			" AND p.descendant_id = m.group_id) THEN 1 ELSE 0 END")
	} else {
		m.w("1")
	}
	m.w(" FROM group_members m WHERE m.user_id")
	m.in(db.Dialect, keys, true)
	ms, err := db.QueryContext(ctx, m.b.String(), m.args...)
	if err != nil {
		return nil, err
	}
	defer ms.Close()
	for ms.Next() {
		var u, g, in int64
		var role string
		if err := ms.Scan(&u, &g, &role, &in); err != nil {
			return nil, err
		}
		if p := found[u]; p != nil && in == 1 {
			p.roles = append(p.roles, role)
			p.groups = append(p.groups, g)
		}
	}
	if err := ms.Err(); err != nil {
		return nil, err
	}

	out := make([]row, 0, len(keys))
	for _, key := range keys {
		k, _ := row{"k": key}.num("k")
		p := found[k]
		if p == nil || (sc.group > 0 && len(p.groups) == 0) { // gone, or out of the sub-tree
			continue
		}
		slices.Sort(p.groups)
		p.r["role"] = userRole(sc, p.admin, p.roles, p.teaches == 1)
		p.r["orgs"] = slices.Compact(p.groups)
		out = append(out, p.r)
		delete(found, k) // a key listed twice gives one row
	}
	return out, nil
}

// orgChildren returns the child groups of each group (0: the top-level groups).
func orgChildren(ctx context.Context, db *store.DB, ids []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	var q query
	q.w("SELECT COALESCE(g.parent_id, 0), g.id FROM groups g WHERE COALESCE(g.parent_id, 0)")
	q.in(db.Dialect, anys(ids), true)
	q.w(" ORDER BY g.id")
	rs, err := db.QueryContext(ctx, q.b.String(), q.args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var p, g int64
		if err := rs.Scan(&p, &g); err != nil {
			return nil, err
		}
		out[p] = append(out[p], g)
	}
	return out, rs.Err()
}

func anys(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// Restrictions of the sub-collections.

func eq(col, v string) restriction {
	return func(q *query) string { return "t." + col + " = " + q.arg(v) }
}

// enrolledAs: users enrolled in course cid with the OneRoster role (student or teacher).
func enrolledAs(cid int64, orRole string) restriction {
	return func(q *query) string {
		bases := "('student')"
		if orRole == "teacher" {
			bases = teacherBases
		}
		return "t.k IN (SELECT e.user_id FROM course_enrolments e JOIN course_roles r ON r.shortname = e.role WHERE e.course_id = " +
			q.arg(cid) + " AND r.base_role IN " + bases + ")"
	}
}

// memberOf: users with a membership in group gid (0: everyone).
func memberOf(gid int64) restriction {
	return func(q *query) string {
		if gid == 0 {
			return "1 = 1"
		}
		return "t.k IN (SELECT m.user_id FROM group_members m WHERE m.group_id = " + q.arg(gid) + ")"
	}
}

// classesOf: classes the user is enrolled in, with the OneRoster role if not "".
func classesOf(uid int64, orRole string) restriction {
	return func(q *query) string {
		bases := "('student', 'teacher', 'non_editing_teacher')"
		switch orRole {
		case "student":
			bases = "('student')"
		case "teacher":
			bases = teacherBases
		}
		return "t.k IN (SELECT e.course_id FROM course_enrolments e JOIN course_roles r ON r.shortname = e.role WHERE e.user_id = " +
			q.arg(uid) + " AND r.base_role IN " + bases + ")"
	}
}
