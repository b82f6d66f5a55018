package bulk

import (
	"context"
	"database/sql"

	"roster/internal/errs"
	"roster/internal/store"
)

// redate gives an existing enrolment of the course's first manual method the dates a row
// asks for (the plan found it with other dates), and records the old ones for undo. An
// enrolment gone meanwhile is enrolled again.
func (s *Service) redate(ctx context.Context, tx *store.Tx, a *applied, e PlannedEnrol, methodID, batchID int64) error {
	var starts, ends sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT starts_at, ends_at FROM course_enrolments WHERE method_id = $1 AND user_id = $2`,
		methodID, a.userID).Scan(&starts, &ends)
	if store.IsNoRows(err) {
		e.Redate = false
		return s.insertEnrols(ctx, tx, []pendingEnrol{{a: a, courseID: e.CourseID, methodID: methodID, e: e}}, batchID)
	}
	if err != nil {
		return errs.Wrap(err, "bulk: enrolment dates")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE course_enrolments SET starts_at = $1, ends_at = $2, updated_at = $3
		WHERE method_id = $4 AND user_id = $5`, store.NullUnix(e.StartsAt), store.NullUnix(e.EndsAt), tx.Now.Unix(), methodID, a.userID); err != nil {
		return errs.Wrap(err, "bulk: enrolment dates")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO import_changes (batch_id, kind, course_id, ref_id, user_id, role, starts_at, ends_at)
		VALUES ($1, 'redate', $2, $3, $4, $5, $6, $7)`, batchID, e.CourseID, methodID, a.userID, e.Role, starts, ends); err != nil {
		return errs.Wrap(err, "bulk: record enrolment dates")
	}
	return nil
}
