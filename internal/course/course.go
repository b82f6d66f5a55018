// Package course is Roster's courses, the ways people get into them (enrolment methods) and
// the participants list.
//
// A course has methods (manual, self, group_sync, meta, sis, guest, invitation); each
// enrolment is one person enrolled by one method with one role, so a person enrolled twice
// (by hand and through a synced group) has two rows, and removing one keeps the other. The
// participants list folds them into one row per person.
//
// Synced methods follow their source through course_sync_queue: triggers on group_members,
// group_paths and course_enrolments queue the methods whose source changed, whoever changed
// it, and the Follower reconciles each queued method with one diff in SQL (sync.go).
package course

import (
	"context"
	"database/sql"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/httpx"
	"roster/internal/store"
)

// Course is one course (or course session).
type Course struct {
	ID          int64
	Shortname   string
	Fullname    string
	Visible     bool
	StartsAt    *time.Time // nil: open; in the future: invitations and welcome emails wait
	GuestAccess bool       // an enabled guest method exists
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Participants is the number of distinct people enrolled (any status), filled by Get and List.
	Participants int
	// MyRole is the caller's strongest base role in the course ("" for none), filled by List.
	MyRole string
}

// Limits on the text of a course.
const (
	MaxShortnameLen = 100
	MaxFullnameLen  = 255
)

func (c *Course) normalize() {
	c.Shortname = strings.TrimSpace(c.Shortname)
	c.Fullname = strings.TrimSpace(c.Fullname)
}

// Validate checks the fields a person types: errs Invalid naming each bad field.
func (c *Course) Validate() error {
	var f errs.Fields
	switch {
	case c.Shortname == "":
		f.AddCode("shortname", "course_shortname_required")
	case utf8.RuneCountInString(c.Shortname) > MaxShortnameLen:
		f.AddCode("shortname", "too_long", errs.P{"limit": MaxShortnameLen})
	case strings.ContainsAny(c.Shortname, "\r\n\t"):
		f.AddCode("shortname", "one_line")
	}
	switch {
	case c.Fullname == "":
		f.AddCode("fullname", "course_fullname_required")
	case utf8.RuneCountInString(c.Fullname) > MaxFullnameLen:
		f.AddCode("fullname", "too_long", errs.P{"limit": MaxFullnameLen})
	}
	return f.Err()
}

// Update lists the fields to change; nil leaves a field as it is. ClearStartsAt removes the
// start date.
type Update struct {
	Shortname     *string
	Fullname      *string
	Visible       *bool
	StartsAt      *time.Time
	ClearStartsAt bool
	GuestAccess   *bool
}

// Config holds what the service needs to know about the deployment.
type Config struct {
	BaseURL string
	// RebuildInBackgroundOver: the page of a stale course with more participants than this
	// is read from the enrolments while the participants summary is rebuilt in the background
	// (summary.go); a smaller course's summary is rebuilt before the page. 0:
	// DefaultRebuildInBackgroundOver; negative: never in the background.
	RebuildInBackgroundOver int
	// Log receives the errors of background rebuilds (nil: discarded).
	Log *slog.Logger
}

// DefaultRebuildInBackgroundOver is Config.RebuildInBackgroundOver's default: the summary of
// 50 to 100 people is rebuilt in about 5 to 10 ms (a few pages' time), one of 500 in 30 to 50 ms
// and one of 10,000 in half a second, where a page read from the enrolments costs 1 to 4 ms
// for 500 people.
const DefaultRebuildInBackgroundOver = 100

// Service manages courses, methods and enrolments. Every method checks the caller's rights
// through authz first and runs in one transaction with its audit events.
//
// Close stops the service's background work (summary rebuilds): a server closes its services
// once it stops serving, and a test before its database closes.
type Service struct {
	db       *store.DB
	cfg      Config
	searches *httpx.Limiter // people searches per person (SearchUsers)
	bg       background
}

// NewService returns a Service over db.
func NewService(db *store.DB, cfg Config) *Service {
	if cfg.RebuildInBackgroundOver == 0 {
		cfg.RebuildInBackgroundOver = DefaultRebuildInBackgroundOver
	}
	s := &Service{db: db, cfg: cfg, searches: httpx.NewLimiter(searchPerMinute, searchBurst)}
	s.bg.ctx, s.bg.cancel = context.WithCancel(context.Background())
	return s
}

// Create adds a course, with a manual method (every course has one) and, if c.GuestAccess, a
// guest method. It needs authz.CanCreateCourse. Errors: Forbidden, Invalid, Conflict
// (shortname taken).
func (s *Service) Create(ctx context.Context, c Course) (*Course, error) {
	c.normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := authz.CanCreateCourse(ctx); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO courses (shortname, fullname, visible, starts_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, c.Shortname, c.Fullname, c.Visible, store.NullUnix(c.StartsAt),
			tx.Now.Unix()).Scan(&c.ID)
		if store.IsUnique(err) {
			return conflictField("shortname", "course_shortname_taken", errs.P{"shortname": c.Shortname})
		}
		if err != nil {
			return wrap(err, "course: create")
		}
		if _, err := insertMethod(ctx, tx, &Method{CourseID: c.ID, Type: Manual, Role: Student, Enabled: true}); err != nil {
			return err
		}
		if c.GuestAccess {
			if _, err := insertMethod(ctx, tx, &Method{CourseID: c.ID, Type: Guest, Role: GuestRole, Enabled: true}); err != nil {
				return err
			}
		}
		c.CreatedAt, c.UpdatedAt = tx.Now, tx.Now
		return audit.Record(ctx, tx, audit.Event{Action: "course.create", TargetType: "course", TargetID: idStr(c.ID),
			Details: map[string]any{"shortname": c.Shortname}})
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Get returns a course. It needs authz.ViewCourse (guests may view a course with guest
// access). Errors: Unauthorized, Forbidden, NotFound.
func (s *Service) Get(ctx context.Context, id int64) (*Course, error) {
	if err := authz.CanInCourse(ctx, s.db, authz.ViewCourse, id, s.now()); err != nil {
		return nil, err
	}
	c, err := getCourse(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(DISTINCT user_id) FROM course_enrolments WHERE course_id = $1`,
		id).Scan(&c.Participants); err != nil {
		return nil, wrap(err, "course: count participants")
	}
	return c, nil
}

// Update changes a course's fields. It needs authz.ManageCourse. Errors: Forbidden, NotFound,
// Invalid, Conflict.
func (s *Service) Update(ctx context.Context, id int64, u Update) (*Course, error) {
	var out *Course
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := authz.CanInCourse(ctx, tx, authz.ManageCourse, id, tx.Now); err != nil {
			return err
		}
		c, err := getCourse(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Shortname != nil {
			c.Shortname = *u.Shortname
		}
		if u.Fullname != nil {
			c.Fullname = *u.Fullname
		}
		if u.Visible != nil {
			c.Visible = *u.Visible
		}
		if u.StartsAt != nil {
			t := *u.StartsAt
			c.StartsAt = &t
		}
		if u.ClearStartsAt {
			c.StartsAt = nil
		}
		c.normalize()
		if err := c.Validate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE courses SET shortname = $2, fullname = $3, visible = $4, starts_at = $5, updated_at = $6
			WHERE id = $1`, id, c.Shortname, c.Fullname, c.Visible, store.NullUnix(c.StartsAt), tx.Now.Unix())
		if store.IsUnique(err) {
			return conflictField("shortname", "course_shortname_taken", errs.P{"shortname": c.Shortname})
		}
		if err != nil {
			return wrap(err, "course: update")
		}
		if u.GuestAccess != nil && *u.GuestAccess != c.GuestAccess {
			if *u.GuestAccess {
				if _, err := insertMethod(ctx, tx, &Method{CourseID: id, Type: Guest, Role: GuestRole, Enabled: true}); err != nil {
					return err
				}
			} else if _, err := tx.ExecContext(ctx, `DELETE FROM course_methods WHERE course_id = $1 AND type = 'guest'`, id); err != nil {
				return wrap(err, "course: guest access")
			}
			c.GuestAccess = *u.GuestAccess
		}
		c.UpdatedAt = tx.Now
		out = c
		return audit.Record(ctx, tx, audit.Event{Action: "course.update", TargetType: "course", TargetID: idStr(id)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Filter narrows a course list.
type Filter struct {
	Q     string // part of the short or full name
	Guest bool   // only the visible courses open to guests (what anonymous visitors see)
	// SelfEnrol: only the visible courses with an enabled self-enrolment method in which the
	// logged-in caller is not enrolled (the courses they may enrol themself in).
	SelfEnrol bool
	Limit     int    // 50 by default, at most 500
	Cursor    string // from the previous page: the last id
}

// List returns the courses the caller may see, by short name: every course for platform
// administrators, the courses with guest access for anonymous visitors (and when f.Guest), the
// courses open for self-enrolment with f.SelfEnrol, and otherwise the courses where the caller
// has an active enrolment (visible ones, or hidden ones they teach).
func (s *Service) List(ctx context.Context, f Filter) (items []Course, next string, err error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		limit = 500
	}
	p := authz.From(ctx)
	now := s.now().Unix()
	var args []any
	where := []string{"1 = 1"}
	myRole := `''`
	switch {
	case f.Guest || p == nil || (p.UserID == 0 && !p.PlatformAdmin && !p.System):
		where = append(where, `c.visible AND EXISTS (SELECT 1 FROM course_methods g WHERE g.course_id = c.id AND g.type = 'guest' AND g.enabled)`)
	case f.SelfEnrol && p.UserID != 0:
		args = append(args, now, p.UserID)
		myRole = myRoleSQL()
		where = append(where, `c.visible AND EXISTS (SELECT 1 FROM course_methods m WHERE m.course_id = c.id AND m.type = 'self' AND m.enabled)`,
			`NOT EXISTS (SELECT 1 FROM course_enrolments e WHERE e.course_id = c.id AND e.user_id = $2)`)
	case p.PlatformAdmin || p.System:
		if p.UserID != 0 {
			args = append(args, now, p.UserID)
			myRole = myRoleSQL()
		}
	default:
		args = append(args, now, p.UserID)
		myRole = myRoleSQL()
		where = append(where, `EXISTS (SELECT 1 FROM course_enrolments e WHERE e.course_id = c.id AND e.user_id = $2 AND e.status = 'active')`,
			`(c.visible OR `+myRole+` IN ('teacher', 'non_editing_teacher'))`)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		args = append(args, "%"+escapeLike(strings.ToLower(q))+"%")
		n := strconv.Itoa(len(args))
		where = append(where, `(lower(c.shortname) LIKE $`+n+` ESCAPE '\' OR lower(c.fullname) LIKE $`+n+` ESCAPE '\')`)
	}
	if f.Cursor != "" {
		after, err := strconv.Atoi(f.Cursor)
		if err != nil || after < 0 {
			return nil, "", errs.FieldCode("cursor", "bad_cursor")
		}
		args = append(args, after)
		where = append(where, `c.id > $`+strconv.Itoa(len(args)))
	}
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.shortname, c.fullname, c.visible, c.starts_at, c.created_at, c.updated_at,
		EXISTS (SELECT 1 FROM course_methods g WHERE g.course_id = c.id AND g.type = 'guest' AND g.enabled),
		(SELECT count(DISTINCT e.user_id) FROM course_enrolments e WHERE e.course_id = c.id), `+myRole+` AS my_role
		FROM courses c WHERE `+strings.Join(where, " AND ")+`
		ORDER BY c.id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, "", wrap(err, "course: list")
	}
	defer rows.Close()
	for rows.Next() {
		var c Course
		var role sql.NullString
		if err := scanCourse(rows, &c, &c.Participants, &role); err != nil {
			return nil, "", wrap(err, "course: list")
		}
		c.MyRole = role.String
		items = append(items, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err, "course: list")
	}
	if len(items) > limit {
		items = items[:limit]
		next = idStr(items[limit-1].ID)
	}
	return items, next, nil
}

// myRoleSQL is the caller's strongest current base role in course c (now at $1, user id at $2).
func myRoleSQL() string {
	return `(SELECT r.base_role FROM course_enrolments e JOIN course_roles r ON r.shortname = e.role
		WHERE e.course_id = c.id AND e.user_id = $2 AND e.status = 'active'
		AND (e.starts_at IS NULL OR e.starts_at <= $1) AND (e.ends_at IS NULL OR e.ends_at > $1)
		ORDER BY CASE r.base_role WHEN 'teacher' THEN 1 WHEN 'non_editing_teacher' THEN 2 WHEN 'student' THEN 3 ELSE 4 END LIMIT 1)`
}

// CourseOpen reports whether the course has opened at the transaction's time (no start date,
// or a start date reached) and when it opens. The invitations feature holds the invitations of
// a course until then (invitations.due_at = opensAt). Errors: NotFound.
func CourseOpen(ctx context.Context, q store.Querier, courseID int64, now time.Time) (open bool, opensAt time.Time, err error) {
	var starts sql.NullInt64
	err = q.QueryRowContext(ctx, `SELECT starts_at FROM courses WHERE id = $1`, courseID).Scan(&starts)
	if store.IsNoRows(err) {
		return false, time.Time{}, notFoundField("course_id", "no_such_course")
	}
	if err != nil {
		return false, time.Time{}, wrap(err, "course: open")
	}
	if !starts.Valid || starts.Int64 <= now.Unix() {
		return true, time.Time{}, nil
	}
	return false, store.Time(starts.Int64), nil
}

// AnyGuestAccess reports whether some visible course allows guest access (the login page
// then offers "Continue as guest").
func AnyGuestAccess(ctx context.Context, q store.Querier) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM course_methods m JOIN courses c ON c.id = m.course_id
		WHERE m.type = 'guest' AND m.enabled AND c.visible LIMIT 1`).Scan(&one)
	if store.IsNoRows(err) {
		return false, nil
	}
	return err == nil, wrap(err, "course: guest access")
}

// TouchAccess records that the caller opened the course now (the "last access" column).
// Anonymous visitors and people not enrolled leave no trace.
func (s *Service) TouchAccess(ctx context.Context, courseID int64) error {
	p := authz.From(ctx)
	if p == nil || p.UserID == 0 {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO course_access (course_id, user_id, last_access_at)
		SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM course_enrolments WHERE course_id = $1 AND user_id = $2)
		ON CONFLICT (course_id, user_id) DO UPDATE SET last_access_at = excluded.last_access_at`,
		courseID, p.UserID, s.now().Unix())
	return wrap(err, "course: touch access")
}

// Rights says what the caller may do in a course, for pages that show or hide actions.
type Rights struct {
	View, ViewParticipants, ManageParticipants, Manage bool
}

// RightsIn returns the caller's rights in the course.
func (s *Service) RightsIn(ctx context.Context, courseID int64) Rights {
	now := s.now()
	can := func(op authz.CourseOp) bool { return authz.CanInCourse(ctx, s.db, op, courseID, now) == nil }
	return Rights{View: can(authz.ViewCourse), ViewParticipants: can(authz.ViewParticipants),
		ManageParticipants: can(authz.ManageParticipants), Manage: can(authz.ManageCourse)}
}

func getCourse(ctx context.Context, q store.Querier, id int64) (*Course, error) {
	var c Course
	row := q.QueryRowContext(ctx, `SELECT c.id, c.shortname, c.fullname, c.visible, c.starts_at, c.created_at, c.updated_at,
		EXISTS (SELECT 1 FROM course_methods g WHERE g.course_id = c.id AND g.type = 'guest' AND g.enabled)
		FROM courses c WHERE c.id = $1`, id)
	err := scanCourse(row, &c)
	if store.IsNoRows(err) {
		return nil, errs.Coded(errs.NotFound, "no_such_course")
	}
	if err != nil {
		return nil, wrap(err, "course: get")
	}
	return &c, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanCourse(r scanner, c *Course, extra ...any) error {
	var starts sql.NullInt64
	var cre, upd int64
	dest := append([]any{&c.ID, &c.Shortname, &c.Fullname, &c.Visible, &starts, &cre, &upd, &c.GuestAccess}, extra...)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	c.StartsAt = store.NullTime(starts)
	c.CreatedAt, c.UpdatedAt = store.Time(cre), store.Time(upd)
	return nil
}

func (s *Service) now() time.Time { return s.db.Now().UTC().Truncate(time.Second) }

// conflictField is a coded field error of class Conflict.
func conflictField(field, key string, p ...errs.P) error {
	return errs.FieldCode(field, key, p...).Class(errs.Conflict)
}

// notFoundField is a coded field error of class NotFound.
func notFoundField(field, key string, p ...errs.P) error {
	return errs.FieldCode(field, key, p...).Class(errs.NotFound)
}

// wrap is errs.Wrap returning a plain error, nil for nil.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return errs.Wrap(err, what)
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
