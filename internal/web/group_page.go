package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"roster/internal/authz"
	"roster/internal/group"
)

// One group's page: its settings (name, idnumber, description, visibility), the move to
// another parent, its sub-groups, and its members with search, role filter, pages, add,
// remove and CSV (group_members.go).

type groupPageData struct {
	G        *group.Group
	Form     group.Group   // the settings form's values: the group, or what was typed
	typed    bool          // Form holds what was typed
	Crumbs   []group.Group // the groups above it that the person may see, top first
	Children []group.Group

	CanManage  bool     // settings, sub-groups, members
	CanReshape bool     // visibility, move, delete: decided by the rights on the parent
	Grantable  []string // the roles the person may give

	MoveChoices []groupChoice
	MoveTop     bool // the group may go to the top level
	MoveTo      int64

	// The members list.
	Q, Role  string
	Roles    []string
	Members  []group.Member
	NextURL  string
	FirstURL string
	CSVURL   string

	// The add form.
	Login   string
	AddRole string
}

// CanRemove says whether the page offers to remove membership m: not one made by the
// propagation rule (it goes with its origin), and a user_admin role only for those who may
// grant it.
func (d *groupPageData) CanRemove(m group.Member) bool {
	if !d.CanManage || m.Source.Kind == group.SourcePropagated {
		return false
	}
	return m.Role != group.UserAdmin || slices.Contains(d.Grantable, group.UserAdmin)
}

func (w *Web) groupPage(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.groupID(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "groups.title")
	if key, ok := map[string]string{"created": "groups.created", "saved": "groups.saved", "moved": "groups.moved",
		"added": "groups.member_added", "removed": "groups.member_removed", "deleted": "groups.deleted"}[r.URL.Query().Get("done")]; ok {
		p.Notice = p.L.T(key)
	}
	w.groupRender(rw, r, p, id, &groupPageData{}, http.StatusOK)
}

// groupRender draws a group's page under what p and d already carry: a notice, form errors
// and the values typed in a form that failed.
func (w *Web) groupRender(rw http.ResponseWriter, r *http.Request, p *Page, id int64, d *groupPageData, status int) {
	ctx := r.Context()
	g, err := w.Groups.Get(ctx, id)
	if err != nil {
		w.groupMessage(rw, r, p, err)
		return
	}
	p.Title = g.Name
	d.G = g
	if !d.typed {
		d.Form = *g
	} else if d.Form.Visibility == "" {
		d.Form.Visibility = g.Visibility
	}
	// The chain above, as far as the person may see it.
	for parent := g.ParentID; parent != 0; {
		pg, err := w.Groups.Get(ctx, parent)
		if err != nil {
			break
		}
		d.Crumbs = append([]group.Group{*pg}, d.Crumbs...)
		parent = pg.ParentID
	}
	if d.Children, err = w.Groups.Children(ctx, id); err != nil {
		w.groupMessage(rw, r, p, err)
		return
	}
	// Which forms to show; the service checks again whatever is sent.
	d.CanManage = authz.CanManageGroup(ctx, w.db, id) == nil
	d.CanReshape = d.CanManage && authz.CanManageUnder(ctx, w.db, g.ParentID) == nil
	for _, role := range group.Roles {
		if authz.CanGrantRole(ctx, w.db, id, role) == nil {
			d.Grantable = append(d.Grantable, role)
		}
	}
	if d.AddRole == "" {
		d.AddRole = group.Learner
	}
	if d.CanReshape {
		tree, err := w.Groups.Tree(ctx)
		if err == nil {
			d.MoveChoices, d.MoveTop, err = w.groupChoices(ctx, tree, id)
		}
		if err != nil {
			w.groupMessage(rw, r, p, err)
			return
		}
		if _, typed := p.Fields["parent_id"]; !typed {
			d.MoveTo = g.ParentID
		}
	}

	// The members, filtered and paged by the query.
	q := r.URL.Query()
	d.Q, d.Role, d.Roles = q.Get("q"), q.Get("role"), group.Roles
	members, next, err := w.Groups.Members(ctx, id, group.MemberFilter{Q: d.Q, Role: d.Role, Cursor: q.Get("cursor")})
	if err != nil {
		status = showError(p, err)
		if msg, bad := p.Fields["cursor"]; bad {
			p.Error = msg
		}
	}
	d.Members = members
	filter := url.Values{}
	if d.Q != "" {
		filter.Set("q", d.Q)
	}
	if d.Role != "" {
		filter.Set("role", d.Role)
	}
	d.CSVURL = groupURL(id) + "/members.csv"
	if len(filter) > 0 {
		d.CSVURL += "?" + filter.Encode()
	}
	if q.Get("cursor") != "" {
		d.FirstURL = groupURL(id) + "?" + filter.Encode() + "#members"
	}
	if next != "" {
		v := url.Values{"cursor": {next}}
		for k, vs := range filter {
			v[k] = vs
		}
		d.NextURL = groupURL(id) + "?" + v.Encode() + "#members"
	}
	p.Data = d
	w.render(rw, r, status, "group_page", p)
}

// groupSave changes the group's name, idnumber, description and visibility. The visibility is
// sent only by those who may change it (the select is shown to them alone).
func (w *Web) groupSave(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.groupID(rw, r)
	if !ok {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	str := func(name string) *string { v := formValue(r, name); return &v }
	u := group.Update{Name: str("name"), IDNumber: str("idnumber"), Description: str("description")}
	if _, sent := r.PostForm["visibility"]; sent {
		u.Visibility = str("visibility")
	}
	if _, err := w.Groups.Update(r.Context(), id, u); err != nil {
		p := w.page(rw, r, "groups.title")
		status := showError(p, err)
		d := &groupPageData{typed: true, Form: group.Group{Name: *u.Name, IDNumber: *u.IDNumber, Description: *u.Description}}
		if u.Visibility != nil {
			d.Form.Visibility = *u.Visibility
		}
		w.groupRender(rw, r, p, id, d, status)
		return
	}
	http.Redirect(rw, r, groupURL(id)+"?done=saved", http.StatusSeeOther)
}

// groupMove puts the group under another parent (parent_id; 0 or empty: the top level).
func (w *Web) groupMove(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.groupID(rw, r)
	if !ok {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	p := w.page(rw, r, "groups.title")
	var parent int64
	if v := formValue(r, "parent_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			p.Fields["parent_id"] = p.L.T("groups.bad_parent")
			w.groupRender(rw, r, p, id, &groupPageData{}, http.StatusUnprocessableEntity)
			return
		}
		parent = n
	}
	if _, err := w.Groups.Move(r.Context(), id, parent); err != nil {
		status := showError(p, err)
		// A name taken under the new parent is about the move: say it beside the select.
		if msg, ok := p.Fields["name"]; ok {
			delete(p.Fields, "name")
			p.Fields["parent_id"] = msg
		}
		w.groupRender(rw, r, p, id, &groupPageData{MoveTo: parent}, status)
		return
	}
	http.Redirect(rw, r, groupURL(id)+"?done=moved", http.StatusSeeOther)
}
