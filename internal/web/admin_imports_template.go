package web

import (
	"encoding/csv"
	"net/http"

	"github.com/xuri/excelize/v2"
)

// /admin/imports/template.csv and template.xlsx: the spreadsheet template of the paste
// format (tsv): its columns and one example row. Rows copied from it paste as tab-separated
// text; the header row is recognised and skipped.

var (
	importTemplateHeader  = []string{"email", "first name", "last name", "groups", "roles", "language", "delete_at"}
	importTemplateExample = []string{"ada.lovelace@example.org", "Ada", "Lovelace", "CLASS-2026", "learner", "en", "2030-07-31"}
)

func (w *Web) adminImportTemplateCSV(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="roster-import-template.csv"`)
	cw := csv.NewWriter(rw)
	cw.Write(importTemplateHeader)
	cw.Write(importTemplateExample)
	cw.Flush()
}

func (w *Web) adminImportTemplateXLSX(rw http.ResponseWriter, r *http.Request) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, rowVals := range [][]string{importTemplateHeader, importTemplateExample} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		vals := make([]any, len(rowVals))
		for j, v := range rowVals {
			vals[j] = v
		}
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			w.log.Error("import: template", "err", err)
			http.Error(rw, "internal error", http.StatusInternalServerError)
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
