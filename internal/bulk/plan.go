package bulk

import (
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/i18n"
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
	// UpdatePasswords sets the password of an existing local account from its row (Moodle's
	// "existing user password: update"); without it such passwords are left unchanged.
	UpdatePasswords bool
	// UserField says how an enrolments file names people: UserUsername, UserEmail or
	// UserIDNumber; "" for any of them that matches exactly one account.
	UserField string
}

// How an enrolments file names people (Options.UserField), as Moodle's flat file "user field".
const (
	UserUsername = "username"
	UserEmail    = "email"
	UserIDNumber = "idnumber"
)

func (o *Options) normalize() error {
	if o.Format == "" {
		o.Format = FormatMoodle
	}
	if !slices.Contains(Formats, o.Format) {
		return errs.FieldCode("format", "import_unknown_format", errs.P{"value": o.Format, "formats": strings.Join(Formats, ", ")})
	}
	switch o.UserField {
	case "", UserUsername, UserEmail, UserIDNumber:
	default:
		return errs.FieldCode("user_field", "import_unknown_user_field", errs.P{"value": o.UserField})
	}
	switch o.Mode {
	case "":
		o.Mode = AddNew
	case AddNew, AddUpdate, UpdateOnly:
	default:
		return errs.FieldCode("mode", "import_unknown_mode", errs.P{"value": o.Mode})
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
	ByIDNumber  map[string][]*Existing // enrolments format
	UserField   string                 // Options.UserField
	// RoleMap is the site's role map (file role names → course roles); nil: Moodle's
	// standard names only (moodleCourseRoles, as the parsers map them).
	RoleMap map[string]string
	// Held lists the manual enrolments of the accounts a batch names, by course and user.
	Held map[[2]int64]*Held
	// Methods are the group syncs and meta links (methods format only).
	Methods []ExistingMethod
	// Invited holds the addresses a batch names (lower case) that have a pending invitation.
	Invited map[string]bool
}

// Held is what manual methods hold for one person in one course: the enrolment of the
// course's first manual method (the one imports add to) and the roles of all of them.
type Held struct {
	Primary      bool   // the first manual method enrols them
	Role         string // its role
	Starts, Ends int64  // its dates (Unix seconds, 0: none)
	Roles        []string
}

// NewSnapshot returns an empty snapshot at now.
func NewSnapshot(now time.Time) *Snapshot {
	return &Snapshot{Now: now, ByUsername: map[string]*Existing{}, ByEmail: map[string][]*Existing{},
		Courses: map[string]int64{}, Roles: map[string]bool{}, Groups: map[string]int64{}, ByIDNumber: map[string][]*Existing{},
		Held: map[[2]int64]*Held{}}
}

// AddUser makes an account known to the snapshot.
func (s *Snapshot) AddUser(u *Existing) {
	s.ByUsername[u.Username] = u
	if u.Email != "" {
		k := strings.ToLower(u.Email)
		s.ByEmail[k] = append(s.ByEmail[k], u)
	}
	if u.IDNumber != "" {
		s.ByIDNumber[u.IDNumber] = append(s.ByIDNumber[u.IDNumber], u)
	}
}

// Seen remembers what earlier rows of the same file used, to report duplicates.
type Seen struct {
	// keys holds, for each key of an earlier row ("u:username", "e:email", "g:idnumber",
	// "n:parent/name", "ce:course/person"), its line, by a 128-bit hash of the key (two
	// seeded 64-bit hashes, seeds random a Seen): a third of the memory of the keys
	// themselves for a file of 100,000 rows, and two keys share a hash with a probability
	// of about 2^-128 a pair.
	keys      map[seenKey]int
	seeds     [2]maphash.Seed
	NewGroups []string // idnumbers of cohort groups to create, in order
	newGroup  map[string]bool
	prepared  map[string]bool         // apply: cohort groups created for this file before its rows
	methods   map[string]*methodState // methods format: what earlier rows made of each method
	metaAdds  [][2]int64              // methods format: meta links added by earlier rows
}

// NewSeen returns an empty Seen.
func NewSeen() *Seen {
	return &Seen{keys: map[seenKey]int{}, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		newGroup: map[string]bool{}}
}

type seenKey [2]uint64

func (s *Seen) first(key string, line int) (int, bool) {
	k := seenKey{maphash.String(s.seeds[0], key), maphash.String(s.seeds[1], key)}
	if l, ok := s.keys[k]; ok {
		return l, false
	}
	s.keys[k] = line
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
	Password string            // update: the new password (Options.UpdatePasswords), never reported
	Enrols   []PlannedEnrol
	Groups   []GroupRef
	GroupIDs []int64 // of Groups; 0 for a group created by the import
	Errors   []errs.FieldError
	// Warnings say what the row does that the person may not expect (coded, as Errors),
	// without stopping it.
	Warnings []errs.FieldError
}

// PlannedEnrol is an enrolment with its course resolved and its dates worked out.
type PlannedEnrol struct {
	Enrol
	CourseID int64
}

// fail records a coded problem of the row: fail("email", "duplicate_email", errs.P{"line": 3}).
func (p *Plan) fail(field, key string, params ...errs.P) {
	var e errs.Fields
	e.AddAt(p.Row.Line, 0, field, key, params...)
	p.Errors = append(p.Errors, e...)
}

// failWith records a service's field error on the row, keeping its code.
func (p *Plan) failWith(f errs.FieldError) {
	f.Line = p.Row.Line
	p.Errors = append(p.Errors, f)
}

// failedOn reports whether the row already has an error on field.
func (p *Plan) failedOn(field string) bool {
	return slices.ContainsFunc(p.Errors, func(f errs.FieldError) bool { return f.Field == field })
}

// failText records a problem with an English message and no code (parents of groups).
func (p *Plan) failText(field, msg string) {
	p.Errors = append(p.Errors, errs.FieldError{Field: field, Line: p.Row.Line, Message: msg})
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
	case row.Method != nil:
		planMethod(p, snap, seen)
	default:
		planEnrolLine(p, snap, seen)
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
		p.fail("username", "username_or_email_required")
		return
	}
	// Duplicates within the file.
	if username != "" {
		if l, ok := seen.first("u:"+username, p.Row.Line); !ok {
			p.fail("username", "duplicate_of_line", errs.P{"line": l})
		}
	}
	if email != "" && !snap.SharedEmail {
		if l, ok := seen.first("e:"+email, p.Row.Line); !ok {
			p.fail("email", "email_also_on_line", errs.P{"email": u.Email, "line": l})
		}
	}
	var ex *Existing
	if o.MatchEmail {
		if email == "" {
			p.fail("email", "email_required_to_match")
			return
		}
		switch found := snap.ByEmail[email]; len(found) {
		case 0:
		case 1:
			ex = found[0]
		default:
			p.fail("email", "email_several_accounts", errs.P{"email": u.Email})
			return
		}
	} else {
		ex = snap.ByUsername[username]
	}
	if ex == nil {
		if o.Mode == UpdateOnly {
			p.Action = ActSkip
			p.Row.note("", "import_no_such_account")
			return
		}
		planCreate(p, snap, username, o)
	} else {
		p.Existing = ex
		if o.Mode == AddNew {
			if email != "" && !strings.EqualFold(ex.Email, email) && !o.MatchEmail {
				p.fail("username", "username_other_email", errs.P{"username": username})
				return
			}
			p.Action = ActSkip
			p.Row.note("", "import_account_exists")
			return
		}
		planUpdate(p, snap, username, o)
	}
	planEnrols(p, snap, seen)
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
			p.Row.note("password", "import_password_not_used", errs.P{"reason": errs.As(err).Fields[0].Message})
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
			if !p.failedOn(f.Field) { // the parser said it already (an unknown language)
				p.failWith(f)
			}
		}
	}
	if alt := takenLookalike(snap, p.New.Username); alt != "" {
		p.fail("username", "username_lookalike", errs.P{"username": p.New.Username, "existing": alt})
	}
	if o.MatchEmail {
		if _, taken := snap.ByUsername[username]; taken {
			p.fail("username", "username_taken_other_email", errs.P{"username": username})
		}
	}
	if e := strings.ToLower(u.Email); e != "" && !snap.SharedEmail && len(snap.ByEmail[e]) > 0 {
		p.fail("email", "email_used_by", errs.P{"email": u.Email})
	}
	if snap.Invited[strings.ToLower(u.Email)] {
		// The account overtakes the invitation: its groups and course are not given, and the
		// person can no longer accept it. Said, never silent.
		var w errs.Fields
		w.AddAt(p.Row.Line, 0, "email", "invitation_overtaken", errs.P{"email": u.Email})
		p.Warnings = append(p.Warnings, w...)
	}
	if u.Suspended {
		p.Status = account.StatusSuspended
	}
	if u.DeleteAt != nil && !u.DeleteAt.After(snap.Now) {
		p.fail("delete_at", "must_be_future")
	}
}

func planUpdate(p *Plan, snap *Snapshot, username string, o Options) {
	u, ex := p.Row.User, p.Existing
	p.Changes = map[string]string{}
	set := func(col, now, before string) {
		if u.Set[col] && now != before {
			if now == "" && (col == "firstname" || col == "lastname") {
				p.fail(col, "required")
				return
			}
			p.Changes[col] = now
		}
	}
	for _, n := range []struct{ col, now, before string }{{"firstname", u.FirstName, ex.FirstName}, {"lastname", u.LastName, ex.LastName}} {
		if _, err := account.CheckName(n.col, n.now); err != nil {
			p.failWith(errs.As(err).Fields[0])
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
			p.fail("email", "invalid_email")
		} else if e := strings.ToLower(u.Email); !snap.SharedEmail && len(snap.ByEmail[e]) > 0 {
			p.fail("email", "email_used_by", errs.P{"email": u.Email})
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
			p.Row.note("username", "import_username_kept", errs.P{"username": ex.Username})
		} else if norm, err := account.NormalizeUsername(username); err != nil {
			p.failWith(errs.As(err).Fields[0])
		} else if _, taken := snap.ByUsername[norm]; taken {
			p.fail("username", "username_taken_by", errs.P{"username": norm})
		} else if alt := takenLookalike(snap, norm); alt != "" {
			p.fail("username", "username_lookalike", errs.P{"username": norm, "existing": alt})
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
	if u.Password != "" {
		planPassword(p, o)
	}
	if len(p.Changes) == 0 && p.Rename == "" && p.Status == "" && p.Password == "" {
		p.Changes = nil
		p.Action = ActSkip
		if u.Password == "" {
			p.Row.note("", "import_nothing_to_change")
		}
		return
	}
	p.Action = ActUpdate
}

// planPassword decides what becomes of the password of a row naming an existing account.
func planPassword(p *Plan, o Options) {
	u, ex := p.Row.User, p.Existing
	if !o.UpdatePasswords {
		// A file must not reset the password of someone who may be using it unless the
		// administrator asks for it (Moodle's "existing user password: update").
		p.Row.note("password", "import_password_not_changed")
		return
	}
	auth := ex.Auth
	if a, ok := p.Changes["auth"]; ok {
		auth = a
	}
	if auth != account.AuthLocal {
		p.Row.note("password", "import_password_sso", errs.P{"auth": i18n.Label("label.auth." + auth)})
		return
	}
	email := ex.Email
	if e, ok := p.Changes["email"]; ok {
		email = e
	}
	username := ex.Username
	if p.Rename != "" {
		username = p.Rename
	}
	if err := account.CheckPasswordPolicy(u.Password, username, email); err != nil {
		for _, f := range errs.As(err).Fields {
			f.Field = "password"
			p.failWith(f)
		}
		return
	}
	p.Password = u.Password
	p.Row.note("password", "import_password_changed")
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
	if p.Password != "" {
		cols = append(cols, "password")
	}
	return cols
}

func planEnrols(p *Plan, snap *Snapshot, seen *Seen) {
	for _, e := range p.Row.Enrols {
		id, ok := snap.Courses[strings.ToLower(e.Course)]
		if !ok {
			p.fail(e.Column, "course_not_found", errs.P{"course": e.Course})
			continue
		}
		role, ok := courseRole(snap, e)
		if !ok {
			name := e.RoleName
			if name == "" {
				name = e.Role
			}
			p.fail(strings.Replace(e.Column, "course", "role", 1), "unknown_course_role", errs.P{"role": name})
			continue
		}
		e.Role = role
		if e.Period > 0 && e.EndsAt == nil {
			from := snap.Now
			if e.StartsAt != nil {
				from = *e.StartsAt
			}
			end := from.Add(e.Period)
			e.EndsAt = &end
		}
		pe := PlannedEnrol{Enrol: e, CourseID: id}
		if !keepEnrol(p, &pe, snap, seen) {
			continue
		}
		p.Enrols = append(p.Enrols, pe)
	}
}

// courseRole maps a row's role through the site's role map: a name the map lacks must be a
// course role's shortname. Without a role, student.
func courseRole(snap *Snapshot, e Enrol) (string, bool) {
	name := e.RoleName
	if name == "" {
		name = e.Role
	}
	if name == "" {
		return "student", snap.Roles["student"]
	}
	if snap.RoleMap == nil { // no site map: the parsers' mapping of Moodle's names
		return e.Role, snap.Roles[e.Role]
	}
	if r, ok := snap.RoleMap[name]; ok {
		return r, snap.Roles[r]
	}
	return name, snap.Roles[name]
}

// keepEnrol decides, from what manual methods already hold, whether an enrolment of the row
// is applied, and says on the row why not: an add the file already made, an enrolment that
// exists (with other dates: they are updated), a del of a role the person does not have.
// Apply does exactly this, so that the preview says what apply does, row by row.
func keepEnrol(p *Plan, pe *PlannedEnrol, snap *Snapshot, seen *Seen) bool {
	var who string
	switch {
	case p.Existing != nil:
		who = fmt.Sprintf("id:%d", p.Existing.ID)
	case p.Action == ActCreate:
		who = "u:" + p.New.Username
	default:
		return true
	}
	kind := "ce"
	if pe.Remove {
		kind = "cd"
	}
	if l, ok := seen.first(fmt.Sprintf("%s:%d/%s", kind, pe.CourseID, who), p.Row.Line); !ok {
		p.Row.note("", "import_enrol_duplicate", errs.P{"course": pe.Course, "line": l})
		return false
	}
	if p.Existing == nil {
		return true // a new account has no enrolment yet
	}
	held := snap.Held[[2]int64{pe.CourseID, p.Existing.ID}]
	if pe.Remove {
		switch {
		case held != nil && slices.Contains(held.Roles, pe.Role):
			return true
		case held != nil && len(held.Roles) > 0:
			p.Row.note("", "import_enrolled_otherwise", errs.P{"course": pe.Course, "roles": strings.Join(held.Roles, ", "), "role": pe.Role})
		default:
			p.Row.note("", "import_not_manual", errs.P{"course": pe.Course})
		}
		return false
	}
	if held == nil || !held.Primary {
		return true
	}
	if held.Role != pe.Role {
		p.Row.note("", "import_role_stays", errs.P{"course": pe.Course, "role": held.Role})
		return false
	}
	if (pe.StartsAt != nil || pe.EndsAt != nil) && (unixOr0(pe.StartsAt) != held.Starts || unixOr0(pe.EndsAt) != held.Ends) {
		pe.Redate = true
		p.Row.note("", "import_enrol_dates_change", errs.P{"course": pe.Course})
		return true
	}
	p.Row.note("", "import_already_enrolled", errs.P{"course": pe.Course})
	return false
}

func unixOr0(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.Unix()
}

func planGroups(p *Plan, snap *Snapshot, seen *Seen, o Options) {
	for _, g := range p.Row.Groups {
		id, ok := snap.Groups[g.IDNumber]
		if !ok && g.Column == "groups" {
			// Pasted rows name groups as people know them: by idnumber, else by name, else
			// by path ("Ventes / Équipe A") when several groups share the name.
			var key string
			if id, key = groupByName(snap, g.IDNumber); key != "" {
				p.fail(g.Column, key, errs.P{"group": g.IDNumber})
				continue
			}
			ok = true
		}
		if ok && seen.prepared[g.IDNumber] && !seen.newGroup[g.IDNumber] {
			// Created for this file just before its rows: announced as the preview did.
			seen.newGroup[g.IDNumber] = true
			p.Row.note(g.Column, "import_group_created", errs.P{"group": g.IDNumber})
		}
		if !ok {
			creatable := o.CreateGroups && strings.HasPrefix(g.Column, "cohort")
			if !creatable && !seen.newGroup[g.IDNumber] {
				p.fail(g.Column, "group_not_found", errs.P{"group": g.IDNumber})
				continue
			}
			if !seen.newGroup[g.IDNumber] {
				seen.newGroup[g.IDNumber] = true
				seen.NewGroups = append(seen.NewGroups, g.IDNumber)
				p.Row.note(g.Column, "import_group_created", errs.P{"group": g.IDNumber})
			}
		}
		p.Groups = append(p.Groups, g)
		p.GroupIDs = append(p.GroupIDs, id)
	}
}

// groupByName finds the one group named ref ("Équipe A"), or at the end of the path ref
// ("Ventes / Équipe A": the group and its nearest ancestors, case-insensitively). It returns
// the group, or the key of why not: group_not_found, group_name_ambiguous.
func groupByName(snap *Snapshot, ref string) (int64, string) {
	var parts []string
	for _, part := range strings.Split(ref, "/") {
		if part = strings.TrimSpace(part); part != "" {
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 {
		return 0, "group_not_found"
	}
	byID := make(map[int64]*GroupNode, len(snap.Tree))
	for i := range snap.Tree {
		byID[snap.Tree[i].ID] = &snap.Tree[i]
	}
	var found []int64
	for i := range snap.Tree {
		n := &snap.Tree[i]
		match := true
		for j := len(parts) - 1; j >= 0; j-- {
			if n == nil || !strings.EqualFold(n.Name, parts[j]) {
				match = false
				break
			}
			n = byID[n.ParentID]
		}
		if match {
			found = append(found, snap.Tree[i].ID)
		}
	}
	switch len(found) {
	case 1:
		return found[0], ""
	case 0:
		return 0, "group_not_found"
	}
	return 0, "group_name_ambiguous"
}

func planEnrolLine(p *Plan, snap *Snapshot, seen *Seen) {
	if login := p.Row.Login; login != "" {
		p.Existing = findLogin(p, snap, login)
	}
	planEnrols(p, snap, seen)
	if len(p.Errors) == 0 && len(p.Row.Enrols) == 1 {
		switch {
		case len(p.Enrols) == 0:
			p.Action = ActSkip
		case p.Enrols[0].Remove:
			p.Action = ActUnenrol
		default:
			p.Action = ActEnrol
		}
	}
}

// findLogin finds the account an enrolments line names, by snap.UserField.
func findLogin(p *Plan, snap *Snapshot, login string) *Existing {
	lower := strings.ToLower(login)
	var found []*Existing
	add := func(list ...*Existing) {
		for _, u := range list {
			if u != nil && !slices.Contains(found, u) {
				found = append(found, u)
			}
		}
	}
	what := "username, email or idnumber"
	switch snap.UserField {
	case UserUsername:
		add(snap.ByUsername[lower])
		what = "username"
	case UserEmail:
		add(snap.ByEmail[lower]...)
		what = "email"
	case UserIDNumber:
		add(snap.ByIDNumber[login]...)
		what = "idnumber"
	default:
		add(snap.ByUsername[lower])
		add(snap.ByEmail[lower]...)
		add(snap.ByIDNumber[login]...)
	}
	switch len(found) {
	case 1:
		return found[0]
	case 0:
		p.fail("user", "no_account_with", errs.P{"field": i18n.Label("label.user_field." + what), "login": login})
	default:
		p.fail("user", "several_accounts_match", errs.P{"count": len(found), "login": login, "field": i18n.Label("label.user_field." + what)})
	}
	return nil
}

// planGroup resolves a groups-format line's parent (by idnumber, by name, or by a path
// "A / B") and checks its name and idnumber are free.
func planGroup(p *Plan, snap *Snapshot, seen *Seen) {
	g := p.Row.Group
	var parent int64
	if g.Parent != "" {
		id, err := resolveParent(snap, g.Parent)
		if err != "" {
			p.failText("category", err)
			return
		}
		parent = id
	}
	if g.IDNumber != "" {
		if _, taken := snap.Groups[g.IDNumber]; taken {
			p.fail("idnumber", "group_idnumber_taken", errs.P{"idnumber": g.IDNumber})
		} else if l, ok := seen.first("g:"+g.IDNumber, p.Row.Line); !ok {
			p.fail("idnumber", "duplicate_of_line", errs.P{"line": l})
		}
	}
	for _, n := range snap.Tree {
		if n.ParentID == parent && strings.EqualFold(n.Name, g.Name) {
			p.fail("name", "group_name_taken", errs.P{"name": g.Name})
			break
		}
	}
	if l, ok := seen.first(fmt.Sprintf("n:%d/%s", parent, strings.ToLower(g.Name)), p.Row.Line); !ok {
		p.fail("name", "duplicate_of_line", errs.P{"line": l})
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
