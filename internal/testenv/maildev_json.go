package testenv

import (
	"encoding/json"
	"strings"
	"time"
)

// rawMessage is one element of maildev 2.2.1's GET /email, trimmed to the fields used:
//
//	{"id": "36zlb1MN", "subject": "Hello", "text": "…", "html": "…",
//	 "from": [{"address": "a@example.org", "name": "Roster"}], "to": [...], "cc": [...],
//	 "date": "2026-11-23T16:43:06.000Z",   // absent without a Date header
//	 "time": "2026-11-23T16:43:06.770Z",   // time of receipt
//	 "headers": {"subject": "Hello", "x-multi": ["1", "2"], ...},
//	 "envelope": {"from": {"address": "…"}, "to": [{"address": "…"}]}, ...}
//
// "text" or "html" is absent when the message has no such part.
type rawMessage struct {
	ID       string                     `json:"id"`
	Subject  string                     `json:"subject"`
	Text     stringOrNot                `json:"text"`
	HTML     stringOrNot                `json:"html"`
	From     []MailAddress              `json:"from"`
	To       []MailAddress              `json:"to"`
	Cc       []MailAddress              `json:"cc"`
	Date     time.Time                  `json:"date"`
	Time     time.Time                  `json:"time"`
	Headers  map[string]json.RawMessage `json:"headers"`
	Envelope struct {
		From MailAddress   `json:"from"`
		To   []MailAddress `json:"to"`
	} `json:"envelope"`
}

func (r rawMessage) message() MailMessage {
	m := MailMessage{
		ID: r.ID, Subject: r.Subject, Text: string(r.Text), HTML: string(r.HTML),
		From: r.From, To: r.To, Cc: r.Cc, Date: r.Date,
		Headers:      make(map[string][]string, len(r.Headers)),
		EnvelopeFrom: r.Envelope.From.Address,
	}
	if m.Date.IsZero() {
		m.Date = r.Time
	}
	for _, a := range r.Envelope.To {
		m.EnvelopeTo = append(m.EnvelopeTo, a.Address)
	}
	for name, v := range r.Headers {
		var one string
		var many []string
		switch {
		case json.Unmarshal(v, &one) == nil:
			m.Headers[strings.ToLower(name)] = []string{one}
		case json.Unmarshal(v, &many) == nil:
			m.Headers[strings.ToLower(name)] = many
		default: // a structured value: keep its JSON
			m.Headers[strings.ToLower(name)] = []string{string(v)}
		}
	}
	return m
}

// stringOrNot decodes a JSON string, and anything else (false, null) as "".
type stringOrNot string

func (s *stringOrNot) UnmarshalJSON(b []byte) error {
	var v string
	if json.Unmarshal(b, &v) == nil {
		*s = stringOrNot(v)
	}
	return nil
}
