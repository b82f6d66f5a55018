package course_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/store/storetest"
)

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+1": "'+1", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)",
		"\t=1": "'\t=1", "\r=1": "'\r=1", "Ann": "Ann", "": "", "a=b": "a=b",
	} {
		if got := course.SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExportFormats writes every format for a participant whose names are formulas, and reads
// each back: CSV, XLSX (through excelize), ODS (as a zip whose mimetype comes first, stored,
// with well-formed XML), JSON.
func TestExportFormats(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	s := course.NewService(db, course.Config{})
	c := mustCourse(t, s, "XPORT")
	evil := addUser(t, db, "=cmd|' /C calc'!A0", "@SUM(1+1)")
	plain := addUser(t, db, "Ann", "Archer & <Co>")
	mustEnrol(t, s, c.ID, course.Student, evil, plain)

	export := func(format string, only ...int64) []byte {
		t.Helper()
		var b bytes.Buffer
		if err := s.Export(admin, c.ID, course.ParticipantFilter{}, only, format, &b); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		return b.Bytes()
	}
	want := [][]string{
		{"'=cmd|' /C calc'!A0", "'@SUM(1+1)"},
		{"Ann", "Archer & <Co>"},
	}
	checkRows := func(format string, rows [][]string) {
		t.Helper()
		if len(rows) != 3 || rows[0][0] != "first_name" {
			t.Fatalf("%s: rows = %q", format, rows)
		}
		// Sorted by last name: "'@SUM" < "Archer".
		for i, w := range want {
			if rows[i+1][0] != w[0] || rows[i+1][1] != w[1] {
				t.Errorf("%s row %d = %q, want %q", format, i+1, rows[i+1][:2], w)
			}
		}
	}

	rows, err := csv.NewReader(bytes.NewReader(export(course.CSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	checkRows("csv", rows)

	f, err := excelize.OpenReader(bytes.NewReader(export(course.XLSX)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err = f.GetRows("Participants")
	if err != nil {
		t.Fatal(err)
	}
	checkRows("xlsx", rows)

	checkRows("ods", readODS(t, export(course.ODS)))

	var j struct {
		Items []course.JSONParticipant `json:"items"`
	}
	if err := json.Unmarshal(export(course.JSON, plain), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Items) != 1 || j.Items[0].LastName != "Archer & <Co>" || j.Items[0].Roles[0] != course.Student {
		t.Fatalf("json = %+v", j)
	}
	var b bytes.Buffer
	wantCode(t, s.Export(admin, c.ID, course.ParticipantFilter{}, nil, "pdf", &b), errs.Invalid, "format")
}

// readODS checks the package structure of an OpenDocument spreadsheet and returns its cells.
func readODS(t *testing.T, b []byte) [][]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if z.File[0].Name != "mimetype" || z.File[0].Method != zip.Store {
		t.Fatalf("ods: the first entry must be mimetype, stored; got %s (method %d)", z.File[0].Name, z.File[0].Method)
	}
	files := map[string][]byte{}
	for _, f := range z.File {
		r, _ := f.Open()
		files[f.Name], _ = io.ReadAll(r)
		r.Close()
	}
	if string(files["mimetype"]) != "application/vnd.oasis.opendocument.spreadsheet" {
		t.Fatalf("ods mimetype = %q", files["mimetype"])
	}
	if !strings.Contains(string(files["META-INF/manifest.xml"]), `full-path="content.xml"`) {
		t.Fatal("ods: the manifest does not list content.xml")
	}
	for _, name := range []string{"META-INF/manifest.xml", "content.xml"} {
		d := xml.NewDecoder(bytes.NewReader(files[name]))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("ods %s is not well-formed XML: %v", name, err)
			}
		}
	}
	var doc struct {
		Rows []struct {
			Cells []struct {
				P string `xml:"p"`
			} `xml:"table-cell"`
		} `xml:"body>spreadsheet>table>table-row"`
	}
	if err := xml.Unmarshal(files["content.xml"], &doc); err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, r := range doc.Rows {
		var row []string
		for _, c := range r.Cells {
			row = append(row, c.P)
		}
		out = append(out, row)
	}
	return out
}
