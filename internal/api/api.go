// Package api is Roster's JSON API under /api/v1. Handlers are thin: decode, call a service,
// encode. Errors are RFC 9457 problem details; lists are {"items": [...], "next_cursor": ...}.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/httpx"
	"roster/internal/invite"
	"roster/internal/oidcp"
	"roster/internal/sis"
	"roster/internal/store"
)

// Config is what the API needs to know about the deployment.
type Config struct {
	SecureCookies bool
}

// Services are the parts the handlers call. Each feature adds its service here.
type Services struct {
	Log      *slog.Logger
	DB       *store.DB
	Accounts *account.Service
	Courses  *course.Service
	Groups   *group.Service
	Invites  *invite.Service
	SIS      *sis.Service    // configured sync sources
	OIDC     *oidcp.Provider // the OpenID provider's clients; nil answers 503
}

// API holds the handlers' dependencies.
type API struct {
	Services
	cfg Config
	log *slog.Logger
	db  *store.DB
}

// New returns the API.
func New(cfg Config, s Services) *API {
	return &API{Services: s, cfg: cfg, log: s.Log, db: s.DB}
}

// Routes registers the endpoints; the table reads in one screen.
func (a *API) Routes(mux httpx.Router) {
	mux.HandleFunc("POST /api/v1/auth/login", a.login)
	mux.HandleFunc("POST /api/v1/auth/logout", a.logout)
	mux.HandleFunc("POST /api/v1/auth/password/forgot", a.forgot)
	mux.HandleFunc("POST /api/v1/auth/password/reset", a.reset)
	mux.HandleFunc("POST /api/v1/account/setup", a.accountSetup)
	mux.HandleFunc("GET /api/v1/me", a.me)
	mux.HandleFunc("GET /api/v1/mail", a.mail)
	mux.HandleFunc("POST /api/v1/groups", a.createGroup)
	mux.HandleFunc("GET /api/v1/groups/{id}", a.getGroup)
	mux.HandleFunc("PATCH /api/v1/groups/{id}", a.patchGroup)
	mux.HandleFunc("DELETE /api/v1/groups/{id}", a.deleteGroup)
	mux.HandleFunc("GET /api/v1/groups/{id}/delete-preview", a.groupDeletePreview)
	mux.HandleFunc("GET /api/v1/groups/{id}/members", a.groupMembers)
	mux.HandleFunc("GET /api/v1/groups/{id}/members.csv", a.groupMembersCSV)
	mux.HandleFunc("PUT /api/v1/groups/{id}/members/{user_id}", a.putGroupMember)
	mux.HandleFunc("DELETE /api/v1/groups/{id}/members/{user_id}", a.deleteGroupMember)
	mux.HandleFunc("GET /api/v1/groups/{id}/members/{user_id}/preview", a.previewGroupMember)
	mux.HandleFunc("POST /api/v1/courses", a.courseCreate)
	mux.HandleFunc("GET /api/v1/courses", a.courseList)
	mux.HandleFunc("GET /api/v1/courses/{id}", a.courseGet)
	mux.HandleFunc("POST /api/v1/courses/{id}/methods", a.methodCreate)
	mux.HandleFunc("GET /api/v1/courses/{id}/methods", a.methodList)
	mux.HandleFunc("DELETE /api/v1/courses/{id}/methods/{method_id}", a.methodDelete)
	mux.HandleFunc("GET /api/v1/course-roles", a.courseRoleList)
	mux.HandleFunc("POST /api/v1/course-roles", a.courseRoleCreate)
	mux.HandleFunc("PATCH /api/v1/course-roles/{shortname}", a.courseRoleUpdate)
	mux.HandleFunc("GET /api/v1/course-role-map", a.roleMapList)
	mux.HandleFunc("PUT /api/v1/course-role-map/{name}", a.roleMapSet)
	mux.HandleFunc("DELETE /api/v1/course-role-map/{name}", a.roleMapDelete)
	mux.HandleFunc("POST /api/v1/courses/{id}/enrolments", a.enrolCreate)
	mux.HandleFunc("GET /api/v1/courses/{id}/participants", a.participantList)
	mux.HandleFunc("GET /api/v1/courses/{id}/participants.csv", a.participantCSV)
	mux.HandleFunc("GET /api/v1/users", a.listUsers)
	mux.HandleFunc("GET /api/v1/users/{id}", a.getUser)
	mux.HandleFunc("PATCH /api/v1/users/{id}", a.patchUser)
	mux.HandleFunc("DELETE /api/v1/users/{id}", a.deleteUser)
	mux.HandleFunc("GET /api/v1/billing", a.billing)
	mux.HandleFunc("GET /api/v1/audit", a.audit)
	mux.HandleFunc("GET /api/v1/profile-fields", a.listProfileFields)
	mux.HandleFunc("POST /api/v1/profile-fields", a.createProfileField)
	mux.HandleFunc("PATCH /api/v1/profile-fields/{id}", a.patchProfileField)
	mux.HandleFunc("DELETE /api/v1/profile-fields/{id}", a.deleteProfileField)
	mux.HandleFunc("POST /api/v1/users", a.createUser)
	mux.HandleFunc("POST /api/v1/invitations", a.createInvitations)
	mux.HandleFunc("GET /api/v1/invitations", a.listInvitations)
	mux.HandleFunc("GET /api/v1/invitations/{id}", a.getInvitation)
	mux.HandleFunc("PATCH /api/v1/invitations/{id}", a.patchInvitation)
	mux.HandleFunc("DELETE /api/v1/invitations/{id}", a.cancelInvitation)
	mux.HandleFunc("POST /api/v1/invitations/{id}/resend", a.resendInvitation)
	mux.HandleFunc("POST /api/v1/invitations/{id}/link", a.invitationLink)
	mux.HandleFunc("POST /api/v1/invitations/resend", a.resendGroupInvitations)
	mux.HandleFunc("POST /api/v1/invitations/cancel", a.cancelInvitations)
	mux.HandleFunc("POST /api/v1/invitations/add-existing", a.addExisting)
	mux.HandleFunc("POST /api/v1/invitations/accept", a.acceptInvitation)
	mux.HandleFunc("POST /api/v1/imports", a.createImport)
	mux.HandleFunc("POST /api/v1/imports/{id}/undo", a.undoImport)
	mux.HandleFunc("GET /api/v1/sync/runs", a.syncRuns)
	mux.HandleFunc("GET /api/v1/sync/sources", a.syncSources)
	mux.HandleFunc("POST /api/v1/sync/sources", a.createSyncSource)
	mux.HandleFunc("PUT /api/v1/sync/sources/{name}", a.updateSyncSource)
	mux.HandleFunc("DELETE /api/v1/sync/sources/{name}", a.deleteSyncSource)
	mux.HandleFunc("POST /api/v1/sync/sources/{name}/run", a.runSyncSource)
	mux.HandleFunc("POST /api/v1/oidc/clients", a.oidcClientCreate)
	mux.HandleFunc("GET /api/v1/oidc/clients", a.oidcClientList)
	mux.HandleFunc("GET /api/v1/oidc/clients/{id}", a.oidcClientGet)
	mux.HandleFunc("PATCH /api/v1/oidc/clients/{id}", a.oidcClientPatch)
	mux.HandleFunc("DELETE /api/v1/oidc/clients/{id}", a.oidcClientDelete)
	mux.HandleFunc("POST /api/v1/oidc/clients/{id}/secret", a.oidcClientSecret)
	mux.HandleFunc("/api/", a.notFound)
}

func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	a.problem(w, r, errs.Coded(errs.NotFound, "api_no_such_endpoint", errs.P{"method": r.Method, "path": r.URL.Path}))
}

// maxBody bounds a JSON request body.
const maxBody = 1 << 20

// decode reads a JSON body into v. Unknown fields, wrong types and trailing data are errors
// that name the field.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var maxErr *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &maxErr):
			return errs.Coded(errs.TooLarge, "api_body_too_large", errs.P{"limit": maxBody})
		case errors.As(err, &typeErr):
			return errs.FieldCode(typeErr.Field, "api_json_type", errs.P{"type": typeErr.Type.String()})
		case errors.As(err, &syntaxErr):
			return errs.Coded(errs.Invalid, "api_json_syntax", errs.P{"offset": syntaxErr.Offset})
		case errors.Is(err, io.EOF):
			return errs.Coded(errs.Invalid, "api_json_empty")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errs.FieldCode(name, "api_json_unknown_field")
		default:
			return errs.Coded(errs.Invalid, "api_json_malformed", errs.P{"detail": err.Error()})
		}
	}
	if dec.More() {
		return errs.Coded(errs.Invalid, "api_json_trailing")
	}
	return nil
}

// writeJSON writes v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail,omitempty"`
	Code   string            `json:"code"` // stable snake_case code: "required", "forbidden"…
	Errors []errs.FieldError `json:"errors,omitempty"`
}

// problem writes err as problem details. Internal causes are logged, never sent.
func (a *API) problem(w http.ResponseWriter, r *http.Request, err error) {
	e := errs.As(err)
	status := errs.HTTPStatus(e.Code)
	if e.Code == errs.Internal {
		a.log.Error("api", "method", r.Method, "path", r.URL.Path, "err", e.Cause)
	}
	if e.RetryAfter > 0 { // throttled, unavailable for a moment, an import under way
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	// Every problem and every item of errors carries a code: its key, else its class.
	fields := make([]errs.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		if f.Code == "" {
			f.Code = string(e.Code)
		}
		fields[i] = f
	}
	if len(fields) == 0 {
		fields = nil
	}
	p := Problem{Type: "https://roster.invalid/problems/" + string(e.Code), Title: http.StatusText(status),
		Status: status, Detail: e.Message, Code: e.CodeKey(), Errors: fields}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// ID renders an id as the API's string form.
func ID(id int64) string { return strconv.FormatInt(id, 10) }

// parseID reads a path id.
func parseID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Coded(errs.NotFound, "api_no_such_id", errs.P{"what": name, "id": v})
	}
	return id, nil
}

// limit reads ?limit= (default 50, at most 500).
func limit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, errs.FieldCode("limit", "api_bad_limit", errs.P{"value": v})
	}
	return n, nil
}

// List is the shape of every list the API returns.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// cursorOf renders a keyset cursor.
func cursorOf(id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprint(id)
}
