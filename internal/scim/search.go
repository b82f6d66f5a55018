package scim

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"roster/internal/authz"
)

// searchAll is POST /.search at the root (RFC 7644 §3.4.3): a query over every resource
// type, Users first, then Groups. Paging (startIndex, count) runs over that one sequence and
// totalResults counts both; sortBy orders within each type. A filter, or a sortBy, that
// names an attribute one type does not have selects nothing of that type (userName eq "x"
// finds users only); one that neither type has is an error, as on /Users or /Groups.
// attributes and excludedAttributes apply to each type by its own schema (attributes that
// name none of a type's leave its resources with id and schemas).
func (h *Handler) searchAll(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.svc.Search(r.Context(), body)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// Search answers a SearchRequest over every resource type (see searchAll).
func (s *Service) Search(ctx context.Context, body object) (object, error) {
	scopeID, err := authz.SCIMScope(ctx, s.db)
	if err != nil {
		return nil, err
	}
	kinds := []kind{userKind, groupKind}
	var (
		total, start int
		res          []any
		notFor       error // the error of a type the query does not apply to
	)
	for i, k := range kinds {
		lp, err := parseSearch(k.rt, body)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			start = lp.startIndex
		}
		if len(lp.proj.only) == 0 && len(lp.proj.onlyExt) == 0 && hasAttributes(body) {
			lp.proj.bare = true // attributes that name none of this type's
		}
		// This type's part of the page: what is left of count, from the offset that the
		// types before it leave.
		lp.count -= len(res)
		lp.startIndex = max(start-1-total, 0) + 1
		n, ids, err := s.query(ctx, k, scopeID, lp)
		var se *Error
		if errors.As(err, &se) && se.Status == http.StatusBadRequest {
			if notFor != nil {
				return nil, notFor
			}
			notFor = err
			continue
		}
		if err != nil {
			return nil, err
		}
		list, err := k.read(s, ctx, scopeID, ids, lp.proj)
		if err != nil {
			return nil, err
		}
		total += n
		res = append(res, list...)
	}
	return listResponse(total, start, res), nil
}

// hasAttributes reports whether a SearchRequest asks for some attributes.
func hasAttributes(body object) bool {
	for k, v := range body {
		if strings.EqualFold(k, "attributes") {
			switch x := v.(type) {
			case []any:
				return len(x) > 0
			case string:
				return strings.TrimSpace(x) != ""
			}
		}
	}
	return false
}
