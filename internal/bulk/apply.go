package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/course"
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
	user     *account.User // the account created by createUsers
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
	seen := NewSeen()
	var total int
	if seen.prepared, total, err = s.preparedGroups(ctx, batchID); err != nil {
		return nil, err
	}
	// The report's rows, allocated once: the check counted them.
	rep := &Report{Rows: make([]RowResult, 0, min(max(total, 0), maxReportRows))}
	// A reader plans the next chunk of rows (lookups, password hashing) while the current one
	// is written: chunk after chunk, in order. Rows of a later chunk that name an account a
	// previous chunk creates are duplicates in the file, which Seen reports; the writer
	// re-checks usernames and emails inside its transaction.
	type prepared struct {
		plans  []*Plan
		hashes map[int]string
		shared bool
	}
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
		chains := group.Chains{}
		err = s.db.Tx(ctx, func(tx *store.Tx) error {
			// The run's last transaction (marking the batch applied) waits for the disk and
			// makes these durable with it; a crash before leaves the batch applying, and
			// Recover rolls back whatever of it survived.
			if err := tx.CommitLater(ctx); err != nil {
				return err
			}
			done = make([]*applied, len(plans))
			var creates []*applied
			for i, plan := range plans {
				done[i] = &applied{plan: plan}
				if plan.Action == ActCreate && !s.serial {
					creates = append(creates, done[i])
				}
			}
			if err := s.createUsers(ctx, tx, creates, hashes, batchID); err != nil {
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
						members = append(members, membership{GroupID: gid, UserID: a.userID, Role: g.Role})
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
	var useErr error // a batch that failed to be written, rather than the file
	err = ahead(ctx, func(ctx context.Context, emit func(prepared) error) error {
		return s.chunks(ctx, p, func(rows []*Row) error {
			snap, err := s.withUsers(ctx, s.db, base, rows)
			if err != nil {
				return err
			}
			plans := make([]*Plan, len(rows))
			for i, row := range rows {
				plans[i] = PlanRow(row, snap, seen, o)
			}
			hashes, err := s.hashAll(ctx, plans)
			if err != nil {
				return err
			}
			return emit(prepared{plans, hashes, snap.SharedEmail})
		})
	}, func(w prepared) error {
		err := write(w.plans, w.hashes, w.shared)
		if err == nil && rep.Summary.Errors > 0 && !o.ValidOnly {
			// A row the check passed failed when written (someone took a name meanwhile, the
			// group service refused it): all or nothing, so the run stops and is rolled back.
			err = errRowsFailed
		}
		if err == nil && s.afterBatch != nil {
			err = s.afterBatch(batchID)
		}
		useErr = err
		return err
	})
	if useErr != nil && useErr != errRowsFailed {
		return nil, useErr
	}
	return rep, err // the rows that failed, or the file's error, with the report so far
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
		in.DeleteAt = plan.Row.User.DeleteAt
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

// afterCreate finishes an account created by createUsers: set-password email, suspension.
func (s *Service) afterCreate(ctx context.Context, tx *store.Tx, a *applied, notify bool) error {
	if a.plan.Action != ActCreate || a.user == nil {
		return nil
	}
	return s.afterCreateUser(ctx, tx, a, a.user, notify)
}

func (s *Service) afterCreateUser(ctx context.Context, tx *store.Tx, a *applied, u *account.User, notify bool) error {
	plan := a.plan
	{
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
	fields := map[string]string{}
	set := func(col, val, old string) {
		fields[col] = val
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
	if err := s.accounts.SetFieldsTx(ctx, tx, ex.ID, fields); err != nil {
		return err
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

// unenrol removes the manual enrolments of a "del" line and records them for undo.
func (s *Service) unenrol(ctx context.Context, tx *store.Tx, a *applied, e PlannedEnrol, batchID int64) error {
	gone, err := course.UnenrolManualManyTx(ctx, tx, []course.EnrolRow{{CourseID: e.CourseID, UserID: a.userID, Role: e.Role}})
	if err != nil {
		return err
	}
	if len(gone) == 0 {
		a.plan.Action = ActSkip
		a.plan.Row.note("", "import_not_enrolled_manual", errs.P{"course": e.Course, "role": e.Role})
		return nil
	}
	changes := make([]change, len(gone))
	for i, g := range gone {
		changes[i] = change{kind: "unenrol", course: e.CourseID, ref: g.MethodID, user: a.userID, role: e.Role, status: g.Status,
			startsAt: g.StartsAt, endsAt: g.EndsAt}
	}
	return writeChanges(ctx, tx, batchID, changes)
}

var insertRows = store.Insert{Table: "import_rows",
	Columns: []string{"batch_id", "line", "action", "user_id", "group_id", "before", "message", "codes", "packed"},
	Types:   []store.ColType{store.Int, store.Int, store.Text, store.Int, store.Int, store.Text, store.Text, store.Text, store.Text}}

// plain says whether a's import_rows line would hold nothing but its line and the account it
// created: such lines, one after the other, are written as one packed row.
func plain(a *applied) bool {
	p := a.plan
	return p.Action == ActCreate && a.userID != 0 && a.groupID == 0 && a.before == "" && len(p.Errors) == 0 &&
		len(p.Row.Notes) == 0 && len(p.Row.Remarks) == 0
}

// recordRows writes the batch's import_rows, many rows a statement: one a line, except that
// a run of lines that only created an account is one row (see packed, migration 0037).
func (s *Service) recordRows(ctx context.Context, tx *store.Tx, batchID int64, done []*applied) error {
	type record struct {
		a      *applied
		packed []byte // a run of plain lines: [[line, user_id], ...]
	}
	records := make([]record, 0, 16)
	for i := 0; i < len(done); {
		j := i
		for j < len(done) && plain(done[j]) {
			j++
		}
		if j-i < 2 {
			records = append(records, record{a: done[i]})
			i++
			continue
		}
		b := make([]byte, 0, (j-i)*16+2)
		b = append(b, '[')
		for k := i; k < j; k++ {
			if k > i {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(done[k].plan.Row.Line), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, done[k].userID, 10)
			b = append(b, ']')
		}
		records = append(records, record{a: done[i], packed: append(b, ']')})
		i = j
	}
	err := tx.InsertMany(ctx, insertRows, len(records), func(i int, v []any) {
		a := records[i].a
		if p := records[i].packed; p != nil {
			v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8] = batchID, a.plan.Row.Line, a.plan.Action, nil, nil, "", "", "",
				string(p)
			return
		}
		var msg []string
		// The errors and notes as codes too (the column codes): pages and reports write them
		// in the reader's language; message keeps the English text.
		var coded []errs.Stored
		for _, e := range a.plan.Errors {
			msg = append(msg, strings.TrimSpace(e.Field+": "+e.Message))
			coded = append(coded, errs.Stored{Field: e.Field, Code: e.Code, Params: e.Params, Message: e.Message})
		}
		msg = append(msg, a.plan.Row.Notes...)
		coded = append(coded, a.plan.Row.Remarks...)
		codes := ""
		if len(coded) > 0 {
			if b, err := json.Marshal(coded); err == nil { // a map of plain values: it cannot fail
				codes = string(b)
			}
		}
		v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8] = batchID, a.plan.Row.Line, a.plan.Action, nullID(a.userID),
			nullID(a.groupID), a.before, strings.Join(msg, "\n"), codes, ""
	}, nil)
	return errs.Wrap(err, "bulk: record rows")
}

// unpackRows reads a packed import_rows value: its lines and the accounts they created.
func unpackRows(packed string) ([][2]int64, error) {
	var out [][2]int64
	err := json.Unmarshal([]byte(packed), &out)
	return out, errs.Wrap(err, "bulk: packed import rows")
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
