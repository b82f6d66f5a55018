package web

import (
	"context"
	"net/http"
	"strconv"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
)

// The groups: /groups is the tree the person may see (collapsible, with member counts) and the
// form that creates a group; /groups/{id} is one group (group_page.go), its members
// (group_members.go) and its deletion (group_delete.go). Every permission is checked by
// group.Service; the pages only use authz to decide which forms to show.

type groupsData struct {
	Tree     []groupTreeItem
	Total    int
	Parents  []groupChoice // where the person may create a group
	TopLevel bool          // platform administrators may create top-level groups
	New      group.Group   // the new-group form's values
}

// groupTreeItem is a node of the tree as the template draws it; it carries the localizer
// because the template that draws a node calls itself for the children.
type groupTreeItem struct {
	L        Localizer
	G        group.Group
	Open     bool
	Children []groupTreeItem
}

// groupChoice is a group in a select: its path from the top of what the person sees.
type groupChoice struct {
	ID       int64
	Path     string
	Disabled bool
}

// openAll is the size under which the whole tree is shown unfolded; larger trees show their
// first level only.
const openAll = 100

func (w *Web) groups(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "groups.title")
	if r.URL.Query().Get("done") == "deleted" {
		p.Notice = p.L.T("groups.deleted")
	}
	d := &groupsData{New: group.Group{Visibility: group.Private}}
	d.New.ParentID, _ = strconv.ParseInt(r.URL.Query().Get("parent"), 10, 64)
	w.groupsRender(rw, r, p, d, http.StatusOK)
}

// groupsRender draws the tree page with the form values in d.
func (w *Web) groupsRender(rw http.ResponseWriter, r *http.Request, p *Page, d *groupsData, status int) {
	ctx := r.Context()
	tree, err := w.Groups.Tree(ctx)
	if err != nil {
		w.groupMessage(rw, r, p, err)
		return
	}
	total := countNodes(tree)
	d.Tree, d.Total = treeItems(p.L, tree, total <= openAll), total
	if d.Parents, d.TopLevel, err = w.groupChoices(ctx, tree, 0); err != nil {
		w.groupMessage(rw, r, p, err)
		return
	}
	p.Data = d
	w.render(rw, r, status, "groups", p)
}

// groupCreate makes a group from the form, then shows it.
func (w *Web) groupCreate(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	p := w.page(rw, r, "groups.title")
	g := group.Group{Name: formValue(r, "name"), IDNumber: formValue(r, "idnumber"),
		Description: formValue(r, "description"), Visibility: formValue(r, "visibility")}
	if v := formValue(r, "parent_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			p.Fields["parent_id"] = p.L.T("groups.bad_parent")
			w.groupsRender(rw, r, p, &groupsData{New: g}, http.StatusUnprocessableEntity)
			return
		}
		g.ParentID = id
	}
	created, err := w.Groups.Create(r.Context(), g)
	if err != nil {
		w.groupsRender(rw, r, p, &groupsData{New: g}, showError(p, err))
		return
	}
	http.Redirect(rw, r, groupURL(created.ID)+"?done=created", http.StatusSeeOther)
}

// managesGroups says whether the person manages some group, which puts "Groups" in the
// navigation: platform administrators, and group or user administrators of any group.
func (w *Web) managesGroups(ctx context.Context, u *account.User) bool {
	if u == nil {
		return false
	}
	if u.IsAdmin {
		return true
	}
	all, roots, err := authz.GroupScope(ctx, w.db, authz.ManageGroup)
	if err != nil {
		if !errs.Is(err, errs.Unauthorized) {
			w.log.Error("web: group scope", "err", err)
		}
		return false
	}
	return all || len(roots) > 0
}

// groupChoices lists the groups of tree under which the person may place a group (those they
// manage), each with its path; top reports whether they may also place one at the top. The
// sub-tree of exclude (a group being moved) is left out: the group itself is not listed, the
// groups below it are listed but disabled.
func (w *Web) groupChoices(ctx context.Context, tree []*group.Node, exclude int64) (choices []groupChoice, top bool, err error) {
	all, roots, err := authz.GroupScope(ctx, w.db, authz.ManageGroup)
	if err != nil {
		return nil, false, err
	}
	managed := make(map[int64]bool, len(roots))
	for _, id := range roots {
		managed[id] = true
	}
	var walk func(nodes []*group.Node, path string, inScope, below bool)
	walk = func(nodes []*group.Node, path string, inScope, below bool) {
		for _, n := range nodes {
			in := all || inScope || managed[n.ID]
			p := n.Name
			if path != "" {
				p = path + " › " + n.Name
			}
			if in && n.ID != exclude {
				choices = append(choices, groupChoice{ID: n.ID, Path: p, Disabled: below})
			}
			walk(n.Children, p, in, below || n.ID == exclude)
		}
	}
	walk(tree, "", false, false)
	return choices, all, nil
}

// treeItems turns the service's forest into what the template draws.
func treeItems(l Localizer, nodes []*group.Node, openAll bool) []groupTreeItem {
	out := make([]groupTreeItem, len(nodes))
	for i, n := range nodes {
		out[i] = groupTreeItem{L: l, G: n.Group, Open: openAll || n.Depth == 0, Children: treeItems(l, n.Children, openAll)}
	}
	return out
}

func countNodes(nodes []*group.Node) int {
	n := len(nodes)
	for _, c := range nodes {
		n += countNodes(c.Children)
	}
	return n
}

// groupID reads the {id} of the path; a bad one answers "not found".
func (w *Web) groupID(rw http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p := w.page(rw, r, "groups.title")
		w.groupMessage(rw, r, p, errs.Coded(errs.NotFound, "no_such_group"))
		return 0, false
	}
	return id, true
}

// groupMessage answers with a page that says only what went wrong: no such group, not yours.
func (w *Web) groupMessage(rw http.ResponseWriter, r *http.Request, p *Page, err error) {
	status := showError(p, err)
	for _, msg := range p.Fields {
		p.Error = msg
	}
	w.render(rw, r, status, "message", p)
}

func groupURL(id int64) string { return "/groups/" + strconv.FormatInt(id, 10) }
