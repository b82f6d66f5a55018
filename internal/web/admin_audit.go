package web

import (
	"net/http"
	"strconv"
	"strings"

	"roster/internal/account"
)

// /admin/audit: who did what to whom, when and from where, newest first, for platform
// administrators (the service checks); filters by actor id, target id and action.

type auditData struct {
	Actor, Target, Action string
	Events                []account.AuditEntry
	NextURL               string
}

func (w *Web) adminAudit(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "audit.title")
	q := r.URL.Query()
	d := &auditData{Actor: q.Get("actor"), Target: q.Get("target"), Action: q.Get("action")}
	p.Data = d
	f := account.AuditFilter{Target: d.Target, Action: d.Action, Limit: 100, Cursor: q.Get("cursor")}
	if d.Actor != "" {
		id, err := strconv.ParseInt(d.Actor, 10, 64)
		if err != nil {
			p.Fields["actor"] = p.L.T("audit.bad_actor")
			w.render(rw, r, http.StatusUnprocessableEntity, "admin_audit", p)
			return
		}
		f.ActorID = id
	}
	events, next, err := account.AuditLog(r.Context(), w.db, f)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	// An erased account is named "deleted N" in the database: the page says it in words.
	for i := range events {
		for _, name := range []*string{&events[i].Actor, &events[i].Target} {
			if n, ok := strings.CutPrefix(*name, "deleted "); ok {
				*name = p.L.T("audit.deleted_account", n)
			}
		}
	}
	d.Events = events
	if next != "" {
		q.Set("cursor", next)
		d.NextURL = "/admin/audit?" + q.Encode()
	}
	w.render(rw, r, http.StatusOK, "admin_audit", p)
}
