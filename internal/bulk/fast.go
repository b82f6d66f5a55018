package bulk

import (
	"context"
	"strconv"

	"roster/internal/account"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// The batch paths below write through the owners' batch operations (account.CreateUsersTx,
// group.AddMembersTx, course.EnrolManyTx and PlaceManyTx), many rows a statement: one
// statement a row would take minutes for 100,000 people instead of seconds. The serial mode
// (SetSerial, for TestBatchPathsMatchServices) calls the single-row operations instead.

// createUsers creates the accounts of the batch's create plans, marked as the import's
// (account.HoldForImportTx: not billable until it is applied). A username or address taken
// since the check (another writer) turns that row into an error.
func (s *Service) createUsers(ctx context.Context, tx *store.Tx, list []*applied, hashes map[int]string, batchID int64) error {
	if len(list) == 0 {
		return nil
	}
	in := make([]account.NewUser, len(list))
	for i, a := range list {
		in[i] = a.plan.New
		in[i].Password, in[i].PasswordHash = "", hashes[a.plan.Row.Line]
		in[i].DeleteAt = a.plan.Row.User.DeleteAt
	}
	users, failed, err := s.accounts.CreateUsersTx(ctx, tx, in, batchID)
	if err != nil {
		return err
	}
	for i, a := range list {
		if users[i] != nil {
			a.userID, a.user = users[i].ID, users[i]
			continue
		}
		if f := errs.As(failed[i]).Fields; len(f) > 0 && f[0].Field == "email" {
			a.plan.fail("email", "email_used_by", errs.P{"email": in[i].Email})
		} else {
			a.plan.fail("username", "username_taken_by", errs.P{"username": in[i].Username})
		}
		a.plan.Action = ActError
	}
	return nil
}

type membership = group.NewMember

type rowScanner = store.Scanner

// addMembers adds memberships with the import's source and the learner rows the propagation
// rule implies.
func (s *Service) addMembers(ctx context.Context, tx *store.Tx, list []membership, src group.Source, chains group.Chains) error {
	return group.AddMembersTx(ctx, tx, list, src.String(), chains)
}

// insertEnrols adds the batch's enrolments, skipping those that exist, and records the ones
// added (and their course groups).
func (s *Service) insertEnrols(ctx context.Context, tx *store.Tx, enrols []pendingEnrol, batchID int64) error {
	if len(enrols) == 0 {
		return nil
	}
	rows := make([]course.EnrolRow, len(enrols))
	byKey := make(map[course.MethodUser]pendingEnrol, len(enrols))
	for i, pe := range enrols {
		rows[i] = enrolRow(pe)
		byKey[course.MethodUser{MethodID: pe.methodID, UserID: pe.a.userID}] = pe
	}
	var added []course.EnrolRow
	if s.serial {
		for _, r := range rows {
			got, err := course.EnrolManyTx(ctx, tx, []course.EnrolRow{r})
			if err != nil {
				return err
			}
			added = append(added, got...)
		}
	} else {
		var err error
		if added, err = course.EnrolManyTx(ctx, tx, rows); err != nil {
			return err
		}
	}
	done := make([]pendingEnrol, 0, len(added))
	for _, r := range added {
		pe := byKey[course.MethodUser{MethodID: r.MethodID, UserID: r.UserID}]
		pe.a.enrolled++
		done = append(done, pe)
	}
	return s.recordChanges(ctx, tx, batchID, "enrol", done)
}

func enrolRow(pe pendingEnrol) course.EnrolRow {
	r := course.EnrolRow{CourseID: pe.courseID, MethodID: pe.methodID, UserID: pe.a.userID, Role: pe.e.Role, Status: course.Active}
	if pe.e.Suspended {
		r.Status = course.Suspended
	}
	if pe.e.StartsAt != nil {
		r.StartsAt = pe.e.StartsAt.Unix()
	}
	if pe.e.EndsAt != nil {
		r.EndsAt = pe.e.EndsAt.Unix()
	}
	return r
}

// change is one import_changes row: what the batch changed, for undo.
type change struct {
	kind              string
	course, ref, user int64
	role, status      string
	startsAt, endsAt  int64 // 0 for none
}

var insertChanges = store.Insert{Table: "import_changes",
	Columns: []string{"batch_id", "kind", "course_id", "ref_id", "user_id", "role", "status", "starts_at", "ends_at", "user_ids"},
	Types: []store.ColType{store.Int, store.Text, store.Int, store.Int, store.Int, store.Text, store.Text, store.Int, store.Int,
		store.Text}}

// writeChanges records changes of the batch: the changes that differ only by the person are
// one row, whose user_ids lists the people (see migration 0037).
func writeChanges(ctx context.Context, tx *store.Tx, batchID int64, list []change) error {
	type packed struct {
		c     change
		users []int64
	}
	var rows []*packed
	byKey := map[change]*packed{}
	for _, c := range list {
		if c.status == "" {
			c.status = course.Active
		}
		user := c.user
		c.user = 0
		p := byKey[c]
		if p == nil {
			p = &packed{c: c}
			byKey[c] = p
			rows = append(rows, p)
		}
		p.users = append(p.users, user)
	}
	err := tx.InsertMany(ctx, insertChanges, len(rows), func(i int, v []any) {
		p := rows[i]
		c, ids := p.c, ""
		if len(p.users) == 1 {
			c.user = p.users[0]
		} else {
			b := make([]byte, 0, len(p.users)*8+2)
			b = append(b, '[')
			for k, u := range p.users {
				if k > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, u, 10)
			}
			ids = string(append(b, ']'))
		}
		v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9] = batchID, c.kind, c.course, c.ref, c.user, c.role, c.status,
			nullTime(c.startsAt), nullTime(c.endsAt), ids
	}, nil)
	return errs.Wrap(err, "bulk: record changes")
}

func nullTime(sec int64) any {
	if sec == 0 {
		return nil
	}
	return sec
}

// recordChanges records enrolments the batch added (or redated) and places the people of the
// added ones in their course groups, recorded too.
func (s *Service) recordChanges(ctx context.Context, tx *store.Tx, batchID int64, kind string, list []pendingEnrol) error {
	changes := make([]change, 0, len(list))
	var names []course.GroupName
	for _, pe := range list {
		r := enrolRow(pe)
		changes = append(changes, change{kind: kind, course: pe.courseID, ref: pe.methodID, user: pe.a.userID, role: pe.e.Role,
			startsAt: r.StartsAt, endsAt: r.EndsAt})
		if pe.e.CourseGroup != "" && kind == "enrol" {
			names = append(names, course.GroupName{CourseID: pe.courseID, Name: pe.e.CourseGroup})
		}
	}
	if err := writeChanges(ctx, tx, batchID, changes); err != nil || len(names) == 0 {
		return err
	}
	ids, err := course.EnsureGroupsTx(ctx, tx, names)
	if err != nil {
		return err
	}
	var places []course.Placement
	for _, pe := range list {
		if pe.e.CourseGroup != "" {
			places = append(places, course.Placement{GroupID: ids[course.GroupName{CourseID: pe.courseID, Name: pe.e.CourseGroup}],
				UserID: pe.a.userID})
		}
	}
	added, err := course.PlaceManyTx(ctx, tx, places)
	if err != nil {
		return err
	}
	groupCourse := make(map[int64]int64, len(ids))
	for n, id := range ids {
		groupCourse[id] = n.CourseID
	}
	changes = changes[:0]
	for _, p := range added {
		changes = append(changes, change{kind: "course_group", course: groupCourse[p.GroupID], ref: p.GroupID, user: p.UserID})
	}
	return writeChanges(ctx, tx, batchID, changes)
}
