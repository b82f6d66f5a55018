package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/invite"
	"roster/internal/store"
)

// DefaultBatchSize is how many rows one transaction applies.
const DefaultBatchSize = 5000

// maxReportRows caps the rows a report lists (rows with errors first come within it; the
// summary always counts every row).
const maxReportRows = 200000

// Service previews, applies and undoes bulk files.
type Service struct {
	db       *store.DB
	accounts *account.Service
	groups   *group.Service
	courses  *course.Service
	// BatchSize is how many rows one transaction applies; DefaultBatchSize when 0.
	BatchSize int
	// serial applies row by row through account.CreateUser and group.AddMemberTx instead of
	// the batch paths (tests compare both).
	serial bool
	// afterBatch, when set (tests), runs after each committed transaction of an apply; an
	// error stops the apply there, as a crash would.
	afterBatch func(batchID int64) error
	// Lease is how long an apply holds its batch without renewing (it renews every third of
	// it): when the process applying it dies, any instance rolls it back once the lease has
	// run out (Recover). DefaultLease when 0.
	Lease time.Duration
}

// DefaultLease is an apply's lease on its batch.
const DefaultLease = 15 * time.Second

// ErrImportRunning is Begin's answer while another import is being applied (Conflict, with
// Retry-After).
var ErrImportRunning = &errs.Error{Code: errs.Conflict, Message: "another import is being applied: try again when it is done",
	RetryAfter: int(DefaultLease / time.Second)}

func (s *Service) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultLease
}

// NewService returns the import service.
func NewService(db *store.DB, accounts *account.Service, groups *group.Service, courses *course.Service) *Service {
	return &Service{db: db, accounts: accounts, groups: groups, courses: courses}
}

// Summary counts the rows of a report by outcome; Enrolled counts enrolments.
type Summary struct {
	Created  int `json:"created"`
	Updated  int `json:"updated"`
	Deleted  int `json:"deleted,omitempty"` // methods format: methods deleted
	Enrolled int `json:"enrolled"`
	Skipped  int `json:"skipped"`
	Errors   int `json:"errors"`
	// Rows counts every row of the file; Billable the accounts created active (what the
	// import adds to the bill).
	Rows     int `json:"rows"`
	Billable int `json:"billable"`
}

// RowResult is one line of a report.
type RowResult struct {
	Line    int               `json:"line"`
	Action  string            `json:"action"`
	Errors  []errs.FieldError `json:"errors"`
	Notes   []string          `json:"notes,omitempty"`
	Remarks []errs.Stored     `json:"-"`                 // the Notes as codes, for pages
	Changes []string          `json:"changes,omitempty"` // update: the columns that change
	// Warnings say what the row does that one may not expect, without stopping it
	// (invitation_overtaken: the address had a pending invitation).
	Warnings []errs.FieldError `json:"warnings,omitempty"`
	UserID   int64             `json:"-"`
}

// Report is what a preview or an apply says.
type Report struct {
	BatchID int64       `json:"batch_id,omitempty"`
	Applied bool        `json:"applied"`
	Summary Summary     `json:"summary"`
	Rows    []RowResult `json:"rows"`
}

func (r *Report) add(p *Plan, enrolled int) {
	r.Summary.Rows++
	switch p.Action {
	case ActCreate:
		r.Summary.Created++
		if p.Row.User != nil && p.Status != account.StatusSuspended {
			r.Summary.Billable++
		}
	case ActUpdate:
		r.Summary.Updated++
	case ActDelete:
		r.Summary.Deleted++
	case ActSkip:
		r.Summary.Skipped++
	case ActError:
		r.Summary.Errors++
	}
	r.Summary.Enrolled += enrolled
	if len(r.Rows) < maxReportRows {
		errors := p.Errors
		if errors == nil {
			errors = []errs.FieldError{}
		}
		res := RowResult{Line: p.Row.Line, Action: p.Action, Errors: errors, Notes: p.Row.Notes, Remarks: p.Row.Remarks}
		if p.Action != ActError {
			res.Warnings = p.Warnings
		}
		if p.Action == ActUpdate {
			res.Changes = p.ChangedColumns()
		}
		r.Rows = append(r.Rows, res)
	}
}

// Preview checks a file against the database and says what applying it would do, writing
// nothing. Platform administrators only. Errors: Unauthorized/Forbidden, Invalid (a header,
// an unreadable file: line and column named).
func (s *Service) Preview(ctx context.Context, r io.Reader, o Options) (*Report, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	if err := o.normalize(); err != nil {
		return nil, err
	}
	rep, _, err := s.preview(ctx, r, o)
	return rep, err
}

// needs is what a file needs before its rows can be applied.
type needs struct {
	groups       []string           // cohort idnumbers to create
	courses      map[int64]bool     // courses enrolled into: their manual method
	courseGroups map[int64][]string // course id → course group names
	seenCG       map[string]bool
}

func (s *Service) preview(ctx context.Context, r io.Reader, o Options) (*Report, *needs, error) {
	p, err := NewParser(o.Format, r)
	if err != nil {
		return nil, nil, err
	}
	base, err := s.baseSnapshot(ctx, s.db, o)
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{Rows: []RowResult{}}
	nd := &needs{courses: map[int64]bool{}, courseGroups: map[int64][]string{}, seenCG: map[string]bool{}}
	seen := NewSeen()
	// Two stages, one chunk apart, on both cores: a reader parses the next chunk and looks up
	// the accounts it names while the rows of the current one are planned, in file order.
	type looked struct {
		rows []*Row
		snap *Snapshot
	}
	err = ahead(ctx, func(ctx context.Context, emit func(looked) error) error {
		return s.chunks(ctx, p, func(rows []*Row) error {
			snap, err := s.withUsers(ctx, s.db, base, rows)
			if err != nil {
				return err
			}
			return emit(looked{rows, snap})
		})
	}, func(w looked) error {
		for _, row := range w.rows {
			plan := PlanRow(row, w.snap, seen, o)
			n := 0
			if plan.Action != ActError {
				for _, e := range plan.Enrols {
					nd.courses[e.CourseID] = true
					if e.CourseGroup != "" && !nd.seenCG[fmt.Sprint(e.CourseID, "/", e.CourseGroup)] {
						nd.seenCG[fmt.Sprint(e.CourseID, "/", e.CourseGroup)] = true
						nd.courseGroups[e.CourseID] = append(nd.courseGroups[e.CourseID], e.CourseGroup)
					}
					if !e.Remove && !e.Redate {
						n++
					}
				}
			}
			rep.add(plan, n)
		}
		return nil
	})
	nd.groups = seen.NewGroups
	return rep, nd, err
}

// ahead runs produce in a goroutine one result ahead of use, which takes the results in
// order: the two stages of a file's chunks on both cores, holding one chunk in hand and no
// more (a chunk's plans are megabytes for a large file). produce hands each result to emit;
// when use fails, produce's context is cancelled and its error is use's.
func ahead[T any](ctx context.Context, produce func(ctx context.Context, emit func(T) error) error, use func(T) error) error {
	work := make(chan T) // unbuffered: one result in hand, the next one in the making
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var produceErr error
	go func() {
		defer close(work)
		produceErr = produce(pctx, func(v T) error {
			select {
			case work <- v:
				return nil
			case <-pctx.Done():
				return errs.Wrap(pctx.Err(), "bulk: cancelled")
			}
		})
	}()
	for v := range work {
		if err := use(v); err != nil {
			cancel()
			for range work { // let the producer stop
			}
			return err
		}
	}
	return produceErr
}

// chunks reads the rows of p in batches.
func (s *Service) chunks(ctx context.Context, p Parser, fn func([]*Row) error) error {
	size := s.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	rows := make([]*Row, 0, size)
	for {
		row, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rows = append(rows, row)
		if len(rows) == size {
			if err := fn(rows); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return errs.Wrap(err, "bulk: cancelled")
			}
			rows = make([]*Row, 0, size)
		}
	}
	if len(rows) > 0 {
		return fn(rows)
	}
	return nil
}

// baseSnapshot loads the courses, roles and groups, and the shared-email setting.
func (s *Service) baseSnapshot(ctx context.Context, q store.Querier, o Options) (*Snapshot, error) {
	snap := NewSnapshot(s.db.Now().UTC())
	shared, err := account.SharedEmailAllowed(ctx, q)
	if err != nil {
		return nil, err
	}
	snap.SharedEmail = shared
	snap.UserField = o.UserField
	if snap.RoleMap, err = course.RoleMap(ctx, q); err != nil {
		return nil, err
	}
	if err := scanAll(ctx, q, `SELECT id, shortname FROM courses`, nil, func(r rowScanner) error {
		var id int64
		var name string
		if err := r.Scan(&id, &name); err != nil {
			return err
		}
		snap.Courses[strings.ToLower(name)] = id
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scanAll(ctx, q, `SELECT shortname FROM course_roles`, nil, func(r rowScanner) error {
		var name string
		if err := r.Scan(&name); err != nil {
			return err
		}
		snap.Roles[name] = true
		return nil
	}); err != nil {
		return nil, err
	}
	err = scanAll(ctx, q, `SELECT id, COALESCE(parent_id, 0), name, idnumber FROM groups`, nil, func(r rowScanner) error {
		var n GroupNode
		if err := r.Scan(&n.ID, &n.ParentID, &n.Name, &n.IDNumber); err != nil {
			return err
		}
		if n.IDNumber != "" {
			snap.Groups[n.IDNumber] = n.ID
		}
		if o.Format == FormatGroups || o.Format == FormatTSV {
			snap.Tree = append(snap.Tree, n)
		}
		return nil
	})
	if err == nil && o.Format == FormatMethods {
		err = loadMethods(ctx, q, snap)
	}
	return snap, err
}

func scanAll(ctx context.Context, q store.Querier, query string, args []any, fn func(rowScanner) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return errs.Wrap(err, "bulk: query")
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return errs.Wrap(err, "bulk: scan")
		}
	}
	return errs.Wrap(rows.Err(), "bulk: rows")
}

// lookupChunk keeps IN lists well under the bind-parameter sweet spot of both drivers.
const lookupChunk = 300

// withUsers returns base plus the accounts rows name (by username and by email).
func (s *Service) withUsers(ctx context.Context, q store.Querier, base *Snapshot, rows []*Row) (*Snapshot, error) {
	snap := *base
	snap.ByUsername = map[string]*Existing{}
	snap.ByEmail = map[string][]*Existing{}
	snap.ByIDNumber = map[string][]*Existing{}
	snap.Held = map[[2]int64]*Held{}
	var names, emails, idnumbers []string
	enrols := false
	for _, r := range rows {
		if u := r.User; u != nil {
			if u.Username != "" {
				names = append(names, strings.ToLower(u.Username))
			} else if u.Email != "" {
				names = append(names, strings.ToLower(u.Email))
			}
			if u.Email != "" {
				emails = append(emails, strings.ToLower(u.Email))
			}
		}
		if r.Login != "" {
			l := strings.ToLower(r.Login)
			switch base.UserField {
			case UserUsername:
				names = append(names, l)
			case UserEmail:
				emails = append(emails, l)
			case UserIDNumber:
				idnumbers = append(idnumbers, r.Login)
			default:
				names, emails, idnumbers = append(names, l), append(emails, l), append(idnumbers, r.Login)
			}
		}
		enrols = enrols || len(r.Enrols) > 0
	}
	byID := map[int64]bool{}
	load := func(col string, keys []string) error {
		for len(keys) > 0 {
			n := min(s.db.Dialect.InSize(), len(keys))
			in, args := s.db.Dialect.In(1, keys[:n])
			keys = keys[n:]
			// "+deleted_at": SQLite's planner would otherwise answer an IN list on email_norm or
			// idnumber through users_live (deleted_at, id), reading every live account for each
			// lookup (quadratic over an import); the unary plus keeps that index out of it.
			err := scanAll(ctx, q, `SELECT id, username, email, first_name, last_name, language, idnumber, status, auth,
				custom_fields FROM users WHERE +deleted_at IS NULL AND `+col+in, args, func(r rowScanner) error {
				var u Existing
				var custom string
				if err := r.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.Language, &u.IDNumber, &u.Status,
					&u.Auth, &custom); err != nil {
					return err
				}
				if byID[u.ID] {
					return nil
				}
				byID[u.ID] = true
				_ = json.Unmarshal([]byte(custom), &u.Custom)
				snap.AddUser(&u)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := load("username", names); err != nil {
		return nil, err
	}
	if err := load("email_norm", emails); err != nil {
		return nil, err
	}
	if err := load("idnumber", idnumbers); err != nil {
		return nil, err
	}
	if len(emails) > 0 {
		snap.Invited = map[string]bool{}
		for len(emails) > 0 {
			n := min(1000, len(emails))
			found, err := invite.PendingAddresses(ctx, q, s.db.Now(), emails[:n])
			if err != nil {
				return nil, err
			}
			emails = emails[n:]
			maps.Copy(snap.Invited, found)
		}
	}
	if enrols && len(byID) > 0 {
		if err := s.loadHeld(ctx, q, &snap, byID); err != nil {
			return nil, err
		}
	}
	return &snap, nil
}

// loadHeld reads the manual enrolments of the accounts a batch names into snap.Held.
func (s *Service) loadHeld(ctx context.Context, q store.Querier, snap *Snapshot, users map[int64]bool) error {
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	// Ids are integers the database gave: written into the statement as literals.
	for len(ids) > 0 {
		n := min(1000, len(ids))
		query := `SELECT e.course_id, e.user_id, e.role, COALESCE(e.starts_at, 0), COALESCE(e.ends_at, 0),
			e.method_id = (SELECT MIN(m2.id) FROM course_methods m2 WHERE m2.course_id = e.course_id AND m2.type = 'manual')
			FROM course_enrolments e JOIN course_methods m ON m.id = e.method_id
			WHERE m.type = 'manual' AND e.user_id IN (` + strings.Join(ids[:n], ", ") + `)`
		ids = ids[n:]
		err := scanAll(ctx, q, query, nil, func(r rowScanner) error {
			var c, u, starts, ends int64
			var role string
			var primary bool
			if err := r.Scan(&c, &u, &role, &starts, &ends, &primary); err != nil {
				return err
			}
			h := snap.Held[[2]int64{c, u}]
			if h == nil {
				h = &Held{}
				snap.Held[[2]int64{c, u}] = h
			}
			if !slices.Contains(h.Roles, role) {
				h.Roles = append(h.Roles, role)
			}
			if primary {
				h.Primary, h.Role, h.Starts, h.Ends = true, role, starts, ends
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Apply checks the file as Preview does and, when it has no error (or o.ValidOnly), applies
// it in batches of rows, one transaction each, recorded as an import batch that Undo can
// revert. open is called twice (the check, then the apply), so the file is streamed, never
// held. Passwords are hashed outside the transactions in a bounded pool. Platform
// administrators only. Errors: Unauthorized/Forbidden, Invalid (header, unreadable file).
func (s *Service) Apply(ctx context.Context, open func() (io.ReadCloser, error), o Options) (*Report, error) {
	rep, batchID, err := s.Begin(ctx, open, o)
	if err != nil || batchID == 0 {
		return rep, err
	}
	return s.Run(ctx, batchID, open, o)
}

// Begin is the first half of Apply: it checks the file and, when it can be applied, creates
// what the rows need and records the import batch (status applying, rows_total set), whose id
// it returns with the check's report; 0 when the file has errors and !o.ValidOnly (nothing is
// written then). Run applies it, typically in the background. Platform administrators only.
func (s *Service) Begin(ctx context.Context, open func() (io.ReadCloser, error), o Options) (*Report, int64, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, 0, err
	}
	if err := o.normalize(); err != nil {
		return nil, 0, err
	}
	f, err := open()
	if err != nil {
		return nil, 0, errs.Wrap(err, "bulk: open")
	}
	rep, nd, err := s.preview(ctx, f, o)
	f.Close()
	if err != nil {
		return nil, 0, err
	}
	if rep.Summary.Errors > 0 && !o.ValidOnly {
		return rep, 0, nil
	}
	// One import at a time: the rows were checked against accounts that another import still
	// being applied may yet create or take back. A stopped one is rolled back first.
	if _, err := s.Recover(ctx); err != nil {
		return nil, 0, err
	}
	var applying int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM import_batches WHERE status = 'applying'`).Scan(&applying); err != nil {
		return nil, 0, errs.Wrap(err, "bulk: batches applying")
	}
	if applying > 0 {
		return nil, 0, ErrImportRunning
	}
	if err := s.prepare(ctx, nd); err != nil {
		return nil, 0, err
	}
	batchID, err := s.newBatch(ctx, o, rep.Summary.Rows, nd.groups)
	return rep, batchID, err
}

// Run applies the batch Begin recorded, reading the file again, and marks it applied. When it
// fails, what it committed is rolled back (as Undo does) and the batch is marked failed. A
// row that fails when written (the check passed it) fails the whole run the same way unless
// o.ValidOnly: the report then names the rows, with Applied false. Each
// committed transaction adds its rows to the batch's rows_done (see Progress).
func (s *Service) Run(ctx context.Context, batchID int64, open func() (io.ReadCloser, error), o Options) (*Report, error) {
	if err := authz.RequirePlatformAdmin(ctx); err != nil {
		return nil, err
	}
	if err := o.normalize(); err != nil {
		return nil, err
	}
	stopRenewing := s.renew(ctx, batchID)
	rep, err := s.run(ctx, batchID, open, o)
	stopRenewing()
	if err != nil {
		rctx := authz.With(context.WithoutCancel(ctx), authz.System)
		if _, uerr := s.undo(rctx, batchID, false, StatusFailed); uerr != nil {
			return nil, fmt.Errorf("%w (and rolling it back failed: %v)", err, uerr)
		}
		if ferr := s.recordFailure(rctx, batchID, rep, err); ferr != nil {
			return nil, fmt.Errorf("%w (and recording why failed: %v)", err, ferr)
		}
		if errors.Is(err, errRowsFailed) {
			// All or nothing: nothing stays applied, and the report names the rows.
			rep.BatchID, rep.Applied = batchID, false
			return rep, nil
		}
		return nil, err
	}
	return rep, nil
}

func (s *Service) run(ctx context.Context, batchID int64, open func() (io.ReadCloser, error), o Options) (*Report, error) {
	f, err := open()
	if err != nil {
		return nil, errs.Wrap(err, "bulk: open")
	}
	defer f.Close()
	rep, err := s.apply(ctx, f, o, batchID)
	if err != nil {
		return rep, err
	}
	rep.BatchID, rep.Applied = batchID, true
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// The accounts the import created become billable now, with the status applied: a run
		// that stops before leaves none behind (account.PurgeImportTx).
		sm := rep.Summary
		if _, err := tx.ExecContext(ctx, `UPDATE import_batches SET status = 'applied', created = $1, updated = $2, enrolled = $3,
			skipped = $4, errors = $5, applied_at = $6, rows_done = rows_total WHERE id = $7`, sm.Created, sm.Updated, sm.Enrolled,
			sm.Skipped, sm.Errors, tx.Now.Unix(), batchID); err != nil {
			return errs.Wrap(err, "bulk: finish batch")
		}
		return audit.Record(ctx, tx, audit.Event{Action: "import.apply", TargetType: "import", TargetID: strconv.FormatInt(batchID, 10),
			Details: map[string]any{"format": o.Format, "mode": o.Mode, "update_passwords": o.UpdatePasswords, "created": sm.Created, "updated": sm.Updated,
				"enrolled": sm.Enrolled, "skipped": sm.Skipped, "errors": sm.Errors}})
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// preparedGroups reads the groups prepare created for a batch (see newBatch), and how many
// rows the batch's file has.
func (s *Service) preparedGroups(ctx context.Context, batchID int64) (map[string]bool, int, error) {
	var raw string
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT options, rows_total FROM import_batches WHERE id = $1`, batchID).Scan(&raw,
		&total); err != nil {
		return nil, 0, errs.Wrap(err, "bulk: batch options")
	}
	var opts struct {
		NewGroups []string `json:"new_groups"`
	}
	_ = json.Unmarshal([]byte(raw), &opts)
	out := map[string]bool{}
	for _, g := range opts.NewGroups {
		out[g] = true
	}
	return out, total, nil
}

// prepare creates what the rows need and may not exist: cohort groups, the courses' manual
// enrolment methods, course groups. Each is its own small transaction through its package.
func (s *Service) prepare(ctx context.Context, nd *needs) error {
	for _, idn := range nd.groups {
		if _, err := s.groups.Create(ctx, group.Group{Name: idn, IDNumber: idn}); err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
	}
	for courseID := range nd.courses {
		var one int
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM course_methods WHERE course_id = $1 AND type = 'manual' LIMIT 1`, courseID).Scan(&one)
		if store.IsNoRows(err) {
			_, err = s.courses.AddMethod(ctx, courseID, course.Method{Type: course.Manual, Enabled: true})
		}
		if err != nil {
			return errs.Wrap(err, "bulk: manual method")
		}
	}
	for courseID, names := range nd.courseGroups {
		for _, name := range names {
			var one int
			err := s.db.QueryRowContext(ctx, `SELECT 1 FROM course_groups WHERE course_id = $1 AND name = $2`, courseID, name).Scan(&one)
			if store.IsNoRows(err) {
				_, err = s.courses.CreateGroup(ctx, courseID, name)
			}
			if err != nil && !errs.Is(err, errs.Conflict) {
				return errs.Wrap(err, "bulk: course group")
			}
		}
	}
	return nil
}

func (s *Service) newBatch(ctx context.Context, o Options, rows int, newGroups []string) (int64, error) {
	var id int64
	// new_groups: the groups prepare created for the file, which the apply's report still
	// announces as created by their rows (as the preview did).
	opts, _ := json.Marshal(map[string]any{"mode": o.Mode, "match_email": o.MatchEmail, "allow_renames": o.AllowRenames,
		"valid_only": o.ValidOnly, "user_field": o.UserField, "update_passwords": o.UpdatePasswords, "new_groups": newGroups})
	var by any
	if p := authz.From(ctx); p != nil && p.UserID != 0 {
		by = p.UserID
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO import_batches (format, options, status, created_by, created_at, rows_total,
			alive_until) VALUES ($1, $2, 'applying', $3, $4, $5, $6) RETURNING id`, o.Format, string(opts), by, tx.Now.Unix(), rows,
			tx.Now.Add(s.lease()).Unix()).Scan(&id)
	})
	return id, errs.Wrap(err, "bulk: new batch")
}

// renew extends the batch's lease every third of it until the returned function is called.
func (s *Service) renew(ctx context.Context, batchID int64) (stop func()) {
	ctx = context.WithoutCancel(ctx)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(s.lease() / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			_ = s.db.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE import_batches SET alive_until = $1 WHERE id = $2 AND status = 'applying'`,
					tx.Now.Add(s.lease()).Unix(), batchID)
				return err
			})
		}
	}()
	return func() { close(done); <-finished }
}

// hashAll hashes the passwords of the accounts plans create, and of those whose password
// they update (Options.UpdatePasswords), with the import's fast hash (account.FastImportHash:
// the task account.password_wrap wraps it in argon2id within minutes), outside any
// transaction. Rows without a password cost nothing.
func (s *Service) hashAll(ctx context.Context, plans []*Plan) (map[int]string, error) {
	var todo []*Plan
	for _, p := range plans {
		if (p.Action == ActCreate && p.New.Password != "") || (p.Action == ActUpdate && p.Password != "") {
			todo = append(todo, p)
		}
	}
	out := make(map[int]string, len(todo))
	if len(todo) == 0 {
		return out, nil
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		next     = make(chan *Plan)
	)
	for range min(runtime.GOMAXPROCS(0), 8, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				var h string
				var err error
				if p.Action == ActCreate {
					h, err = s.accounts.FastImportHash(p.New.Password, p.New.Username, p.New.Email)
				} else {
					h, err = s.accounts.FastImportHash(p.Password, "", "") // planPassword checked the policy
				}
				mu.Lock()
				if err != nil && firstErr == nil && !errs.Is(err, errs.Invalid) {
					firstErr = err
				}
				if err == nil {
					out[p.Row.Line] = h
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range todo {
		next <- p
	}
	close(next)
	wg.Wait()
	return out, firstErr
}
