package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"roster/internal/errs"
)

// Error is an RFC 7644 §3.12 error: an HTTP status, an optional scimType (invalidFilter,
// invalidSyntax, invalidPath, invalidValue, noTarget, mutability, uniqueness, tooMany,
// sensitive) and a detail safe to show to the client.
type Error struct {
	Status int
	Type   string
	Detail string
}

func (e *Error) Error() string { return fmt.Sprintf("scim %d %s: %s", e.Status, e.Type, e.Detail) }

func newError(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, Type: scimType, Detail: fmt.Sprintf(format, args...)}
}

func invalidValue(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "invalidValue", format, args...)
}

func invalidSyntax(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "invalidSyntax", format, args...)
}

func invalidPath(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "invalidPath", format, args...)
}

func notFound(format string, args ...any) *Error {
	return newError(http.StatusNotFound, "", format, args...)
}

// errorMessage is the JSON body of an error.
type errorMessage struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// toSCIM turns any error into an *Error: ours as they are, Roster's errs by their key where
// statusOfKey names it, else by their code (an Invalid field becomes invalidValue, a Conflict
// uniqueness), anything else a 500 whose cause is logged, never shown. The detail is the
// English message of the key: SCIM clients log it for administrators, in English.
func toSCIM(log *slog.Logger, err error) *Error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	e := errs.As(err)
	if k, ok := statusOfKey[e.Key]; ok {
		return newError(k.status, k.scimType, "%s", e.Message)
	}
	switch e.Code {
	case errs.Invalid:
		return invalidValue("%s", e.Message)
	case errs.Conflict:
		return newError(http.StatusConflict, "uniqueness", "%s", e.Message)
	case errs.NotFound:
		return notFound("%s", e.Message)
	case errs.Forbidden, errs.Unauthorized, errs.TooLarge, errs.TooMany, errs.Gone, errs.Unavailable:
		return newError(errs.HTTPStatus(e.Code), "", "%s", e.Message)
	}
	if log != nil {
		log.Error("scim", "err", err)
	}
	return newError(http.StatusInternalServerError, "", "internal error")
}

func writeError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Del("ETag")
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="roster"`)
	}
	w.WriteHeader(e.Status)
	b, _ := json.Marshal(errorMessage{Schemas: []string{ErrorSchema}, Status: strconv.Itoa(e.Status),
		ScimType: e.Type, Detail: e.Detail})
	w.Write(append(b, '\n'))
}

// Unauthorized writes the 401 of a request to /scim/v2 whose bearer token is unknown or
// revoked, for Roster's authentication middleware, which refuses such requests before they
// reach the handler: an RFC 7644 error, as SCIM clients expect (Okta's "Check status 401").
func Unauthorized(w http.ResponseWriter, detail string) {
	writeError(w, newError(http.StatusUnauthorized, "", "%s", detail))
}
