package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"

	"roster/internal/bulk"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
)

// maxImportBody bounds an uploaded bulk file.
const maxImportBody = 256 << 20

// ImportRow is one line of an import report.
type ImportRow struct {
	Line    int               `json:"line"`
	Action  string            `json:"action"`
	Errors  []errs.FieldError `json:"errors"`
	Notes   []string          `json:"notes,omitempty"`
	Changes []string          `json:"changes,omitempty"`
}

// ImportReport is the body of POST /api/v1/imports.
type ImportReport struct {
	BatchID string       `json:"batch_id,omitempty"`
	Applied bool         `json:"applied"`
	Summary bulk.Summary `json:"summary"`
	Rows    []ImportRow  `json:"rows"`
}

// createImport is POST /api/v1/imports?format=moodle|tsv|groups|enrolments|methods&mode=preview|apply
// with the file as the body, and the upload options type=add_new|add_update|update_only,
// match=email, user_field=username|email|idnumber (enrolments), allow_renames, valid_only, create_groups,
// notify and update_passwords (true/false). The body is spooled
// to a temporary file: applying reads it twice (check, then apply) without holding it.
func (a *API) createImport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := bulk.Options{Format: q.Get("format"), Mode: q.Get("type"), MatchEmail: q.Get("match") == "email", CreateGroups: true,
		UserField: q.Get("user_field")}
	var f errs.Fields
	for name, dst := range map[string]*bool{"allow_renames": &o.AllowRenames, "valid_only": &o.ValidOnly, "create_groups": &o.CreateGroups, "notify": &o.Notify,
		"update_passwords": &o.UpdatePasswords} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				f.AddCode(name, "api_not_boolean_plain")
			}
			*dst = b
		}
	}
	mode := q.Get("mode")
	if mode == "" {
		mode = "preview"
	}
	if mode != "preview" && mode != "apply" {
		f.AddCode("mode", "api_import_mode")
	}
	if err := f.Err(); err != nil {
		a.problem(w, r, err)
		return
	}
	tmp, err := os.CreateTemp("", "roster-import-*")
	if err != nil {
		a.problem(w, r, errs.Wrap(err, "import: spool"))
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, http.MaxBytesReader(w, r.Body, maxImportBody)); err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			a.problem(w, r, errs.Coded(errs.TooLarge, "api_file_too_large", errs.P{"mb": maxImportBody >> 20}))
			return
		}
		a.problem(w, r, errs.Wrap(err, "import: read body"))
		return
	}
	open := func() (io.ReadCloser, error) {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return io.NopCloser(tmp), nil
	}
	svc := a.bulk()
	var rep *bulk.Report
	if mode == "apply" {
		rep, err = svc.Apply(r.Context(), open, o)
	} else {
		rc, _ := open()
		rep, err = svc.Preview(r.Context(), rc, o)
	}
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := ImportReport{Applied: rep.Applied, Summary: rep.Summary, Rows: make([]ImportRow, 0, len(rep.Rows))}
	if rep.BatchID != 0 {
		out.BatchID = ID(rep.BatchID)
	}
	for _, row := range rep.Rows {
		out.Rows = append(out.Rows, ImportRow{Line: row.Line, Action: row.Action, Errors: row.Errors, Notes: row.Notes, Changes: row.Changes})
	}
	writeJSON(w, http.StatusOK, out)
}

// bulk returns the import service.
func (a *API) bulk() *bulk.Service {
	groups, courses := a.Groups, a.Courses
	if groups == nil {
		groups = group.NewService(a.db)
	}
	if courses == nil {
		courses = course.NewService(a.db, course.Config{})
	}
	return bulk.NewService(a.db, a.Accounts, groups, courses)
}

// ImportUndo is the body of POST /api/v1/imports/{id}/undo.
type ImportUndo struct {
	BatchID string `json:"batch_id"`
	bulk.UndoReport
}

// undoImport is POST /api/v1/imports/{id}/undo?mode=preview|apply (preview by default): what
// undoing the batch does, or did. 409 when it is already undone, rolled back or still applying.
func (a *API) undoImport(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	mode := r.URL.Query().Get("mode")
	if mode == "" {
		mode = "preview"
	}
	if mode != "preview" && mode != "apply" {
		a.problem(w, r, errs.FieldCode("mode", "api_import_mode"))
		return
	}
	rep, err := a.bulk().Undo(r.Context(), id, mode == "preview")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ImportUndo{BatchID: ID(id), UndoReport: *rep})
}
