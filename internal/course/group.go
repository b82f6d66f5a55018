package course

import (
	"context"
	"strings"
	"unicode/utf8"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// Group is a course group: a named subset of a course's participants (a distance-learning
// group, a lab section).
type Group struct {
	ID       int64
	CourseID int64
	Name     string
	Members  int
}

// CreateGroup adds a course group. It needs authz.ManageCourse. Errors: Forbidden, NotFound,
// Invalid, Conflict (name taken in the course).
func (s *Service) CreateGroup(ctx context.Context, courseID int64, name string) (*Group, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 255 {
		return nil, errs.FieldCode("name", "required_max", errs.P{"limit": 255})
	}
	g := Group{CourseID: courseID, Name: name}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanInCourse(ctx, tx, authz.ManageCourse, courseID, tx.Now); err != nil {
			return err
		}
		if _, err := getCourse(ctx, tx, courseID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO course_groups (course_id, name, created_at) VALUES ($1, $2, $3) RETURNING id`,
			courseID, name, tx.Now.Unix()).Scan(&g.ID)
		if store.IsUnique(err) {
			return conflictField("name", "course_group_taken")
		}
		if err != nil {
			return wrap(err, "course: create group")
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.group.create", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"group_id": g.ID, "name": name}})
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// Groups lists a course's groups with their member counts. It needs authz.ViewParticipants.
func (s *Service) Groups(ctx context.Context, courseID int64) ([]Group, error) {
	if err := authz.CanInCourse(ctx, s.db, authz.ViewParticipants, courseID, s.now()); err != nil {
		return nil, err
	}
	return listGroups(ctx, s.db, courseID)
}

func listGroups(ctx context.Context, q store.Querier, courseID int64) ([]Group, error) {
	rows, err := q.QueryContext(ctx, `SELECT g.id, g.course_id, g.name,
		(SELECT count(DISTINCT m.user_id) FROM course_group_members m WHERE m.course_group_id = g.id)
		FROM course_groups g WHERE g.course_id = $1 ORDER BY g.name`, courseID)
	if err != nil {
		return nil, wrap(err, "course: groups")
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.ID, &g.CourseID, &g.Name, &g.Members); err != nil {
			return nil, wrap(err, "course: groups")
		}
		out = append(out, g)
	}
	return out, wrap(rows.Err(), "course: groups")
}

// AddToGroup places enrolled people in a course group by hand. It needs
// authz.ManageParticipants. Errors: Forbidden, NotFound (group, or someone not enrolled).
func (s *Service) AddToGroup(ctx context.Context, courseID, groupID int64, userIDs []int64) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanInCourse(ctx, tx, authz.ManageParticipants, courseID, tx.Now); err != nil {
			return err
		}
		if err := checkCourseGroup(ctx, tx, courseID, groupID); err != nil {
			return err
		}
		if err := checkEnrolled(ctx, tx, courseID, userIDs); err != nil {
			return err
		}
		for _, chunk := range chunks(userIDs, 500) {
			args := []any{groupID, courseID, tx.Now.Unix()}
			args = append(args, int64Args(chunk)...)
			if _, err := tx.ExecContext(ctx, `INSERT INTO course_group_members (course_group_id, user_id, method_id, created_at)
				SELECT DISTINCT CAST($1 AS BIGINT), user_id, 0, CAST($3 AS BIGINT) FROM course_enrolments WHERE course_id = $2 AND user_id IN (`+store.Placeholders(4, len(chunk))+`)
				ON CONFLICT DO NOTHING`, args...); err != nil {
				return wrap(err, "course: add to group")
			}
		}
		return audit.Record(ctx, tx, audit.Event{Action: "course.group.add", TargetType: "course", TargetID: idStr(courseID),
			Details: map[string]any{"group_id": groupID, "users": len(userIDs)}})
	})
}

func checkCourseGroup(ctx context.Context, q store.Querier, courseID, groupID int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM course_groups WHERE id = $1 AND course_id = $2`, groupID, courseID).Scan(&one)
	if store.IsNoRows(err) {
		return notFoundField("course_group_id", "no_course_group")
	}
	return wrap(err, "course: check group")
}
