package web

import (
	"net/http"

	"roster/internal/mail"
)

type mailData struct {
	To        string
	Messages  []mail.Record
	Delivered bool // an SMTP server is configured
}

// adminMail shows platform administrators the emails sent or queued, with their delivery
// status; without SMTP it is where they read them. Token links are masked, as in the API.
func (w *Web) adminMail(rw http.ResponseWriter, r *http.Request) {
	u := w.requireLogin(rw, r)
	if u == nil {
		return
	}
	p := w.page(rw, r, "mail.title")
	if !u.IsAdmin {
		p.Error = p.L.T("error.forbidden")
		w.render(rw, r, http.StatusForbidden, "message", p)
		return
	}
	d := &mailData{To: r.URL.Query().Get("to"), Delivered: w.cfg.MailDelivered}
	recs, err := mail.List(r.Context(), w.db, mail.Filter{To: d.To, Limit: 200})
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	for _, rec := range recs {
		d.Messages = append(d.Messages, mail.Masked(rec))
	}
	p.Data = d
	w.render(rw, r, http.StatusOK, "admin_mail", p)
}
