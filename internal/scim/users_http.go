package scim

import (
	"net/http"
	"strconv"
)

// The /Users handlers: read the request, call the user functions, write the answer.

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	lp, err := parseList(usersType, r.URL.Query())
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeUserList(w, r, lp)
}

func (h *Handler) searchUsers(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	lp, err := parseSearch(usersType, body)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeUserList(w, r, lp)
}

func (h *Handler) writeUserList(w http.ResponseWriter, r *http.Request, lp *listParams) {
	ctx := r.Context()
	total, ids, err := h.query(ctx, usersType, &userSQL, userShape, "u.id", scope(r), lp)
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.usersByID(ctx, h.db, scope(r), ids, lp.proj)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, listResponse(total, lp.startIndex, res))
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := loadUser(r.Context(), h.db, h.db.Dialect, scope(r), r.PathValue("id"), false)
	if err != nil {
		h.fail(w, err)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, u.etag()) {
		w.Header().Set("ETag", u.etag())
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.respondUser(w, r, http.StatusOK, u)
}

// respondUser writes one user, projected by the request's attributes parameters.
func (h *Handler) respondUser(w http.ResponseWriter, r *http.Request, status int, u *userRow) {
	q := r.URL.Query()
	proj := usersType.parseProjection(q.Get("attributes"), q.Get("excludedAttributes"))
	res, err := h.usersByID(r.Context(), h.db, scope(r), []int64{u.ID}, proj)
	if err != nil {
		h.fail(w, err)
		return
	}
	if len(res) == 0 { // provisioned and deleted between the two reads
		h.fail(w, notFound("no user %d", u.ID))
		return
	}
	h.writeResource(w, status, res[0].(object))
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	m, err := usersType.canonical(body)
	if err != nil {
		h.fail(w, err)
		return
	}
	id, row, err := h.createUserTx(r.Context(), scope(r), m)
	if err != nil {
		h.fail(w, err)
		return
	}
	if row != nil { // a new account: known whole, and in no SCIM group yet
		q := r.URL.Query()
		proj := usersType.parseProjection(q.Get("attributes"), q.Get("excludedAttributes"))
		h.writeResource(w, http.StatusCreated, proj.apply(h.userResource(row, nil)))
		return
	}
	h.respondUser(w, r, http.StatusCreated, &userRow{ID: id})
}

// replaceUser is PUT: the body replaces every attribute a client may write. Okta sends it
// with "active" to deactivate and reactivate; a PUT without "active" leaves the status as it
// is rather than reading its absence as a deactivation.
func (h *Handler) replaceUser(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	m, err := usersType.canonical(body)
	if err != nil {
		h.fail(w, err)
		return
	}
	u, err := h.updateUser(r.Context(), scope(r), r.PathValue("id"), r.Header.Get("If-Match"), "scim.user.replace",
		func(cur object) (object, error) {
			if id, ok := body["id"].(string); ok && id != r.PathValue("id") {
				return nil, newError(http.StatusBadRequest, "mutability", "id %q does not match the URL", id)
			}
			return m, nil
		})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.respondUser(w, r, http.StatusOK, u)
}

func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request) {
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
	u, err := h.updateUser(r.Context(), scope(r), r.PathValue("id"), r.Header.Get("If-Match"), "scim.user.patch",
		func(cur object) (object, error) {
			if err := usersType.applyPatch(cur, ops); err != nil {
				return nil, err
			}
			return cur, nil
		})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.respondUser(w, r, http.StatusOK, u)
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	if err := h.deleteUserTx(r.Context(), scope(r), r.PathValue("id"), r.Header.Get("If-Match")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
