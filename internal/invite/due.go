package invite

import (
	"context"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// dueBatch is how many held invitations SendDue sends per transaction.
const dueBatch = 100

// SendDue sends the invitations held until their course opens (due_at, see SetCourseHooks)
// whose course has opened: each gets a new link and lifetime, its email is queued, and it is
// no longer held. It runs with platform rights, one transaction per batch of invitations of a
// course, and returns how many it sent. The course's opening is read again each time, so a
// start date moved later keeps the invitations held (due_at follows it) and one moved earlier
// sends them at the new date. Running it again sends nothing twice. A course that is gone
// leaves its held invitations as they are. The jobs runner calls it every minute.
func (s *Service) SendDue(ctx context.Context) (int, error) {
	if s.courseOpens == nil {
		return 0, nil
	}
	ctx = authz.With(ctx, authz.System)
	courses, err := heldCourses(ctx, s.db)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, courseID := range courses {
		for {
			n, more := 0, false
			err := s.db.Tx(ctx, func(tx *store.Tx) error {
				n, more = 0, false
				open, opensAt, err := s.courseOpens(ctx, tx, courseID, tx.Now)
				if errs.Is(err, errs.NotFound) {
					return nil
				}
				if err != nil {
					return err
				}
				if !open {
					_, err := tx.ExecContext(ctx, `UPDATE invitations SET due_at = $1
						WHERE course_id = $2 AND status = 'pending' AND due_at IS NOT NULL AND due_at <> $1`,
						opensAt.Unix(), courseID)
					return wrap(err, "hold invitations")
				}
				items, err := queryInvitations(ctx, tx, tx.Now, ` AND i.course_id = $1 AND i.status = 'pending'
					AND i.due_at IS NOT NULL ORDER BY i.id LIMIT `+idStr(dueBatch), courseID)
				if err != nil {
					return err
				}
				if err := fillGroups(ctx, tx, items); err != nil {
					return err
				}
				for i := range items {
					if _, err := s.reissue(ctx, tx, &items[i], true); err != nil {
						return err
					}
				}
				n, more = len(items), len(items) == dueBatch
				return nil
			})
			if err != nil {
				return sent, err
			}
			sent += n
			if !more {
				break
			}
		}
	}
	return sent, nil
}

// heldCourses lists the courses that have invitations held until they open.
func heldCourses(ctx context.Context, q store.Querier) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT course_id FROM invitations
		WHERE status = 'pending' AND due_at IS NOT NULL AND course_id IS NOT NULL ORDER BY course_id`)
	if err != nil {
		return nil, wrap(err, "held invitations")
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "held invitations")
		}
		ids = append(ids, id)
	}
	return ids, wrap(rows.Err(), "held invitations")
}
