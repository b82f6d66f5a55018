package scim

import (
	"net/http"
	"strconv"
)

// The /Users handlers: read the request, call the service, write the answer.

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	lp, err := parseList(usersType, r.URL.Query())
	if err == nil {
		h.writeList(w, r, lp, h.svc.Users)
		return
	}
	h.fail(w, err)
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
	h.writeList(w, r, lp, h.svc.Users)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	res, etag, err := h.svc.User(r.Context(), r.PathValue("id"), projectionOf(usersType, r))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeRead(w, r, res, etag)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	m, err := readResource(r, usersType)
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.svc.CreateUser(r.Context(), m, projectionOf(usersType, r))
	h.respond(w, http.StatusCreated, res, err)
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
	id := r.PathValue("id")
	res, err := h.svc.UpdateUser(r.Context(), id, r.Header.Get("If-Match"), "scim.user.replace",
		func(object) (object, error) {
			if bodyID, ok := body["id"].(string); ok && bodyID != id {
				return nil, idMismatch(bodyID)
			}
			return m, nil
		}, projectionOf(usersType, r))
	h.respond(w, http.StatusOK, res, err)
}

func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request) {
	ops, err := readPatch(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.svc.UpdateUser(r.Context(), r.PathValue("id"), r.Header.Get("If-Match"), "scim.user.patch",
		func(cur object) (object, error) {
			if err := usersType.applyPatch(cur, ops); err != nil {
				return nil, err
			}
			return cur, nil
		}, projectionOf(usersType, r))
	h.respond(w, http.StatusOK, res, err)
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.DeleteUser(r.Context(), r.PathValue("id"), r.Header.Get("If-Match")); err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
