package sis

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/store"
)

// RunOptions steer one run.
type RunOptions struct {
	Action    string  // ActionSuspend (default), ActionUnenrol, ActionKeep
	Threshold float64 // percent; 0: DefaultThreshold; 100: no check
	DryRun    bool    // compute and report the whole difference, apply nothing
	// Accounts, when set, creates the accounts of the people the source names but the
	// platform lacks, for sources that carry their email (Row.Person), with AccountAuth
	// (account.AuthCAS or account.AuthOIDC; default CAS). Without it they are reported.
	Accounts    *account.Service
	AccountAuth string
	// CreateCourses creates the courses of OneRoster classes (Source.Classes) that rows
	// enrol people into and that no course matches.
	CreateCourses bool
}

// Report is what a run did, kept in sync_runs.
type Report struct {
	RunID   int64
	Source  string
	Status  string // done | dry_run | stopped | failed
	DryRun  bool
	Added   int
	Changed int
	Removed int // suspended or unenrolled
	Kept    int // no longer listed, kept (action keep)
	Created int // accounts created (a dry run: that a real run would create)
	// CoursesCreated counts the courses made from classes (RunOptions.CreateCourses); a dry
	// run, those a real run would make.
	CoursesCreated int
	// OneRoster orgs (see OrgIDNumberPrefix); a dry run counts what a real run would do.
	GroupsCreated  int
	GroupsRenamed  int
	GroupsMoved    int
	MembersAdded   int // sync learner memberships of org groups added
	MembersRemoved int
	Skipped        int
	Issues         []Issue
	Message        string
	// MessageCode and MessageParams are Message as a code, for pages in the reader's language
	// (Message keeps the English text and, for a failure, the technical cause).
	MessageCode   string
	MessageParams errs.P
	Duration      time.Duration
	Plan          *Plan `json:"-"` // the difference (dry runs show it)
}

// Stopped reports whether the threshold stopped the run.
func (r *Report) Stopped() bool { return r.Status == "stopped" }

// Summary is the one line `roster sync` prints.
func (r *Report) Summary() string {
	s := fmt.Sprintf("added %d, changed %d, removed %d", r.Added, r.Changed, r.Removed)
	if r.Created > 0 {
		s += fmt.Sprintf(", accounts created %d", r.Created)
	}
	if r.CoursesCreated > 0 {
		s += fmt.Sprintf(", courses created %d", r.CoursesCreated)
	}
	if r.GroupsCreated+r.GroupsRenamed+r.GroupsMoved > 0 {
		s += fmt.Sprintf(", groups created %d, renamed %d, moved %d", r.GroupsCreated, r.GroupsRenamed, r.GroupsMoved)
	}
	if r.MembersAdded+r.MembersRemoved > 0 {
		s += fmt.Sprintf(", group memberships added %d, removed %d", r.MembersAdded, r.MembersRemoved)
	}
	return s
}

// MemoryLimit is the soft memory limit `roster sync` sets for its process
// (runtime/debug.SetMemoryLimit): the live data of a 500,000-enrolment run is around 200 MB,
// and the limit keeps its garbage from doubling that.
const MemoryLimit = 320 << 20

// maxReportIssues bounds the issues stored with a run (the count is always exact).
const maxReportIssues = 1000

// staleRun is how long a run recorded before its lease existed may hold its source's lock
// before another run takes it over (the process that started it died).
const staleRun = 6 * time.Hour

// RunLease is how long a run holds its source without renewing (it renews every third of it
// while it runs): the run of a process that died is taken over by the next run once its lease
// has run out, and the next run completes its work (the diff sees only what is left to do).
var RunLease = 15 * time.Second

// Run syncs the source: it resolves the rows, computes the difference with the enrolments this
// source made, and applies it in batches unless it is a dry run or the threshold stops it.
// Run consumes src.Rows (it drops them once resolved, to bound memory). One run at a time
// per source. Errors: Invalid (action), Conflict (a run of this source is
// under way); a source that could not be read never reaches Run.
func Run(ctx context.Context, db *store.DB, src *Source, opt RunOptions) (*Report, error) {
	switch opt.Action {
	case "":
		opt.Action = ActionSuspend
	case ActionSuspend, ActionUnenrol, ActionKeep:
	default:
		return nil, errs.FieldCode("action", "bad_sync_action")
	}
	if src.Name == "" {
		return nil, errs.FieldCode("source", "sync_source_name_required")
	}
	began := time.Now()
	rep := &Report{Source: src.Name, DryRun: opt.DryRun}
	if err := startRun(ctx, db, rep, opt); err != nil {
		return nil, err
	}
	stopRenewing := renewRun(ctx, db, rep.RunID)
	err := run(ctx, db, src, opt, rep)
	stopRenewing()
	if err != nil {
		rep.Status, rep.Message = "failed", err.Error()
		rep.MessageCode, rep.MessageParams = "sync_source_failed", errs.P{"source": src.Name}
	}
	rep.Duration = time.Since(began)
	if ferr := finishRun(context.WithoutCancel(ctx), db, rep); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return rep, err
	}
	return rep, nil
}

func run(ctx context.Context, db *store.DB, src *Source, opt RunOptions, rep *Report) error {
	t := time.Now()
	// The enrolments the source made are read meanwhile, on a connection of their own: they
	// depend on nothing the rows resolve to.
	type loaded struct {
		have    []HaveRow
		methods map[int64]int64
		err     error
	}
	loadCtx, cancelLoad := context.WithCancel(ctx)
	loading := make(chan loaded, 1)
	go func() {
		start := time.Now()
		have, methods, err := loadHave(loadCtx, db, src.Name)
		tracePhase("(load enrolments, alone)", start)
		loading <- loaded{have, methods, err}
	}()
	var load *loaded
	wait := func() *loaded {
		if load == nil {
			l := <-loading
			load = &l
		}
		return load
	}
	defer func() {
		cancelLoad()
		wait()
	}()
	dir, err := LoadDirectory(ctx, db)
	if err != nil {
		return err
	}
	t = tracePhase("load directory", t)
	// Courses and accounts the run would create get stand-in ids first, so that the plan (and
	// a dry run's report) counts exactly what a real run does; a real run that is not
	// stopped then creates them and plans again with their real ids.
	var newCourses []ClassCourse
	if opt.CreateCourses {
		newCourses = missingCourses(src, dir)
		for i, c := range newCourses {
			dir.Courses[strings.ToLower(c.Shortname)] = dir.MaxCourseID + int64(i) + 1
		}
	}
	var missing []*Person
	var standIns []standIn
	if opt.Accounts != nil {
		missing = missingPeople(src, dir)
		for i, p := range missing {
			standIns = append(standIns, dir.addStandIn(dir.MaxUserID+int64(i)+1, p))
		}
	}
	res := ResolveSorted(src, dir)
	t = tracePhase("resolve", t)
	creates := len(missing) > 0 || len(newCourses) > 0
	// The rows are keys now: let the collector have them before the enrolments are read
	// (unless courses or accounts are to be created: the rows are resolved again once they
	// are). The orgs still need the people.
	if !creates || opt.DryRun {
		src.Rows = nil
		if src.Orgs == nil {
			dir = nil
		}
	}
	l := wait()
	if l.err != nil {
		return l.err
	}
	have, methods := l.have, l.methods
	t = tracePhase("load enrolments (rest)", t)
	dopt := Options{Action: opt.Action, Threshold: opt.Threshold, Delta: src.Delta, Protected: res.Protected}
	plan := DiffSorted(res.Want, res.Deleted, have, dopt)
	t = tracePhase("diff", t)
	report := func() {
		rep.Plan, rep.Issues, rep.Skipped = plan, res.Issues, len(res.Issues)
		rep.Added, rep.Changed, rep.Removed, rep.Kept = len(plan.Add), len(plan.Change), plan.Removed(), plan.Kept
	}
	report()
	rep.Created, rep.CoursesCreated = len(missing), len(newCourses)
	switch {
	case opt.DryRun:
		// The whole difference, and whether a real run would stop.
		rep.Status = "dry_run"
		if plan.Stopped {
			rep.Message = "a real run would stop: " + plan.StopReason
			rep.MessageCode, rep.MessageParams = "sync_would_stop", plan.StopParams
		}
		if src.Orgs != nil {
			return syncOrgs(ctx, db, src.Orgs, dir, true, rep)
		}
		return nil
	case plan.Stopped:
		rep.Status, rep.Message = "stopped", plan.StopReason
		rep.MessageCode, rep.MessageParams = "sync_threshold", plan.StopParams
		rep.Added, rep.Changed, rep.Removed, rep.Created, rep.CoursesCreated = 0, 0, 0, 0, 0
		return nil
	}
	if creates {
		// Courses and accounts are only created by a run that applies: they only add
		// enrolments, so the threshold's verdict stands.
		rep.Created, rep.CoursesCreated = 0, 0
		if rep.CoursesCreated, err = createCourses(ctx, db, newCourses, dir); err != nil {
			return err
		}
		for _, si := range standIns {
			dir.dropStandIn(si)
		}
		if rep.Created, err = createAccounts(ctx, db, opt, missing, dir); err != nil {
			return err
		}
		res = ResolveSorted(src, dir)
		src.Rows = nil
		if src.Orgs == nil {
			dir = nil
		}
		dopt.Protected = res.Protected
		plan = DiffSorted(res.Want, res.Deleted, have, dopt)
		report()
		if plan.Stopped { // new people and courses bring no removals; kept for safety
			rep.Status, rep.Message = "stopped", plan.StopReason
			rep.MessageCode, rep.MessageParams = "sync_threshold", plan.StopParams
			rep.MessageCode, rep.MessageParams = "sync_threshold", plan.StopParams
			rep.Added, rep.Changed, rep.Removed = 0, 0, 0
			return nil
		}
	}
	if err := apply(ctx, db, src.Name, opt.Action, rep.RunID, plan, methods); err != nil {
		return err
	}
	tracePhase("apply", t)
	if src.Orgs != nil {
		if err := syncOrgs(ctx, db, src.Orgs, dir, false, rep); err != nil {
			return err
		}
	}
	rep.Status = "done"
	return nil
}

func startRun(ctx context.Context, db *store.DB, rep *Report, opt RunOptions) error {
	return db.Tx(ctx, func(tx *store.Tx) error {
		now := tx.Now.Unix()
		if _, err := tx.ExecContext(ctx, `UPDATE sync_runs SET status = 'failed', message = 'abandoned: the process running it stopped', finished_at = $1
			WHERE source = $2 AND status = 'running' AND ((alive_until > 0 AND alive_until < $1) OR (alive_until = 0 AND started_at < $3))`,
			now, rep.Source, now-int64(staleRun/time.Second)); err != nil {
			return errs.Wrap(err, "sis: start run")
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO sync_runs (source, status, dry_run, action, started_at, alive_until)
			VALUES ($1, 'running', $2, $3, $4, $5) RETURNING id`,
			rep.Source, opt.DryRun, opt.Action, now, tx.Now.Add(RunLease).Unix()).Scan(&rep.RunID)
		if store.IsUnique(err) {
			return errs.Coded(errs.Conflict, "sync_running", errs.P{"source": rep.Source})
		}
		if err != nil {
			return errs.Wrap(err, "sis: start run")
		}
		return nil
	})
}

// renewRun extends the run's lease every third of RunLease until the returned function is
// called.
func renewRun(ctx context.Context, db *store.DB, runID int64) (stop func()) {
	ctx = context.WithoutCancel(ctx)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(RunLease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			_ = db.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE sync_runs SET alive_until = $1 WHERE id = $2 AND status = 'running'`,
					tx.Now.Add(RunLease).Unix(), runID)
				return err
			})
		}
	}()
	return func() { close(done); <-finished }
}

func finishRun(ctx context.Context, db *store.DB, rep *Report) error {
	issues := rep.Issues
	if len(issues) > maxReportIssues {
		issues = issues[:maxReportIssues]
	}
	if issues == nil {
		issues = []Issue{}
	}
	body, err := json.Marshal(map[string]any{"skipped": issues, "skipped_total": len(rep.Issues), "kept": rep.Kept, "created": rep.Created,
		"message_code": rep.MessageCode, "message_params": rep.MessageParams,
		"courses_created": rep.CoursesCreated,
		"groups": map[string]int{"created": rep.GroupsCreated, "renamed": rep.GroupsRenamed, "moved": rep.GroupsMoved,
			"members_added": rep.MembersAdded, "members_removed": rep.MembersRemoved}})
	if err != nil {
		return err
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sync_runs SET status = $1, added = $2, changed = $3, removed = $4, skipped = $5,
			message = $6, report = $7, finished_at = $8, duration_ms = $9 WHERE id = $10`,
			rep.Status, rep.Added, rep.Changed, rep.Removed, rep.Skipped, rep.Message, string(body), tx.Now.Unix(),
			rep.Duration.Milliseconds(), rep.RunID)
		if err != nil {
			return errs.Wrap(err, "sis: finish run")
		}
		return nil
	})
}

// LoadDirectory reads the courses, course roles and people the source's names resolve to.
func LoadDirectory(ctx context.Context, q store.Querier) (*Directory, error) {
	dir := NewDirectory()
	var maxID int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM users`).Scan(&maxID); err != nil {
		return nil, errs.Wrap(err, "sis: users")
	}
	var maxCourse int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM courses`).Scan(&maxCourse); err != nil {
		return nil, errs.Wrap(err, "sis: courses")
	}
	if maxID >= 1<<32 || maxCourse >= 1<<32 {
		return nil, errs.New(errs.Internal, "sis: user or course ids beyond 2^32 do not fit the sync's keys")
	}
	dir.MaxUserID, dir.MaxCourseID = maxID, maxCourse
	rows, err := q.QueryContext(ctx, `SELECT id, shortname FROM courses`)
	if err != nil {
		return nil, errs.Wrap(err, "sis: courses")
	}
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			rows.Close()
			return nil, errs.Wrap(err, "sis: courses")
		}
		dir.Courses[strings.ToLower(s)] = id
	}
	rows.Close()
	if rows.Err() != nil {
		return nil, errs.Wrap(rows.Err(), "sis: courses")
	}
	rows, err = q.QueryContext(ctx, `SELECT shortname FROM course_roles`)
	if err != nil {
		return nil, errs.Wrap(err, "sis: roles")
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, errs.Wrap(err, "sis: roles")
		}
		dir.Roles[s] = true
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT id, username, email_norm, idnumber FROM users WHERE deleted_at IS NULL`)
	if err != nil {
		return nil, errs.Wrap(err, "sis: users")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var u, e, n string
		if err := rows.Scan(&id, &u, &e, &n); err != nil {
			return nil, errs.Wrap(err, "sis: users")
		}
		dir.AddUser(id, u, e, n)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sis: users")
	}
	return dir, nil
}

// loadHave reads the enrolments the source made, in key order, and its sis method per
// course. One row a enrolment, as few columns as it takes: the key (course and user in one
// integer), the role, status and sync mark in one small integer, the dates (NULL, mostly).
func loadHave(ctx context.Context, q store.Querier, source string) ([]HaveRow, map[int64]int64, error) {
	methods, err := course.SISMethods(ctx, q, source)
	if err != nil {
		return nil, nil, err
	}
	if len(methods) == 0 {
		return nil, methods, nil
	}
	var roles []string
	rows, err := q.QueryContext(ctx, `SELECT shortname FROM course_roles ORDER BY shortname`)
	if err != nil {
		return nil, nil, errs.Wrap(err, "sis: roles")
	}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			rows.Close()
			return nil, nil, errs.Wrap(err, "sis: roles")
		}
		roles = append(roles, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, errs.Wrap(err, "sis: roles")
	}
	// The role as its place in roles (from 1; 0: a role made since, read on its own below).
	args := []any{source}
	var roleCase strings.Builder
	roleCase.WriteString("CASE e.role")
	for i, r := range roles {
		args = append(args, r)
		fmt.Fprintf(&roleCase, " WHEN $%d THEN %d", i+2, i+1)
	}
	roleCase.WriteString(" ELSE 0 END")
	// Counted first, so that the list is made once at its size.
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM course_methods m JOIN course_enrolments e ON e.method_id = m.id
		WHERE m.type = 'sis' AND m.name = $1`, source).Scan(&n); err != nil {
		return nil, nil, errs.Wrap(err, "sis: enrolments")
	}
	// course_id - 2^31 keeps the key within a signed 64-bit integer for course ids below 2^32.
	// Every column but sync_suspended is in course_enrolments_course_user, whose entries
	// also carry the id: the rows are read from that index alone, in key order (the unary
	// plus keeps SQLite from the method's index), and sync_suspended, which matters only
	// for a suspended enrolment, is looked up for those alone.
	rows, err = q.QueryContext(ctx, `SELECT e.id, (e.course_id - 2147483648) * 4294967296 + e.user_id,
		(`+roleCase.String()+`) * 4 + CASE WHEN e.status = 'suspended' THEN 1 + CASE WHEN (SELECT s.sync_suspended FROM course_enrolments s WHERE s.id = e.id) THEN 2 ELSE 0 END ELSE 0 END,
		e.starts_at, e.ends_at
		FROM course_methods m JOIN course_enrolments e ON e.course_id = m.course_id AND +e.method_id = m.id
		WHERE m.type = 'sis' AND m.name = $1`, args...)
	if err != nil {
		return nil, nil, errs.Wrap(err, "sis: enrolments")
	}
	defer rows.Close()
	have := make([]HaveRow, 0, n)
	var unknownRole []int // rows whose role was made after roles was read
	var id, key, flags, starts, ends any
	for rows.Next() {
		if err := rows.Scan(&id, &key, &flags, &starts, &ends); err != nil {
			return nil, nil, errs.Wrap(err, "sis: enrolments")
		}
		i, ok1 := id.(int64)
		k, ok2 := key.(int64)
		f, ok3 := flags.(int64)
		if !ok1 || !ok2 || !ok3 {
			return nil, nil, fmt.Errorf("sis: enrolments: unexpected values %T %T %T", id, key, flags)
		}
		h := HaveRow{Key: Key(uint64(k) + 1<<63)}
		h.Have.ID = i
		h.Have.Suspended, h.Have.BySync = f&1 != 0, f&2 != 0
		if r := f >> 2; r >= 1 && int(r) <= len(roles) {
			h.Have.Role = roles[r-1]
		} else {
			unknownRole = append(unknownRole, len(have))
		}
		h.Have.Starts, _ = starts.(int64)
		h.Have.Ends, _ = ends.(int64)
		have = append(have, h)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, errs.Wrap(err, "sis: enrolments")
	}
	rows.Close()
	for _, i := range unknownRole {
		if err := q.QueryRowContext(ctx, `SELECT role FROM course_enrolments WHERE id = $1`, have[i].Have.ID).Scan(&have[i].Have.Role); err != nil {
			return nil, nil, errs.Wrap(err, "sis: enrolments")
		}
	}
	// In key order (the rows come mostly in it already), each key once.
	byKey := func(a, b HaveRow) int { return cmp.Compare(a.Key, b.Key) }
	if !slices.IsSortedFunc(have, byKey) {
		slices.SortStableFunc(have, byKey)
	}
	have = slices.CompactFunc(have, func(a, b HaveRow) bool { return a.Key == b.Key })
	// The course groups the source placed people in.
	rows, err = q.QueryContext(ctx, `SELECT g.course_id, gm.user_id, g.name FROM course_methods m
		JOIN course_group_members gm ON gm.method_id = m.id JOIN course_groups g ON g.id = gm.course_group_id
		WHERE m.type = 'sis' AND m.name = $1`, source)
	if err != nil {
		return nil, nil, errs.Wrap(err, "sis: groups")
	}
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var course, user int64
		var name string
		if err := rows.Scan(&course, &user, &name); err != nil {
			return nil, nil, errs.Wrap(err, "sis: groups")
		}
		if n, ok := names[name]; ok {
			name = n
		} else {
			names[name] = name
		}
		k := MakeKey(course, user)
		if i, ok := slices.BinarySearchFunc(have, k, func(h HaveRow, k Key) int { return cmp.Compare(h.Key, k) }); ok {
			if h := &have[i].Have; h.Group == "" || name < h.Group {
				h.Group = name
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, errs.Wrap(err, "sis: groups")
	}
	return have, methods, nil
}
