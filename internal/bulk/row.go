package bulk

import (
	"io"
	"strings"
	"time"

	"roster/internal/errs"
)

// Formats of bulk files.
const (
	FormatMoodle     = "moodle"
	FormatTSV        = "tsv"
	FormatGroups     = "groups"
	FormatEnrolments = "enrolments"
)

// Formats lists every format, for help texts.
var Formats = []string{FormatMoodle, FormatTSV, FormatGroups, FormatEnrolments, FormatMethods}

// Row is one parsed line of a file. Which parts are set depends on the format: user rows
// (moodle, tsv) fill User and may carry Enrols and Groups; an enrolments line fills Enrols
// with one entry and Login; a groups line fills Group.
type Row struct {
	Line int
	User *UserFields
	// Login names an existing account (enrolments format): username, email or idnumber
	// (Options.UserField), as written.
	Login  string
	Enrols []Enrol
	Groups []GroupRef
	Group  *GroupFields
	Method *MethodFields // methods format
	Notes  []string      // columns accepted but ignored, and other remarks, in English
	// Remarks are the Notes as codes with parameters, for pages in the reader's language.
	Remarks []errs.Stored
	Errors  []errs.FieldError
}

// UserFields are the account fields a row gives; Set says which columns were present (a
// missing column leaves a field unchanged on update).
type UserFields struct {
	Username, Email, FirstName, LastName, Password, Auth, IDNumber, Language string
	Suspended                                                                bool
	NoEmail                                                                  bool // Moodle's emailstop
	DeleteAt                                                                 *time.Time
	Custom                                                                   map[string]string
	Set                                                                      map[string]bool
}

// Enrol is one course enrolment a row asks for.
type Enrol struct {
	Course      string // shortname
	Role        string // Roster course role shortname; "" for the method's default (student)
	RoleName    string // the role as the file writes it, lower case: mapped through the site's role map
	Redate      bool   // planned: the enrolment exists; its dates change to StartsAt, EndsAt
	CourseGroup string // course group name; "" for none
	Suspended   bool
	StartsAt    *time.Time
	EndsAt      *time.Time
	Period      time.Duration // Moodle's enrolperiod: EndsAt = start + Period
	Remove      bool          // enrolments format "del"
	Column      string        // the column it came from, for messages
}

// GroupRef is a group membership a row asks for, the group named by idnumber.
type GroupRef struct {
	IDNumber string
	Role     string // group role
	Column   string
}

// GroupFields is one line of an "Upload cohorts" file.
type GroupFields struct {
	Name, IDNumber, Description, Parent string
	Private                             bool
}

// addErr records a coded problem of the row: addErr("lang", "language_unavailable", errs.P{"value": v}).
func (r *Row) addErr(field, key string, params ...errs.P) {
	var f errs.Fields
	f.AddAt(r.Line, 0, field, key, params...)
	r.Errors = append(r.Errors, f...)
}

// addErrText records a problem with an English message and no code.
func (r *Row) addErrText(field, msg string) {
	r.Errors = append(r.Errors, errs.FieldError{Field: field, Line: r.Line, Message: msg})
}

// note records a remark about field ("" for the row as a whole), by key: the English text
// goes to Notes (the API, the report file), the code to Remarks (the pages).
func (r *Row) note(field, key string, p ...errs.P) {
	var pp errs.P
	if len(p) > 0 {
		pp = p[0]
	}
	msg := errs.English(key, pp)
	r.Remarks = append(r.Remarks, errs.Stored{Field: field, Code: key, Params: pp, Message: msg})
	if field != "" {
		msg = field + ": " + msg
	}
	r.Notes = append(r.Notes, msg)
}

// Parser reads one format row by row.
type Parser interface {
	// Next returns the next row or io.EOF. A row with problems is returned with Errors; an
	// error is returned only when the file cannot be read further (encoding, quoting, a line
	// too long).
	Next() (*Row, error)
}

// NewParser returns the parser of format over r. The header (where the format has one) is
// read now: unknown or missing columns are an error here.
func NewParser(format string, r io.Reader) (Parser, error) {
	switch format {
	case FormatMoodle, "":
		return newMoodle(r)
	case FormatTSV:
		return newTSV(r)
	case FormatGroups:
		return newGroups(r)
	case FormatEnrolments:
		return newEnrolments(r)
	case FormatMethods:
		return newMethods(r)
	}
	return nil, errs.FieldCode("format", "import_unknown_format", errs.P{"value": format, "formats": strings.Join(Formats, ", ")})
}
