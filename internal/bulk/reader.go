// Package bulk parses and applies bulk files: Moodle's "Upload users" CSV, rows pasted from a
// spreadsheet (TSV), Moodle's "Upload cohorts" CSV (groups) and Moodle's flat enrolment file.
// Parsing and planning are pure and streaming (one row at a time, constant memory); the
// Service checks a file against the database (preview), applies it in batches of rows, one
// transaction per batch, records it as an import batch with its rows, and undoes it.
package bulk

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"roster/internal/errs"
)

// MaxLineBytes is the longest line a file may have; longer ones are an error (a 1 GB file
// without new lines must not be read into memory).
const MaxLineBytes = 64 << 10

// MaxFields is the most columns a row may have.
const MaxFields = 500

// record is one row of a file with the line it starts on.
type record struct {
	line   int
	fields []string
	cols   []int // 1-based column (in characters) of each field
}

// table reads a delimited file row by row: UTF-8 with or without a byte order mark, the
// delimiter given or guessed from the first line (comma, semicolon or tab).
type table struct {
	r      *csv.Reader
	header []string
}

var errEmpty = errs.Coded(errs.Invalid, "import_file_empty")

// lineGuard fails a read once a line grows past MaxLineBytes.
type lineGuard struct {
	r    io.Reader
	run  int
	line int
}

var errLongLine = errors.New("line too long")

func (g *lineGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			g.run = 0
			g.line++
			continue
		}
		g.run++
		if g.run > MaxLineBytes {
			return 0, errLongLine
		}
	}
	return n, err
}

// newTable opens r. delim 0 guesses the delimiter from the first line.
func newTable(r io.Reader, delim rune) (*table, *bufio.Reader, error) {
	guard := &lineGuard{r: r, line: 1}
	br := bufio.NewReaderSize(guard, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	first, err := br.Peek(4096)
	if len(first) == 0 {
		if errors.Is(err, errLongLine) {
			return nil, nil, lineErr(1, 0, "line_too_long", errs.P{"limit": MaxLineBytes})
		}
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, nil, errs.Wrap(err, "bulk: read")
		}
		return nil, nil, errEmpty
	}
	if delim == 0 {
		head := first
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			head = head[:i]
		}
		delim = ','
		c, s, t := bytes.Count(head, []byte{','}), bytes.Count(head, []byte{';'}), bytes.Count(head, []byte{'\t'})
		if s > c && s >= t {
			delim = ';'
		} else if t > c && t > s {
			delim = '\t'
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	if delim == '\t' {
		cr.LazyQuotes = true
	}
	return &table{r: cr}, br, nil
}

// next returns the next non-blank row, or io.EOF.
func (t *table) next() (*record, error) {
	for {
		fields, err := t.r.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if errors.Is(pe.Err, errLongLine) {
					return nil, lineErr(pe.StartLine, 0, "line_too_long", errs.P{"limit": MaxLineBytes})
				}
				if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
					return nil, lineErr(pe.Line, pe.Column, "quote_misplaced", nil)
				}
				return nil, lineErr(pe.Line, pe.Column, "csv_syntax", errs.P{"detail": pe.Err.Error()})
			}
			if errors.Is(err, errLongLine) {
				return nil, lineErr(0, 0, "line_too_long", errs.P{"limit": MaxLineBytes})
			}
			return nil, errs.Wrap(err, "bulk: read")
		}
		line, _ := t.r.FieldPos(0)
		blank := true
		for _, f := range fields {
			if strings.TrimSpace(f) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		if len(fields) > MaxFields {
			return nil, lineErr(line, 0, "too_many_columns", errs.P{"limit": MaxFields})
		}
		rec := &record{line: line, fields: fields, cols: make([]int, len(fields))}
		for i := range fields {
			_, rec.cols[i] = t.r.FieldPos(i)
			if !utf8.ValidString(fields[i]) {
				return nil, lineErr(line, rec.cols[i]+invalidUTF8At(fields[i]), "file_not_utf8", nil)
			}
			fields[i] = strings.TrimSpace(fields[i])
		}
		return rec, nil
	}
}

// lineErr is an Invalid error about a line of the file (and a column, in characters, when
// known), with a stable key: pages say it in the person's language ("Ligne 3, colonne 7 : …"),
// the command line prints the English message ("line 3, column 7: …").
func lineErr(line, column int, key string, p errs.P) error {
	msg := errs.English(key, p)
	full := msg
	switch {
	case line > 0 && column > 0:
		full = fmt.Sprintf("line %d, column %d: %s", line, column, msg)
	case line > 0:
		full = fmt.Sprintf("line %d: %s", line, msg)
	}
	return &errs.Error{Code: errs.Invalid, Key: key, Params: p, Message: full,
		Fields: []errs.FieldError{{Line: line, Column: column, Code: key, Params: p, Message: msg}}}
}

// invalidUTF8At is how many characters of s come before its first byte that is not UTF-8.
func invalidUTF8At(s string) int {
	n := 0
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return n
			}
		}
		n++
	}
	return n
}
