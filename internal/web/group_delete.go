package web

import (
	"net/http"

	"roster/internal/authz"
	"roster/internal/group"
)

// Deleting a group: a confirmation page that says what will go with it (its sub-groups, their
// memberships, and the memberships they caused above), then the deletion.

type groupDeleteData struct {
	G       *group.Group
	Preview *group.DeletePreview
}

func (w *Web) groupDeleteForm(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	id, ok := w.groupID(rw, r)
	if !ok {
		return
	}
	p := w.page(rw, r, "groups.delete.title")
	w.groupDeleteRender(rw, r, p, id, http.StatusOK)
}

func (w *Web) groupDeleteRender(rw http.ResponseWriter, r *http.Request, p *Page, id int64, status int) {
	ctx := r.Context()
	g, err := w.Groups.Get(ctx, id)
	if err != nil {
		w.groupMessage(rw, r, p, err)
		return
	}
	preview, err := w.Groups.DeletePreview(ctx, id)
	if err != nil {
		w.groupMessage(rw, r, p, err)
		return
	}
	p.Title = p.L.T("groups.delete.title_of", g.Name)
	p.Data = &groupDeleteData{G: g, Preview: preview}
	w.render(rw, r, status, "group_delete", p)
}

// groupDelete deletes the group once the box is ticked, then shows its parent (or the tree
// when the parent is out of the person's sight).
func (w *Web) groupDelete(rw http.ResponseWriter, r *http.Request) {
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
	ctx := r.Context()
	p := w.page(rw, r, "groups.delete.title")
	if formValue(r, "confirm") != "yes" {
		p.Fields["confirm"] = p.L.T("groups.delete.unconfirmed")
		w.groupDeleteRender(rw, r, p, id, http.StatusUnprocessableEntity)
		return
	}
	g, err := w.Groups.Get(ctx, id)
	if err == nil {
		err = w.Groups.Delete(ctx, id, true)
	}
	if err != nil {
		w.groupMessage(rw, r, p, err)
		return
	}
	next := "/groups?done=deleted"
	if g.ParentID != 0 && authz.CanViewGroup(ctx, w.db, g.ParentID) == nil {
		next = groupURL(g.ParentID) + "?done=deleted"
	}
	http.Redirect(rw, r, next, http.StatusSeeOther)
}
