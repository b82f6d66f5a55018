package web

import (
	"encoding/csv"
	"io"
	"net/http"
	"strings"

	"github.com/xuri/excelize/v2"

	"roster/internal/i18n"
)

// /admin/imports/template.csv and template.xlsx: the spreadsheet template of the paste
// format (tsv): its columns and one example row. Rows copied from it paste as tab-separated
// text; the header row is recognised and skipped.

// importTemplateHeader are the machine headers (?headers=codes); the template's other
// rows are written in the reader's language (catalog "imports.template.*"). The header row
// is recognised by its first cell ("mail" or "courriel" in it) in every language. Role
// values stay codes: the file is read back by the import.
var importTemplateHeader = []string{"email", "first name", "last name", "groups", "roles", "language", "delete_at"}

// importTemplate is the header and example row in the language of the page, or the machine
// headers and the English example with ?headers=codes.
func (w *Web) importTemplate(rw http.ResponseWriter, r *http.Request) [][]string {
	if r.URL.Query().Get("headers") == "codes" {
		return [][]string{importTemplateHeader, strings.Split(i18n.T("en", "imports.template.example"), "\t")}
	}
	l := w.page(rw, r, "imports.title").L
	header := make([]string, len(importTemplateHeader))
	for i, h := range importTemplateHeader {
		header[i] = l.T("imports.template.col." + strings.ReplaceAll(h, " ", "_"))
	}
	return [][]string{header, strings.Split(l.T("imports.template.example"), "\t")}
}

// csvBOM opens a CSV file with a UTF-8 byte order mark, so that Excel shows accents.
const csvBOM = "\ufeff"

func (w *Web) adminImportTemplateCSV(rw http.ResponseWriter, r *http.Request) {
	rows := w.importTemplate(rw, r)
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="roster-import-template.csv"`)
	io.WriteString(rw, csvBOM)
	cw := csv.NewWriter(rw)
	cw.WriteAll(rows)
}

func (w *Web) adminImportTemplateXLSX(rw http.ResponseWriter, r *http.Request) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, rowVals := range w.importTemplate(rw, r) {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		vals := make([]any, len(rowVals))
		for j, v := range rowVals {
			vals[j] = v
		}
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			w.log.Error("import: template", "err", err)
			http.Error(rw, i18n.T(Languages[0], "error.internal"), http.StatusInternalServerError)
			return
		}
	}
	f.SetColWidth(sheet, "A", "A", 28)
	f.SetColWidth(sheet, "B", "G", 14)
	rw.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	rw.Header().Set("Content-Disposition", `attachment; filename="roster-import-template.xlsx"`)
	if err := f.Write(rw); err != nil {
		w.log.Error("import: template", "err", err)
	}
}
