package sis

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"roster/internal/errs"
)

// ReadCSVFile reads a CSV export (see ReadCSV). A file that cannot be opened is an error: the
// run stops and nothing is applied.
func ReadCSVFile(path string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sis: %w", err)
	}
	defer f.Close()
	src, err := ReadCSV(f, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	src.Name = "csv"
	return src, nil
}

// ReadCSV reads `course,user,role` rows with a header line; optional columns are `group`,
// `starts` and `ends` (also `starts_at`, `ends_at`; dates as 2006-01-02, RFC 3339 or Unix
// seconds), `email`, `first_name` and `last_name` (to create the accounts of unknown people,
// when the source may), in any order. A missing header or required column, or a file that is not CSV, is
// an error; a malformed row is an issue naming file and line, and is skipped.
func ReadCSV(r io.Reader, file string) (*Source, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("sis: %s: %w", file, err)
	}
	lines := bytes.Count(data, []byte{'\n'}) + 1
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("sis: %s: empty file, expected a header course,user,role", file)
	}
	if err != nil {
		return nil, fmt.Errorf("sis: %s: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "starts_at", "start":
			h = "starts"
		case "ends_at", "end":
			h = "ends"
		}
		col[h] = i
	}
	for _, need := range []string{"course", "user", "role"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("sis: %s:1: missing column %q (the header must name course, user and role)", file, need)
		}
	}
	// The columns by index (-1: absent), so that a row costs no lookup by name.
	idx := func(name string) int {
		if i, ok := col[name]; ok {
			return i
		}
		return -1
	}
	cCourse, cUser, cRole, cGroup, cStarts, cEnds := idx("course"), idx("user"), idx("role"), idx("group"), idx("starts"), idx("ends")
	cEmail, cFirst, cLast := idx("email"), idx("first_name"), idx("last_name")
	get := func(rec []string, i int) string {
		if i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	src := &Source{Name: "csv:" + file}
	in := interner{}
	// One slice of as many rows as the file has lines: a growing slice of half a million
	// rows would be copied over and over.
	rows := make([]Row, 0, lines)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				src.Issues = append(src.Issues, newIssue(file, pe.Line, "sync_malformed", errs.P{"detail": pe.Err.Error()}))
				if pe.Err == csv.ErrFieldCount {
					continue
				}
				// A broken quote makes the rest of the file unreliable.
				return nil, fmt.Errorf("sis: %s:%d: %v", file, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("sis: %s: %w", file, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			src.Issues = append(src.Issues, newIssue(file, line, "sync_field_count", errs.P{"count": len(rec), "header": len(header)}))
			continue
		}
		course, user, role := get(rec, cCourse), get(rec, cUser), get(rec, cRole)
		if course == "" || user == "" || role == "" {
			var bad []string
			for _, f := range []struct{ name, v string }{{"course", course}, {"user", user}, {"role", role}} {
				if f.v == "" {
					bad = append(bad, f.name)
				}
			}
			src.Issues = append(src.Issues, newIssue(file, line, "sync_empty_columns", errs.P{"columns": strings.Join(bad, ", ")}))
			continue
		}
		// Courses, roles and groups repeat: one string each, not one per row (ReuseRecord
		// makes every field a fresh copy otherwise).
		row := Row{File: file, Line: line, Course: in.get(course), User: strings.Clone(user), Role: in.get(role), Group: in.get(get(rec, cGroup))}
		if row.Starts, err = parseDate(get(rec, cStarts)); err != nil {
			src.Issues = append(src.Issues, newIssue(file, line, "sync_bad_date", errs.P{"column": "starts", "detail": err.Error()}))
			continue
		}
		if row.Ends, err = parseDate(get(rec, cEnds)); err != nil {
			src.Issues = append(src.Issues, newIssue(file, line, "sync_bad_date", errs.P{"column": "ends", "detail": err.Error()}))
			continue
		}
		if row.Starts != 0 && row.Ends != 0 && row.Ends <= row.Starts {
			src.Issues = append(src.Issues, newIssue(file, line, "sync_ends_before_starts", nil))
			continue
		}
		row.Person = personOf(row.User, get(rec, cEmail), get(rec, cFirst), get(rec, cLast), "")
		rows = append(rows, row)
	}
	if len(rows) > 0 {
		src.Rows = rows
	}
	return src, nil
}

// readAll reads r to its end, in one allocation when r tells its size.
func readAll(r io.Reader) ([]byte, error) {
	size := 0
	switch v := r.(type) {
	case interface{ Len() int }:
		size = v.Len()
	case *os.File:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			size = int(fi.Size())
		}
	}
	if size <= 0 {
		return io.ReadAll(r)
	}
	var b bytes.Buffer
	b.Grow(size + bytes.MinRead) // ReadFrom then meets the end without growing
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}

// parseDate reads an optional date: 2006-01-02 (UTC midnight), RFC 3339, or Unix seconds.
func parseDate(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, fmt.Errorf("%q is not a date (2006-01-02, RFC 3339 or Unix seconds)", s)
}

// interner hands out one copy of each repeated string.
type interner map[string]string

func (in interner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in[s]; ok {
		return v
	}
	s = strings.Clone(s)
	in[s] = s
	return s
}
