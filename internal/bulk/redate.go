package bulk

import (
	"context"

	"roster/internal/course"
	"roster/internal/store"
)

// redate gives an existing enrolment of the course's first manual method the dates a row
// asks for (the plan found it with other dates), and records the old ones for undo. An
// enrolment gone meanwhile is enrolled again.
func (s *Service) redate(ctx context.Context, tx *store.Tx, a *applied, e PlannedEnrol, methodID, batchID int64) error {
	row := enrolRow(pendingEnrol{a: a, courseID: e.CourseID, methodID: methodID, e: e})
	before, err := course.RedateManyTx(ctx, tx, []course.EnrolRow{row})
	if err != nil {
		return err
	}
	if len(before) == 0 {
		e.Redate = false
		return s.insertEnrols(ctx, tx, []pendingEnrol{{a: a, courseID: e.CourseID, methodID: methodID, e: e}}, batchID)
	}
	return writeChanges(ctx, tx, batchID, []change{{kind: "redate", course: e.CourseID, ref: methodID, user: a.userID, role: e.Role,
		startsAt: before[0].StartsAt, endsAt: before[0].EndsAt}})
}
