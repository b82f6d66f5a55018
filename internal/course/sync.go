package course

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"roster/internal/audit"
	"roster/internal/errs"
	"roster/internal/store"
)

// How group sync and meta links follow their source.
//
// Triggers (migration 0008) write the id of every synced method whose source changed into
// course_sync_queue, in the transaction that changed it, whoever made the change: the group
// pages, the API, an import, SCIM, the nightly sync. On PostgreSQL they run once per
// statement over its transition table, so 5,000 members added in one statement queue a
// method once. The Follower polls the queue (a primary-key scan of a tiny table, every
// second by default), and reconciles each queued method in its own transaction with one diff
// in SQL: insert who is in the source and not enrolled, unenrol or suspend who is enrolled and
// no longer in the source. Taking a method is deleting its queue row in that transaction, so
// several `roster serve` can share the queue, and a change committed meanwhile queues it
// again. At start the Follower queues every synced method once, to repair anything missed.

// Follower keeps synced methods equal to their source.
type Follower struct {
	db       *store.DB
	log      *slog.Logger
	Interval time.Duration // between polls of the queue; 1 s by default
}

// NewFollower returns a follower over db.
func NewFollower(db *store.DB, log *slog.Logger) *Follower {
	return &Follower{db: db, log: log, Interval: time.Second}
}

// Run follows until ctx ends. While the database fails, it waits longer after each failure
// (Interval doubled, up to MaxBackoff) and logs the first failure, then one line per
// MaxBackoff, instead of one per Interval; it says when it works again.
func (f *Follower) Run(ctx context.Context) error {
	queued, fails := false, 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		var err error
		if !queued { // at start, every synced method once, to repair anything missed
			_, err = f.db.ExecContext(ctx, `INSERT INTO course_sync_queue (method_id)
				SELECT id FROM course_methods WHERE type IN ('group_sync', 'meta') ON CONFLICT DO NOTHING`)
			queued = err == nil
		}
		if err == nil {
			_, err = f.Drain(ctx)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := f.Interval
		if err != nil {
			fails++
			wait = min(f.Interval<<min(fails-1, 16), MaxBackoff)
			if fails == 1 || wait == MaxBackoff {
				f.log.Error("course sync", "err", err, "failures", fails, "retry_in", wait)
			}
		} else if fails > 0 {
			f.log.Info("course sync works again", "failures", fails)
			fails = 0
		}
		timer.Reset(wait)
	}
}

// MaxBackoff is the longest wait of a background job between two tries while the database
// fails.
const MaxBackoff = time.Minute

// Drain reconciles queued methods until the queue is empty, and returns how many it did.
func (f *Follower) Drain(ctx context.Context) (int, error) {
	done := 0
	for {
		rows, err := f.db.QueryContext(ctx, `SELECT method_id FROM course_sync_queue ORDER BY method_id LIMIT 100`)
		if err != nil {
			return done, err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return done, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return done, err
		}
		if len(ids) == 0 {
			return done, nil
		}
		for _, id := range ids {
			err := f.db.Tx(ctx, func(tx *store.Tx) error {
				r, err := tx.ExecContext(ctx, `DELETE FROM course_sync_queue WHERE method_id = $1`, id)
				if err != nil {
					return err
				}
				if n, _ := r.RowsAffected(); n == 0 {
					return nil // another instance took it
				}
				d, err := reconcile(ctx, tx, id)
				if err != nil || (d.Added == 0 && d.Removed == 0 && d.Suspended == 0) {
					return err
				}
				return audit.Record(ctx, tx, audit.Event{Action: "course.sync", TargetType: "course_method", TargetID: idStr(id),
					Details: map[string]any{"added": d.Added, "removed": d.Removed, "suspended": d.Suspended}})
			})
			if err != nil {
				return done, err
			}
			done++
		}
	}
}

// Diff is what one reconciliation changed.
type Diff struct{ Added, Removed, Suspended int }

// reconcile makes a synced method's enrolments equal to its source. A method that no longer
// exists is nothing to do.
func reconcile(ctx context.Context, tx *store.Tx, methodID int64) (Diff, error) {
	var d Diff
	m, err := getMethod(ctx, tx, methodID)
	if errs.Is(err, errs.NotFound) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	source, args, err := sourceSQL(m)
	if err != nil {
		return d, err
	}
	now := tx.Now.Unix()
	n := len(args)
	p := func(i int) string { return "$" + strconv.Itoa(i) }
	// 1. Everyone in the source is enrolled with the role the source gives (a meta link: each
	// person's role in the linked course); those the sync had suspended come back, and a role
	// changed in the source changes here. A disabled method keeps its people suspended.
	if !m.Enabled {
		if _, err := tx.ExecContext(ctx, `UPDATE course_enrolments SET status = 'suspended', sync_suspended = true, updated_at = $1
			WHERE method_id = $2 AND status = 'active'`, now, m.ID); err != nil {
			return d, wrap(err, "course: sync disabled")
		}
	}
	status, suspended := "active", false
	if !m.Enabled {
		status, suspended = "suspended", true
	}
	ins := append(args[:n:n], m.CourseID, m.ID, now, status, suspended)
	r, err := tx.ExecContext(ctx, `INSERT INTO course_enrolments (course_id, method_id, user_id, role, status, sync_suspended, created_at, updated_at)
		SELECT CAST(`+p(n+1)+` AS BIGINT), CAST(`+p(n+2)+` AS BIGINT), s.user_id, s.role, CAST(`+p(n+4)+` AS TEXT), CAST(`+p(n+5)+` AS BOOLEAN),
			CAST(`+p(n+3)+` AS BIGINT), CAST(`+p(n+3)+` AS BIGINT) FROM (`+source+`) s WHERE true
		ON CONFLICT (method_id, user_id) DO UPDATE SET role = excluded.role,
			status = CASE WHEN course_enrolments.sync_suspended THEN excluded.status ELSE course_enrolments.status END,
			sync_suspended = CASE WHEN course_enrolments.sync_suspended THEN excluded.sync_suspended ELSE false END,
			updated_at = excluded.updated_at
		WHERE (course_enrolments.sync_suspended AND course_enrolments.status <> excluded.status) OR course_enrolments.role <> excluded.role`, ins...)
	if err != nil {
		return d, wrap(err, "course: sync add")
	}
	added, _ := r.RowsAffected()
	d.Added = int(added)
	if added > 0 {
		if err := markStale(ctx, tx, []int64{m.CourseID}); err != nil {
			return d, wrap(err, "course: sync add")
		}
	}
	// 2. Everyone enrolled by it and no longer in the source leaves, or is suspended.
	rem := append(args[:n:n], m.ID)
	if m.Removal == RemovalSuspend {
		r, err = tx.ExecContext(ctx, `UPDATE course_enrolments SET status = 'suspended', sync_suspended = true, updated_at = `+p(n+2)+`
			WHERE method_id = `+p(n+1)+` AND status = 'active' AND user_id NOT IN (SELECT s.user_id FROM (`+source+`) s)`, append(rem, now)...)
	} else {
		r, err = tx.ExecContext(ctx, `DELETE FROM course_enrolments WHERE method_id = `+p(n+1)+` AND user_id NOT IN (SELECT s.user_id FROM (`+source+`) s)`, rem...)
	}
	if err != nil {
		return d, wrap(err, "course: sync remove")
	}
	removed, _ := r.RowsAffected()
	if m.Removal == RemovalSuspend {
		d.Suspended = int(removed)
	} else {
		d.Removed = int(removed)
	}
	// 3. The course group the method fills holds exactly its active people.
	if m.CourseGroupID != 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO course_group_members (course_group_id, user_id, method_id, created_at)
			SELECT CAST($1 AS BIGINT), user_id, CAST($2 AS BIGINT), CAST($3 AS BIGINT) FROM course_enrolments WHERE method_id = $2 AND status = 'active'
			ON CONFLICT DO NOTHING`, m.CourseGroupID, m.ID, now); err != nil {
			return d, wrap(err, "course: sync group")
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM course_group_members WHERE method_id = $1 AND (course_group_id <> $2
		OR user_id NOT IN (SELECT user_id FROM course_enrolments WHERE method_id = $1 AND status = 'active'))`,
		m.ID, m.CourseGroupID); err != nil {
		return d, wrap(err, "course: sync group")
	}
	return d, nil
}

// sourceSQL is the query of the people a synced method should enrol, user_id and role, with
// its arguments ($1...). A group sync gives everyone the method's role; a meta link keeps each
// person's role in the linked course (as Moodle's meta link does), optionally only for some
// roles: someone with several, the strongest (teacher, non-editing teacher, student, guest,
// by the roles' base roles).
func sourceSQL(m *Method) (string, []any, error) {
	switch m.Type {
	case GroupSync:
		if m.GroupID == 0 { // the group was deleted: nobody
			return `SELECT id AS user_id, '' AS role FROM users WHERE 1 = 0`, nil, nil
		}
		q := `SELECT DISTINCT gm.user_id, CAST($1 AS TEXT) AS role FROM group_paths gp JOIN group_members gm ON gm.group_id = gp.descendant_id
			JOIN users u ON u.id = gm.user_id WHERE gp.ancestor_id = $2 AND u.deleted_at IS NULL`
		args := []any{m.Role, m.GroupID}
		if !m.Subgroups {
			q += ` AND gp.depth = 0`
		}
		if m.GroupRole != "" {
			args = append(args, m.GroupRole)
			q += ` AND gm.role = $3`
		}
		return q, args, nil
	case Meta:
		q := `SELECT user_id, role FROM (SELECT le.user_id, le.role, ROW_NUMBER() OVER (PARTITION BY le.user_id ORDER BY
				CASE r.base_role WHEN 'teacher' THEN 1 WHEN 'non_editing_teacher' THEN 2 WHEN 'student' THEN 3 ELSE 4 END, le.role) AS n
			FROM course_enrolments le JOIN course_roles r ON r.shortname = le.role WHERE le.course_id = $1 AND le.status = 'active'`
		args := []any{m.LinkedCourseID}
		if len(m.LinkedRoles) > 0 {
			q += ` AND le.role IN (` + store.Placeholders(2, len(m.LinkedRoles)) + `)`
			for _, r := range m.LinkedRoles {
				args = append(args, r)
			}
		}
		return q + `) ranked WHERE n = 1`, args, nil
	case SIS:
		// The nightly sync writes sis enrolments itself; nothing to follow here.
		return `SELECT user_id, role FROM course_enrolments WHERE method_id = $1`, []any{m.ID}, nil
	}
	return "", nil, errors.New("course: method " + strings.ToLower(m.Type) + " is not synced")
}
