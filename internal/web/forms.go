package web

import (
	"net/http"
	"strings"

	"roster/internal/errs"
)

// maxForm bounds a form body; Roster's forms are small.
const maxForm = 64 << 10

// parseForm reads a bounded form body.
func parseForm(rw http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	return r.ParseForm()
}

// formValue is the trimmed value of a field.
func formValue(r *http.Request, name string) string { return strings.TrimSpace(r.PostFormValue(name)) }

// showError puts a service error on the page: each field's message beside its field, the
// rest at the top. It returns the HTTP status to answer with.
func showError(p *Page, err error) int {
	e := errs.As(err)
	if e.Code == errs.Internal {
		p.Error = p.L.T("error.internal")
		return errs.HTTPStatus(e.Code)
	}
	if e.Code == errs.Unavailable { // the database cannot be reached or its disk is full: 503
		p.Error = p.L.T("error.unavailable")
		return errs.HTTPStatus(e.Code)
	}
	if len(e.Fields) > 0 {
		for _, f := range e.Fields {
			if _, taken := p.Fields[f.Field]; !taken {
				p.Fields[f.Field] = f.Message
			}
		}
	} else {
		p.Error = e.Message
	}
	return errs.HTTPStatus(e.Code)
}
