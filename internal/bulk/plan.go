package bulk

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/errs"
)

// Upload types, as Moodle names them.
const (
	AddNew     = "add_new"     // existing accounts are skipped
	AddUpdate  = "add_update"  // existing accounts are updated
	UpdateOnly = "update_only" // unknown accounts are skipped
)

// Row actions of a report.
const (
	ActCreate  = "create"
	ActUpdate  = "update"
	ActEnrol   = "enrol" // an existing account, unchanged, gets enrolments or memberships
	ActUnenrol = "unenrol"
	ActSkip    = "skip"
	ActError   = "error"
)

// Options say how a file is read and applied.
type Options struct {
	Format       string
	Mode         string // AddNew (default), AddUpdate, UpdateOnly
	MatchEmail   bool   // find existing accounts by email instead of username
	AllowRenames bool   // with MatchEmail, a different username renames the account
	CreateGroups bool   // cohort columns naming an unknown group idnumber create it
	ValidOnly    bool   // apply the valid rows of a file that has errors
	Notify       bool   // new accounts without a password get a set-your-password email
}

func (o *Options) normalize() error {
	if o.Format == "" {
		o.Format = FormatMoodle
	}
	if !slices.Contains(Formats, o.Format) {
		return errs.Field("format", "unknown format %q (moodle, tsv, groups, enrolments)", o.Format)
	}
	switch o.Mode {
	case "":
		o.Mode = AddNew
	case AddNew, AddUpdate, UpdateOnly:
	default:
		return errs.Field("mode", "unknown upload type %q (add_new, add_update, update_only)", o.Mode)
	}
	return nil
}

// Existing is an account already in the database, as the planner sees it.
type Existing struct {
	ID                                                                     int64
	Username, Email, FirstName, LastName, Language, IDNumber, Status, Auth string
	Custom                                                                 map[string]string
}

// GroupNode is a group of the tree, for resolving parents by name or path.
type GroupNode struct {
	ID       int64
	ParentID int64
	Name     string
	IDNumber string
}

// Snapshot is what the planner knows of the database: the accounts a batch of rows names,
// and the courses, roles and groups.
type Snapshot struct {
	Now         time.Time
	SharedEmail bool
	ByUsername  map[string]*Existing
	ByEmail     map[string][]*Existing // lower-cased email
	Courses     map[string]int64       // lower-cased shortname → id
	Roles       map[string]bool        // course roles
	Groups      map[string]int64       // idnumber → id
	Tree        []GroupNode            // every group (groups format only)
}

// NewSnapshot returns an empty snapshot at now.
func NewSnapshot(now time.Time) *Snapshot {
	return &Snapshot{Now: now, ByUsername: map[string]*Existing{}, ByEmail: map[string][]*Existing{},
		Courses: map[string]int64{}, Roles: map[string]bool{}, Groups: map[string]int64{}}
}

// AddUser makes an account known to the snapshot.
func (s *Snapshot) AddUser(u *Existing) {
	s.ByUsername[u.Username] = u
	if u.Email != "" {
		k := strings.ToLower(u.Email)
		s.ByEmail[k] = append(s.ByEmail[k], u)
	}
}

// Seen remembers what earlier rows of the same file used, to report duplicates.
type Seen struct {
	keys      map[string]int // "u:username", "e:email", "g:idnumber", "n:parent/name"
	NewGroups []string       // idnumbers of cohort groups to create, in order
	newGroup  map[string]bool
}

// NewSeen returns an empty Seen.
func NewSeen() *Seen { return &Seen{keys: map[string]int{}, newGroup: map[string]bool{}} }

func (s *Seen) first(key string, line int) (int, bool) {
	if l, ok := s.keys[key]; ok {
		return l, false
	}
	s.keys[key] = line
	return 0, true
}

// Plan is what will happen to one row.
type Plan struct {
	Row      *Row
	Action   string
	Existing *Existing         // the account updated or enrolled
	New      account.NewUser   // the account created
	Changes  map[string]string // user column → new value, for updates
	Rename   string            // new username
	Status   string            // new status, "" for unchanged
	Enrols   []PlannedEnrol
	Groups   []GroupRef
	GroupIDs []int64 // of Groups; 0 for a group created by the import
	Errors   []errs.FieldError
}

// PlannedEnrol is an enrolment with its course resolved and its dates worked out.
type PlannedEnrol struct {
	Enrol
	CourseID int64
}

func (p *Plan) fail(field, format string, args ...any) {
	p.Errors = append(p.Errors, errs.FieldError{Field: field, Line: p.Row.Line, Message: fmt.Sprintf(format, args...)})
}

// columns of a user row in messages, by NewUser field names.
var userColumn = map[string]string{"first_name": "firstname", "last_name": "lastname", "language": "lang"}

// PlanRow decides what to do with row. It is pure: it reads snap and records the row in seen.
func PlanRow(row *Row, snap *Snapshot, seen *Seen, o Options) *Plan {
	p := &Plan{Row: row, Errors: slices.Clone(row.Errors)}
	switch {
	case row.User != nil:
		planUser(p, snap, seen, o)
	case row.Group != nil:
		planGroup(p, snap, seen)
	default:
		planEnrolLine(p, snap)
	}
	if len(p.Errors) > 0 {
		p.Action = ActError
	}
	return p
}

func planUser(p *Plan, snap *Snapshot, seen *Seen, o Options) {
	u := p.Row.User
	username := strings.ToLower(u.Username)
	if username == "" {
		username = strings.ToLower(u.Email)
	}
	email := strings.ToLower(u.Email)
	if username == "" && email == "" {
		p.fail("username", "a username or an email is required")
		return
	}
	// Duplicates within the file.
	if username != "" {
		if l, ok := seen.first("u:"+username, p.Row.Line); !ok {
			p.fail("username", "duplicate of line %d", l)
		}
	}
	if email != "" && !snap.SharedEmail {
		if l, ok := seen.first("e:"+email, p.Row.Line); !ok {
			p.fail("email", "%s is also on line %d", u.Email, l)
		}
	}
	var ex *Existing
	if o.MatchEmail {
		if email == "" {
			p.fail("email", "is required to match accounts by email")
			return
		}
		switch found := snap.ByEmail[email]; len(found) {
		case 0:
		case 1:
			ex = found[0]
		default:
			p.fail("email", "several accounts have the email %s: match on username instead", u.Email)
			return
		}
	} else {
		ex = snap.ByUsername[username]
	}
	if ex == nil {
		if o.Mode == UpdateOnly {
			p.Action = ActSkip
			p.Row.note("no such account (update existing only)")
			return
		}
		planCreate(p, snap, username, o)
	} else {
		p.Existing = ex
		if o.Mode == AddNew {
			if email != "" && !strings.EqualFold(ex.Email, email) && !o.MatchEmail {
				p.fail("username", "%s already exists with another email", username)
				return
			}
			p.Action = ActSkip
			p.Row.note("the account already exists")
			return
		}
		planUpdate(p, snap, username, o)
	}
	planEnrols(p, snap)
	planGroups(p, snap, seen, o)
	if p.Action == ActSkip && (len(p.Enrols) > 0 || len(p.Groups) > 0) {
		p.Action = ActEnrol
	}
}

func planCreate(p *Plan, snap *Snapshot, username string, o Options) {
	u := p.Row.User
	p.Action = ActCreate
	if u.Password != "" {
		if err := account.CheckPasswordPolicy(u.Password, username, u.Email); err != nil {
			// Moodle's files often carry weak passwords: the account is created without one
			// and its owner sets a password through the set-your-password link.
			p.Row.note("password: not used (%s); the account gets a set-your-password link", errs.As(err).Fields[0].Message)
			u.Password = ""
		}
	}
	p.New = account.NewUser{Username: username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Language: u.Language, Password: u.Password, Auth: u.Auth, IDNumber: u.IDNumber, CustomFields: u.Custom}
	if err := p.New.Validate(); err != nil {
		for _, f := range errs.As(err).Fields {
			if c, ok := userColumn[f.Field]; ok && p.Row.User.Set != nil && o.Format == FormatMoodle {
				f.Field = c
			}
			p.fail(f.Field, "%s", f.Message)
		}
	}
	if alt := takenLookalike(snap, p.New.Username); alt != "" {
		p.fail("username", "%s looks the same as the existing username %s", p.New.Username, alt)
	}
	if o.MatchEmail {
		if _, taken := snap.ByUsername[username]; taken {
			p.fail("username", "%s is taken by an account with another email", username)
		}
	}
	if e := strings.ToLower(u.Email); e != "" && !snap.SharedEmail && len(snap.ByEmail[e]) > 0 {
		p.fail("email", "%s is already used by another account", u.Email)
	}
	if u.Suspended {
		p.Status = account.StatusSuspended
	}
	if u.DeleteAt != nil && !u.DeleteAt.After(snap.Now) {
		p.fail("delete_at", "must be in the future")
	}
}

func planUpdate(p *Plan, snap *Snapshot, username string, o Options) {
	u, ex := p.Row.User, p.Existing
	p.Changes = map[string]string{}
	set := func(col, now, before string) {
		if u.Set[col] && now != before {
			if now == "" && (col == "firstname" || col == "lastname") {
				p.fail(col, "must not be empty")
				return
			}
			p.Changes[col] = now
		}
	}
	for _, n := range []struct{ col, now, before string }{{"firstname", u.FirstName, ex.FirstName}, {"lastname", u.LastName, ex.LastName}} {
		if _, err := account.CheckName(n.col, n.now); err != nil {
			p.fail(n.col, "%s", errs.As(err).Fields[0].Message)
			continue
		}
		set(n.col, n.now, n.before)
	}
	set("idnumber", u.IDNumber, ex.IDNumber)
	set("lang", u.Language, ex.Language)
	if u.Set["auth"] && u.Auth != "" {
		set("auth", u.Auth, ex.Auth)
	}
	if u.Set["email"] && !strings.EqualFold(u.Email, ex.Email) && u.Email != "" {
		if err := (&account.NewUser{Email: u.Email, FirstName: "x", LastName: "x"}).Validate(); err != nil {
			p.fail("email", "is not a valid email address")
		} else if e := strings.ToLower(u.Email); !snap.SharedEmail && len(snap.ByEmail[e]) > 0 {
			p.fail("email", "%s is already used by another account", u.Email)
		} else {
			p.Changes["email"] = u.Email
		}
	}
	for k, v := range u.Custom {
		if ex.Custom[k] != v {
			p.Changes["profile_field_"+k] = v
		}
	}
	if o.MatchEmail && u.Username != "" && username != ex.Username {
		if !o.AllowRenames {
			p.Row.note("username: the account keeps %s (renames are not allowed)", ex.Username)
		} else if norm, err := account.NormalizeUsername(username); err != nil {
			p.fail("username", "%s", errs.As(err).Fields[0].Message)
		} else if _, taken := snap.ByUsername[norm]; taken {
			p.fail("username", "%s is taken by another account", norm)
		} else if alt := takenLookalike(snap, norm); alt != "" {
			p.fail("username", "%s looks the same as the existing username %s", norm, alt)
		} else {
			p.Rename = norm
		}
	}
	if u.Set["suspended"] {
		want := account.StatusActive
		if u.Suspended {
			want = account.StatusSuspended
		}
		if want != ex.Status {
			p.Status = want
		}
	}
	if len(p.Changes) == 0 && p.Rename == "" && p.Status == "" {
		p.Changes = nil
		p.Action = ActSkip
		return
	}
	if u.Password != "" {
		p.Row.note("password: not changed for an existing account")
	}
	p.Action = ActUpdate
}

// ChangedColumns lists an update's changed columns in a stable order.
func (p *Plan) ChangedColumns() []string {
	cols := slices.Sorted(maps.Keys(p.Changes))
	if p.Rename != "" {
		cols = append(cols, "username")
	}
	if p.Status != "" && p.Action == ActUpdate {
		cols = append(cols, "suspended")
	}
	return cols
}

func planEnrols(p *Plan, snap *Snapshot) {
	for _, e := range p.Row.Enrols {
		id, ok := snap.Courses[strings.ToLower(e.Course)]
		if !ok {
			p.fail(e.Column, "course %q not found", e.Course)
			continue
		}
		if e.Role == "" {
			e.Role = "student"
		}
		if !snap.Roles[e.Role] {
			p.fail(strings.Replace(e.Column, "course", "role", 1), "unknown course role %q", e.Role)
			continue
		}
		if e.Period > 0 && e.EndsAt == nil {
			from := snap.Now
			if e.StartsAt != nil {
				from = *e.StartsAt
			}
			end := from.Add(e.Period)
			e.EndsAt = &end
		}
		p.Enrols = append(p.Enrols, PlannedEnrol{Enrol: e, CourseID: id})
	}
}

func planGroups(p *Plan, snap *Snapshot, seen *Seen, o Options) {
	for _, g := range p.Row.Groups {
		id, ok := snap.Groups[g.IDNumber]
		if !ok {
			creatable := o.CreateGroups && strings.HasPrefix(g.Column, "cohort")
			if !creatable && !seen.newGroup[g.IDNumber] {
				p.fail(g.Column, "group %q not found", g.IDNumber)
				continue
			}
			if !seen.newGroup[g.IDNumber] {
				seen.newGroup[g.IDNumber] = true
				seen.NewGroups = append(seen.NewGroups, g.IDNumber)
				p.Row.note("%s: group %s will be created", g.Column, g.IDNumber)
			}
		}
		p.Groups = append(p.Groups, g)
		p.GroupIDs = append(p.GroupIDs, id)
	}
}

func planEnrolLine(p *Plan, snap *Snapshot) {
	login := p.Row.Login
	if login != "" {
		if u := snap.ByUsername[login]; u != nil {
			p.Existing = u
		} else if found := snap.ByEmail[login]; len(found) == 1 {
			p.Existing = found[0]
		} else if len(found) > 1 {
			p.fail("user", "several accounts have the email %s: give the username", login)
		} else {
			p.fail("user", "no account %q", login)
		}
	}
	planEnrols(p, snap)
	if len(p.Errors) == 0 && len(p.Row.Enrols) == 1 {
		p.Action = ActEnrol
		if p.Row.Enrols[0].Remove {
			p.Action = ActUnenrol
		}
	}
}

// planGroup resolves a groups-format line's parent (by idnumber, by name, or by a path
// "A / B") and checks its name and idnumber are free.
func planGroup(p *Plan, snap *Snapshot, seen *Seen) {
	g := p.Row.Group
	var parent int64
	if g.Parent != "" {
		id, err := resolveParent(snap, g.Parent)
		if err != "" {
			p.fail("category", "%s", err)
			return
		}
		parent = id
	}
	if g.IDNumber != "" {
		if _, taken := snap.Groups[g.IDNumber]; taken {
			p.fail("idnumber", "a group with idnumber %q already exists", g.IDNumber)
		} else if l, ok := seen.first("g:"+g.IDNumber, p.Row.Line); !ok {
			p.fail("idnumber", "duplicate of line %d", l)
		}
	}
	for _, n := range snap.Tree {
		if n.ParentID == parent && strings.EqualFold(n.Name, g.Name) {
			p.fail("name", "a group named %q already exists there", g.Name)
			break
		}
	}
	if l, ok := seen.first(fmt.Sprintf("n:%d/%s", parent, strings.ToLower(g.Name)), p.Row.Line); !ok {
		p.fail("name", "duplicate of line %d", l)
	}
	p.GroupIDs = []int64{parent}
	p.Action = ActCreate
}

func resolveParent(snap *Snapshot, ref string) (int64, string) {
	if strings.Contains(ref, "/") {
		var cur int64
		for _, part := range strings.Split(ref, "/") {
			part = strings.TrimSpace(part)
			var next int64
			for _, n := range snap.Tree {
				if n.ParentID == cur && n.Name == part {
					next = n.ID
					break
				}
			}
			if next == 0 {
				return 0, fmt.Sprintf("parent group %q not found", ref)
			}
			cur = next
		}
		return cur, ""
	}
	if id, ok := snap.Groups[ref]; ok {
		return id, ""
	}
	var found []int64
	for _, n := range snap.Tree {
		if n.Name == ref {
			found = append(found, n.ID)
		}
	}
	switch len(found) {
	case 1:
		return found[0], ""
	case 0:
		return 0, fmt.Sprintf("parent group %q not found", ref)
	}
	return 0, fmt.Sprintf("several groups are named %q: give its idnumber or path", ref)
}

// takenLookalike returns an existing username that looks like username (account.Lookalikes),
// or "".
func takenLookalike(snap *Snapshot, username string) string {
	for _, alt := range account.Lookalikes(username) {
		if _, taken := snap.ByUsername[alt]; taken {
			return alt
		}
	}
	return ""
}
