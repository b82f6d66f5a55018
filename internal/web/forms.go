package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"roster/internal/errs"
)

// maxForm bounds a form body; Roster's forms are small.
const maxForm = 64 << 10

// parseForm reads a bounded form body.
func parseForm(rw http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return err
	}
	isoDates(r)
	return nil
}

// dateFields are the date inputs of the pages. French pages show them as text in dd/mm/yyyy
// (a browser draws <input type=date> in its own locale, not the page's).
var dateFields = []string{"starts_at", "ends_at", "delete_at"}

var dayMonthYear = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})$`)

// isoDate is v as yyyy-mm-dd when it was typed as dd/mm/yyyy, else v as it is.
func isoDate(v string) string {
	if m := dayMonthYear.FindStringSubmatch(strings.TrimSpace(v)); m != nil {
		return fmt.Sprintf("%s-%02s-%02s", m[3], m[2], m[1])
	}
	return v
}

// isoDates rewrites the date fields typed as dd/mm/yyyy as yyyy-mm-dd, the form the handlers
// read; other values are left for the handlers to refuse.
func isoDates(r *http.Request) {
	for _, name := range dateFields {
		for _, form := range []url.Values{r.PostForm, r.Form} {
			if v := strings.TrimSpace(form.Get(name)); v != "" {
				form.Set(name, isoDate(v))
			}
		}
	}
}

// formValue is the trimmed value of a field.
func formValue(r *http.Request, name string) string { return strings.TrimSpace(r.PostFormValue(name)) }

// badForm answers a form that cannot be read (too large, malformed), in the person's language.
func (w *Web) badForm(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "error.bad_form_title")
	p.Error = p.L.T("error.bad_form")
	w.render(rw, r, http.StatusBadRequest, "message", p)
}

// forbidden answers a page the person may not open, in their language.
func (w *Web) forbidden(rw http.ResponseWriter, r *http.Request) {
	p := w.page(rw, r, "error.forbidden_title")
	p.Error = p.L.T("error.forbidden")
	w.render(rw, r, http.StatusForbidden, "message", p)
}

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
				p.Fields[f.Field] = f.In(p.L.Lang)
			}
		}
	} else {
		p.Error = e.In(p.L.Lang)
	}
	return errs.HTTPStatus(e.Code)
}

// unshownFieldErrors moves to the top of the page (p.Error) each field's message that the
// rendered page does not show beside a field, named by the field's label when the catalog has
// one ("field.NAME"), and reports whether it moved any: a form that lacks the field a service
// complains about still tells the person what is wrong, in their language.
func unshownFieldErrors(p *Page, html []byte) bool {
	var names []string
	for name := range p.Fields {
		if p.Fields[name] != "" && !bytes.Contains(html, []byte(template.HTMLEscapeString(p.Fields[name]))) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return false
	}
	sort.Strings(names)
	var top []string
	if p.Error != "" {
		top = append(top, p.Error)
	}
	for _, name := range names {
		msg := p.Fields[name]
		if key := "field." + name; p.L.Has(key) {
			msg = p.L.T("error.field", p.L.T(key), msg)
		}
		top = append(top, msg)
		delete(p.Fields, name)
	}
	p.Error = strings.Join(top, " ")
	return true
}
