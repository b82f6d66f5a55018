package course

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"time"

	"roster/internal/store"
)

// The participants summary (course_participants, migration 0035): one row per course and
// person with what the participants list filters and sorts on, each sort's position
// precomputed, so that a page reads a few rows by an index. Writes of enrolments, course
// groups and their members, methods' types and people's names only mark the course stale
// (course_participants_state, by triggers: a statement that changes nothing when the course
// is already marked; on SQLite, enrolments added are marked by markStale); the next list of
// a stale course rebuilds its rows in one statement. The statuses fold the enrolments' dates
// at the time of the rebuild: they hold until the first start or end after it (valid_until),
// when the list rebuilds again. The last access alone is written into the rows as it changes.

// markStale marks the courses' summaries stale after enrolments were added to them: the one
// write the triggers leave to the code (EnrolManyTx, the sync of a method), because on SQLite
// a row trigger on every enrolment inserted cost a bulk sync a third of its time. (On
// PostgreSQL a statement trigger marks them too; this is then a no-op.)
func markStale(ctx context.Context, tx *store.Tx, courses []int64) error {
	if len(courses) == 0 {
		return nil
	}
	in, args := tx.Dialect.InIDs(1, courses)
	_, err := tx.ExecContext(ctx, `UPDATE course_participants_state SET stale = true WHERE course_id`+in+` AND NOT stale`, args...)
	return err
}

// neverAccessed is the summary's last access of a person who never opened the course: after
// every time, as the list sorts them (last ascending, first descending).
const neverAccessed = "9223372036854775807"

// searchSep separates the fields of the summary's search column: a search without it
// cannot match across two fields.
const searchSep = "\x01"

// summaryState reads the course's state row: whether its summary is current at now, and its
// rows. The error is sql.ErrNoRows for no such course (and, with lock, for a row another
// transaction holds).
func summaryState(ctx context.Context, q store.Querier, courseID int64, now time.Time, lock string) (fresh bool, total int, err error) {
	var (
		stale bool
		built int64
		until sql.NullInt64
	)
	err = q.QueryRowContext(ctx, `SELECT stale, built_at, valid_until, total FROM course_participants_state WHERE course_id = $1`+lock,
		courseID).Scan(&stale, &built, &until, &total)
	if err != nil {
		return false, 0, err
	}
	t := now.Unix()
	return !stale && t >= built && (!until.Valid || t < until.Int64), total, nil
}

// summaryFor tells whether the list of the course can be read from its summary (built) at
// now, and its rows. A stale summary is rebuilt before the list for a small course; for a
// course of more than cfg.RebuildInBackgroundOver people it is rebuilt in the background
// (rebuildLater) while this list, and the next ones until it is done, read the enrolments,
// so that a page never waits for a big rebuild. Every row (an export) reads the enrolments
// when the summary is stale: it reads every row anyway, and the rebuild would cost it more
// than it saves.
func (s *Service) summaryFor(ctx context.Context, courseID int64, now time.Time, f ParticipantFilter) (bool, int, error) {
	fresh, total, err := summaryState(ctx, s.db, courseID, now, "")
	switch {
	case store.IsNoRows(err):
		return false, 0, nil
	case err != nil:
		return false, 0, wrap(err, "course: participants summary")
	case fresh:
		return true, total, nil
	case wideList(f):
		return false, total, nil // the rows of the last build: a capacity for the list
	}
	if over := s.cfg.RebuildInBackgroundOver; over > 0 {
		// The course's people, counted up to the bound: an index range of at most a few
		// hundred entries.
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT user_id FROM course_enrolments WHERE course_id = $1
			GROUP BY user_id LIMIT `+strconv.Itoa(over+1)+`) x`, courseID).Scan(&n); err != nil {
			return false, 0, wrap(err, "course: participants summary")
		}
		if n > over && s.rebuildLater(courseID) {
			return false, 0, nil
		}
	}
	return ensureSummary(ctx, s.db, courseID, now)
}

// ensureSummary makes the course's summary current at now, rebuilding it if it is stale. It
// returns false when the list must read the enrolments instead: on PostgreSQL while a write of
// the course is in progress (its trigger holds the state row), or for no such course.
func ensureSummary(ctx context.Context, db *store.DB, courseID int64, now time.Time) (bool, int, error) {
	built, total := false, 0
	err := db.Tx(ctx, func(tx *store.Tx) error {
		ok, n, err := summaryState(ctx, tx, courseID, now, db.Dialect.SkipLocked())
		switch {
		case store.IsNoRows(err):
			return nil // a write in progress holds it: read the enrolments
		case err != nil:
			return err
		case ok:
			built, total = true, n // rebuilt meanwhile
			return nil
		}
		total, err = rebuildSummary(ctx, tx, courseID, now)
		built = err == nil
		return err
	})
	return built, total, wrap(err, "course: participants summary")
}

// background is a Service's rebuilds of summaries in the background: they run with ctx,
// which Close cancels, and Close and WaitRebuilds wait for them.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// rebuildKey names one course of one database in rebuilding.
type rebuildKey struct {
	db     *store.DB
	course int64
}

// rebuilding holds the courses whose summary is being rebuilt in the background, in this
// process (whatever Service started it): one rebuild per course at a time. Another process's
// concurrent rebuild waits for the state row, or is skipped (SKIP LOCKED), as any other.
var rebuilding sync.Map

// rebuildStarts, when set (tests), is called by each background rebuild before it starts.
var rebuildStarts func(courseID int64)

// rebuildLater starts rebuilding the course's summary in the background, unless it is being
// rebuilt already. It returns false after Close: the caller then rebuilds it itself.
func (s *Service) rebuildLater(courseID int64) bool {
	b := &s.bg
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	key := rebuildKey{s.db, courseID}
	if _, busy := rebuilding.LoadOrStore(key, true); busy {
		return true
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer rebuilding.Delete(key)
		if rebuildStarts != nil {
			rebuildStarts(courseID)
		}
		// The state is read again in the transaction: a page's rebuild, or another
		// process's, may have made it current meanwhile.
		if _, _, err := ensureSummary(b.ctx, s.db, courseID, s.now()); err != nil && b.ctx.Err() == nil && s.cfg.Log != nil {
			s.cfg.Log.Error("participants summary rebuild failed", "course", courseID, "err", err)
		}
	}()
	return true
}

// WaitRebuilds waits for the summary rebuilds the service has started in the background.
func (s *Service) WaitRebuilds() { s.bg.wg.Wait() }

// Close stops the service's background work: the rebuilds in progress are cancelled (their
// transactions roll back; the course stays stale) and waited for, and stale courses' lists are
// rebuilt before the page from then on. It returns once nothing of the service runs.
func (s *Service) Close() error {
	s.bg.mu.Lock()
	s.bg.closed = true
	s.bg.mu.Unlock()
	s.bg.cancel()
	s.bg.wg.Wait()
	return nil
}

// rebuildSummary replaces the course's summary rows and clears its stale mark; the caller
// holds the state row.
func rebuildSummary(ctx context.Context, tx *store.Tx, courseID int64, now time.Time) (int, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM course_participants WHERE course_id = $1`, courseID); err != nil {
		return 0, err
	}
	d := tx.Dialect
	// Each position: the sort's key, then last name, first name, and id in the sort's direction.
	pos := func(key, dir string) string {
		return `row_number() OVER (ORDER BY ` + key + `lower(u.last_name), lower(u.first_name), u.id` + dir + `)`
	}
	noGroup := `CASE WHEN g.name IS NULL THEN 1 ELSE 0 END`
	res, err := tx.ExecContext(ctx, `INSERT INTO course_participants (course_id, user_id, st, pos, dpos, fpos, epos,
			ra, rd, ma, md, ga, gd, sa, sd, access, ln, fn, email, username, search, roles, methods, mtypes, groups)
		SELECT $1, p.user_id, p.st, `+pos("", "")+`, -`+pos("", " DESC")+`,
			row_number() OVER (ORDER BY lower(u.first_name), lower(u.last_name), u.id),
			row_number() OVER (ORDER BY u.email_norm, u.id),
			`+pos("p.role_min, ", "")+`, `+pos("p.role_min DESC, ", " DESC")+`,
			`+pos("p.method_min, ", "")+`, `+pos("p.method_min DESC, ", " DESC")+`,
			`+pos(noGroup+`, g.name, `, "")+`, `+pos(noGroup+` DESC, g.name DESC, `, " DESC")+`,
			`+pos("p.st, ", "")+`, `+pos("p.st DESC, ", " DESC")+`,
			COALESCE(a.last_access_at, `+neverAccessed+`), lower(u.last_name), lower(u.first_name), u.email_norm, u.username,
			lower(u.first_name) || ' ' || lower(u.last_name) || $3 || u.email_norm || $3 || u.username,
			',' || p.roles || ',', ',' || p.methods || ',', ',' || p.mtypes || ',', ',' || COALESCE(g.ids, '') || ','
		FROM (SELECT e.user_id, `+stFold+`, MIN(e.role) AS role_min, `+d.TextList("e.role")+` AS roles,
				MIN(e.method_id) AS method_min, `+d.IntList("e.method_id")+` AS methods, `+d.TextList("m.type")+` AS mtypes
			FROM course_enrolments e JOIN course_methods m ON m.id = e.method_id WHERE e.course_id = $1 GROUP BY e.user_id) p
		JOIN users u ON u.id = p.user_id
		LEFT JOIN (SELECT gm.user_id, MIN(cg.name) AS name, `+d.IntList("cg.id")+` AS ids
			FROM course_groups cg CROSS JOIN course_group_members gm
			WHERE gm.course_group_id = cg.id AND cg.course_id = $1 GROUP BY gm.user_id) g ON g.user_id = p.user_id
		LEFT JOIN course_access a ON a.course_id = $1 AND a.user_id = p.user_id`, courseID, now.Unix(), searchSep)
	if err != nil {
		return 0, err
	}
	total, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	var starts, ends sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(CASE WHEN starts_at > $2 THEN starts_at END), MIN(CASE WHEN ends_at > $2 THEN ends_at END)
		FROM course_enrolments WHERE course_id = $1`, courseID, now.Unix()).Scan(&starts, &ends); err != nil {
		return 0, err
	}
	until := starts
	if ends.Valid && (!until.Valid || ends.Int64 < until.Int64) {
		until = ends
	}
	if _, err = tx.ExecContext(ctx, `UPDATE course_participants_state SET stale = false, built_at = $2, valid_until = $3, total = $4
		WHERE course_id = $1`, courseID, now.Unix(), until, total); err != nil {
		return 0, err
	}
	return int(total), nil
}

// summarySQL is participantsSQL over the summary: the same rows, fields and order.
// total is the course's rows.
func summarySQL(d store.Dialect, courseID int64, f ParticipantFilter, now time.Time, seen identity, total int) (list, count string, args []any) {
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// seen's condition reads the users row (u.id).
	needUsers := false
	reads := func(shown bool) bool {
		h := seen.hidden(shown)
		return h != "" && h != "1 = 1"
	}
	// The course as a number, not an argument: PostgreSQL's generic plan of a prepared
	// statement (after five runs) otherwise expects a few rows per course, and read and sorted
	// the whole course for an unfiltered page instead of walking the position's index.
	where := []string{`p.course_id = ` + strconv.FormatInt(courseID, 10)}
	if f.Role != "" {
		where = append(where, `p.roles LIKE `+arg("%,"+escapeLike(f.Role)+",%")+` ESCAPE '\'`)
	}
	if f.Method != "" {
		if id, err := strconv.ParseInt(f.Method, 10, 64); err == nil {
			where = append(where, `p.methods LIKE `+arg("%,"+strconv.FormatInt(id, 10)+",%"))
		} else {
			where = append(where, `p.mtypes LIKE `+arg("%,"+escapeLike(f.Method)+",%")+` ESCAPE '\'`)
		}
	}
	if c := stCondition(f.Status); c != "" {
		where = append(where, c)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		n := arg("%" + escapeLike(strings.ToLower(q)) + "%")
		// A match in the first or the last name is one in "first last": one LIKE reads the
		// names, address and username when all are seen.
		if seen.hidden(seen.email) == "" && seen.hidden(seen.username) == "" && !strings.Contains(q, searchSep) {
			where = append(where, `p.search LIKE `+n+` ESCAPE '\'`)
		} else {
			match := []string{`p.ln LIKE ` + n + ` ESCAPE '\'`, `p.fn LIKE ` + n + ` ESCAPE '\'`,
				`(p.fn || ' ' || p.ln) LIKE ` + n + ` ESCAPE '\'`}
			if c := seen.visible(seen.email, `p.email LIKE `+n+` ESCAPE '\'`); c != "" {
				match = append(match, c)
				needUsers = needUsers || reads(seen.email)
			}
			if c := seen.visible(seen.username, `p.username LIKE `+n+` ESCAPE '\'`); c != "" {
				match = append(match, c)
				needUsers = needUsers || reads(seen.username)
			}
			where = append(where, `(`+strings.Join(match, " OR ")+`)`)
		}
	}
	switch {
	case f.GroupID == NoGroup:
		where = append(where, `p.groups = ',,'`)
	case f.GroupID > 0:
		where = append(where, `p.groups LIKE `+arg("%,"+strconv.FormatInt(f.GroupID, 10)+",%"))
	}
	if f.InactiveDays > 0 {
		// Never (neverAccessed) or before.
		where = append(where, `(p.access < `+arg(now.Unix()-int64(f.InactiveDays)*86400)+` OR p.access = `+neverAccessed+`)`)
	}
	countUsers := needUsers
	filtered := len(where) > 1
	// A filtered list reads the course's rows that match, in the table's order, and sorts them
	// (",+ 0" keeps the database from walking a position's index instead: a selective filter
	// would then read every row of the course through the index); an unfiltered one reads
	// the first rows of the position's index, from the offset (positions run from 1 to total
	// without a gap, so the offset is a bound on the position).
	plain := func(expr string) string {
		if filtered {
			return expr + ` + 0`
		}
		return expr
	}
	// Each sort reads its position (ascending, descending); the others break ties by last
	// name, first name, and id in the sort's direction (pos ascending, dpos descending).
	dir, tie := " ASC", plain(`p.pos`)
	if f.Desc {
		dir, tie = " DESC", plain(`p.dpos`)+` DESC`
	}
	offset := f.Offset
	// position orders by col in direction desc, from the offset.
	position := func(col string, desc bool) string {
		if !filtered && effectiveLimit(f.Limit) > 0 && offset > 0 {
			if desc {
				where = append(where, `p.`+col+` <= `+strconv.Itoa(total-offset))
			} else {
				where = append(where, `p.`+col+` > `+strconv.Itoa(offset))
			}
			offset = 0
		}
		if desc {
			return plain(`p.`+col) + ` DESC`
		}
		return plain(`p.` + col)
	}
	pair := func(asc, desc string) string {
		if f.Desc {
			return position(desc, false)
		}
		return position(asc, false)
	}
	var order string
	switch f.Sort {
	case "firstname":
		order = position("fpos", f.Desc)
	case "email":
		if h := seen.hidden(seen.email); h != "" {
			order = `(CASE WHEN ` + h + ` THEN '' ELSE p.email END)` + dir + `, ` + tie
			needUsers = needUsers || reads(seen.email)
		} else {
			order = position("epos", f.Desc)
		}
	case "roles":
		order = pair("ra", "rd")
	case "methods":
		order = pair("ma", "md")
	case "groups":
		order = pair("ga", "gd")
	case "lastaccess":
		order = plain(`p.access`) + dir + `, ` + tie
	case "status":
		order = pair("sa", "sd")
	default:
		order = position("pos", f.Desc)
	}
	cols := `, '', '', '', '', CAST(NULL AS BIGINT)`
	if wideList(f) {
		cols = `, u.username, u.email, u.first_name, u.last_name, CASE WHEN p.access = ` + neverAccessed + ` THEN NULL ELSE p.access END`
		needUsers = true
	}
	tail := ""
	if f.brief {
		tail = `, p.roles, p.methods, p.groups`
	}
	users := ` JOIN users u ON u.id = p.user_id`
	// A filtered list reads every matching row anyway: PostgreSQL counts them on the way for
	// less than a second pass costs (SQLite's window count costs more than its second query).
	window := `, -1`
	if filtered && d == store.Postgres {
		window = `, count(*) OVER ()`
	}
	list = `SELECT p.user_id, p.st` + cols + window + tail + ` FROM course_participants p`
	if needUsers {
		list += users
	}
	list += ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY ` + order
	if limit := effectiveLimit(f.Limit); limit > 0 {
		list += ` LIMIT ` + strconv.Itoa(limit) + ` OFFSET ` + strconv.Itoa(offset)
	}
	if !filtered {
		return list, "", args // the course's rows: total
	}
	count = `SELECT count(*) FROM course_participants p`
	if countUsers {
		count += users
	}
	count += ` WHERE ` + strings.Join(where, " AND ")
	return list, count, args
}
