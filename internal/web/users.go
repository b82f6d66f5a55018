package web

import (
	"net/http"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
)

// The administration of accounts: /admin/users lists and searches them (for platform
// administrators, and for group and user administrators within their groups; the service
// decides), /admin/users/{id} shows one with its edit form (users_edit.go).

type usersData struct {
	Q, Status string
	GroupID   int64
	Groups    []groupOption
	Users     []*account.User
	Fields    []account.ProfileField // custom fields, shown as columns
	Next      string                 // the cursor of the next page
	NextURL   string
}

type groupOption struct {
	ID   int64
	Name string
}

func (w *Web) adminUsers(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "users.title")
	q := r.URL.Query()
	if q.Get("done") == "deleted" {
		p.Notice = p.L.T("users.deleted_notice")
	}
	d := &usersData{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status")}
	d.GroupID, _ = strconv.ParseInt(q.Get("group"), 10, 64)
	ctx := r.Context()
	users, next, err := w.Accounts.ListUsers(ctx, account.UserFilter{Q: d.Q, Status: d.Status, GroupID: d.GroupID,
		Limit: 100, Cursor: q.Get("cursor")})
	if err != nil {
		status := showError(p, err)
		if errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Unauthorized) {
			w.render(rw, r, status, "message", p)
			return
		}
		p.Data = d
		w.render(rw, r, status, "users", p)
		return
	}
	d.Users, d.Next = users, next
	if next != "" {
		v := r.URL.Query()
		v.Set("cursor", next)
		d.NextURL = "/admin/users?" + v.Encode()
	}
	if d.Groups, err = w.groupOptions(r); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	if d.Fields, err = w.Accounts.ProfileFields(ctx); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	p.Data = d
	w.render(rw, r, http.StatusOK, "users", p)
}

// groupOptions are the groups the caller may filter the list by: all for platform
// administrators, otherwise those at and below the groups they manage.
func (w *Web) groupOptions(r *http.Request) ([]groupOption, error) {
	ctx := r.Context()
	all, roots, err := authz.UserScope(ctx, w.db, authz.ViewUser)
	if err != nil {
		return nil, err
	}
	query := `SELECT g.id, g.name FROM groups g ORDER BY g.name, g.id LIMIT 500`
	var args []any
	if !all {
		if len(roots) == 0 {
			return nil, nil
		}
		ph := make([]string, len(roots))
		for i, id := range roots {
			args = append(args, id)
			ph[i] = "$" + strconv.Itoa(i+1)
		}
		query = `SELECT DISTINCT g.id, g.name FROM groups g JOIN group_paths p ON p.descendant_id = g.id
			WHERE p.ancestor_id IN (` + strings.Join(ph, ", ") + `) ORDER BY g.name, g.id LIMIT 500`
	}
	rows, err := w.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, errs.Wrap(err, "group options")
	}
	defer rows.Close()
	var out []groupOption
	for rows.Next() {
		var g groupOption
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, errs.Wrap(err, "group options")
		}
		out = append(out, g)
	}
	return out, errs.Wrap(rows.Err(), "group options")
}
