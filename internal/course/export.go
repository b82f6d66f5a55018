package course

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"roster/internal/errs"
)

// The formats the participants list downloads as.
const (
	CSV  = "csv"
	XLSX = "xlsx"
	ODS  = "ods"
	JSON = "json"
)

// Formats lists them with their media types.
var Formats = map[string]string{
	CSV:  "text/csv; charset=utf-8",
	XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	ODS:  "application/vnd.oasis.opendocument.spreadsheet",
	JSON: "application/json",
}

// exportHeader names the columns of every download.
var exportHeader = []string{"first_name", "last_name", "email", "username", "roles", "groups", "methods", "status", "last_access"}

// Export writes the participants that match f (every page: f.Limit and f.Offset are ignored,
// unless only makes it the selected people) in a format. Text cells that begin with =, +, -,
// @, a tab or a carriage return are prefixed with ' in CSV, XLSX and ODS, so that a spreadsheet
// never reads them as formulas; JSON keeps the values as they are (no program evaluates it).
// It needs authz.ViewParticipants. Errors: Forbidden, NotFound, Invalid (filter, format).
func (s *Service) Export(ctx context.Context, courseID int64, f ParticipantFilter, only []int64, format string, w io.Writer) error {
	return s.ExportIn(ctx, courseID, f, only, format, w, nil)
}

// Words put an export in a person's language: the header of each column (by its code:
// first_name, roles…), the values that are codes (roles, methods, status) and times. Nil
// keeps the codes and RFC 3339 times, for machines.
type Words struct {
	Header func(column string) string
	Value  func(column, value string) string
	Time   func(t time.Time) string
}

// ExportIn is Export with words; a CSV in words starts with a UTF-8 byte order mark, so that
// spreadsheets read its accents right.
func (s *Service) ExportIn(ctx context.Context, courseID int64, f ParticipantFilter, only []int64, format string, w io.Writer, words *Words) error {
	if _, ok := Formats[format]; !ok {
		return errs.FieldCode("format", "bad_export_format")
	}
	f.Limit, f.Offset = All, 0
	f.brief = format != JSON // a spreadsheet's row shows method types, roles and group names only
	page, err := s.Participants(ctx, courseID, f)
	if err != nil {
		return err
	}
	items := page.Items
	if len(only) > 0 {
		keep := map[int64]bool{}
		for _, id := range only {
			keep[id] = true
		}
		var sel []Participant
		for _, p := range items {
			if keep[p.UserID] {
				sel = append(sel, p)
			}
		}
		items = sel
	}
	switch format {
	case JSON:
		return writeJSON(w, items)
	}
	header := exportHeader
	if words != nil {
		header = make([]string, len(exportHeader))
		for i, col := range exportHeader {
			header[i] = words.Header(col)
		}
	}
	if format == XLSX || format == ODS {
		rows := make([][]string, 0, len(items)+1)
		rows = append(rows, header)
		for i := range items {
			rows = append(rows, safeRow(exportRow(nil, &items[i], words)))
		}
		if format == XLSX {
			return writeXLSX(w, rows)
		}
		return writeODS(w, rows)
	}
	if words != nil {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return wrap(err, "course: csv")
		}
	}
	// Line by line, in one row's cells reused.
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return wrap(err, "course: csv")
	}
	row := make([]string, 0, len(exportHeader))
	for i := range items {
		if err := cw.Write(safeRow(exportRow(row[:0], &items[i], words))); err != nil {
			return wrap(err, "course: csv")
		}
	}
	cw.Flush()
	return wrap(cw.Error(), "course: csv")
}

// exportRow appends p's cells to row.
func exportRow(row []string, p *Participant, words *Words) []string {
	value := func(_, v string) string { return v }
	if words != nil {
		value = words.Value
	}
	access := ""
	if p.LastAccess != nil {
		access = p.LastAccess.Format(time.RFC3339)
		if words != nil {
			access = words.Time(*p.LastAccess)
		}
	}
	return append(row, p.FirstName, p.LastName, p.Email, p.Username,
		joined(len(p.Roles), func(i int) string { return value("roles", p.Roles[i]) }),
		joined(len(p.Groups), func(i int) string { return p.Groups[i] }),
		joined(len(p.Enrolments), func(i int) string { return value("methods", p.Enrolments[i].MethodType) }),
		value("status", p.Status), access)
}

// joined joins the n words at gives with ", " (one word is itself: no copy).
func joined(n int, at func(int) string) string {
	if n == 1 {
		return at(0)
	}
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(at(i))
	}
	return b.String()
}

// SafeCell keeps a spreadsheet from reading a cell as a formula.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func safeRow(r []string) []string {
	for i := range r {
		r[i] = SafeCell(r[i])
	}
	return r
}

type jsonEnrolment struct {
	MethodID   string     `json:"method_id"`
	MethodType string     `json:"method_type"`
	Role       string     `json:"role"`
	Status     string     `json:"status"`
	StartsAt   *time.Time `json:"starts_at"`
	EndsAt     *time.Time `json:"ends_at"`
}

// JSONParticipant is a participant as the API and the JSON download show it.
type JSONParticipant struct {
	UserID     string          `json:"user_id"`
	Username   string          `json:"username"`
	Email      string          `json:"email"`
	FirstName  string          `json:"first_name"`
	LastName   string          `json:"last_name"`
	Roles      []string        `json:"roles"`
	Groups     []string        `json:"groups"`
	Status     string          `json:"status"`
	LastAccess *time.Time      `json:"last_access_at"`
	Enrolments []jsonEnrolment `json:"enrolments"`
}

// ToJSON converts a participant to its JSON form.
func ToJSON(p Participant) JSONParticipant {
	j := JSONParticipant{UserID: idStr(p.UserID), Username: p.Username, Email: p.Email, FirstName: p.FirstName,
		LastName: p.LastName, Roles: p.Roles, Groups: p.Groups, Status: p.Status, LastAccess: p.LastAccess,
		Enrolments: []jsonEnrolment{}}
	if j.Roles == nil {
		j.Roles = []string{}
	}
	if j.Groups == nil {
		j.Groups = []string{}
	}
	for _, e := range p.Enrolments {
		j.Enrolments = append(j.Enrolments, jsonEnrolment{MethodID: idStr(e.MethodID), MethodType: e.MethodType, Role: e.Role,
			Status: e.Status, StartsAt: e.StartsAt, EndsAt: e.EndsAt})
	}
	return j
}

func writeJSON(w io.Writer, items []Participant) error {
	out := make([]JSONParticipant, 0, len(items))
	for _, p := range items {
		out = append(out, ToJSON(p))
	}
	enc := json.NewEncoder(w)
	return wrap(enc.Encode(map[string]any{"items": out}), "course: json")
}

func writeXLSX(w io.Writer, rows [][]string) error {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return wrap(err, "course: xlsx")
	}
	for i, r := range rows {
		cells := make([]any, len(r))
		for j, v := range r {
			cells[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, cells); err != nil {
			return wrap(err, "course: xlsx")
		}
	}
	if err := sw.Flush(); err != nil {
		return wrap(err, "course: xlsx")
	}
	f.SetSheetName("Sheet1", "Participants")
	return wrap(f.Write(w), "course: xlsx")
}

// writeODS writes a minimal OpenDocument spreadsheet: the mimetype first and stored, a
// manifest, and content.xml with one table of string cells.
func writeODS(w io.Writer, rows [][]string) error {
	z := zip.NewWriter(w)
	mt, err := z.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		return wrap(err, "course: ods")
	}
	io.WriteString(mt, Formats[ODS])
	mf, err := z.Create("META-INF/manifest.xml")
	if err != nil {
		return wrap(err, "course: ods")
	}
	io.WriteString(mf, xml.Header+`<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
`)
	c, err := z.Create("content.xml")
	if err != nil {
		return wrap(err, "course: ods")
	}
	io.WriteString(c, xml.Header+`<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" `+
		`xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" `+
		`office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Participants">`)
	for _, r := range rows {
		io.WriteString(c, "<table:table-row>")
		for _, v := range r {
			io.WriteString(c, `<table:table-cell office:value-type="string"><text:p>`)
			xml.EscapeText(c, []byte(v))
			io.WriteString(c, "</text:p></table:table-cell>")
		}
		io.WriteString(c, "</table:table-row>")
	}
	io.WriteString(c, `</table:table></office:spreadsheet></office:body></office:document-content>`)
	return wrap(z.Close(), "course: ods")
}
