package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"roster/internal/authz"
	"roster/internal/bulk"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/httpx"
	"roster/internal/i18n"
)

// /admin/imports: bulk imports for platform administrators (the service checks). A file is
// uploaded (or spreadsheet rows pasted) and previewed; the server keeps its copy in the
// database (bulk.Service.KeepUpload: any instance may apply it), under a random token bound to
// the person and the session that uploaded it, so that Apply reads exactly the bytes the
// preview showed. Apply checks it again, records the batch and applies it in the background;
// the batch page shows the progress (static/imports.js polls /admin/imports/{id}/progress),
// then the per-row report, downloadable as CSV, and offers Undo.

const (
	maxImportUpload = 256 << 20 // an uploaded file
	maxImportField  = 16 << 20  // a pasted text, other fields far less
	importListLimit = 50        // batches listed
	importPageRows  = 2000      // report rows shown on the page (the CSV has them all)
)

// sessionOf identifies the session of r without keeping its token.
func sessionOf(r *http.Request) [32]byte { return sha256.Sum256([]byte(httpx.SessionToken(r))) }

// bulkService returns the import service.
func (w *Web) bulkService() *bulk.Service {
	groups, courses := w.Groups, w.Courses
	if groups == nil {
		groups = group.NewService(w.db)
	}
	if courses == nil {
		courses = course.NewService(w.db, course.Config{BaseURL: w.cfg.BaseURL})
	}
	return bulk.NewService(w.db, w.Accounts, groups, courses)
}

type importForm struct {
	Format     string
	Mode       string
	MatchEmail bool
	UserField  string // enrolments: username, email, idnumber; "" any
	ValidOnly  bool
	Notify     bool
	// UpdatePasswords: the password column sets the password of existing local accounts.
	UpdatePasswords bool
	Paste           string
}

func (f importForm) options() bulk.Options {
	return bulk.Options{Format: f.Format, Mode: f.Mode, MatchEmail: f.MatchEmail, UserField: f.UserField, ValidOnly: f.ValidOnly, Notify: f.Notify,
		UpdatePasswords: f.UpdatePasswords, CreateGroups: true}
}

type importsData struct {
	Form       importForm
	Formats    []string
	Modes      []string
	UserFields []string
	Preview    *bulk.Report
	Rows       []bulk.RowResult // the preview's rows shown: the first ones, and every error
	MoreRows   int              // rows of the preview not shown
	Token      string
	CanApply   bool
	Batches    []*bulk.Batch
	// FileProblems says why the file could not be read, by line and column.
	FileProblems []string
}

func (w *Web) importsPage(rw http.ResponseWriter, r *http.Request, p *Page, d *importsData, status int) {
	d.Formats = bulk.Formats
	d.UserFields = []string{"", bulk.UserUsername, bulk.UserEmail, bulk.UserIDNumber}
	if d.Preview != nil {
		d.Rows, d.MoreRows = previewRows(d.Preview.Rows)
	}
	d.Modes = []string{bulk.AddNew, bulk.AddUpdate, bulk.UpdateOnly}
	batches, err := w.bulkService().Batches(r.Context(), importListLimit)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	d.Batches = batches
	p.Data = d
	w.render(rw, r, status, "admin_imports", p)
}

func (w *Web) adminImports(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "imports.title")
	if err := authz.RequirePlatformAdmin(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	w.importsPage(rw, r, p, &importsData{Form: importForm{Format: bulk.FormatMoodle, Mode: bulk.AddNew}}, http.StatusOK)
}

// adminImportPreview reads the multipart form as a stream: the file part is copied to a
// temporary file, the pasted text too (as the tsv format); the other fields are small.
func (w *Web) adminImportPreview(rw http.ResponseWriter, r *http.Request) {
	u := w.requireLogin(rw, r)
	if u == nil {
		return
	}
	p := w.page(rw, r, "imports.title")
	if err := authz.RequirePlatformAdmin(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	d := &importsData{}
	tmp, err := os.CreateTemp("", "roster-import-*")
	if err != nil {
		w.render(rw, r, showError(p, errs.Wrap(err, "import: spool")), "message", p)
		return
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	size, err := readImportForm(rw, r, tmp, &d.Form)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			p.Error = p.L.T("imports.too_large", maxImportUpload>>20)
			w.importsPage(rw, r, p, d, http.StatusRequestEntityTooLarge)
			return
		}
		p.Error = p.L.T("imports.bad_form")
		w.importsPage(rw, r, p, d, http.StatusBadRequest)
		return
	}
	if size == 0 && d.Form.Paste != "" {
		d.Form.Format = bulk.FormatTSV
		n, _ := io.WriteString(tmp, d.Form.Paste)
		size = int64(n)
	}
	if size == 0 {
		p.Fields["file"] = p.L.T("imports.no_file")
		w.importsPage(rw, r, p, d, http.StatusUnprocessableEntity)
		return
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		w.render(rw, r, showError(p, errs.Wrap(err, "import: spool")), "message", p)
		return
	}
	rep, err := w.bulkService().Preview(r.Context(), tmp, d.Form.options())
	if err != nil {
		if lines := fileProblems(p.L, err); len(lines) > 0 {
			// The file cannot be read (a quote, not UTF-8, a bad header): said on top and
			// beside the file, by line and column, as the command line does.
			p.Error = p.L.T("imports.file_problem")
			d.FileProblems = lines
			w.importsPage(rw, r, p, d, http.StatusUnprocessableEntity)
			return
		}
		w.importsPage(rw, r, p, d, showError(p, err))
		return
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		w.render(rw, r, showError(p, errs.Wrap(err, "import: spool")), "message", p)
		return
	}
	d.Token, err = w.bulkService().KeepUpload(r.Context(), tmp, u.ID, sessionOf(r), d.Form.options())
	if err != nil {
		w.importsPage(rw, r, p, d, showError(p, err))
		return
	}
	d.Preview = rep
	d.CanApply = rep.Summary.Errors == 0 || d.Form.ValidOnly
	w.importsPage(rw, r, p, d, http.StatusOK)
}

// readImportForm streams the form: the file into tmp (its size returned), the fields into f.
func readImportForm(rw http.ResponseWriter, r *http.Request, tmp *os.File, f *importForm) (int64, error) {
	r.Body = http.MaxBytesReader(rw, r.Body, maxImportUpload+maxImportField)
	mr, err := r.MultipartReader()
	if err != nil {
		return 0, err
	}
	var size int64
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return size, nil
		}
		if err != nil {
			return 0, err
		}
		if part.FormName() == "file" && part.FileName() != "" {
			n, err := io.Copy(tmp, io.LimitReader(part, maxImportUpload+1))
			if err != nil {
				return 0, err
			}
			if n > maxImportUpload {
				return 0, &http.MaxBytesError{Limit: maxImportUpload}
			}
			size += n
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxImportField+1))
		if err != nil {
			return 0, err
		}
		if len(b) > maxImportField {
			return 0, &http.MaxBytesError{Limit: maxImportField}
		}
		v := string(b)
		switch part.FormName() {
		case "format":
			f.Format = strings.TrimSpace(v)
		case "mode":
			f.Mode = strings.TrimSpace(v)
		case "match_email":
			f.MatchEmail = v != ""
		case "user_field":
			f.UserField = strings.TrimSpace(v)
		case "valid_only":
			f.ValidOnly = v != ""
		case "notify":
			f.Notify = v != ""
		case "update_passwords":
			f.UpdatePasswords = v != ""
		case "paste":
			if strings.TrimSpace(v) != "" {
				f.Paste = strings.ReplaceAll(v, "\r\n", "\n")
			}
		}
	}
}

// adminImportApply checks the kept file again and starts applying it in the background.
func (w *Web) adminImportApply(rw http.ResponseWriter, r *http.Request) {
	u := w.requireLogin(rw, r)
	if u == nil {
		return
	}
	p := w.page(rw, r, "imports.title")
	if err := parseForm(rw, r); err != nil {
		p.Error = p.L.T("imports.bad_form")
		w.render(rw, r, http.StatusBadRequest, "message", p)
		return
	}
	if err := authz.RequirePlatformAdmin(r.Context()); err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	token := formValue(r, "token")
	svc := w.bulkService()
	up, err := svc.TakeUpload(r.Context(), token, u.ID, sessionOf(r))
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	if up == nil {
		p.Error = p.L.T("imports.expired")
		w.importsPage(rw, r, p, &importsData{Form: importForm{Format: bulk.FormatMoodle, Mode: bulk.AddNew}}, http.StatusGone)
		return
	}
	o := up.Options
	if formValue(r, "valid_only") != "" {
		o.ValidOnly = true
	}
	rep, id, err := svc.Begin(r.Context(), up.Open, o)
	if err != nil || id == 0 {
		if perr := up.PutBack(context.WithoutCancel(r.Context())); perr != nil {
			w.log.Error("import: put back upload", "err", perr)
		}
		d := &importsData{Form: importForm{Format: o.Format, Mode: o.Mode, MatchEmail: o.MatchEmail, UserField: o.UserField,
			ValidOnly: o.ValidOnly, Notify: o.Notify, UpdatePasswords: o.UpdatePasswords}, Preview: rep, Token: token}
		status := http.StatusUnprocessableEntity
		if errors.Is(err, bulk.ErrImportRunning) {
			p.Error = p.L.T("imports.in_progress")
			status = http.StatusConflict
		} else if err != nil {
			status = showError(p, err)
		} else {
			p.Error = p.L.T("imports.has_errors")
		}
		w.importsPage(rw, r, p, d, status)
		return
	}
	// The apply outlives the request; the principal stays. A crash leaves the batch applying:
	// once its lease runs out, any instance rolls it back (bulk.Service.Recover).
	ctx := context.WithoutCancel(r.Context())
	go func() {
		defer func() {
			if err := up.Drop(ctx); err != nil {
				w.log.Error("import: drop upload", "err", err)
			}
		}()
		if _, err := svc.Run(ctx, id, up.Open, o); err != nil {
			w.log.Error("import: apply failed, rolled back", "batch", id, "err", err)
		}
	}()
	http.Redirect(rw, r, "/admin/imports/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// previewRows keeps the first importPageRows rows of a preview, and the rows with errors
// after them (up to as many again).
func previewRows(rows []bulk.RowResult) ([]bulk.RowResult, int) {
	if len(rows) <= importPageRows {
		return rows, 0
	}
	out := rows[:importPageRows:importPageRows]
	for _, r := range rows[importPageRows:] {
		if r.Action == bulk.ActError && len(out) < 2*importPageRows {
			out = append(out, r)
		}
	}
	return out, len(rows) - len(out)
}

// importFormFields are the fields of the import form, where showError puts their messages.
var importFormFields = map[string]bool{"file": true, "format": true, "mode": true, "user_field": true}

// fileProblems turns an Invalid error about a file's content (its lines, its header) into
// sentences in the person's language, "Ligne 3, colonne 7 : …"; nil for any other error.
func fileProblems(l Localizer, err error) []string {
	e := errs.As(err)
	if e.Code != errs.Invalid {
		return nil
	}
	if len(e.Fields) == 0 {
		return []string{e.In(l.Lang)}
	}
	var out []string
	for _, f := range e.Fields {
		if f.Line == 0 && importFormFields[f.Field] {
			return nil // a field of the form: showError puts it beside the field
		}
		out = append(out, atLine(l, f))
	}
	return out
}

// atLine says a problem of a file's line: "Ligne 3, colonne 7 : …", "Ligne 2, langue : …".
func atLine(l Localizer, f errs.FieldError) string {
	msg := f.In(l.Lang)
	field := ""
	if f.Field != "" {
		field = errs.FieldLabel(l.Lang, f.Field)
	}
	switch {
	case f.Line > 0 && f.Column > 0:
		return l.T("imports.at_line_column", f.Line, f.Column, msg)
	case f.Line > 0 && field != "":
		return l.T("imports.at_line_field", f.Line, field, msg)
	case f.Line > 0:
		return l.T("imports.at_line", f.Line, msg)
	case field != "":
		return field + l.T("punct.colon") + msg
	}
	return msg
}

// AtLine is atLine for templates.
func (l Localizer) AtLine(f errs.FieldError) string { return atLine(l, f) }

// FieldSays is a row's error where the line is already said: "Adresse e-mail : …", or for a
// column Roster has no name for, "colonne « groups » : …".
func (l Localizer) FieldSays(f errs.FieldError) string {
	switch {
	case f.Field == "":
		return f.In(l.Lang)
	case i18n.Default().Has(l.Lang, "field."+f.Field):
		return errs.FieldLabel(l.Lang, f.Field) + l.T("punct.colon") + f.In(l.Lang)
	}
	return l.T("imports.column_says", f.Field, f.In(l.Lang))
}
