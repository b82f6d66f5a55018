package course

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/store"
)

// The status of a participant, folded over their enrolments: Active when one enrolment is
// active and current, NotCurrent when the active ones are all outside their dates, Suspended
// when every one is suspended.
const NotCurrent = "not_current"

// Participant is one row of the participants list: one person, with every enrolment.
type Participant struct {
	UserID     int64
	Username   string
	Email      string
	FirstName  string
	LastName   string
	Status     string // Active, Suspended or NotCurrent
	LastAccess *time.Time
	Roles      []string // role short names, distinct, sorted
	Groups     []string // course group names, sorted
	Enrolments []Enrolment
	// EmailHidden and UsernameHidden: the caller may not see this person's account
	// (authz.ViewUser) and the site setting account.SettingShowIdentity does not show the field:
	// Email or Username is "".
	EmailHidden, UsernameHidden bool
}

// Enrolment is one person's enrolment by one method.
type Enrolment struct {
	MethodID   int64
	MethodType string
	MethodName string
	Role       string
	Status     string
	StartsAt   *time.Time
	EndsAt     *time.Time
}

// The columns the list sorts by.
var SortColumns = []string{"lastname", "firstname", "email", "roles", "groups", "lastaccess", "status", "methods"}

// ParticipantFilter narrows, sorts and pages the participants list. Filters combine (AND).
type ParticipantFilter struct {
	Q            string // part of the first name, last name, "first last", email or username
	Role         string // role short name
	GroupID      int64  // course group; NoGroup for people in none
	Status       string // Active, Suspended or NotCurrent
	Method       string // a method id, or a method type
	InactiveDays int    // no access to the course for more than N days (or never)
	Sort         string // one of SortColumns; "lastname" by default
	Desc         bool
	Limit        int // 20 by default; All for every row
	Offset       int
	// brief: every row (Limit All) with what a spreadsheet row shows of each person's
	// enrolments and groups (method types, roles, group names), read by the list's own
	// statement as lists of ids and codes (listWords) rather than enrolment by enrolment
	// (fillDetails); the groups too from the summary, by fillGroups from the enrolments. Set
	// by the export of spreadsheet formats.
	brief bool
}

// NoGroup as ParticipantFilter.GroupID selects the people in no course group; All as Limit
// returns every row.
const (
	NoGroup = -1
	All     = -1
)

// Validate checks the filter. Errors: Invalid naming the field.
func (f *ParticipantFilter) Validate() error {
	var fe errs.Fields
	if f.Status != "" && f.Status != Active && f.Status != Suspended && f.Status != NotCurrent {
		fe.AddCode("status", "bad_participant_status")
	}
	if f.Sort != "" && !slices.Contains(SortColumns, f.Sort) {
		fe.AddCode("sort", "one_of", errs.P{"options": strings.Join(SortColumns, ", ")})
	}
	if f.InactiveDays < 0 {
		fe.AddCode("inactive_days", "negative")
	}
	if f.Limit < All || f.Offset < 0 {
		fe.AddCode("limit", "negative")
	}
	if f.GroupID < NoGroup {
		fe.AddCode("group", "no_course_group")
	}
	return fe.Err()
}

// Page is one page of the list with the number of rows all pages hold.
type Page struct {
	Items []Participant
	Total int
}

// Participants returns one page of a course's participants. It needs authz.ViewParticipants.
// Errors: Forbidden, NotFound, Invalid (filter).
func (s *Service) Participants(ctx context.Context, courseID int64, f ParticipantFilter) (*Page, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	now := s.now()
	if err := authz.CanInCourse(ctx, s.db, authz.ViewParticipants, courseID, now); err != nil {
		return nil, err
	}
	if _, err := getCourse(ctx, s.db, courseID); err != nil {
		return nil, err
	}
	seen, err := identitySight(ctx, s.db)
	if err != nil {
		return nil, err
	}
	built, total, err := s.summaryFor(ctx, courseID, now, f)
	if err != nil {
		return nil, err
	}
	return listParticipants(ctx, s.db, courseID, f, now, seen, built, total)
}

// identity is what the caller of the participants list sees of the participants' identity
// fields, decided once per request: a field is shown for everyone when the site setting
// (account.SettingShowIdentity) shows it, and otherwise only for the people whose account the
// caller may see (authz.ViewUser: platform administrators see everyone, group and user
// administrators the people anchored in their groups). seen is the SQL condition on u.id of
// the latter ("" for everyone, "1 = 0" for nobody); it carries its group ids as numbers, so
// the list and count queries keep the same arguments.
type identity struct {
	email, username bool // shown for everyone
	seen            string
}

// hidden is the condition under which the field is hidden for a row ("" never).
func (id identity) hidden(shown bool) string {
	switch {
	case shown || id.seen == "":
		return ""
	case id.seen == "1 = 0":
		return "1 = 1"
	}
	return "NOT " + id.seen
}

// visible wraps cond so that it holds only where the field is visible.
func (id identity) visible(shown bool, cond string) string {
	switch h := id.hidden(shown); h {
	case "":
		return cond
	case "1 = 1":
		return ""
	default:
		return "(" + cond + " AND " + id.seen + ")"
	}
}

func identitySight(ctx context.Context, db *store.DB) (identity, error) {
	show, err := account.ShowIdentity(ctx, db)
	if err != nil {
		return identity{}, err
	}
	id := identity{email: show["email"], username: show["username"]}
	if id.email && id.username {
		return id, nil
	}
	id.seen, err = authz.UserScopeSQL(ctx, db, authz.ManageGroup, "u.id", func(v any) string {
		return strconv.FormatInt(v.(int64), 10)
	})
	return id, err
}

// listParticipants reads the list from the course's summary (built) or from its enrolments.
// summaryRows are the summary's: the course's rows when built; otherwise those of its last
// build, if any, which size a long list before it is read.
func listParticipants(ctx context.Context, db *store.DB, courseID int64, f ParticipantFilter, now time.Time, seen identity, built bool, summaryRows int) (*Page, error) {
	var (
		query, countQuery string
		args              []any
	)
	if built {
		query, countQuery, args = summarySQL(db.Dialect, courseID, f, now, seen, summaryRows)
	} else {
		query, countQuery, args = participantsSQL(db.Dialect, courseID, f, now, seen)
	}
	var words *listWords
	if f.brief {
		var err error
		if words, err = readListWords(ctx, db, courseID); err != nil {
			return nil, err
		}
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(err, "course: participants")
	}
	defer rows.Close()
	size := effectiveLimit(f.Limit)
	if wideList(f) {
		size = min(summaryRows, 200_000)
	}
	page := &Page{Items: make([]Participant, 0, size)}
	byID := map[int64]int{} // for the details read after the list (a brief one's groups when read from the enrolments)
	total := -1
	skip := 0
	if f.Limit == All {
		skip = f.Offset // every row from an offset: the query cannot say it the same way on both databases
	}
	var (
		p                     Participant
		st                    int
		access                sql.NullInt64
		roles, methods, group sql.RawBytes
	)
	dest := []any{&p.UserID, &st, &p.Username, &p.Email, &p.FirstName, &p.LastName, &access, &total}
	if f.brief {
		dest = append(dest, &roles, &methods, &group)
	}
	for rows.Next() {
		p = Participant{}
		if err := rows.Scan(dest...); err != nil {
			return nil, wrap(err, "course: participants")
		}
		if skip > 0 {
			skip--
			continue
		}
		p.Status = [...]string{Suspended, NotCurrent, Active}[st]
		p.LastAccess = store.NullTime(access)
		if f.brief {
			if err := words.fill(&p, roles, methods, group); err != nil {
				return nil, err
			}
		}
		if !f.brief || !built {
			byID[p.UserID] = len(page.Items)
		}
		page.Items = append(page.Items, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "course: participants")
	}
	rows.Close()
	// The total: counted apart, because a window count over the whole list costs more than a
	// second, narrower query (it skips the sort and the joins no filter needs).
	if total >= 0 {
		page.Total = total
	} else if countQuery == "" {
		page.Total = summaryRows
	} else if f.Offset == 0 && (f.Limit == All || len(page.Items) < effectiveLimit(f.Limit)) {
		page.Total = len(page.Items)
	} else if err := db.QueryRowContext(ctx, countQuery, args...).Scan(&page.Total); err != nil {
		return nil, wrap(err, "course: count participants")
	}
	if len(page.Items) == 0 {
		return page, nil
	}
	if !wideList(f) {
		return page, fillPage(ctx, db, courseID, page.Items, byID, seen)
	}
	if err := hideIdentity(ctx, db, courseID, page.Items, seen); err != nil {
		return nil, err
	}
	if f.brief {
		sortEnrolments(page.Items)
		if !built { // the groups: not folded with the enrolments (reading them apart costs less)
			return page, fillGroups(ctx, db, courseID, page.Items, byID)
		}
		return page, nil
	}
	if err := fillDetails(ctx, db, courseID, page.Items, byID); err != nil {
		return nil, err
	}
	return page, nil
}

// wideList tells whether the list query reads the people's names, addresses and last access
// itself (every row, or long pages) rather than fillPage.
func wideList(f ParticipantFilter) bool { return f.Limit == All || f.Limit > 500 }

// fillPage reads what a page shows of its people (at most a few hundred) in one statement:
// their names, addresses and last access, whether the caller sees their identity fields
// (as hideIdentity), their enrolments and their course groups (as fillDetails), each a kind
// of row of one UNION ALL. The ids are one array argument (store.Dialect.InIDs), and the
// enrolments are read by person (course_id + 0): PostgreSQL's generic plan of a prepared
// statement otherwise read every enrolment of the course.
func fillPage(ctx context.Context, db *store.DB, courseID int64, items []Participant, byID map[int64]int, seen identity) error {
	ids := make([]int64, len(items))
	for i, p := range items {
		ids[i] = p.UserID
	}
	in, idArgs := db.Dialect.InIDs(2, ids)
	args := append([]any{courseID}, idArgs...)
	visible := "1"
	hide := !(seen.email && seen.username || seen.seen == "")
	switch {
	case !hide:
	case seen.seen == "1 = 0":
		visible = "0"
	default:
		visible = `CASE WHEN ` + seen.seen + ` THEN 1 ELSE 0 END`
	}
	rows, err := db.QueryContext(ctx, `SELECT 0, u.id, u.username, u.email, u.first_name, u.last_name, a.last_access_at, `+visible+`,
			CAST(NULL AS BIGINT)
		FROM users u LEFT JOIN course_access a ON a.course_id = $1 AND a.user_id = u.id WHERE u.id`+in+`
		UNION ALL SELECT 1, e.user_id, m.type, m.name, e.role, e.status, e.starts_at, e.ends_at, e.method_id
		FROM course_enrolments e JOIN course_methods m ON m.id = e.method_id WHERE e.user_id`+in+` AND e.course_id + 0 = $1
		UNION ALL SELECT 2, gm.user_id, cg.name, '', '', '', NULL, NULL, NULL
		FROM course_group_members gm JOIN course_groups cg ON cg.id = gm.course_group_id WHERE cg.course_id = $1 AND gm.user_id`+in+`
		ORDER BY 1, 3`, args...)
	if err != nil {
		return wrap(err, "course: participants page")
	}
	defer rows.Close()
	word := interner()
	for rows.Next() {
		var (
			kind       int
			uid        int64
			a, b, c, d sql.RawBytes
			x, y, z    sql.NullInt64
		)
		if err := rows.Scan(&kind, &uid, &a, &b, &c, &d, &x, &y, &z); err != nil {
			return wrap(err, "course: participants page")
		}
		i, ok := byID[uid]
		if !ok {
			continue
		}
		p := &items[i]
		switch kind {
		case 0: // the person: username, email, first and last name, last access, visible
			p.Username, p.Email, p.FirstName, p.LastName, p.LastAccess = string(a), string(b), string(c), string(d), store.NullTime(x)
			if hide && y.Int64 == 0 {
				if !seen.email {
					p.Email, p.EmailHidden = "", true
				}
				if !seen.username {
					p.Username, p.UsernameHidden = "", true
				}
			}
		case 1: // an enrolment: method type and name, role, status, dates, method
			p.Enrolments = append(p.Enrolments, Enrolment{MethodID: z.Int64, MethodType: word(a), MethodName: word(b), Role: word(c),
				Status: word(d), StartsAt: store.NullTime(x), EndsAt: store.NullTime(y)})
		case 2: // a course group, by name; a person placed in it by two methods reads it twice
			if g := p.Groups; len(g) == 0 || g[len(g)-1] != string(a) {
				p.Groups = append(g, word(a))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return wrap(err, "course: participants page")
	}
	sortEnrolments(items)
	return nil
}

// sortEnrolments orders each person's enrolments by method and lists their roles.
func sortEnrolments(items []Participant) {
	for i := range items {
		p := &items[i]
		slices.SortFunc(p.Enrolments, func(a, b Enrolment) int { return cmp.Compare(a.MethodID, b.MethodID) })
		for _, e := range p.Enrolments {
			if !slices.Contains(p.Roles, e.Role) {
				p.Roles = append(p.Roles, e.Role)
			}
		}
		slices.Sort(p.Roles)
	}
}

// hideIdentity blanks the fields the caller may not see. The people whose account the caller
// sees are read by one query: by an id list for a page, by course for a long list (as
// fillDetails), so the condition is evaluated for the listed rows only, never for the rows a
// sort or an offset passes over.
func hideIdentity(ctx context.Context, db *store.DB, courseID int64, items []Participant, seen identity) error {
	if seen.email && seen.username || seen.seen == "" {
		return nil
	}
	visible := map[int64]bool{}
	if seen.seen != "1 = 0" {
		var (
			q    string
			args []any
		)
		if len(items) <= 500 {
			for _, p := range items {
				args = append(args, p.UserID)
			}
			q = `SELECT u.id FROM users u WHERE u.id IN (` + store.Placeholders(1, len(items)) + `) AND ` + seen.seen
		} else {
			args = []any{courseID}
			q = `SELECT u.id FROM users u WHERE u.id IN (SELECT user_id FROM course_enrolments WHERE course_id = $1) AND ` + seen.seen
		}
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return wrap(err, "course: participants seen")
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return wrap(err, "course: participants seen")
			}
			visible[id] = true
		}
		if err := rows.Err(); err != nil {
			return wrap(err, "course: participants seen")
		}
	}
	for i := range items {
		p := &items[i]
		if visible[p.UserID] {
			continue
		}
		if !seen.email {
			p.Email, p.EmailHidden = "", true
		}
		if !seen.username {
			p.Username, p.UsernameHidden = "", true
		}
	}
	return nil
}

func effectiveLimit(n int) int {
	if n == 0 {
		return 20
	}
	return n
}

// stFold folds a person's enrolments into their status: 2 active, 1 not current, 0 suspended.
const stFold = `MAX(CASE WHEN e.status = 'active' AND (e.starts_at IS NULL OR e.starts_at <= $2) AND (e.ends_at IS NULL OR e.ends_at > $2) THEN 2
				WHEN e.status = 'active' THEN 1 ELSE 0 END) AS st`

// participantsSQL builds the list query and its count: enrolments folded per person (status,
// and the sort key of the roles and methods columns), filters, sort, page. Both queries take
// the same arguments; the page bounds are written in the list query as numbers.
//
// A field the caller may not see (seen) matches no search and sorts as empty; hideIdentity
// blanks it in the rows read.
func participantsSQL(d store.Dialect, courseID int64, f ParticipantFilter, now time.Time, seen identity) (list, count string, args []any) {
	args = []any{courseID, now.Unix()}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var having, where, pre []string
	needUsers, needAccess := false, false
	if f.Role != "" {
		having = append(having, `SUM(CASE WHEN e.role = `+arg(f.Role)+` THEN 1 ELSE 0 END) > 0`)
	}
	if f.Method != "" {
		if id, err := strconv.ParseInt(f.Method, 10, 64); err == nil {
			having = append(having, `SUM(CASE WHEN e.method_id = `+arg(id)+` THEN 1 ELSE 0 END) > 0`)
		} else {
			having = append(having, `SUM(CASE WHEN e.method_id IN (SELECT id FROM course_methods WHERE course_id = $1 AND type = `+
				arg(f.Method)+`) THEN 1 ELSE 0 END) > 0`)
		}
	}
	if c := stCondition(f.Status); c != "" {
		where = append(where, c)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		n := arg("%" + escapeLike(strings.ToLower(q)) + "%")
		match := []string{`lower(u.last_name) LIKE ` + n + ` ESCAPE '\'`, `lower(u.first_name) LIKE ` + n + ` ESCAPE '\'`,
			`lower(u.first_name || ' ' || u.last_name) LIKE ` + n + ` ESCAPE '\'`}
		if c := seen.visible(seen.email, `u.email_norm LIKE `+n+` ESCAPE '\'`); c != "" {
			match = append(match, c)
		}
		if c := seen.visible(seen.username, `u.username LIKE `+n+` ESCAPE '\'`); c != "" {
			match = append(match, c)
		}
		where = append(where, `(`+strings.Join(match, " OR ")+`)`)
		needUsers = true
	}
	switch {
	case f.GroupID == NoGroup:
		where = append(where, `NOT EXISTS (SELECT 1 FROM course_group_members gm JOIN course_groups cg ON cg.id = gm.course_group_id
			WHERE cg.course_id = $1 AND gm.user_id = p.user_id)`)
	case f.GroupID > 0:
		// Inside the fold: it narrows the enrolments read before they are grouped.
		pre = append(pre, `e.user_id IN (SELECT gm.user_id FROM course_group_members gm WHERE gm.course_group_id = `+arg(f.GroupID)+`)`)
	}
	if f.InactiveDays > 0 {
		where = append(where, `(a.last_access_at IS NULL OR a.last_access_at < `+arg(now.Unix()-int64(f.InactiveDays)*86400)+`)`)
		needAccess = true
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	// NULLs (never accessed, no group) sort last ascending and first descending on both
	// databases: SQLite puts them first by default, PostgreSQL last.
	nullsLast := func(expr string) string {
		return `(CASE WHEN ` + expr + ` IS NULL THEN 1 ELSE 0 END)` + dir + `, ` + expr + dir
	}
	var order string
	extra, join := "", ""
	switch f.Sort {
	case "firstname":
		order = `lower(u.first_name)` + dir + `, lower(u.last_name)` + dir
	case "email":
		if h := seen.hidden(seen.email); h != "" {
			// Hidden addresses sort as empty, by name: their order must not tell them.
			order = `(CASE WHEN ` + h + ` THEN '' ELSE u.email_norm END)` + dir + `, lower(u.last_name), lower(u.first_name)`
		} else {
			order = `u.email_norm` + dir
		}
	case "roles":
		extra = `, MIN(e.role) AS sort_key`
		order = `p.sort_key` + dir + `, lower(u.last_name), lower(u.first_name)`
	case "methods":
		extra = `, MIN(e.method_id) AS sort_key`
		order = `p.sort_key` + dir + `, lower(u.last_name), lower(u.first_name)`
	case "groups":
		// The course's groups first (CROSS JOIN keeps SQLite from reading every placement of
		// every course), then their members by the primary key.
		join = ` LEFT JOIN (SELECT gm.user_id, MIN(cg.name) AS name FROM course_groups cg CROSS JOIN course_group_members gm
			WHERE gm.course_group_id = cg.id AND cg.course_id = $1 GROUP BY gm.user_id) g ON g.user_id = p.user_id`
		order = nullsLast(`g.name`) + `, lower(u.last_name), lower(u.first_name)`
	case "lastaccess":
		order = nullsLast(`a.last_access_at`) + `, lower(u.last_name), lower(u.first_name)`
	case "status":
		order = `p.st` + dir + `, lower(u.last_name), lower(u.first_name)`
	default:
		order = `lower(u.last_name)` + dir + `, lower(u.first_name)` + dir
	}
	order += `, u.id` + dir
	// briefLists: the lists a brief list reads of each person (see listWords); the count
	// leaves them out.
	briefLists := ""
	if f.brief {
		briefLists = `, ` + d.TextList("e.role") + ` AS roles, ` + d.IntList("e.method_id") + ` AS methods`
		extra += briefLists
	}
	cte := `WITH p AS (SELECT e.user_id, ` + stFold + extra + `
		FROM course_enrolments e WHERE e.course_id = $1`
	for _, c := range pre {
		cte += ` AND ` + c
	}
	cte += ` GROUP BY e.user_id`
	if len(having) > 0 {
		cte += ` HAVING ` + strings.Join(having, " AND ")
	}
	cte += `) `
	filter := ""
	if len(where) > 0 {
		filter = ` WHERE ` + strings.Join(where, " AND ")
	}
	accessJoin := ` LEFT JOIN course_access a ON a.course_id = $1 AND a.user_id = p.user_id`
	total := `, -1`
	if d == store.Postgres {
		// PostgreSQL counts the filtered rows on the way for less than a second query costs;
		// SQLite's window count costs more than its second query.
		total = `, count(*) OVER ()`
	}
	// A page reads the people's names, addresses and last access for its rows alone
	// (fillPage); every row (an export) reads them here, in one pass.
	listAccess, cols := "", `, '', '', '', '', CAST(NULL AS BIGINT)`
	if wideList(f) {
		cols = `, u.username, u.email, u.first_name, u.last_name, a.last_access_at`
	}
	tail := ""
	if f.brief {
		tail = `, p.roles, p.methods, ''` // the groups: fillGroups
	}
	if needAccess || f.Sort == "lastaccess" || wideList(f) {
		listAccess = accessJoin
	}
	list = cte + `SELECT p.user_id, p.st` + cols + total + tail + `
		FROM p JOIN users u ON u.id = p.user_id` + listAccess + join + filter + ` ORDER BY ` + order
	// Every row (All) from an offset is skipped in Go (participants): LIMIT is needed before
	// OFFSET on SQLite and cannot say "no limit" the same way on PostgreSQL.
	if limit := effectiveLimit(f.Limit); limit > 0 {
		list += ` LIMIT ` + strconv.Itoa(limit) + ` OFFSET ` + strconv.Itoa(f.Offset)
	}
	// The count folds only what its filters read: without a status filter, not the status
	// ($2 stays named: PostgreSQL wants a type for every argument).
	countCTE := strings.Replace(cte, briefLists, "", 1)
	if f.Status == "" {
		countCTE = strings.Replace(countCTE, stFold, `CAST($2 AS BIGINT) AS st`, 1)
	}
	count = countCTE + `SELECT count(*) FROM p`
	if needUsers {
		count += ` JOIN users u ON u.id = p.user_id`
	}
	if needAccess {
		count += accessJoin
	}
	count += filter
	return list, count, args
}

// fillDetails reads the enrolments and course groups of the listed people: by an id list for a
// page, by course for a long list. The enrolments come unordered (from their covering index)
// and are ordered by method per person in Go; their few distinct words (method types and
// names, roles, statuses) are read as bytes and shared, not allocated per row.
func fillDetails(ctx context.Context, db *store.DB, courseID int64, items []Participant, byID map[int64]int) error {
	in, args := listed(courseID, items, "e.user_id")
	rows, err := db.QueryContext(ctx, `SELECT e.user_id, e.method_id, m.type, m.name, e.role, e.status, e.starts_at, e.ends_at
		FROM course_enrolments e JOIN course_methods m ON m.id = e.method_id WHERE e.course_id = $1`+in, args...)
	if err != nil {
		return wrap(err, "course: participant enrolments")
	}
	defer rows.Close()
	word := interner()
	for rows.Next() {
		var (
			uid, mid                int64
			typ, name, role, status sql.RawBytes
			st, en                  sql.NullInt64
		)
		if err := rows.Scan(&uid, &mid, &typ, &name, &role, &status, &st, &en); err != nil {
			return wrap(err, "course: participant enrolments")
		}
		i, ok := byID[uid]
		if !ok {
			continue
		}
		p := &items[i]
		p.Enrolments = append(p.Enrolments, Enrolment{MethodID: mid, MethodType: word(typ), MethodName: word(name), Role: word(role),
			Status: word(status), StartsAt: store.NullTime(st), EndsAt: store.NullTime(en)})
	}
	if err := rows.Err(); err != nil {
		return wrap(err, "course: participant enrolments")
	}
	rows.Close()
	sortEnrolments(items)
	return fillGroups(ctx, db, courseID, items, byID)
}

// listed is the condition that the person col is one of items, for a page (by an id list),
// with its arguments after the course's ($1); none for a long list, read by course.
func listed(courseID int64, items []Participant, col string) (string, []any) {
	args := []any{courseID}
	if len(items) > 500 {
		return "", args
	}
	for _, p := range items {
		args = append(args, p.UserID)
	}
	return ` AND ` + col + ` IN (` + store.Placeholders(2, len(items)) + `)`, args
}

// fillGroups reads the course group names of the listed people (by an id list for a page, by
// course for a long list), in the database's order of names; a person placed in a group by
// two methods reads it twice, next to each other, and lists it once.
func fillGroups(ctx context.Context, db *store.DB, courseID int64, items []Participant, byID map[int64]int) error {
	in, args := listed(courseID, items, "gm.user_id")
	grows, err := db.QueryContext(ctx, `SELECT gm.user_id, cg.name FROM course_group_members gm
		JOIN course_groups cg ON cg.id = gm.course_group_id WHERE cg.course_id = $1`+in+` ORDER BY cg.name`, args...)
	if err != nil {
		return wrap(err, "course: participant groups")
	}
	defer grows.Close()
	word := interner()
	for grows.Next() {
		var (
			uid  int64
			name sql.RawBytes
		)
		if err := grows.Scan(&uid, &name); err != nil {
			return wrap(err, "course: participant groups")
		}
		if i, ok := byID[uid]; ok {
			g := items[i].Groups
			if len(g) == 0 || g[len(g)-1] != string(name) {
				items[i].Groups = append(g, word(name))
			}
		}
	}
	return wrap(grows.Err(), "course: participant groups")
}

// listWords turns the lists a brief list reads of each person (the roles and method ids of
// their enrolments, one each in the same order, and, from the summary, the ids of their
// course groups) into
// their enrolments (method and type, role) and group names: it holds the course's method
// types and group names by id, each group with its place in the database's order of names.
type listWords struct {
	types  map[int64]string
	groups map[int64]int // place in names
	names  []string
	roles  func(sql.RawBytes) string
}

func readListWords(ctx context.Context, db *store.DB, courseID int64) (*listWords, error) {
	rows, err := db.QueryContext(ctx, `SELECT 0, id, type FROM course_methods WHERE course_id = $1
		UNION ALL SELECT 1, id, name FROM course_groups WHERE course_id = $1 ORDER BY 1, 3`, courseID)
	if err != nil {
		return nil, wrap(err, "course: participants words")
	}
	defer rows.Close()
	w := &listWords{types: map[int64]string{}, groups: map[int64]int{}, roles: interner()}
	for rows.Next() {
		var (
			kind int
			id   int64
			word string
		)
		if err := rows.Scan(&kind, &id, &word); err != nil {
			return nil, wrap(err, "course: participants words")
		}
		if kind == 0 {
			w.types[id] = word
		} else {
			w.groups[id] = len(w.names)
			w.names = append(w.names, word)
		}
	}
	return w, wrap(rows.Err(), "course: participants words")
}

// fill sets p's enrolments (method, type and role: what sortEnrolments orders and lists the
// roles from) and groups (by name, a name once) from its lists, each joined by commas
// (the summary's lists also begin and end with one).
func (w *listWords) fill(p *Participant, roles, methods, groups sql.RawBytes) error {
	bad := false
	each(methods, func(b []byte) {
		id, ok := atoi(b)
		bad = bad || !ok
		p.Enrolments = append(p.Enrolments, Enrolment{MethodID: id, MethodType: w.types[id]})
	})
	i := 0
	each(roles, func(b []byte) {
		if i < len(p.Enrolments) {
			p.Enrolments[i].Role = w.roles(b)
		}
		i++
	})
	if bad || i != len(p.Enrolments) {
		return fmt.Errorf("course: participants lists of %d: roles %q, methods %q", p.UserID, roles, methods)
	}
	var places []int
	each(groups, func(b []byte) {
		if id, ok := atoi(b); ok {
			if at, ok := w.groups[id]; ok {
				places = append(places, at)
			}
		}
	})
	slices.Sort(places)
	for _, at := range places {
		if g := p.Groups; len(g) == 0 || g[len(g)-1] != w.names[at] {
			p.Groups = append(g, w.names[at])
		}
	}
	return nil
}

// each calls fn with each non-empty item of a list joined by commas.
func each(list []byte, fn func([]byte)) {
	for len(list) > 0 {
		item := list
		if i := bytes.IndexByte(list, ','); i >= 0 {
			item, list = list[:i], list[i+1:]
		} else {
			list = nil
		}
		if len(item) > 0 {
			fn(item)
		}
	}
}

// atoi reads a positive decimal id.
func atoi(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' || n > (math.MaxInt64-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, len(b) > 0
}

// stCondition is the condition on a person's folded status (st: 2 active, 1 not current, 0
// suspended, in the list read from the enrolments and in the summary alike) that a status
// filter sets; "" for no filter.
func stCondition(status string) string {
	switch status {
	case Active:
		return `p.st = 2`
	case NotCurrent:
		return `p.st = 1`
	case Suspended:
		return `p.st = 0`
	}
	return ""
}

// interner returns a function giving a string for the bytes of a column, one string for each
// distinct value (roles, method types and names repeat on thousands of rows).
func interner() func(sql.RawBytes) string {
	words := map[string]string{}
	return func(b sql.RawBytes) string {
		if w, ok := words[string(b)]; ok {
			return w
		}
		w := string(b)
		words[w] = w
		return w
	}
}
