package api

import (
	"net/http"
	"strconv"
	"time"

	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/mail"
)

// Message is an outbox entry as the API shows it, token links masked.
type Message struct {
	ID        string     `json:"id"`
	Template  string     `json:"template"`
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Text      string     `json:"text"`
	HTML      string     `json:"html"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

// mail lists the messages sent or queued for an address (platform administrators).
func (a *API) mail(w http.ResponseWriter, r *http.Request) {
	if err := authz.RequirePlatformAdmin(r.Context()); err != nil {
		a.problem(w, r, err)
		return
	}
	n, err := limit(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	f := mail.Filter{To: r.URL.Query().Get("to"), Status: r.URL.Query().Get("status"), Limit: n + 1}
	if c := r.URL.Query().Get("cursor"); c != "" {
		id, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			a.problem(w, r, errs.FieldCode("cursor", "api_bad_cursor"))
			return
		}
		f.BeforeID = id
	}
	recs, err := mail.List(r.Context(), a.db, f)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[Message]{Items: []Message{}}
	for i, rec := range recs {
		if i == n {
			out.NextCursor = cursorOf(recs[i-1].ID)
			break
		}
		m := mail.Masked(rec)
		out.Items = append(out.Items, Message{ID: ID(m.ID), Template: m.Template, To: m.To, Subject: m.Subject,
			Text: m.Text, HTML: m.HTML, Status: m.Status, Attempts: m.Attempts, LastError: m.LastError,
			CreatedAt: m.CreatedAt, SentAt: m.SentAt})
	}
	writeJSON(w, http.StatusOK, out)
}
