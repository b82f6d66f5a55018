package scim

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"roster/internal/authz"
	"roster/internal/errs"
)

// listParams are the query of a list or .search request (RFC 7644 §3.4.2).
type listParams struct {
	filter     Filter
	startIndex int // 1-based
	count      int
	sortBy     string
	descending bool
	proj       projection
}

// parseList reads GET query parameters. Parameter names are matched case-insensitively.
func parseList(rt *resourceType, q url.Values) (*listParams, error) {
	get := func(name string) string {
		for k, v := range q {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	return listOf(rt, get("filter"), get("startIndex"), get("count"), get("sortBy"), get("sortOrder"),
		get("attributes"), get("excludedAttributes"))
}

// parseSearch reads the body of POST .search (RFC 7644 §3.4.3).
func parseSearch(rt *resourceType, body object) (*listParams, error) {
	vals := map[string]string{}
	for k, v := range body {
		key := strings.ToLower(k)
		switch x := v.(type) {
		case string:
			vals[key] = x
		case float64:
			vals[key] = strconv.FormatFloat(x, 'f', -1, 64)
		case []any:
			var parts []string
			for _, e := range x {
				if s, ok := e.(string); ok {
					parts = append(parts, s)
				}
			}
			vals[key] = strings.Join(parts, ",")
		}
	}
	return listOf(rt, vals["filter"], vals["startindex"], vals["count"], vals["sortby"], vals["sortorder"],
		vals["attributes"], vals["excludedattributes"])
}

func listOf(rt *resourceType, filter, start, count, sortBy, sortOrder, attributes, excluded string) (*listParams, error) {
	lp := &listParams{startIndex: 1, count: DefaultCount, sortBy: strings.TrimSpace(sortBy)}
	if strings.TrimSpace(filter) != "" {
		f, err := ParseFilter(filter)
		if err != nil {
			return nil, err
		}
		lp.filter = f
	}
	if start != "" {
		n, err := strconv.Atoi(strings.TrimSpace(start))
		if err != nil {
			return nil, invalidValue("startIndex must be an integer")
		}
		lp.startIndex = max(n, 1) // RFC 7644: a value below 1 is read as 1
	}
	if count != "" {
		n, err := strconv.Atoi(strings.TrimSpace(count))
		if err != nil {
			return nil, invalidValue("count must be an integer")
		}
		lp.count = min(max(n, 0), MaxCount)
	}
	switch strings.ToLower(strings.TrimSpace(sortOrder)) {
	case "", "ascending":
	case "descending":
		lp.descending = true
	default:
		return nil, invalidValue("sortOrder must be ascending or descending")
	}
	lp.proj = rt.parseProjection(attributes, excluded)
	return lp, nil
}

// shape gives the FROM clause and the scope condition (on $1) of a list, knowing which table
// aliases the filter names.
type shape func(aliases map[string]bool) (from, scope string)

// liveInScope: provisioned by a token of group $1 or of a group below it, not deleted by SCIM
// (an index-only lookup: scim_users_scope is partial on deleted_at IS NULL).
const liveInScope = `s.deleted_at IS NULL AND s.scope_group_id IN (SELECT descendant_id FROM group_paths WHERE ancestor_id = $1)`

// userShape reads users alone when the filter names only its columns, checking the scope for
// the matching rows only; otherwise it joins scim_users, which the planner then drives.
func userShape(aliases map[string]bool) (string, string) {
	if aliases["u"] && !aliases["s"] {
		return `FROM users u`, `u.deleted_at IS NULL AND EXISTS (SELECT 1 FROM scim_users s WHERE s.user_id = u.id AND ` + liveInScope + `)`
	}
	if len(aliases) > 0 {
		// With a filter on its columns, scim_users is best scanned in order, its rows being
		// narrow: "+" keeps SQLite from walking the scope index (one random read per row).
		return `FROM scim_users s JOIN users u ON u.id = s.user_id`,
			`s.deleted_at IS NULL AND +s.scope_group_id IN (SELECT descendant_id FROM group_paths WHERE ancestor_id = $1)
			AND u.deleted_at IS NULL`
	}
	return `FROM scim_users s JOIN users u ON u.id = s.user_id`, liveInScope + ` AND u.deleted_at IS NULL`
}

func groupShape(map[string]bool) (string, string) { return groupsFrom, groupScope }

// query runs a list and returns the total and one page of ids, in order. The page is read
// first: when it is not full, it tells the total, and the count (a second pass over the
// matching rows) is skipped, which is the case of the lookups identity providers make. With a
// filter, the page query also counts the matching rows (count(*) OVER ()): a filter that
// reads every row (co, ew) then reads them once, not twice. Without one, the page is read in
// index order and stops early, and the separate count is cheaper than sorting every row.
func (s *Service) query(ctx context.Context, k kind, scopeID int64, lp *listParams) (total int, ids []int64, err error) {
	b := &sqlFilter{rt: k.rt, m: k.m, dialect: s.db.Dialect, args: []any{scopeID}}
	idCol := k.idCol
	where := ""
	if lp.filter != nil {
		w, err := b.where(lp.filter)
		if err != nil {
			return 0, nil, err
		}
		where = " AND " + w
	}
	order := idCol
	if lp.sortBy != "" {
		expr, err := b.orderBy(lp.sortBy)
		if err != nil {
			return 0, nil, err
		}
		dir := ""
		if lp.descending {
			dir = " DESC"
		}
		order = expr + dir + ", " + idCol
	}
	from, scope := k.shape(b.aliases)
	where = scope + where
	if lp.count > 0 {
		args := append(b.args[:len(b.args):len(b.args)], lp.count, lp.startIndex-1)
		windowed := lp.filter != nil
		sel := idCol
		if windowed {
			sel += ", count(*) OVER ()"
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+sel+` `+from+` WHERE `+where+` ORDER BY `+order+
			` LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args...)
		if err != nil {
			return 0, nil, errs.Wrap(err, "scim: list")
		}
		defer rows.Close()
		var all int64
		for rows.Next() {
			var id int64
			dest := []any{&id}
			if windowed {
				dest = append(dest, &all)
			}
			if err := rows.Scan(dest...); err != nil {
				return 0, nil, errs.Wrap(err, "scim: list")
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return 0, nil, errs.Wrap(err, "scim: list")
		}
		if len(ids) < lp.count && (len(ids) > 0 || lp.startIndex == 1) {
			return lp.startIndex - 1 + len(ids), ids, nil
		}
		if windowed && len(ids) > 0 {
			return int(all), ids, nil
		}
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) `+from+` WHERE `+where, b.args...).Scan(&total); err != nil {
		return 0, nil, errs.Wrap(err, "scim: count")
	}
	return total, ids, nil
}

// kind is what a list or a search needs of a resource type: its schema, its filter columns,
// its FROM clause and scope, its id column, and how its resources are read.
type kind struct {
	rt    *resourceType
	m     *sqlMap
	shape shape
	idCol string
	read  func(s *Service, ctx context.Context, scopeID int64, ids []int64, proj projection) ([]any, error)
}

var (
	userKind = kind{usersType, &userSQL, userShape, "u.id",
		func(s *Service, ctx context.Context, scopeID int64, ids []int64, proj projection) ([]any, error) {
			return s.usersByID(ctx, s.db, scopeID, ids, proj, nil)
		}}
	groupKind = kind{groupsType, &groupSQL, groupShape, "g.id",
		func(s *Service, ctx context.Context, scopeID int64, ids []int64, proj projection) ([]any, error) {
			return s.groupsByID(ctx, scopeID, ids, proj, nil)
		}}
)

// list answers a list or a search of one kind of resource (RFC 7644 §3.4.2).
// Errors: Forbidden, Unauthorized, and the RFC 7644 errors of the filter.
func (s *Service) list(ctx context.Context, k kind, lp *listParams) (object, error) {
	scopeID, err := authz.SCIMScope(ctx, s.db)
	if err != nil {
		return nil, err
	}
	total, ids, err := s.query(ctx, k, scopeID, lp)
	if err != nil {
		return nil, err
	}
	res, err := k.read(s, ctx, scopeID, ids, lp.proj)
	if err != nil {
		return nil, err
	}
	return listResponse(total, lp.startIndex, res), nil
}

// listResponse is RFC 7644 §3.4.2's ListResponse.
func listResponse(total, start int, resources []any) object {
	if resources == nil {
		resources = []any{}
	}
	return object{"schemas": []any{ListSchema}, "totalResults": total, "startIndex": start,
		"itemsPerPage": len(resources), "Resources": resources}
}

// wants reports whether a projection keeps a core attribute, so that costly ones (a user's
// groups, a group's members) are read only when shown.
func (p projection) wants(name string) bool {
	for _, t := range p.without {
		if t.Ext == nil && t.Sub == nil && strings.EqualFold(t.Attr.Name, name) {
			return false
		}
	}
	if len(p.only) == 0 && len(p.onlyExt) == 0 {
		return !p.bare
	}
	for _, t := range p.only {
		if t.Ext == nil && strings.EqualFold(t.Attr.Name, name) {
			return true
		}
	}
	return false
}
