// Package errs is Roster's one error type: a code that decides the HTTP status and a message
// that is safe to show to the person who caused it. Internal causes are kept for the logs only.
package errs

import (
	"errors"
	"fmt"
	"net/http"
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

// FieldError names one bad field, and the line of a file where there is one.
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Error is the error every Roster service returns.
type Error struct {
	Code       Code
	Message    string       // safe to show
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

// Field returns an Invalid error about one field.
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

// Err returns an Invalid error listing every field, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	msg := f[0].Field + ": " + f[0].Message
	if len(f) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(f)-1)
	}
	return &Error{Code: Invalid, Message: msg, Fields: f}
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
