package web

import (
	"net/http"
	"net/url"
	"strconv"

	"roster/internal/errs"
	"roster/internal/mail"
)

type mailData struct {
	To        string
	Messages  []mail.Record
	Delivered bool // an SMTP server is configured
}

// adminMail shows platform administrators the emails sent or queued, with their delivery
// status; without SMTP it is where they read them. Token links are masked, as in the API. A
// queued email can be sent now or cancelled (mail.SendNow, mail.Cancel).
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
	switch r.URL.Query().Get("done") {
	case "sent_now":
		p.Notice = p.L.T("mail.sent_now")
	case "cancelled":
		p.Notice = p.L.T("mail.cancelled")
	}
	w.mailPage(rw, r, p, http.StatusOK)
}

func (w *Web) mailPage(rw http.ResponseWriter, r *http.Request, p *Page, status int) {
	d := &mailData{To: r.URL.Query().Get("to"), Delivered: w.cfg.MailDelivered}
	if r.Method == http.MethodPost {
		d.To = formValue(r, "to")
	}
	recs, err := mail.List(r.Context(), w.db, mail.Filter{To: d.To, Limit: 200})
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	for _, rec := range recs {
		d.Messages = append(d.Messages, mail.Masked(rec))
	}
	p.Data = d
	w.render(rw, r, status, "admin_mail", p)
}

// adminMailAction sends a queued email now (POST /admin/mail/{id}/send-now) or cancels it
// (POST /admin/mail/{id}/cancel), then goes back to the list it came from.
func (w *Web) adminMailAction(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "mail.title")
	if err := parseForm(rw, r); err != nil {
		w.render(rw, r, http.StatusBadRequest, "message", p)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		w.render(rw, r, showError(p, errs.Coded(errs.NotFound, "mail_not_found")), "message", p)
		return
	}
	act, done := mail.SendNow, "sent_now"
	if r.URL.Path == "/admin/mail/"+r.PathValue("id")+"/cancel" {
		act, done = mail.Cancel, "cancelled"
	}
	if err := act(r.Context(), w.db, id); err != nil {
		status := showError(p, err)
		if status == http.StatusForbidden || status == http.StatusUnauthorized {
			w.render(rw, r, status, "message", p)
			return
		}
		w.mailPage(rw, r, p, status)
		return
	}
	q := url.Values{"done": {done}}
	if to := formValue(r, "to"); to != "" {
		q.Set("to", to)
	}
	http.Redirect(rw, r, "/admin/mail?"+q.Encode(), http.StatusSeeOther)
}
