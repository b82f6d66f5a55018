package scim

import "net/http"

// The /Groups handlers.

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request) {
	lp, err := parseList(groupsType, r.URL.Query())
	if err == nil {
		h.writeList(w, r, lp, h.svc.Groups)
		return
	}
	h.fail(w, err)
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
	h.writeList(w, r, lp, h.svc.Groups)
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request) {
	res, etag, err := h.svc.Group(r.Context(), r.PathValue("id"), projectionOf(groupsType, r))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeRead(w, r, res, etag)
}

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request) {
	m, err := readResource(r, groupsType)
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.svc.CreateGroup(r.Context(), m, projectionOf(groupsType, r))
	h.respond(w, http.StatusCreated, res, err)
}

// replaceGroup is PUT: name, externalId and the SCIM memberships become those of the body
// (memberships made otherwise stay).
func (h *Handler) replaceGroup(w http.ResponseWriter, r *http.Request) {
	m, err := readResource(r, groupsType)
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.svc.ReplaceGroup(r.Context(), r.PathValue("id"), r.Header.Get("If-Match"), m, projectionOf(groupsType, r))
	h.respond(w, http.StatusOK, res, err)
}

// patchGroup answers 204 (RFC 7644 §3.5.2 allows it): a group's whole member list can be
// long, and clients do not need it back. With attributes=..., the group is returned.
func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request) {
	ops, err := readPatch(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	q := r.URL.Query()
	respond := q.Get("attributes") != "" || q.Get("excludedAttributes") != ""
	res, etag, err := h.svc.PatchGroup(r.Context(), r.PathValue("id"), r.Header.Get("If-Match"), ops,
		projectionOf(groupsType, r), respond)
	if err != nil || respond {
		h.respond(w, http.StatusOK, res, err)
		return
	}
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusNoContent)
}

// deleteGroup deletes the Roster group, its sub-groups and their memberships.
func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.DeleteGroup(r.Context(), r.PathValue("id"), r.Header.Get("If-Match")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
