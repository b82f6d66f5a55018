package web

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"roster/internal/bulk"
	"roster/internal/errs"
)

// /admin/imports/{id}: one import batch: its progress while it applies, then its per-row
// report (also as report.csv) and Undo (a preview of the undo, then a confirmation).

type importBatchData struct {
	Batch     *bulk.Batch
	Rows      []bulk.BatchRow
	MoreRows  int // rows not listed on the page
	Percent   int
	Applying  bool
	CanUndo   bool
	Undo      *bulk.UndoReport // the undo preview
	UndoneNow bool
	Failure   []string // why a failed apply failed, by line, in the person's language
}

func batchID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Coded(errs.NotFound, "no_import_batch")
	}
	return id, nil
}

// loadBatch reads the batch of the path, or renders the error and returns nil.
func (w *Web) loadBatch(rw http.ResponseWriter, r *http.Request, p *Page) (*bulk.Service, *importBatchData) {
	svc := w.bulkService()
	id, err := batchID(r)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return nil, nil
	}
	b, err := svc.Batch(r.Context(), id)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return nil, nil
	}
	d := &importBatchData{Batch: b, Applying: b.Status == bulk.StatusApplying, CanUndo: b.Status == bulk.StatusApplied}
	if b.RowsTotal > 0 {
		d.Percent = b.RowsDone * 100 / b.RowsTotal
	}
	p.Data = d
	return svc, d
}

func (w *Web) adminImportBatch(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "imports.batch.title")
	svc, d := w.loadBatch(rw, r, p)
	if d == nil {
		return
	}
	d.UndoneNow = r.URL.Query().Get("undone") == "1"
	if d.UndoneNow {
		p.Notice = p.L.T("imports.undone")
	}
	if d.Batch.Status == bulk.StatusFailed || d.Batch.Status == bulk.StatusInterrupted {
		p.Error = p.L.T("imports.failed_nothing_applied")
		for _, f := range d.Batch.Failure {
			d.Failure = append(d.Failure, atLine(p.L, f.FieldError()))
		}
	}
	if !d.Applying {
		err := svc.BatchRows(r.Context(), d.Batch.ID, func(row bulk.BatchRow) error {
			if len(d.Rows) < importPageRows {
				d.Rows = append(d.Rows, row)
			} else {
				d.MoreRows++
			}
			return nil
		})
		if err != nil {
			w.render(rw, r, showError(p, err), "message", p)
			return
		}
	}
	w.render(rw, r, http.StatusOK, "admin_imports_batch", p)
}

// importProgress is the body of GET /admin/imports/{id}/progress.
type importProgress struct {
	Status    string `json:"status"`
	RowsDone  int    `json:"rows_done"`
	RowsTotal int    `json:"rows_total"`
}

func (w *Web) adminImportProgress(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	id, err := batchID(r)
	var b *bulk.Batch
	if err == nil {
		b, err = w.bulkService().Batch(r.Context(), id)
	}
	if err != nil {
		e := errs.As(err)
		rw.WriteHeader(errs.HTTPStatus(e.Code))
		json.NewEncoder(rw).Encode(map[string]string{"error": e.Message})
		return
	}
	json.NewEncoder(rw).Encode(importProgress{Status: b.Status, RowsDone: b.RowsDone, RowsTotal: b.RowsTotal})
}

// csvCell neutralises a cell a spreadsheet would read as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (w *Web) adminImportReportCSV(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "imports.batch.title")
	svc, d := w.loadBatch(rw, r, p)
	if d == nil {
		return
	}
	id := strconv.FormatInt(d.Batch.ID, 10)
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="import-`+id+`-report.csv"`)
	rw.Header().Set("Cache-Control", "no-store")
	// Headers, actions and messages in the reader's language; ?headers=codes gives the
	// stable machine headers and values (actions as codes, messages in English).
	codes := r.URL.Query().Get("headers") == "codes"
	io.WriteString(rw, csvBOM)
	cw := csv.NewWriter(rw)
	header := []string{"line", "action", "user_id", "changes", "messages"}
	if !codes {
		for i, h := range header {
			header[i] = p.L.T("imports.report.col." + h)
		}
	}
	cw.Write(header)
	err := svc.BatchRows(r.Context(), d.Batch.ID, func(row bulk.BatchRow) error {
		user := ""
		if row.UserID != 0 {
			user = strconv.FormatInt(row.UserID, 10)
		}
		action, messages := row.Action, row.Messages
		if !codes {
			action = p.L.T("imports.action." + row.Action)
			if len(row.Remarks) > 0 {
				messages = nil
				for _, m := range row.Remarks {
					messages = append(messages, m.In(p.L.Lang))
				}
			}
		}
		return cw.Write([]string{strconv.Itoa(row.Line), csvCell(action), user, csvCell(strings.Join(row.Changes, " ")),
			csvCell(strings.Join(messages, "; "))})
	})
	cw.Flush()
	if err != nil {
		w.log.Error("import: report", "batch", id, "err", err)
	}
}

func (w *Web) adminImportUndoForm(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "imports.undo.title")
	svc, d := w.loadBatch(rw, r, p)
	if d == nil {
		return
	}
	rep, err := svc.Undo(r.Context(), d.Batch.ID, true)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	d.Undo = rep
	w.render(rw, r, http.StatusOK, "admin_imports_undo", p)
}

func (w *Web) adminImportUndo(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "imports.undo.title")
	if err := parseForm(rw, r); err != nil {
		w.render(rw, r, http.StatusBadRequest, "message", p)
		return
	}
	id, err := batchID(r)
	if err == nil {
		_, err = w.bulkService().Undo(r.Context(), id, false)
	}
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	http.Redirect(rw, r, "/admin/imports/"+strconv.FormatInt(id, 10)+"?undone=1", http.StatusSeeOther)
}
