package errs

import (
	"encoding/json"
	"time"

	"roster/internal/i18n"
)

// A coded message is stored (an import row's notes, a sync run's skipped rows) as its key
// and parameters, so that each reader gets it in their own language. MarshalJSON keeps what
// plain JSON would lose: a label (a catalog key, written in the reader's language) is stored
// as {"label": key}, an instant as {"time": unix seconds}.

// MarshalJSON writes p with its labels and instants marked.
func (p P) MarshalJSON() ([]byte, error) {
	out := make(map[string]any, len(p))
	for k, v := range p {
		switch v := v.(type) {
		case i18n.Label:
			out[k] = map[string]string{"label": string(v)}
		case i18n.Time:
			out[k] = map[string]int64{"time": time.Time(v).Unix()}
		default:
			out[k] = v
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote; whole numbers come back as int.
func (p *P) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = make(P, len(raw))
	for k, r := range raw {
		var label struct {
			Label *string `json:"label"`
			Time  *int64  `json:"time"`
		}
		if json.Unmarshal(r, &label) == nil && (label.Label != nil || label.Time != nil) {
			if label.Label != nil {
				(*p)[k] = i18n.Label(*label.Label)
			} else {
				(*p)[k] = i18n.Time(time.Unix(*label.Time, 0).UTC())
			}
			continue
		}
		var n json.Number
		if json.Unmarshal(r, &n) == nil {
			if i, err := n.Int64(); err == nil {
				(*p)[k] = int(i)
			} else {
				f, _ := n.Float64()
				(*p)[k] = f
			}
			continue
		}
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			return err
		}
		(*p)[k] = v
	}
	return nil
}

// Text returns the message in lang, without its field.
func (s Stored) Text(lang string) string {
	if s.Code != "" {
		return Text(lang, s.Code, s.Params)
	}
	return s.Message
}

// Stored is a coded message as it is kept: the field (or column) it is about, its key and
// parameters, and its English text for the API and the files.
type Stored struct {
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Params  P      `json:"params,omitempty"`
	Message string `json:"message"`
}

// In returns the message in lang, "field: message" when it names a field; a message stored
// without a key stays as it was written.
func (s Stored) In(lang string) string {
	msg := s.Text(lang)
	if s.Field != "" {
		return s.Field + i18n.T(lang, "punct.colon") + msg
	}
	return msg
}
