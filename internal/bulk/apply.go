package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

// applied is what applying one row did, for its import_rows line.
type applied struct {
	plan     *Plan
	userID   int64
	groupID  int64
	before   string
	enrolled int
}

// pendingEnrol is an enrolment to insert in bulk at the end of a batch.
type pendingEnrol struct {
	a        *applied
	courseID int64
	methodID int64
	e        PlannedEnrol
}

func (s *Service) apply(ctx context.Context, r io.Reader, o Options, batchID int64) (*Report, error) {
	p, err := NewParser(o.Format, r)
	if err != nil {
		return nil, err
	}
	base, err := s.baseSnapshot(ctx, s.db, o)
	if err != nil {
		return nil, err
	}
	methods := map[int64]int64{} // course → manual method
	if err := scanAll(ctx, s.db, `SELECT course_id, MIN(id) FROM course_methods WHERE type = 'manual' GROUP BY course_id`, nil,
		func(r rowScanner) error {
			var c, m int64
			if err := r.Scan(&c, &m); err != nil {
				return err
			}
			methods[c] = m
			return nil
		}); err != nil {
		return nil, err
	}
	source := group.Source{Kind: group.SourceImport, Ref: batchID}.String()
	rep := &Report{Rows: []RowResult{}}
	seen := NewSeen()
	if seen.prepared, err = s.preparedGroups(ctx, batchID); err != nil {
		return nil, err
	}
	// A reader plans the next chunk of rows (lookups, password hashing) while the current one
	// is written: chunk after chunk, in order. Rows of a later chunk that name an account a
	// previous chunk creates are duplicates in the file, which Seen reports; the writer
	// re-checks usernames and emails inside its transaction.
	type prepared struct {
		plans  []*Plan
		hashes map[int]string
		shared bool
	}
	work := make(chan prepared, 1)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readErr error
	go func() {
		defer close(work)
		readErr = s.chunks(rctx, p, func(rows []*Row) error {
			snap, err := s.withUsers(rctx, s.db, base, rows)
			if err != nil {
				return err
			}
			plans := make([]*Plan, len(rows))
			for i, row := range rows {
				plans[i] = PlanRow(row, snap, seen, o)
			}
			hashes, err := s.hashAll(rctx, plans)
			if err != nil {
				return err
			}
			select {
			case work <- prepared{plans, hashes, snap.SharedEmail}:
				return nil
			case <-rctx.Done():
				return errs.Wrap(rctx.Err(), "bulk: cancelled")
			}
		})
	}()
	write := func(plans []*Plan, hashes map[int]string, shared bool) error {
		if o.Format == FormatGroups || o.Format == FormatMethods {
			apply := s.applyGroups
			if o.Format == FormatMethods {
				apply = s.applyMethods
			}
			if err := apply(ctx, plans, batchID, rep); err != nil {
				return err
			}
			return s.progress(ctx, s.db, batchID, len(plans))
		}
		var done []*applied
		chains := map[int64][]int64{}
		err = s.db.Tx(ctx, func(tx *store.Tx) error {
			done = make([]*applied, len(plans))
			var creates []*applied
			for i, plan := range plans {
				done[i] = &applied{plan: plan}
				if plan.Action == ActCreate && !s.serial {
					creates = append(creates, done[i])
				}
			}
			if err := s.createUsers(ctx, tx, creates, hashes, shared, batchID); err != nil {
				return err
			}
			var enrols []pendingEnrol
			var members []membership
			for _, a := range done {
				plan := a.plan
				if plan.Action == ActCreate && !s.serial {
					if err := s.afterCreate(ctx, tx, a, o.Notify); err != nil {
						return atLine(plan.Row.Line, err)
					}
				} else if err := s.applyUser(ctx, tx, a, hashes, o.Notify, batchID); err != nil {
					return atLine(plan.Row.Line, err)
				}
				if plan.Action == ActError || plan.Action == ActSkip || a.userID == 0 {
					continue
				}
				for i, g := range plan.Groups {
					gid := plan.GroupIDs[i]
					if gid == 0 { // created by prepare after the snapshot (normally it is in it)
						if err := tx.QueryRowContext(ctx, `SELECT id FROM groups WHERE idnumber = $1`, g.IDNumber).Scan(&gid); err != nil {
							return errs.Wrap(err, "bulk: group "+g.IDNumber)
						}
					}
					if !s.serial {
						members = append(members, membership{group: gid, user: a.userID, role: g.Role})
					} else if err := group.AddMemberTx(ctx, tx, gid, a.userID, g.Role, source); err != nil {
						return err
					}
				}
				for _, e := range plan.Enrols {
					if e.Remove {
						if err := s.unenrol(ctx, tx, a, e, batchID); err != nil {
							return err
						}
						continue
					}
					if e.Redate {
						if err := s.redate(ctx, tx, a, e, methods[e.CourseID], batchID); err != nil {
							return err
						}
						continue
					}
					enrols = append(enrols, pendingEnrol{a: a, courseID: e.CourseID, methodID: methods[e.CourseID], e: e})
				}
			}
			if err := s.addMembers(ctx, tx, members, group.Source{Kind: group.SourceImport, Ref: batchID}, chains); err != nil {
				return err
			}
			if err := s.insertEnrols(ctx, tx, enrols, batchID); err != nil {
				return err
			}
			if err := s.recordRows(ctx, tx, batchID, done); err != nil {
				return err
			}
			return s.progress(ctx, tx, batchID, len(plans))
		})
		if err != nil {
			return err
		}
		for _, a := range done {
			rep.add(a.plan, a.enrolled)
		}
		return nil
	}
	for w := range work {
		err := write(w.plans, w.hashes, w.shared)
		if err == nil && rep.Summary.Errors > 0 && !o.ValidOnly {
			// A row the check passed failed when written (someone took a name meanwhile, the
			// group service refused it): all or nothing, so the run stops and is rolled back.
			err = errRowsFailed
		}
		if err == nil && s.afterBatch != nil {
			err = s.afterBatch(batchID)
		}
		if err != nil {
			cancel()
			for range work { // let the reader stop
			}
			if err == errRowsFailed {
				return rep, err
			}
			return nil, err
		}
	}
	return rep, readErr
}

// errRowsFailed stops an apply whose rows failed when written, unless the person chose to
// apply the valid rows only: Run rolls back what it committed and reports the rows.
var errRowsFailed = errors.New("bulk: rows failed when applied")

// applyUser creates or updates the row's account; a conflict found now (someone else took
// the username meanwhile) turns the row into an error.
func (s *Service) applyUser(ctx context.Context, tx *store.Tx, a *applied, hashes map[int]string, notify bool, batchID int64) error {
	plan := a.plan
	if plan.Existing != nil {
		a.userID = plan.Existing.ID
	}
	switch plan.Action {
	case ActCreate:
		in := plan.New
		in.Password, in.PasswordHash = "", hashes[plan.Row.Line]
		u, err := s.accounts.CreateUser(ctx, tx, in)
		if c := errs.CodeOf(err); c == errs.Conflict || c == errs.Invalid {
			for _, f := range errs.As(err).Fields {
				plan.failWith(f)
			}
			plan.Action = ActError
			return nil
		}
		if err != nil {
			return err
		}
		a.userID = u.ID
		if err := s.accounts.HoldForImportTx(ctx, tx, batchID, u.ID); err != nil {
			return err
		}
		return s.afterCreateUser(ctx, tx, a, u, notify)
	case ActUpdate:
		return s.update(ctx, tx, a, hashes)
	}
	return nil
}

// afterCreate finishes an account created by createUsers: deletion date, set-password
// email, suspension.
func (s *Service) afterCreate(ctx context.Context, tx *store.Tx, a *applied, notify bool) error {
	if a.plan.Action != ActCreate {
		return nil
	}
	u := a.plan.Row.User
	if u.DeleteAt == nil && !u.Suspended && !(notify && a.plan.New.Email != "") {
		return nil
	}
	user, err := s.accounts.UserByLogin(ctx, tx, a.plan.New.Username)
	if err != nil {
		return err
	}
	return s.afterCreateUser(ctx, tx, a, user, notify)
}

func (s *Service) afterCreateUser(ctx context.Context, tx *store.Tx, a *applied, u *account.User, notify bool) error {
	plan := a.plan
	{
		if d := plan.Row.User.DeleteAt; d != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET delete_at = $1 WHERE id = $2`, d.Unix(), u.ID); err != nil {
				return errs.Wrap(err, "bulk: delete_at")
			}
		}
		if notify && !u.HasPassword && u.Email != "" && !plan.Row.User.NoEmail && u.Auth == account.AuthLocal {
			if _, err := s.accounts.IssueAccountSetup(ctx, tx, u); err != nil {
				return err
			}
		}
		if plan.Status == account.StatusSuspended {
			return s.accounts.SuspendTx(ctx, tx, u.ID)
		}
	}
	return nil
}

// update writes an update's changed columns and keeps what they were, for undo.
func (s *Service) update(ctx context.Context, tx *store.Tx, a *applied, hashes map[int]string) error {
	plan, ex := a.plan, a.plan.Existing
	before := map[string]string{}
	var sets []string
	args := []any{ex.ID, tx.Now.Unix()}
	set := func(col, val, old string) {
		args = append(args, val)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
		before[col] = old
	}
	custom := map[string]string{}
	for k, v := range ex.Custom {
		custom[k] = v
	}
	customChanged := false
	for col, v := range plan.Changes {
		switch col {
		case "firstname":
			set("first_name", v, ex.FirstName)
		case "lastname":
			set("last_name", v, ex.LastName)
		case "idnumber":
			set("idnumber", v, ex.IDNumber)
		case "lang":
			set("language", v, ex.Language)
		case "auth":
			set("auth", v, ex.Auth)
		case "email":
			set("email", v, ex.Email)
			args = append(args, strings.ToLower(v))
			sets = append(sets, fmt.Sprintf("email_norm = $%d", len(args)))
		default:
			if k, ok := strings.CutPrefix(col, "profile_field_"); ok {
				customChanged = true
				if v == "" {
					delete(custom, k)
				} else {
					custom[k] = v
				}
			}
		}
	}
	if customChanged {
		if err := account.ValidateCustomFields(ctx, tx, custom, false); err != nil {
			for _, f := range errs.As(err).Fields {
				plan.failWith(f)
			}
			plan.Action = ActError
			return nil
		}
		old, _ := json.Marshal(ex.Custom)
		b, _ := json.Marshal(custom)
		set("custom_fields", string(b), string(old))
	}
	if plan.Rename != "" {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE username = $1`, plan.Rename).Scan(&one)
		if err == nil {
			plan.fail("username", "username_taken_by", errs.P{"username": plan.Rename})
			plan.Action = ActError
			return nil
		}
		if !store.IsNoRows(err) {
			return errs.Wrap(err, "bulk: rename")
		}
		set("username", plan.Rename, ex.Username)
	}
	if len(sets) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+`, updated_at = $2 WHERE id = $1`, args...); err != nil {
			return errs.Wrap(err, "bulk: update user")
		}
	}
	switch plan.Status {
	case account.StatusSuspended:
		before["status"] = ex.Status
		if err := s.accounts.SuspendTx(ctx, tx, ex.ID); err != nil {
			return err
		}
	case account.StatusActive:
		before["status"] = ex.Status
		if err := s.accounts.ReactivateTx(ctx, tx, ex.ID); err != nil {
			return err
		}
	}
	if plan.Password != "" {
		// The undo token holds the replaced hash and a fingerprint of the new one, never the
		// password; the account package ends the person's sessions.
		hash := hashes[plan.Row.Line]
		if hash == "" {
			return errs.New(errs.Internal, "bulk: password not hashed")
		}
		// An account turned to single sign-on or deleted since the check fails the batch (its
		// other columns are already written): the run is rolled back.
		token, err := s.accounts.ImportPasswordTx(ctx, tx, ex.ID, hash)
		if err != nil {
			return err
		}
		before["password"] = token
	}
	b, _ := json.Marshal(before)
	a.before = string(b)
	return nil
}

// enrolCols is how many bind parameters one enrolment takes in a multi-row insert.
const enrolCols = 2

// insertEnrols adds the batch's enrolments with multi-row inserts (see rowsPer), skipping
// those that exist, and records the ones added (and their course groups).
func (s *Service) insertEnrols(ctx context.Context, tx *store.Tx, enrols []pendingEnrol, batchID int64) error {
	now := tx.Now.Unix()
	per := rowsPer(tx.Dialect, enrolCols)
	for len(enrols) > 0 {
		chunk := enrols[:min(per, len(enrols))]
		enrols = enrols[len(chunk):]
		q := newBuf(tx.Dialect, `INSERT INTO course_enrolments (course_id, method_id, user_id, role, status, starts_at, ends_at,
			created_at, updated_at) VALUES `)
		byKey := map[[2]int64]pendingEnrol{}
		for i, pe := range chunk {
			status := "active"
			if pe.e.Suspended {
				status = "suspended"
			}
			q.tuple(i == 0, pe.courseID, pe.methodID, pe.a.userID, pe.e.Role, status, bigint{store.NullUnix(pe.e.StartsAt)},
				bigint{store.NullUnix(pe.e.EndsAt)}, now, now)
			byKey[[2]int64{pe.methodID, pe.a.userID}] = pe
		}
		q.add(` ON CONFLICT (method_id, user_id) DO NOTHING RETURNING method_id, user_id`)
		rows, err := q.query(ctx, tx)
		if err != nil {
			return errs.Wrap(err, "bulk: enrol")
		}
		var added []pendingEnrol
		for rows.Next() {
			var m, u int64
			if err := rows.Scan(&m, &u); err != nil {
				rows.Close()
				return errs.Wrap(err, "bulk: enrol")
			}
			pe := byKey[[2]int64{m, u}]
			pe.a.enrolled++
			added = append(added, pe)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return errs.Wrap(err, "bulk: enrol")
		}
		if err := s.recordChanges(ctx, tx, batchID, "enrol", added); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) recordChanges(ctx context.Context, tx *store.Tx, batchID int64, kind string, list []pendingEnrol) error {
	var cg []pendingEnrol
	per := rowsPer(tx.Dialect, 2)
	for len(list) > 0 {
		chunk := list[:min(per, len(list))]
		list = list[len(chunk):]
		q := newBuf(tx.Dialect, `INSERT INTO import_changes (batch_id, kind, course_id, ref_id, user_id, role, starts_at, ends_at) VALUES `)
		for i, pe := range chunk {
			q.tuple(i == 0, batchID, kind, pe.courseID, pe.methodID, pe.a.userID, pe.e.Role, bigint{store.NullUnix(pe.e.StartsAt)},
				bigint{store.NullUnix(pe.e.EndsAt)})
			if pe.e.CourseGroup != "" && kind == "enrol" {
				cg = append(cg, pe)
			}
		}
		if _, err := q.exec(ctx, tx); err != nil {
			return errs.Wrap(err, "bulk: record changes")
		}
	}
	ids := map[string]int64{}
	for _, pe := range cg {
		key := fmt.Sprint(pe.courseID, "/", pe.e.CourseGroup)
		gid, ok := ids[key]
		if !ok {
			err := tx.QueryRowContext(ctx, `SELECT id FROM course_groups WHERE course_id = $1 AND name = $2`, pe.courseID, pe.e.CourseGroup).Scan(&gid)
			if err != nil {
				return errs.Wrap(err, "bulk: course group")
			}
			ids[key] = gid
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO course_group_members (course_group_id, user_id, method_id, created_at)
			VALUES ($1, $2, 0, $3) ON CONFLICT DO NOTHING`, gid, pe.a.userID, tx.Now.Unix())
		if err != nil {
			return errs.Wrap(err, "bulk: course group member")
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO import_changes (batch_id, kind, course_id, ref_id, user_id)
				VALUES ($1, 'course_group', $2, $3, $4)`, batchID, pe.courseID, gid, pe.a.userID); err != nil {
				return errs.Wrap(err, "bulk: record course group")
			}
		}
	}
	return nil
}

// unenrol removes the manual enrolments of a "del" line and records them for undo.
func (s *Service) unenrol(ctx context.Context, tx *store.Tx, a *applied, e PlannedEnrol, batchID int64) error {
	rows, err := tx.QueryContext(ctx, `DELETE FROM course_enrolments WHERE course_id = $1 AND user_id = $2 AND role = $3
		AND method_id IN (SELECT id FROM course_methods WHERE course_id = $1 AND type = 'manual')
		RETURNING method_id, status, starts_at, ends_at`, e.CourseID, a.userID, e.Role)
	if err != nil {
		return errs.Wrap(err, "bulk: unenrol")
	}
	type gone struct {
		method       int64
		status       string
		starts, ends *int64
	}
	var list []gone
	for rows.Next() {
		var g gone
		if err := rows.Scan(&g.method, &g.status, &g.starts, &g.ends); err != nil {
			rows.Close()
			return errs.Wrap(err, "bulk: unenrol")
		}
		list = append(list, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return errs.Wrap(err, "bulk: unenrol")
	}
	if len(list) == 0 {
		a.plan.Action = ActSkip
		a.plan.Row.note("not enrolled in %s as %s by a manual method", e.Course, e.Role)
		return nil
	}
	for _, g := range list {
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_changes (batch_id, kind, course_id, ref_id, user_id, role, status, starts_at, ends_at)
			VALUES ($1, 'unenrol', $2, $3, $4, $5, $6, $7, $8)`, batchID, e.CourseID, g.method, a.userID, e.Role, g.status, g.starts, g.ends); err != nil {
			return errs.Wrap(err, "bulk: record unenrol")
		}
	}
	return nil
}

// recordRows writes the batch's import_rows, many rows per statement (see rowsPer).
func (s *Service) recordRows(ctx context.Context, tx *store.Tx, batchID int64, done []*applied) error {
	per := rowsPer(tx.Dialect, 3)
	for len(done) > 0 {
		chunk := done[:min(per, len(done))]
		done = done[len(chunk):]
		q := newBuf(tx.Dialect, `INSERT INTO import_rows (batch_id, line, action, user_id, group_id, before, message) VALUES `)
		for i, a := range chunk {
			var msg []string
			for _, e := range a.plan.Errors {
				msg = append(msg, strings.TrimSpace(e.Field+": "+e.Message))
			}
			msg = append(msg, a.plan.Row.Notes...)
			q.tuple(i == 0, batchID, a.plan.Row.Line, a.plan.Action, bigint{nullID(a.userID)}, bigint{nullID(a.groupID)}, a.before,
				strings.Join(msg, "\n"))
		}
		if _, err := q.exec(ctx, tx); err != nil {
			return errs.Wrap(err, "bulk: record rows")
		}
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// applyGroups creates the groups of a groups file, each through the group service (its own
// transaction: the tree's closure table is the group package's to keep).
func (s *Service) applyGroups(ctx context.Context, plans []*Plan, batchID int64, rep *Report) error {
	var done []*applied
	for _, plan := range plans {
		a := &applied{plan: plan}
		done = append(done, a)
		if plan.Action != ActCreate {
			continue
		}
		g := plan.Row.Group
		vis := group.Public
		if g.Private {
			vis = group.Private
		}
		created, err := s.groups.Create(ctx, group.Group{ParentID: plan.GroupIDs[0], Name: g.Name, IDNumber: g.IDNumber,
			Description: g.Description, Visibility: vis})
		if c := errs.CodeOf(err); c == errs.Conflict || c == errs.Invalid || c == errs.NotFound {
			e := errs.As(err)
			f := errs.FieldError{Code: e.Key, Params: e.Params, Message: e.Message}
			if len(e.Fields) > 0 {
				f.Field = e.Fields[0].Field
			}
			plan.failWith(f)
			plan.Action = ActError
			continue
		}
		if err != nil {
			return err
		}
		a.groupID = created.ID
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error { return s.recordRows(ctx, tx, batchID, done) })
	for _, a := range done {
		rep.add(a.plan, 0)
	}
	return err
}
