package scim

import (
	"net/http"

	"roster/internal/audit"
	"roster/internal/store"
)

// The /Groups handlers.

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request) {
	lp, err := parseList(groupsType, r.URL.Query())
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeGroupList(w, r, lp)
}

func (h *Handler) searchGroups(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	lp, err := parseSearch(groupsType, body)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeGroupList(w, r, lp)
}

func (h *Handler) writeGroupList(w http.ResponseWriter, r *http.Request, lp *listParams) {
	ctx := r.Context()
	total, ids, err := h.query(ctx, groupsType, &groupSQL, groupShape, "g.id", scope(r), lp)
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.groupsByID(ctx, scope(r), ids, lp.proj)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse(total, lp.startIndex, res))
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := loadGroup(r.Context(), h.db, scope(r), r.PathValue("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, g.etag()) {
		w.Header().Set("ETag", g.etag())
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.respondGroup(w, r, http.StatusOK, g.ID)
}

func (h *Handler) respondGroup(w http.ResponseWriter, r *http.Request, status int, id int64) {
	q := r.URL.Query()
	proj := groupsType.parseProjection(q.Get("attributes"), q.Get("excludedAttributes"))
	res, err := h.groupsByID(r.Context(), scope(r), []int64{id}, proj)
	if err != nil {
		h.fail(w, err)
		return
	}
	if len(res) == 0 {
		h.fail(w, notFound("no group %d", id))
		return
	}
	h.writeResource(w, status, res[0].(object))
}

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	m, err := groupsType.canonical(body)
	if err != nil {
		h.fail(w, err)
		return
	}
	id, err := h.createGroupTx(r.Context(), scope(r), m)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.respondGroup(w, r, http.StatusCreated, id)
}

// replaceGroup is PUT: name, externalId and the SCIM memberships become those of the body
// (memberships made otherwise stay).
func (h *Handler) replaceGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := readObject(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	m, err := groupsType.canonical(body)
	if err != nil {
		h.fail(w, err)
		return
	}
	ids, err := memberIDs(m["members"], true)
	if err != nil {
		h.fail(w, err)
		return
	}
	g, err := loadGroup(ctx, h.db, scope(r), r.PathValue("id"))
	if err == nil {
		err = checkIfMatch(r.Header.Get("If-Match"), g.etag())
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	plan := newPlan()
	plan.replaceWith(ids)
	if err := h.updateGroup(ctx, scope(r), g, m, plan, "scim.group.replace"); err != nil {
		h.fail(w, err)
		return
	}
	h.respondGroup(w, r, http.StatusOK, g.ID)
}

// patchGroup answers 204 (RFC 7644 §3.5.2 allows it): a group's whole member list can be
// long, and clients do not need it back. With attributes=..., the group is returned.
func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := readObject(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	ops, err := parsePatch(body)
	if err != nil {
		h.fail(w, err)
		return
	}
	g, err := loadGroup(ctx, h.db, scope(r), r.PathValue("id"))
	if err == nil {
		err = checkIfMatch(r.Header.Get("If-Match"), g.etag())
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	attrs := object{"displayName": g.Name}
	if g.IDNumber != "" {
		attrs["externalId"] = g.IDNumber
	}
	var cur map[int64]bool
	plan, err := patchGroupOps(attrs, ops, func() (map[int64]bool, error) {
		if cur == nil {
			var err error
			cur, err = currentMembers(ctx, h.db, g.ID)
			return cur, err
		}
		return cur, nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	if err := h.updateGroup(ctx, scope(r), g, attrs, plan, "scim.group.patch"); err != nil {
		h.fail(w, err)
		return
	}
	q := r.URL.Query()
	if q.Get("attributes") != "" || q.Get("excludedAttributes") != "" {
		h.respondGroup(w, r, http.StatusOK, g.ID)
		return
	}
	if g, err := loadGroup(ctx, h.db, scope(r), itoa(g.ID)); err == nil {
		w.Header().Set("ETag", g.etag())
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteGroup deletes the Roster group, its sub-groups and their memberships, as the group
// service does for an administrator of its parent.
func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	g, err := loadGroup(ctx, h.db, scope(r), r.PathValue("id"))
	if err == nil {
		err = checkIfMatch(r.Header.Get("If-Match"), g.etag())
	}
	if err == nil {
		err = h.groups.Delete(ctx, g.ID, true)
	}
	if err == nil {
		err = h.db.Tx(ctx, func(tx *store.Tx) error {
			return audit.Record(ctx, tx, scimEvent(ctx, "scim.group.delete", "group", g.ID, map[string]any{"displayName": g.Name}))
		})
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
