package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster/internal/errs"
	"roster/internal/group"
)

// The groups: POST /api/v1/groups; GET|PATCH|DELETE /api/v1/groups/{id};
// GET /api/v1/groups/{id}/delete-preview; GET /api/v1/groups/{id}/members (and .csv);
// PUT|DELETE /api/v1/groups/{id}/members/{user_id};
// GET /api/v1/groups/{id}/members/{user_id}/preview?role=learner.
// Every rule and permission check is in group.Service.

// Group is a group as the API shows it. parent_id is null for a top-level group.
type Group struct {
	ID          string    `json:"id"`
	ParentID    *string   `json:"parent_id"`
	Name        string    `json:"name"`
	IDNumber    string    `json:"idnumber"`
	Description string    `json:"description"`
	Visibility  string    `json:"visibility"`
	MemberCount int       `json:"member_count"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// GroupOf converts a group for the API.
func GroupOf(g *group.Group) Group {
	out := Group{ID: ID(g.ID), Name: g.Name, IDNumber: g.IDNumber, Description: g.Description,
		Visibility: g.Visibility, MemberCount: g.MemberCount, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
	if g.ParentID != 0 {
		p := ID(g.ParentID)
		out.ParentID = &p
	}
	return out
}

// groupBody is the body of POST and PATCH. parent_id may be a string or a number; null or ""
// is the top level. In a PATCH, absent fields stay as they are.
type groupBody struct {
	Name        *string         `json:"name"`
	IDNumber    *string         `json:"idnumber"`
	Description *string         `json:"description"`
	Visibility  *string         `json:"visibility"`
	ParentID    json.RawMessage `json:"parent_id"`
}

// parentID reads parent_id: present reports whether it was given at all.
func (b groupBody) parentID() (id int64, present bool, err error) {
	raw := strings.TrimSpace(string(b.ParentID))
	if raw == "" {
		return 0, false, nil
	}
	if raw == "null" || raw == `""` {
		return 0, true, nil
	}
	raw = strings.Trim(raw, `"`)
	id, err = strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, true, errs.FieldCode("parent_id", "api_bad_group_id_raw", errs.P{"value": string(b.ParentID)})
	}
	return id, true, nil
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) {
	var b groupBody
	if err := decode(w, r, &b); err != nil {
		a.problem(w, r, err)
		return
	}
	parent, _, err := b.parentID()
	if err != nil {
		a.problem(w, r, err)
		return
	}
	g := group.Group{ParentID: parent, Name: deref(b.Name), IDNumber: deref(b.IDNumber),
		Description: deref(b.Description), Visibility: deref(b.Visibility)}
	created, err := a.Groups.Create(r.Context(), g)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/groups/"+ID(created.ID))
	writeJSON(w, http.StatusCreated, GroupOf(created))
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	g, err := a.Groups.Get(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, GroupOf(g))
}

// patchGroup changes the fields given; a parent_id moves the group (in its own transaction,
// before the other changes).
func (a *API) patchGroup(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var b groupBody
	if err := decode(w, r, &b); err != nil {
		a.problem(w, r, err)
		return
	}
	parent, move, err := b.parentID()
	if err != nil {
		a.problem(w, r, err)
		return
	}
	s := a.Groups
	if move {
		if _, err := s.Move(r.Context(), id, parent); err != nil {
			a.problem(w, r, err)
			return
		}
	}
	u := group.Update{Name: b.Name, IDNumber: b.IDNumber, Description: b.Description, Visibility: b.Visibility}
	if u != (group.Update{}) {
		if _, err := s.Update(r.Context(), id, u); err != nil {
			a.problem(w, r, err)
			return
		}
	}
	g, err := s.Get(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, GroupOf(g))
}

// DeletePreview is what deleting a group takes with it.
type DeletePreview struct {
	SubGroups   int    `json:"sub_groups"`
	Members     int    `json:"members"`
	Memberships int    `json:"memberships"`
	Propagated  int    `json:"propagated"`
	NeedConfirm bool   `json:"needs_confirm"`
	Message     string `json:"message"`
}

func (a *API) groupDeletePreview(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	p, err := a.Groups.DeletePreview(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, DeletePreview{SubGroups: p.SubGroups, Members: p.Members, Memberships: p.Memberships,
		Propagated: p.Propagated, NeedConfirm: !p.Empty(), Message: p.String()})
}

// deleteGroup deletes a group; one with sub-groups or members needs ?confirm=true, and without
// it the answer is 409 saying what would go.
func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	confirm, err := boolParam(r, "confirm")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if err := a.Groups.Delete(r.Context(), id, confirm); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// GroupMember is one membership: a person, a role, and where it comes from (source is
// "manual", "propagated:<group id>", "import:<batch>", "scim" or "sync").
type GroupMember struct {
	UserID          string    `json:"user_id"`
	Username        string    `json:"username"`
	Email           string    `json:"email"`
	FirstName       string    `json:"first_name"`
	LastName        string    `json:"last_name"`
	Role            string    `json:"role"`
	Source          string    `json:"source"`
	SourceGroupName string    `json:"source_group_name,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
}

func memberFilter(r *http.Request) (group.MemberFilter, error) {
	q := r.URL.Query()
	n, err := limit(r)
	return group.MemberFilter{Q: q.Get("q"), Role: q.Get("role"), Limit: n, Cursor: q.Get("cursor")}, err
}

func (a *API) groupMembers(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	f, err := memberFilter(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	items, next, err := a.Groups.Members(r.Context(), id, f)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[GroupMember]{Items: make([]GroupMember, 0, len(items)), NextCursor: next}
	for _, m := range items {
		out.Items = append(out.Items, GroupMember{UserID: ID(m.UserID), Username: m.Username, Email: m.Email,
			FirstName: m.FirstName, LastName: m.LastName, Role: m.Role, Source: m.Source.String(),
			SourceGroupName: m.SourceName, CreatedAt: m.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// groupMembersCSV streams every membership matching ?q=&role= as CSV. Errors found before the
// first byte (permission, unknown group) are problem details.
func (a *API) groupMembersCSV(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	f, err := memberFilter(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	s := a.Groups
	if _, err := s.Get(r.Context(), id); err != nil {
		a.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="group-`+ID(id)+`-members.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := s.MembersCSV(r.Context(), id, f, w); err != nil {
		a.log.Error("api: members csv", "group", id, "err", err)
	}
}

// memberBody is the body of PUT /api/v1/groups/{id}/members/{user_id}.
type memberBody struct {
	Role   string `json:"role"`
	Source string `json:"source"` // optional: manual (default), import:N, scim, sync
}

// MemberAdded answers a PUT: the membership and the other groups it made the person a
// learner of.
type MemberAdded struct {
	GroupID       string     `json:"group_id"`
	UserID        string     `json:"user_id"`
	Role          string     `json:"role"`
	Source        string     `json:"source"`
	AlsoLearnerOf []GroupRef `json:"also_learner_of"`
}

// GroupRef names a group.
type GroupRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (a *API) putGroupMember(w http.ResponseWriter, r *http.Request) {
	id, userID, err := groupAndUser(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var b memberBody
	if err := decode(w, r, &b); err != nil {
		a.problem(w, r, err)
		return
	}
	if b.Role == "" {
		a.problem(w, r, errs.FieldCode("role", "api_group_role_required"))
		return
	}
	s := a.Groups
	also, err := s.PreviewAdd(r.Context(), id, userID, b.Role)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if err := s.AddMember(r.Context(), id, userID, b.Role, b.Source); err != nil {
		a.problem(w, r, err)
		return
	}
	src, _ := group.ParseSource(b.Source)
	writeJSON(w, http.StatusOK, MemberAdded{GroupID: ID(id), UserID: ID(userID), Role: b.Role, Source: src.String(),
		AlsoLearnerOf: groupRefs(also)})
}

// deleteGroupMember removes ?role= (every role when absent) from ?source= (every source but
// propagation when absent).
func (a *API) deleteGroupMember(w http.ResponseWriter, r *http.Request) {
	id, userID, err := groupAndUser(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	q := r.URL.Query()
	if err := a.Groups.RemoveMember(r.Context(), id, userID, q.Get("role"), q.Get("source")); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// MemberPreview says what adding a person would cause, before doing it.
type MemberPreview struct {
	AlsoLearnerOf []GroupRef `json:"also_learner_of"`
	Message       string     `json:"message"`
}

func (a *API) previewGroupMember(w http.ResponseWriter, r *http.Request) {
	id, userID, err := groupAndUser(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	role := r.URL.Query().Get("role")
	if role == "" {
		role = group.Learner
	}
	also, err := a.Groups.PreviewAdd(r.Context(), id, userID, role)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := MemberPreview{AlsoLearnerOf: groupRefs(also)}
	if len(also) > 0 {
		names := make([]string, len(also))
		for i, g := range also {
			names[i] = g.Name
		}
		out.Message = "will also make this person a learner of " + joinAnd(names)
	}
	writeJSON(w, http.StatusOK, out)
}

func groupAndUser(r *http.Request) (groupID, userID int64, err error) {
	if groupID, err = parseID(r, "id"); err != nil {
		return 0, 0, err
	}
	if userID, err = parseID(r, "user_id"); err != nil {
		return 0, 0, err
	}
	return groupID, userID, nil
}

func groupRefs(gs []group.Group) []GroupRef {
	out := make([]GroupRef, 0, len(gs))
	for _, g := range gs {
		out = append(out, GroupRef{ID: ID(g.ID), Name: g.Name})
	}
	return out
}

// joinAnd joins names as "A", "A and B", "A, B and C".
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errs.FieldCode(name, "api_not_boolean", errs.P{"value": v})
	}
	return b, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
