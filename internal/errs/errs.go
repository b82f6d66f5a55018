// Package errs is Roster's one error type: a code that decides the HTTP status and a message
// that is safe to show to the person who caused it. Internal causes are kept for the logs only.
//
// An error also carries a stable snake_case key with named parameters ("too_long", {"limit":
// 100}): the API sends it as `code` beside the English message, and pages, emails and the
// command line turn it into words through the catalog ("err."+key in internal/web/locales).
// Build such errors with FieldCode, Coded and Fields.AddCode; the catalog test fails on a key
// that a language lacks.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"roster/internal/i18n"
)

// Code classifies an error. The set is small on purpose: each maps to one HTTP status.
type Code string

// The codes Roster uses.
const (
	Invalid      Code = "invalid"      // bad input; Fields says where
	NotFound     Code = "not_found"    // the thing does not exist (or the caller may not know it does)
	Conflict     Code = "conflict"     // it already exists, or the state forbids the change
	Unauthorized Code = "unauthorized" // not logged in, or wrong credentials
	Forbidden    Code = "forbidden"    // logged in, but not allowed
	Gone         Code = "gone"         // a token that is unknown, used or expired
	TooMany      Code = "too_many"     // throttled; RetryAfter says for how long
	Internal     Code = "internal"     // a fault of ours; the cause is logged, never shown
	TooLarge     Code = "too_large"    // a request body over the limit
	Unavailable  Code = "unavailable"  // a dependency is down
)

// P holds the named parameters of a coded message: {"limit": 100}, {"group": "Biologie"}.
// Values are what a person may read (a name, a limit, a line): never an internal id.
type P map[string]any

// FieldError names one bad field, and the line (and column) of a file where there is one.
// Code is its stable key (empty for an error built from a bare English message).
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Params  P      `json:"-"`
}

// Error is the error every Roster service returns. Code is its class (it decides the HTTP
// status); Key is the stable snake_case code of its message, with Params.
type Error struct {
	Code       Code
	Key        string
	Params     P
	Message    string       // safe to show, English
	Fields     []FieldError // for Invalid: which fields, why
	RetryAfter int          // seconds, for TooMany and Unavailable
	Cause      error        // for the logs
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with a code and a safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// English is the English text of a key with its parameters: the API's message.
func English(key string, p P) string {
	c := i18n.Default()
	if !c.Has("en", "err."+key) {
		return strings.ReplaceAll(key, "_", " ")
	}
	return c.Named("en", "err."+key, p)
}

func params(p []P) P {
	switch len(p) {
	case 0:
		return nil
	case 1:
		return p[0]
	}
	all := P{}
	for _, q := range p {
		for k, v := range q {
			all[k] = v
		}
	}
	return all
}

// FieldCode returns an Invalid error about one field, with a stable key and its parameters:
// errs.FieldCode("email", "required"), errs.FieldCode("name", "too_long", errs.P{"limit": 100}).
func FieldCode(field, key string, p ...P) *Error {
	pp := params(p)
	msg := English(key, pp)
	return &Error{Code: Invalid, Key: key, Params: pp, Message: field + ": " + msg,
		Fields: []FieldError{{Field: field, Code: key, Params: pp, Message: msg}}}
}

// Coded returns an error of a class with a stable key and its parameters:
// errs.Coded(errs.Forbidden, "group_not_visible", errs.P{"group": g.Name}).
func Coded(class Code, key string, p ...P) *Error {
	pp := params(p)
	return &Error{Code: class, Key: key, Params: pp, Message: English(key, pp)}
}

// Class returns e with another class (for instance Conflict for a field error about a name
// already taken).
func (e *Error) Class(c Code) *Error {
	e.Code = c
	return e
}

// Field returns an Invalid error about one field, from an English message and no key. Prefer
// FieldCode: pages show this message in English.
func Field(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: Invalid, Message: field + ": " + msg, Fields: []FieldError{{Field: field, Message: msg}}}
}

// Wrap returns an Internal error that hides cause from the caller; nil for a nil cause (it
// returns error, not *Error, so that a nil result stays a nil interface).
func Wrap(cause error, what string) error {
	if cause == nil {
		return nil
	}
	var e *Error
	if errors.As(cause, &e) {
		return e
	}
	if isUnavailable(cause) {
		return unavailableErr(fmt.Errorf("%s: %w", what, cause))
	}
	return &Error{Code: Internal, Message: "internal error", Cause: fmt.Errorf("%s: %w", what, cause)}
}

// Fields collects field errors; Err returns nil when there are none.
type Fields []FieldError

// Add records a problem with a field.
func (f *Fields) Add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// AddCode records a problem with a field, by key: f.AddCode("email", "required").
func (f *Fields) AddCode(field, key string, p ...P) {
	pp := params(p)
	*f = append(*f, FieldError{Field: field, Code: key, Params: pp, Message: English(key, pp)})
}

// AddAt records a problem at a line (and column, 0 when none) of a file.
func (f *Fields) AddAt(line, column int, field, key string, p ...P) {
	pp := params(p)
	*f = append(*f, FieldError{Field: field, Line: line, Column: column, Code: key, Params: pp, Message: English(key, pp)})
}

// Err returns an Invalid error listing every field, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	msg := f[0].Field + ": " + f[0].Message
	if len(f) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(f)-1)
	}
	e := &Error{Code: Invalid, Message: msg, Fields: f}
	if f[0].Code != "" {
		e.Key, e.Params = f[0].Code, f[0].Params
	}
	return e
}

// CodeKey is the stable code an API client sees: the key, else the class.
func (e *Error) CodeKey() string {
	if e.Key != "" {
		return e.Key
	}
	return string(e.Code)
}

// In returns the message of e in lang: through the catalog when it has a key, in English
// otherwise. A field error says which field first.
func (e *Error) In(lang string) string {
	if e.Code == Internal {
		return i18n.T(lang, "err.internal")
	}
	if len(e.Fields) > 0 && e.Fields[0].Code != "" {
		f := e.Fields[0]
		msg := FieldLabel(lang, f.Field) + i18n.T(lang, "punct.colon") + f.In(lang)
		if len(e.Fields) > 1 {
			msg += " " + i18n.T(lang, "err.and_more", len(e.Fields)-1)
		}
		return msg
	}
	if e.Key == "" {
		return e.Message
	}
	return Text(lang, e.Key, e.Params)
}

// In returns the message of f in lang.
func (f FieldError) In(lang string) string {
	if f.Code == "" {
		return f.Message
	}
	return Text(lang, f.Code, f.Params)
}

// Text is the words of a key in lang.
func Text(lang, key string, p P) string {
	c := i18n.Default()
	if !c.Has(lang, "err."+key) {
		return English(key, p)
	}
	return c.Named(lang, "err."+key, p)
}

// FieldLabel is a field's name in lang when the catalog has one ("field.email"), else the
// field as it is.
func FieldLabel(lang, field string) string {
	if i18n.Default().Has(lang, "field."+field) {
		return i18n.T(lang, "field."+field)
	}
	return field
}

// Keys lists the keys of e and its fields, sorted: for tests.
func (e *Error) Keys() []string {
	set := map[string]bool{}
	if e.Key != "" {
		set[e.Key] = true
	}
	for _, f := range e.Fields {
		if f.Code != "" {
			set[f.Code] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CodeOf returns the code of err: Internal for anything that is not an *Error, except
// Unavailable when the database cannot be reached or cannot write (see SetUnavailable).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		if e.Code == Internal && isUnavailable(e) {
			return Unavailable
		}
		return e.Code
	}
	if isUnavailable(err) {
		return Unavailable
	}
	return Internal
}

// RetryUnavailable is the Retry-After, in seconds, of an Unavailable error made from a
// database error.
const RetryUnavailable = 5

// unavailable, set by the store package, tells an error of a database that cannot be reached,
// or whose disk is full or read-only, from a fault of ours.
var unavailable func(error) bool

// SetUnavailable installs the test that turns database errors into Unavailable errors (503
// with Retry-After) wherever they surface: CodeOf, As and Wrap. The store package calls it.
func SetUnavailable(f func(error) bool) { unavailable = f }

func isUnavailable(err error) bool { return err != nil && unavailable != nil && unavailable(err) }

// unavailableErr is the Unavailable error shown for a database error.
func unavailableErr(cause error) *Error {
	return &Error{Code: Unavailable, Message: "the service is unavailable for a moment: try again shortly",
		RetryAfter: RetryUnavailable, Cause: cause}
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// As returns err as an *Error, wrapping anything else as Internal (or Unavailable: see
// SetUnavailable).
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Code == Internal && isUnavailable(e) {
			return unavailableErr(e)
		}
		return e
	}
	if isUnavailable(err) {
		return unavailableErr(err)
	}
	return &Error{Code: Internal, Message: "internal error", Cause: fmt.Errorf("unexpected: %w", err)}
}

var statuses = map[Code]int{
	Invalid:      http.StatusUnprocessableEntity,
	NotFound:     http.StatusNotFound,
	Conflict:     http.StatusConflict,
	Unauthorized: http.StatusUnauthorized,
	Forbidden:    http.StatusForbidden,
	Gone:         http.StatusGone,
	TooMany:      http.StatusTooManyRequests,
	Internal:     http.StatusInternalServerError,
	TooLarge:     http.StatusRequestEntityTooLarge,
	Unavailable:  http.StatusServiceUnavailable,
}

// HTTPStatus is the one table from code to HTTP status.
func HTTPStatus(code Code) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
