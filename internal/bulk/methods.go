package bulk

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/store"
)

// FormatMethods is Moodle's "upload enrolment methods" file (tool_uploadenrolmentmethods):
// operation,method,shortname,metacohort,disabled,group,role — add, update (enable or disable)
// or delete group syncs (Moodle's cohort sync) and meta links in many courses at once.
const FormatMethods = "methods"

// Moodle's columns, in their order (a file without a header row has them in this order).
var methodColumns = []string{"operation", "method", "shortname", "metacohort", "disabled", "group", "role"}

// The operations of a methods file.
const (
	OpAdd    = "add"
	OpUpdate = "upd"
	OpDelete = "del"
)

// ActDelete is the action of a methods row that deletes a method.
const ActDelete = "delete"

// MethodFields is one line of a methods file.
type MethodFields struct {
	Op       string // OpAdd, OpUpdate, OpDelete
	Type     string // course.GroupSync (Moodle's cohort) or course.Meta
	Course   string // the course that gets the method, by shortname
	Source   string // meta: the linked course's shortname; cohort: the group's idnumber
	Disabled bool
	Group    string // course group its people are placed in ("" none)
	RoleName string // lower case, as written; "" student
}

type methods struct {
	t   *table
	col map[string]int
}

func newMethods(r io.Reader) (*methods, error) {
	t, _, err := newTable(r, 0)
	if err != nil {
		return nil, err
	}
	return &methods{t: t}, nil
}

func (p *methods) Next() (*Row, error) {
	for {
		rec, err := p.t.next()
		if err != nil {
			return nil, err
		}
		if first := rec.fields[0]; strings.HasPrefix(first, "#") || strings.HasPrefix(first, ";") {
			continue // Moodle's comment lines
		}
		if p.col == nil {
			p.col = map[string]int{}
			if strings.EqualFold(rec.fields[0], "operation") {
				var fe errs.Fields
				for i, h := range rec.fields {
					name := strings.ToLower(h)
					known := false
					for _, c := range methodColumns {
						known = known || c == name
					}
					if !known {
						fe = append(fe, errs.FieldError{Field: h, Line: rec.line, Message: "unknown column " + strconv.Quote(h)})
						continue
					}
					p.col[name] = i
				}
				for _, need := range methodColumns[:4] {
					if _, ok := p.col[need]; !ok {
						fe = append(fe, errs.FieldError{Field: need, Line: rec.line, Message: "the file needs a " + need + " column"})
					}
				}
				if err := fe.Err(); err != nil {
					return nil, err
				}
				continue
			}
			for i, c := range methodColumns {
				p.col[c] = i
			}
		}
		return p.row(rec), nil
	}
}

func (p *methods) get(rec *record, name string) string {
	i, ok := p.col[name]
	if !ok {
		return ""
	}
	return at(rec, i)
}

func (p *methods) row(rec *record) *Row {
	row := &Row{Line: rec.line}
	m := &MethodFields{Course: p.get(rec, "shortname"), Source: p.get(rec, "metacohort"), Group: p.get(rec, "group"),
		RoleName: strings.ToLower(p.get(rec, "role"))}
	row.Method = m
	switch op := strings.ToLower(p.get(rec, "operation")); op {
	case "add":
		m.Op = OpAdd
	case "del", "delete":
		m.Op = OpDelete
	case "upd", "update", "mod", "modify":
		m.Op = OpUpdate
	default:
		row.addErr("operation", "add_upd_del", errs.P{"value": p.get(rec, "operation")})
	}
	switch meth := strings.ToLower(p.get(rec, "method")); meth {
	case "cohort":
		m.Type = course.GroupSync
	case "meta":
		m.Type = course.Meta
	default:
		row.addErr("method", "cohort_or_meta", errs.P{"value": p.get(rec, "method")})
	}
	if m.Course == "" {
		row.addErr("shortname", "required")
	}
	if m.Source == "" {
		row.addErr("metacohort", "metacohort_required")
	}
	b, ok := flag(p.get(rec, "disabled"))
	if !ok {
		row.addErr("disabled", "zero_or_one")
	}
	m.Disabled = b
	return row
}

// ExistingMethod is a group sync or meta link already in the database.
type ExistingMethod struct {
	ID, CourseID, SourceID int64 // SourceID: the group, or the linked course
	Type, Role, GroupRole  string
	Subgroups, Enabled     bool
}

// loadMethods reads the group syncs and meta links into snap (methods format only).
func loadMethods(ctx context.Context, q store.Querier, snap *Snapshot) error {
	return scanAll(ctx, q, `SELECT id, course_id, type, COALESCE(group_id, linked_course_id, 0), role, group_role, subgroups, enabled
		FROM course_methods WHERE type IN ('group_sync', 'meta') ORDER BY id`, nil, func(r rowScanner) error {
		var m ExistingMethod
		if err := r.Scan(&m.ID, &m.CourseID, &m.Type, &m.SourceID, &m.Role, &m.GroupRole, &m.Subgroups, &m.Enabled); err != nil {
			return err
		}
		snap.Methods = append(snap.Methods, m)
		return nil
	})
}

// methodKey names a method as a file does: course, type, source, and for a group sync the role.
func methodKey(courseID int64, typ string, source int64, role string) string {
	if typ == course.Meta {
		role = ""
	}
	return fmt.Sprintf("%d/%s/%d/%s", courseID, typ, source, role)
}

// methodState is what earlier rows of the file made of a method: present (and enabled) or not.
type methodState struct {
	present, enabled bool
	line             int
}

// planMethod decides what a methods line does, as Moodle's tool does: add (an existing one
// is an error), upd (enable or disable: a missing one is an error), del (likewise).
func planMethod(p *Plan, snap *Snapshot, seen *Seen) {
	m := p.Row.Method
	if len(p.Errors) > 0 {
		return
	}
	courseID, ok := snap.Courses[strings.ToLower(m.Course)]
	if !ok {
		p.fail("shortname", "course_not_found", errs.P{"course": m.Course})
	}
	var source int64
	if m.Type == course.Meta {
		if source, ok = snap.Courses[strings.ToLower(m.Source)]; !ok {
			p.fail("metacohort", "course_not_found", errs.P{"course": m.Source})
		}
	} else if source, ok = snap.Groups[m.Source]; !ok {
		p.fail("metacohort", "group_not_found_idnumber", errs.P{"group": m.Source})
	}
	role := ""
	if m.Type == course.GroupSync {
		var ok bool
		if role, ok = courseRole(snap, Enrol{RoleName: m.RoleName}); !ok {
			p.fail("role", "unknown_course_role", errs.P{"role": m.RoleName})
		}
	} else if m.RoleName != "" && m.Op == OpAdd {
		p.Row.note("role", "import_meta_role_unused")
	}
	if len(p.Errors) > 0 {
		return
	}
	if m.Type == course.Meta && courseID == source {
		p.fail("metacohort", "course_follows_itself")
		return
	}
	key := methodKey(courseID, m.Type, source, role)
	if seen.methods == nil {
		seen.methods = map[string]*methodState{}
	}
	st := seen.methods[key]
	if st == nil {
		st = &methodState{}
		for _, e := range snap.Methods {
			if e.CourseID == courseID && e.Type == m.Type && e.SourceID == source && (m.Type == course.Meta || e.Role == role) {
				st.present, st.enabled = true, e.Enabled
				break
			}
		}
		seen.methods[key] = st
	}
	switch m.Op {
	case OpAdd:
		if st.present {
			if st.line > 0 {
				p.fail("metacohort", "added_on_line", errs.P{"line": st.line})
			} else {
				p.fail("metacohort", "course_has_method")
			}
			return
		}
		if m.Type == course.Meta && metaLoop(snap, seen, courseID, source) {
			p.fail("metacohort", "meta_loop")
			return
		}
		if m.Type == course.Meta {
			seen.metaAdds = append(seen.metaAdds, [2]int64{courseID, source})
		}
		st.present, st.enabled, st.line = true, !m.Disabled, p.Row.Line
		p.Action = ActCreate
		if m.Disabled {
			p.Row.note("", "import_method_created_disabled")
		}
	case OpUpdate:
		if !st.present {
			p.fail("metacohort", "no_method_to_update")
			return
		}
		if st.enabled == !m.Disabled {
			p.Action = ActSkip
			p.Row.note("", map[bool]string{true: "import_method_already_enabled", false: "import_method_already_disabled"}[st.enabled])
			return
		}
		st.enabled = !m.Disabled
		p.Action = ActUpdate
	case OpDelete:
		if !st.present {
			p.fail("metacohort", "no_method_to_delete")
			return
		}
		st.present, st.line = false, 0
		p.Action = ActDelete
	}
	p.GroupIDs = []int64{courseID, source}
}

// metaLoop reports whether linked already follows courseID, through the existing meta links
// and those the file adds.
func metaLoop(snap *Snapshot, seen *Seen, courseID, linked int64) bool {
	edges := map[int64][]int64{}
	for _, e := range snap.Methods {
		if e.Type == course.Meta {
			edges[e.CourseID] = append(edges[e.CourseID], e.SourceID)
		}
	}
	for _, e := range seen.metaAdds {
		edges[e[0]] = append(edges[e[0]], e[1])
	}
	done := map[int64]bool{}
	todo := []int64{linked}
	for len(todo) > 0 {
		c := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if c == courseID {
			return true
		}
		if done[c] {
			continue
		}
		done[c] = true
		todo = append(todo, edges[c]...)
	}
	return false
}

// applyMethods applies a methods file's rows through the course service, each in its own
// transaction, and records them for undo.
func (s *Service) applyMethods(ctx context.Context, plans []*Plan, batchID int64, rep *Report) error {
	var done []*applied
	for _, plan := range plans {
		a := &applied{plan: plan}
		done = append(done, a)
		if plan.Action != ActCreate && plan.Action != ActUpdate && plan.Action != ActDelete {
			continue
		}
		if err := s.applyMethod(ctx, plan, batchID); err != nil {
			c := errs.CodeOf(err)
			if c != errs.Conflict && c != errs.Invalid && c != errs.NotFound {
				return err
			}
			e := errs.As(err)
			field := ""
			if len(e.Fields) > 0 {
				field = e.Fields[0].Field
			}
			plan.failWith(errs.FieldError{Field: field, Code: e.Key, Params: e.Params, Message: e.Message})
			plan.Action = ActError
		}
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error { return s.recordRows(ctx, tx, batchID, done) })
	for _, a := range done {
		rep.add(a.plan, 0)
	}
	return err
}

func (s *Service) applyMethod(ctx context.Context, plan *Plan, batchID int64) error {
	m := plan.Row.Method
	courseID, source := plan.GroupIDs[0], plan.GroupIDs[1]
	snap := &Snapshot{Roles: map[string]bool{}}
	role := ""
	if m.Type == course.GroupSync {
		rm, err := course.RoleMap(ctx, s.db)
		if err != nil {
			return err
		}
		snap.RoleMap = rm
		if err := scanAll(ctx, s.db, `SELECT shortname FROM course_roles`, nil, func(r rowScanner) error {
			var n string
			if err := r.Scan(&n); err != nil {
				return err
			}
			snap.Roles[n] = true
			return nil
		}); err != nil {
			return err
		}
		role, _ = courseRole(snap, Enrol{RoleName: m.RoleName})
	}
	record := func(kind string, ref int64, roleCol, status string) error {
		return s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO import_changes (batch_id, kind, course_id, ref_id, user_id, role, status)
				VALUES ($1, $2, $3, $4, 0, $5, $6)`, batchID, kind, courseID, ref, roleCol, status)
			return errs.Wrap(err, "bulk: record method")
		})
	}
	switch m.Op {
	case OpAdd:
		in := course.Method{Type: m.Type, Role: role}
		if m.Type == course.Meta {
			in.LinkedCourseID = source
		} else {
			in.GroupID = source
		}
		if m.Group != "" {
			id, err := s.courseGroup(ctx, courseID, m.Group)
			if err != nil {
				return err
			}
			in.CourseGroupID = id
		}
		made, err := s.courses.AddMethod(ctx, courseID, in)
		if err != nil {
			return err
		}
		if m.Disabled {
			if err := s.courses.SetMethodEnabled(ctx, courseID, made.ID, false); err != nil {
				return err
			}
		}
		return record("method_add", made.ID, "", "")
	}
	var id int64
	var enabled bool
	q := `SELECT id, enabled FROM course_methods WHERE course_id = $1 AND type = $2 AND COALESCE(group_id, linked_course_id) = $3`
	args := []any{courseID, m.Type, source}
	if m.Type == course.GroupSync {
		q += ` AND role = $4`
		args = append(args, role)
	}
	err := s.db.QueryRowContext(ctx, q+` ORDER BY id LIMIT 1`, args...).Scan(&id, &enabled)
	if store.IsNoRows(err) {
		return errs.FieldCode("metacohort", "no_such_method")
	}
	if err != nil {
		return errs.Wrap(err, "bulk: find method")
	}
	if m.Op == OpUpdate {
		if err := s.courses.SetMethodEnabled(ctx, courseID, id, !m.Disabled); err != nil {
			return err
		}
		return record("method_enable", id, "", strconv.FormatBool(enabled))
	}
	if err := s.courses.DeleteMethod(ctx, courseID, id); err != nil {
		return err
	}
	// Undo adds it again: its type, source, role and state.
	return record("method_delete", source, role, m.Type+"/"+strconv.FormatBool(enabled))
}

// courseGroup finds or creates a course group by name.
func (s *Service) courseGroup(ctx context.Context, courseID int64, name string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM course_groups WHERE course_id = $1 AND name = $2`, courseID, name).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !store.IsNoRows(err) {
		return 0, errs.Wrap(err, "bulk: course group")
	}
	g, err := s.courses.CreateGroup(ctx, courseID, name)
	if err != nil {
		return 0, err
	}
	return g.ID, nil
}

// undoMethod reverts one method change of a batch in tx.
func undoMethod(ctx context.Context, tx *store.Tx, kind string, courseID, ref int64, role, status string) (int, error) {
	switch kind {
	case "method_add":
		return 1, course.RemoveMethodTx(ctx, tx, ref)
	case "method_enable":
		return 1, course.SetMethodEnabledTx(ctx, tx, ref, status == "true")
	case "method_delete":
		typ, enabled, _ := strings.Cut(status, "/")
		m := course.Method{CourseID: courseID, Type: typ, Role: role, Enabled: enabled == "true"}
		if typ == course.Meta {
			m.LinkedCourseID = ref
		} else {
			m.GroupID = ref
		}
		id, err := course.RestoreMethodTx(ctx, tx, m)
		if id == 0 {
			return 0, err
		}
		return 1, err
	}
	return 0, nil
}
