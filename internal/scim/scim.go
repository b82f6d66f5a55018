// Package scim is Roster's SCIM 2.0 endpoint (RFC 7643, RFC 7644) at /scim/v2: identity
// providers such as Microsoft Entra ID and Okta push users and groups into Roster with it.
//
// Who may call it: bearer tokens made for SCIM ("roster token create --scim --group ID"). A
// token acts under its group and nowhere else: the accounts it creates become learners of its
// group (membership source "scim") and are the only accounts it sees (with those of tokens of
// groups below it); the groups it creates are placed under its group, and the groups below its
// group are the only ones it sees. Its own group is not a SCIM Group.
//
// What it keeps: an account's Roster fields (users: username, email, names, language, status)
// and the rest of the SCIM resource (scim_users.doc), with the attributes filters may name
// copied to columns (scim_users, scim_user_values), so that every filter runs as SQL. Groups
// are Roster groups; SCIM sees and replaces only the memberships SCIM made.
//
// Deprovisioning: active=false suspends the account, ends its sessions and revokes its API
// tokens in the same transaction; DELETE does the same and sets the account's deletion date
// (Config.DeleteAfter from now), so an unassignment made by mistake can be undone by
// provisioning the same userName again before that date.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
)

const contentType = "application/scim+json"

// Defaults of Config.
const (
	DefaultMaxBody     = 4 << 20
	DefaultDeleteAfter = 30 * 24 * time.Hour
	DefaultCount       = 100
	MaxCount           = 1000
)

// Config holds the endpoint's settings, copied in at start.
type Config struct {
	// BaseURL is Roster's public address; resource locations are BaseURL/scim/v2/...
	BaseURL string
	// Auth is how provisioned accounts log in: account.AuthOIDC (default) or AuthCAS. They
	// never have a password here.
	Auth string
	// DeleteAfter is how long after a SCIM DELETE the account is due for deletion.
	DeleteAfter time.Duration
	// MaxBody bounds a request body; larger ones get 413.
	MaxBody int64
	Log     *slog.Logger
}

// Services are what the endpoint works with.
type Services struct {
	DB       *store.DB
	Accounts *account.Service
	Groups   *group.Service
}

// Handler serves /scim/v2/: it reads a request, calls the Service and writes the answer. The
// caller's principal is expected in the request context (internal/server finds it from the
// bearer token).
type Handler struct {
	svc *Service
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the SCIM handler over a new Service, with defaults filled into cfg.
func New(s Services, cfg Config) *Handler {
	svc := NewService(s, cfg)
	h := &Handler{svc: svc, cfg: svc.cfg, log: svc.cfg.Log, mux: http.NewServeMux()}
	h.routes()
	return h
}

var discardLog = slog.New(slog.DiscardHandler)

// routes is the whole surface, one line per endpoint.
func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /scim/v2/ServiceProviderConfig", h.inScope(h.serviceProviderConfig))
	m.HandleFunc("GET /scim/v2/ResourceTypes", h.inScope(h.resourceTypes))
	m.HandleFunc("GET /scim/v2/ResourceTypes/{id}", h.inScope(h.resourceType))
	m.HandleFunc("GET /scim/v2/Schemas", h.inScope(h.schemas))
	m.HandleFunc("GET /scim/v2/Schemas/{id}", h.inScope(h.schema))

	m.HandleFunc("POST /scim/v2/.search", h.searchAll)

	m.HandleFunc("GET /scim/v2/Users", h.listUsers)
	m.HandleFunc("POST /scim/v2/Users/.search", h.searchUsers)
	m.HandleFunc("POST /scim/v2/Users", h.createUser)
	m.HandleFunc("GET /scim/v2/Users/{id}", h.getUser)
	m.HandleFunc("PUT /scim/v2/Users/{id}", h.replaceUser)
	m.HandleFunc("PATCH /scim/v2/Users/{id}", h.patchUser)
	m.HandleFunc("DELETE /scim/v2/Users/{id}", h.deleteUser)

	m.HandleFunc("GET /scim/v2/Groups", h.listGroups)
	m.HandleFunc("POST /scim/v2/Groups/.search", h.searchGroups)
	m.HandleFunc("POST /scim/v2/Groups", h.createGroup)
	m.HandleFunc("GET /scim/v2/Groups/{id}", h.getGroup)
	m.HandleFunc("PUT /scim/v2/Groups/{id}", h.replaceGroup)
	m.HandleFunc("PATCH /scim/v2/Groups/{id}", h.patchGroup)
	m.HandleFunc("DELETE /scim/v2/Groups/{id}", h.deleteGroup)

	// The same paths with any other method, and everything else, answer in SCIM's format.
	for _, p := range []string{"/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/Schemas",
		"/scim/v2/.search", "/scim/v2/Users", "/scim/v2/Users/{id}", "/scim/v2/Groups", "/scim/v2/Groups/{id}"} {
		m.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, newError(http.StatusMethodNotAllowed, "", "%s is not allowed here", r.Method))
		})
	}
	m.HandleFunc("/scim/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no such SCIM endpoint (Bulk and /Me are not supported)"))
	})
}

// ServeHTTP refuses any caller but a SCIM token, then routes; the service checks the token's
// group in each action.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := authz.RequireSCIMToken(r.Context()); err != nil {
		h.fail(w, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBody)
	h.mux.ServeHTTP(w, r)
}

// inScope checks the token's group for the endpoints that read no resource (discovery).
func (h *Handler) inScope(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := authz.SCIMScope(r.Context(), h.svc.db); err != nil {
			h.fail(w, err)
			return
		}
		fn(w, r)
	}
}

// readObject reads a JSON object body. Errors: 413 over MaxBody, invalidSyntax otherwise.
func readObject(r *http.Request) (object, error) {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, newError(http.StatusRequestEntityTooLarge, "", "the request body is larger than %d bytes", tooBig.Limit)
	}
	if err != nil {
		return nil, invalidSyntax("cannot read the request body")
	}
	var m object
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, invalidSyntax("the body must be a JSON object")
	}
	return m, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// writeResource writes one resource with its ETag (and Location when created).
func (h *Handler) writeResource(w http.ResponseWriter, status int, res object) {
	if meta, ok := res["meta"].(object); ok {
		if v, ok := meta["version"].(string); ok {
			w.Header().Set("ETag", v)
		}
		if loc, ok := meta["location"].(string); ok && status == http.StatusCreated {
			w.Header().Set("Location", loc)
		}
	}
	writeJSON(w, status, res)
}

func (h *Handler) fail(w http.ResponseWriter, err error) { writeError(w, toSCIM(h.log, err)) }

// etagMatches reports whether an If-Match or If-None-Match header names etag ("*" names
// any). Weak and strong forms compare equal: versions here are always weak.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

func rfc3339(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }

// projectionOf reads the attributes and excludedAttributes parameters of a request.
func projectionOf(rt *resourceType, r *http.Request) projection {
	q := r.URL.Query()
	return rt.parseProjection(q.Get("attributes"), q.Get("excludedAttributes"))
}

// readResource reads a body as a canonical resource of rt.
func readResource(r *http.Request, rt *resourceType) (object, error) {
	body, err := readObject(r)
	if err != nil {
		return nil, err
	}
	return rt.canonical(body)
}

// readPatch reads the operations of a PATCH body.
func readPatch(r *http.Request) ([]patchOp, error) {
	body, err := readObject(r)
	if err != nil {
		return nil, err
	}
	return parsePatch(body)
}

// writeList answers a list or a search with the service's list.
func (h *Handler) writeList(w http.ResponseWriter, r *http.Request, lp *listParams,
	list func(context.Context, *listParams) (object, error)) {
	res, err := list(r.Context(), lp)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// writeRead answers a GET of one resource: 304 when If-None-Match names its version.
func (h *Handler) writeRead(w http.ResponseWriter, r *http.Request, res object, etag string) {
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.writeResource(w, http.StatusOK, res)
}

// respond writes the resource a change returned, or its error.
func (h *Handler) respond(w http.ResponseWriter, status int, res object, err error) {
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeResource(w, status, res)
}

// idMismatch is the error of a PUT whose body names another id than its URL.
func idMismatch(id string) error {
	return errs.Coded(errs.Invalid, "scim_id_mismatch", errs.P{"id": id})
}
