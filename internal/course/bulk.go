package course

import (
	"context"
	"time"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/store"
)

// BulkResult says what a bulk action on selected participants did.
type BulkResult struct {
	Changed int // enrolments changed or removed
	// Kept counts the enrolments of synced methods (group sync, meta, sis) that an unenrol left
	// in place: they follow their source, so a person leaves them by leaving the group or course.
	Kept int
}

// Unenrol removes the selected people's enrolments in the course: by one method (methodID), or
// by every method that is not synced (0). Enrolments by other methods stay, so a person also
// enrolled through a group stays a participant. It needs authz.ManageParticipants. Errors:
// Forbidden, NotFound (method, or someone not a participant), Invalid (nobody selected),
// Conflict (methodID is a synced method).
func (s *Service) Unenrol(ctx context.Context, courseID int64, userIDs []int64, methodID int64) (*BulkResult, error) {
	var res BulkResult
	err := s.bulk(ctx, courseID, userIDs, func(tx *store.Tx, ids []int64, in string, args []any) error {
		if methodID != 0 {
			m, err := getMethod(ctx, tx, methodID)
			if err != nil || m.CourseID != courseID {
				return notFoundField("method_id", "no_such_method")
			}
			if m.Synced() {
				return errs.Coded(errs.Conflict, "synced_enrolments", errs.P{"method": i18n.Label("label.method." + m.Type)})
			}
		}
		filter := ` AND method_id IN (SELECT id FROM course_methods WHERE course_id = $1 AND type NOT IN ('group_sync', 'meta', 'sis'))`
		if methodID != 0 {
			filter = ` AND method_id = ` + idStr(methodID)
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM course_enrolments WHERE course_id = $1 AND user_id IN (`+in+`)`+filter, args...)
		if err != nil {
			return wrap(err, "course: unenrol")
		}
		n, _ := r.RowsAffected()
		res.Changed = int(n)
		// Whoever is no longer a participant leaves the course groups too.
		if _, err := tx.ExecContext(ctx, `DELETE FROM course_group_members WHERE user_id IN (`+in+`)
			AND course_group_id IN (SELECT id FROM course_groups WHERE course_id = $1)
			AND user_id NOT IN (SELECT e.user_id FROM course_enrolments e WHERE e.course_id = $1 AND e.user_id IN (`+in+`))`, args...); err != nil {
			return wrap(err, "course: unenrol groups")
		}
		var kept int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM course_enrolments WHERE course_id = $1 AND user_id IN (`+in+`)`,
			args...).Scan(&kept); err != nil {
			return wrap(err, "course: unenrol")
		}
		res.Kept = kept
		return audit.Record(ctx, tx, audit.Event{Action: "course.unenrol", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"users": len(args) - 1, "method_id": methodID, "removed": n, "kept": kept}})
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// SetStatus sets the status (Active or Suspended) of every enrolment of the selected people in
// the course. A suspension by hand is not undone by a sync. It needs
// authz.ManageParticipants. Errors: Forbidden, NotFound, Invalid.
func (s *Service) SetStatus(ctx context.Context, courseID int64, userIDs []int64, status string) (*BulkResult, error) {
	if status != Active && status != Suspended {
		return nil, errs.FieldCode("status", "bad_enrolment_status")
	}
	var res BulkResult
	err := s.bulk(ctx, courseID, userIDs, func(tx *store.Tx, ids []int64, in string, args []any) error {
		c, err := SetStatusManyTx(ctx, tx, courseID, ids, status)
		if err != nil {
			return err
		}
		res.Changed = c
		return audit.Record(ctx, tx, audit.Event{Action: "course.status", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"users": len(args) - 1, "status": status, "changed": c}})
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// SetDates sets the start and end (nil: none) of every enrolment of the selected people in
// the course. It needs authz.ManageParticipants. Errors: Forbidden, NotFound, Invalid (end
// before start).
func (s *Service) SetDates(ctx context.Context, courseID int64, userIDs []int64, starts, ends *time.Time) (*BulkResult, error) {
	if starts != nil && ends != nil && !ends.After(*starts) {
		return nil, errs.FieldCode("ends_at", "end_before_start")
	}
	var res BulkResult
	err := s.bulk(ctx, courseID, userIDs, func(tx *store.Tx, ids []int64, in string, args []any) error {
		args = append(args, store.NullUnix(starts), store.NullUnix(ends), tx.Now.Unix())
		n := len(args)
		r, err := tx.ExecContext(ctx, `UPDATE course_enrolments SET starts_at = CAST($`+itoa(n-2)+` AS BIGINT), ends_at = CAST($`+itoa(n-1)+` AS BIGINT),
			updated_at = $`+itoa(n)+` WHERE course_id = $1 AND user_id IN (`+in+`)`, args...)
		if err != nil {
			return wrap(err, "course: set dates")
		}
		c, _ := r.RowsAffected()
		res.Changed = int(c)
		return audit.Record(ctx, tx, audit.Event{Action: "course.dates", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"users": len(args) - 4, "starts_at": store.NullUnix(starts), "ends_at": store.NullUnix(ends)}})
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// MaxBulk bounds one bulk action (the participants page can select a whole course).
const MaxBulk = 20000

// bulk checks the caller and the selection, then runs fn with the IN list of the users ($2...)
// after the course id ($1), and the ids.
func (s *Service) bulk(ctx context.Context, courseID int64, userIDs []int64, fn func(tx *store.Tx, ids []int64, in string, args []any) error) error {
	ids := dedupe(userIDs)
	if len(ids) > MaxBulk {
		return errs.FieldCode("user_ids", "too_many_people", errs.P{"limit": MaxBulk})
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanInCourse(ctx, tx, authz.ManageParticipants, courseID, tx.Now); err != nil {
			return err
		}
		if _, err := getCourse(ctx, tx, courseID); err != nil {
			return err
		}
		if err := checkEnrolled(ctx, tx, courseID, ids); err != nil {
			return err
		}
		args := append([]any{courseID}, int64Args(ids)...)
		return fn(tx, ids, store.Placeholders(2, len(ids)), args)
	})
}

func itoa(n int) string { return idStr(int64(n)) }
