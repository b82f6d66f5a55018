package course

import (
	"context"
	"strconv"
	"strings"

	"roster/internal/errs"
	"roster/internal/store"
)

// The batch operations below are the only writes to course_enrolments, course_groups,
// course_group_members and course_methods that other packages make (imports, the nightly
// sync): they run in the caller's transaction, check no permission (the caller did), record
// no audit event (the caller records its own, one per run or batch) and write many rows per
// statement. The single-row paths of this package (Enrol, SelfEnrol, invitations) write
// through the same functions.
//
// Times are Unix seconds, 0 for none. Inserts go through store's bulk-write helper
// (tx.InsertMany). Updates and deletes name their rows in a VALUES list or an IN list: ids and
// times are written into the statements as literals (they are integers: they cannot carry
// SQL), text (roles, names) as bind parameters, one per distinct value: SQLite's driver binds
// "$N" parameters in time quadratic in their number, so a statement of 500 rows keeps to a
// handful of them.

// batchRows is how many rows one multi-row statement takes.
const batchRows = 500

// EnrolRow is one enrolment row as the batch operations read and write it.
type EnrolRow struct {
	ID        int64 // filled when read back
	CourseID  int64
	MethodID  int64
	UserID    int64
	Role      string
	Status    string // Active (also for "") or Suspended
	StartsAt  int64  // Unix seconds, 0 for none
	EndsAt    int64  // Unix seconds, 0 for none
	SyncRunID int64  // the sis run that wrote it, 0 for none
}

// MethodUser names an enrolment by its method and person (they are unique together).
type MethodUser struct{ MethodID, UserID int64 }

// Placement is one person in a course group, placed by a method (0: by hand).
type Placement struct{ GroupID, UserID, MethodID int64 }

// GroupName names a course group by its course and name.
type GroupName struct {
	CourseID int64
	Name     string
}

// values builds a multi-row statement: integers as literals, text as deduplicated "$N"
// parameters.
type values struct {
	b     strings.Builder
	args  []any
	texts map[string]string
	rows  int
}

func newValues(head string) *values {
	v := &values{texts: map[string]string{}}
	v.b.WriteString(head)
	return v
}

// row starts a tuple.
func (v *values) row() {
	if v.rows > 0 {
		v.b.WriteString(", ")
	}
	v.rows++
	v.b.WriteByte('(')
}

func (v *values) end() { v.b.WriteByte(')') }

func (v *values) sep(first bool) {
	if !first {
		v.b.WriteString(", ")
	}
}

func (v *values) int(first bool, n int64) {
	v.sep(first)
	v.b.WriteString(strconv.FormatInt(n, 10))
}

// opt writes n, or a NULL typed as BIGINT for 0 (PostgreSQL types a VALUES column by its
// first row).
func (v *values) opt(first bool, n int64) {
	if n == 0 {
		v.sep(first)
		v.b.WriteString("CAST(NULL AS BIGINT)")
		return
	}
	v.int(first, n)
}

func (v *values) text(first bool, s string) {
	v.sep(first)
	p, ok := v.texts[s]
	if !ok {
		v.args = append(v.args, s)
		p = "$" + strconv.Itoa(len(v.args))
		v.texts[s] = p
	}
	v.b.WriteString(p)
}

func (v *values) add(s string) { v.b.WriteString(s) }

func (v *values) String() string { return v.b.String() }

// idList writes ids as comma-separated literals.
func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// inBatches calls fn with slices of at most batchRows items.
func inBatches[T any](list []T, fn func([]T) error) error {
	for len(list) > 0 {
		n := min(batchRows, len(list))
		if err := fn(list[:n]); err != nil {
			return err
		}
		list = list[n:]
	}
	return nil
}

func statusOf(e EnrolRow) (string, error) {
	switch e.Status {
	case "", Active:
		return Active, nil
	case Suspended:
		return Suspended, nil
	}
	return "", errs.FieldCode("status", "bad_enrolment_status")
}

// enrolInsert writes enrolments, skipping those whose method already enrols the person.
var enrolInsert = store.Insert{Table: "course_enrolments",
	Columns: []string{"course_id", "method_id", "user_id", "role", "status", "starts_at", "ends_at", "sync_run_id", "created_at", "updated_at"},
	Types:   []store.ColType{store.Int, store.Int, store.Int, store.Text, store.Text, store.Int, store.Int, store.Int, store.Int, store.Int},
	Tail:    `ON CONFLICT (method_id, user_id) DO NOTHING RETURNING id, method_id, user_id`}

// EnrolManyTx inserts enrolments, skipping those whose method already enrols the person, and
// returns the ones it added (with their ids). It writes through store.InsertMany: the same
// statement text for every batch, which PostgreSQL plans once (a VALUES list of literals is
// a new statement every time, each parsed, planned and cached by pgx).
func EnrolManyTx(ctx context.Context, tx *store.Tx, list []EnrolRow) ([]EnrolRow, error) {
	byKey := make(map[MethodUser]int, len(list))
	for i, e := range list {
		if _, err := statusOf(e); err != nil {
			return nil, err
		}
		byKey[MethodUser{e.MethodID, e.UserID}] = i
	}
	var added []EnrolRow
	now := tx.Now.Unix()
	err := tx.InsertMany(ctx, enrolInsert, len(list), func(i int, v []any) {
		e := list[i]
		st, _ := statusOf(e)
		v[0], v[1], v[2], v[3], v[4] = e.CourseID, e.MethodID, e.UserID, e.Role, st
		v[5], v[6], v[7], v[8], v[9] = nullInt(e.StartsAt), nullInt(e.EndsAt), nullInt(e.SyncRunID), now, now
	}, func(r store.Scanner) error {
		var id int64
		var k MethodUser
		if err := r.Scan(&id, &k.MethodID, &k.UserID); err != nil {
			return err
		}
		e := list[byKey[k]]
		e.ID = id
		e.Status, _ = statusOf(e)
		added = append(added, e)
		return nil
	})
	if err == nil && len(added) > 0 {
		seen := map[int64]bool{}
		var courses []int64
		for _, e := range added {
			if !seen[e.CourseID] {
				seen[e.CourseID] = true
				courses = append(courses, e.CourseID)
			}
		}
		err = markStale(ctx, tx, courses)
	}
	return added, wrap(err, "course: enrol many")
}

// nullInt is n, or nil (NULL) for 0.
func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// SourceUpdate is what a synced source (the nightly sync) makes of enrolments it already
// holds: their role and dates, the run that saw them last; a suspension the sync made is
// lifted, one made by hand stays.
type SourceUpdate struct {
	Role             string
	StartsAt, EndsAt int64 // Unix seconds, 0 for none
	SyncRunID        int64
}

// UpdateFromSourceTx applies u to the enrolments ids and returns how many it changed.
func UpdateFromSourceTx(ctx context.Context, tx *store.Tx, ids []int64, u SourceUpdate) (int, error) {
	total := 0
	err := inBatches(ids, func(chunk []int64) error {
		q := newValues(`UPDATE course_enrolments SET role = `)
		q.text(true, u.Role)
		q.add(`, starts_at = `)
		q.opt(true, u.StartsAt)
		q.add(`, ends_at = `)
		q.opt(true, u.EndsAt)
		q.add(`, status = CASE WHEN sync_suspended THEN 'active' ELSE status END, sync_suspended = false, sync_run_id = `)
		q.opt(true, u.SyncRunID)
		q.add(`, updated_at = `)
		q.int(true, tx.Now.Unix())
		q.add(` WHERE id IN (` + idList(chunk) + `)`)
		n, err := execCount(ctx, tx, q.String(), q.args...)
		total += n
		return wrap(err, "course: update from source")
	})
	return total, err
}

// SyncSuspendManyTx suspends the active enrolments ids for their synced source (marked so
// that coming back into the source reactivates them), and returns how many it suspended.
func SyncSuspendManyTx(ctx context.Context, tx *store.Tx, ids []int64, runID int64) (int, error) {
	total := 0
	err := inBatches(ids, func(chunk []int64) error {
		q := newValues(`UPDATE course_enrolments SET status = 'suspended', sync_suspended = true, sync_run_id = `)
		q.opt(true, runID)
		q.add(`, updated_at = `)
		q.int(true, tx.Now.Unix())
		q.add(` WHERE id IN (` + idList(chunk) + `) AND status = 'active'`)
		n, err := execCount(ctx, tx, q.String(), q.args...)
		total += n
		return wrap(err, "course: suspend many")
	})
	return total, err
}

// SetStatusManyTx sets the status (Active or Suspended) of every enrolment of the people in
// the course, by hand: a sync does not undo it. It returns how many enrolments changed.
func SetStatusManyTx(ctx context.Context, tx *store.Tx, courseID int64, userIDs []int64, status string) (int, error) {
	if status != Active && status != Suspended {
		return 0, errs.FieldCode("status", "bad_enrolment_status")
	}
	total := 0
	err := inBatches(userIDs, func(chunk []int64) error {
		q := newValues(`UPDATE course_enrolments SET status = `)
		q.text(true, status)
		q.add(`, sync_suspended = false, updated_at = `)
		q.int(true, tx.Now.Unix())
		q.add(` WHERE course_id = `)
		q.int(true, courseID)
		q.add(` AND user_id IN (` + idList(chunk) + `) AND status <> `)
		q.text(true, status)
		n, err := execCount(ctx, tx, q.String(), q.args...)
		total += n
		return wrap(err, "course: set status")
	})
	return total, err
}

// RedateManyTx gives the enrolments named by (MethodID, UserID) the StartsAt and EndsAt of
// each item, and returns the enrolments it found as they were before (an import records them
// to undo the change; undoing gives them back with RedateManyTx too).
func RedateManyTx(ctx context.Context, tx *store.Tx, list []EnrolRow) ([]EnrolRow, error) {
	var before []EnrolRow
	err := inBatches(list, func(chunk []EnrolRow) error {
		keys := make([]MethodUser, len(chunk))
		for i, e := range chunk {
			keys[i] = MethodUser{e.MethodID, e.UserID}
		}
		old, err := enrolmentsByKey(ctx, tx, keys)
		if err != nil {
			return err
		}
		before = append(before, old...)
		q := newValues(`UPDATE course_enrolments SET starts_at = v.column3, ends_at = v.column4, updated_at = `)
		q.int(true, tx.Now.Unix())
		q.add(` FROM (VALUES `)
		for _, e := range chunk {
			q.row()
			q.int(true, e.MethodID)
			q.int(false, e.UserID)
			q.opt(false, e.StartsAt)
			q.opt(false, e.EndsAt)
			q.end()
		}
		q.add(`) AS v WHERE course_enrolments.method_id = v.column1 AND course_enrolments.user_id = v.column2`)
		_, err = tx.ExecContext(ctx, q.String(), q.args...)
		return wrap(err, "course: redate many")
	})
	return before, err
}

// UnenrolManyTx deletes the enrolments named by (MethodID, UserID, Role) and returns them as
// they were. Whoever is no longer a participant leaves the course's groups too.
func UnenrolManyTx(ctx context.Context, tx *store.Tx, list []EnrolRow) ([]EnrolRow, error) {
	return unenrolMany(ctx, tx, list, false)
}

// UnenrolManualManyTx deletes, for each item, the enrolments of the person (UserID) in the
// course (CourseID) with the role (Role) by any manual method, and returns them as they were.
func UnenrolManualManyTx(ctx context.Context, tx *store.Tx, list []EnrolRow) ([]EnrolRow, error) {
	return unenrolMany(ctx, tx, list, true)
}

// unenrolMany deletes the enrolments of list by (method, user, role), or by (course, user,
// role) and any manual method of the course.
func unenrolMany(ctx context.Context, tx *store.Tx, list []EnrolRow, manual bool) ([]EnrolRow, error) {
	var gone []EnrolRow
	err := inBatches(list, func(chunk []EnrolRow) error {
		key, tail := `method_id`, ``
		if manual {
			key, tail = `course_id`, ` AND method_id IN (SELECT id FROM course_methods WHERE type = 'manual' AND course_id = course_enrolments.course_id)`
		}
		q := newValues(`DELETE FROM course_enrolments WHERE (` + key + `, user_id, role) IN (VALUES `)
		for _, e := range chunk {
			q.row()
			if manual {
				q.int(true, e.CourseID)
			} else {
				q.int(true, e.MethodID)
			}
			q.int(false, e.UserID)
			q.text(false, e.Role)
			q.end()
		}
		q.add(`)` + tail + ` RETURNING ` + enrolmentCols)
		got, err := scanEnrolments(ctx, tx, q.String(), q.args...)
		if err != nil {
			return wrap(err, "course: unenrol many")
		}
		gone = append(gone, got...)
		return leaveGroups(ctx, tx, got)
	})
	return gone, err
}

// UnenrolIDsTx deletes the enrolments ids and returns how many it deleted. Whoever is no
// longer a participant leaves the course's groups too.
func UnenrolIDsTx(ctx context.Context, tx *store.Tx, ids []int64) (int, error) {
	total := 0
	err := inBatches(ids, func(chunk []int64) error {
		got, err := scanEnrolments(ctx, tx, `DELETE FROM course_enrolments WHERE id IN (`+idList(chunk)+`) RETURNING `+enrolmentCols)
		if err != nil {
			return wrap(err, "course: unenrol many")
		}
		total += len(got)
		return leaveGroups(ctx, tx, got)
	})
	return total, err
}

// leaveGroups takes the people of gone who are no longer enrolled in a course out of its
// groups.
func leaveGroups(ctx context.Context, tx *store.Tx, gone []EnrolRow) error {
	if len(gone) == 0 {
		return nil
	}
	users, courses := make([]int64, len(gone)), make([]int64, len(gone))
	for i, e := range gone {
		users[i], courses[i] = e.UserID, e.CourseID
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM course_group_members WHERE user_id IN (`+idList(dedupe(users))+`)
		AND course_group_id IN (SELECT id FROM course_groups WHERE course_id IN (`+idList(dedupe(courses))+`))
		AND NOT EXISTS (SELECT 1 FROM course_groups g JOIN course_enrolments e ON e.course_id = g.course_id
			WHERE g.id = course_group_members.course_group_id AND e.user_id = course_group_members.user_id)`)
	return wrap(err, "course: leave groups")
}

const enrolmentCols = `id, course_id, method_id, user_id, role, status, COALESCE(starts_at, 0), COALESCE(ends_at, 0), COALESCE(sync_run_id, 0)`

func scanEnrolments(ctx context.Context, tx *store.Tx, query string, args ...any) ([]EnrolRow, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EnrolRow
	for rows.Next() {
		var e EnrolRow
		if err := rows.Scan(&e.ID, &e.CourseID, &e.MethodID, &e.UserID, &e.Role, &e.Status, &e.StartsAt, &e.EndsAt, &e.SyncRunID); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// enrolmentsByKey reads the enrolments named by keys (at most batchRows).
func enrolmentsByKey(ctx context.Context, tx *store.Tx, keys []MethodUser) ([]EnrolRow, error) {
	q := newValues(`SELECT ` + enrolmentCols + ` FROM course_enrolments WHERE (method_id, user_id) IN (VALUES `)
	for _, k := range keys {
		q.row()
		q.int(true, k.MethodID)
		q.int(false, k.UserID)
		q.end()
	}
	q.add(`)`)
	out, err := scanEnrolments(ctx, tx, q.String(), q.args...)
	return out, wrap(err, "course: read enrolments")
}

var groupInsert = store.Insert{Table: "course_groups", Columns: []string{"course_id", "name", "created_at"},
	Types: []store.ColType{store.Int, store.Text, store.Int}, Tail: `ON CONFLICT (course_id, name) DO NOTHING`}

// EnsureGroupsTx creates the course groups of names that do not exist and returns the id of
// every one named.
func EnsureGroupsTx(ctx context.Context, tx *store.Tx, names []GroupName) (map[GroupName]int64, error) {
	ids := make(map[GroupName]int64, len(names))
	err := inBatches(names, func(chunk []GroupName) error {
		err := tx.InsertMany(ctx, groupInsert, len(chunk), func(i int, v []any) {
			v[0], v[1], v[2] = chunk[i].CourseID, chunk[i].Name, tx.Now.Unix()
		}, nil)
		if err != nil {
			return wrap(err, "course: ensure groups")
		}
		r := newValues(`SELECT id, course_id, name FROM course_groups WHERE (course_id, name) IN (VALUES `)
		for _, g := range chunk {
			r.row()
			r.int(true, g.CourseID)
			r.text(false, g.Name)
			r.end()
		}
		r.add(`)`)
		rows, err := tx.QueryContext(ctx, r.String(), r.args...)
		if err != nil {
			return wrap(err, "course: ensure groups")
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var g GroupName
			if err := rows.Scan(&id, &g.CourseID, &g.Name); err != nil {
				return wrap(err, "course: ensure groups")
			}
			ids[g] = id
		}
		return wrap(rows.Err(), "course: ensure groups")
	})
	return ids, err
}

var placeInsert = store.Insert{Table: "course_group_members", Columns: []string{"course_group_id", "user_id", "method_id", "created_at"},
	Types: []store.ColType{store.Int, store.Int, store.Int, store.Int}, Tail: `ON CONFLICT DO NOTHING RETURNING course_group_id, user_id, method_id`}

// PlaceManyTx puts people in course groups, skipping placements that exist, and returns the
// ones it added.
func PlaceManyTx(ctx context.Context, tx *store.Tx, list []Placement) ([]Placement, error) {
	var added []Placement
	err := tx.InsertMany(ctx, placeInsert, len(list), func(i int, v []any) {
		v[0], v[1], v[2], v[3] = list[i].GroupID, list[i].UserID, list[i].MethodID, tx.Now.Unix()
	}, func(r store.Scanner) error {
		var p Placement
		if err := r.Scan(&p.GroupID, &p.UserID, &p.MethodID); err != nil {
			return err
		}
		added = append(added, p)
		return nil
	})
	return added, wrap(err, "course: place many")
}

// UnplaceManyTx takes people out of course groups, each placement named by group, person and
// method, and returns how many it removed.
func UnplaceManyTx(ctx context.Context, tx *store.Tx, list []Placement) (int, error) {
	return unplace(ctx, tx, `course_group_id, user_id, method_id`, len(list), func(q *values, i int) {
		q.int(true, list[i].GroupID)
		q.int(false, list[i].UserID)
		q.int(false, list[i].MethodID)
	})
}

// UnplaceByMethodManyTx takes the people out of every course group their method placed them
// in, and returns how many placements it removed.
func UnplaceByMethodManyTx(ctx context.Context, tx *store.Tx, list []MethodUser) (int, error) {
	return unplace(ctx, tx, `method_id, user_id`, len(list), func(q *values, i int) {
		q.int(true, list[i].MethodID)
		q.int(false, list[i].UserID)
	})
}

// unplace deletes the placements whose columns (cols) match one of n tuples that tuple writes.
func unplace(ctx context.Context, tx *store.Tx, cols string, n int, tuple func(q *values, i int)) (int, error) {
	total := 0
	for start := 0; start < n; start += batchRows {
		q := newValues(`DELETE FROM course_group_members WHERE (` + cols + `) IN (VALUES `)
		for i := start; i < min(start+batchRows, n); i++ {
			q.row()
			tuple(q, i)
			q.end()
		}
		q.add(`)`)
		c, err := execCount(ctx, tx, q.String(), q.args...)
		if err != nil {
			return total, wrap(err, "course: unplace many")
		}
		total += c
	}
	return total, nil
}

// EnsureSISMethodsTx gives every course of courseIDs a method of type sis named source (the
// source's name) that lacks one, with removal RemovalSuspend or RemovalUnenrol, and returns
// the source's method of every course that has one (course id → method id).
func EnsureSISMethodsTx(ctx context.Context, tx *store.Tx, source, removal string, courseIDs []int64) (map[int64]int64, error) {
	if removal != RemovalSuspend && removal != RemovalUnenrol {
		return nil, errs.FieldCode("removal", "bad_removal")
	}
	methods, err := SISMethods(ctx, tx, source)
	if err != nil {
		return nil, err
	}
	var missing []int64
	for _, c := range dedupe(courseIDs) {
		if _, ok := methods[c]; !ok {
			missing = append(missing, c)
		}
	}
	err = tx.InsertMany(ctx, sisMethodInsert, len(missing), func(i int, v []any) {
		v[0], v[1], v[2], v[3], v[4], v[5], v[6] = missing[i], SIS, source, Student, removal, tx.Now.Unix(), tx.Now.Unix()
	}, func(r store.Scanner) error {
		var id, c int64
		if err := r.Scan(&id, &c); err != nil {
			return err
		}
		methods[c] = id
		return nil
	})
	return methods, wrap(err, "course: add sis methods")
}

var sisMethodInsert = store.Insert{Table: "course_methods", Columns: []string{"course_id", "type", "name", "role", "removal", "created_at", "updated_at"},
	Types: []store.ColType{store.Int, store.Text, store.Text, store.Text, store.Text, store.Int, store.Int}, Tail: `RETURNING id, course_id`}

// SISMethods returns the methods of type sis named source, by course (course id → method id).
func SISMethods(ctx context.Context, q store.Querier, source string) (map[int64]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, course_id FROM course_methods WHERE type = 'sis' AND name = $1`, source)
	if err != nil {
		return nil, wrap(err, "course: sis methods")
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, c int64
		if err := rows.Scan(&id, &c); err != nil {
			return nil, wrap(err, "course: sis methods")
		}
		out[c] = id
	}
	return out, wrap(rows.Err(), "course: sis methods")
}

func execCount(ctx context.Context, tx *store.Tx, query string, args ...any) (int, error) {
	r, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}
