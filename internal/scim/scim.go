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

// Handler serves /scim/v2/. The caller's principal is expected in the request context
// (internal/server finds it from the bearer token).
type Handler struct {
	db       *store.DB
	accounts *account.Service
	groups   *group.Service
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
}

// New returns the SCIM handler, with defaults filled into cfg.
func New(s Services, cfg Config) *Handler {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Auth == "" {
		cfg.Auth = account.AuthOIDC
	}
	if cfg.DeleteAfter <= 0 {
		cfg.DeleteAfter = DefaultDeleteAfter
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{db: s.DB, accounts: s.Accounts, groups: s.Groups, cfg: cfg, log: cfg.Log, mux: http.NewServeMux()}
	h.routes()
	return h
}

// routes is the whole surface, one line per endpoint.
func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /scim/v2/ServiceProviderConfig", h.serviceProviderConfig)
	m.HandleFunc("GET /scim/v2/ResourceTypes", h.resourceTypes)
	m.HandleFunc("GET /scim/v2/ResourceTypes/{id}", h.resourceType)
	m.HandleFunc("GET /scim/v2/Schemas", h.schemas)
	m.HandleFunc("GET /scim/v2/Schemas/{id}", h.schema)

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

type scopeKey struct{}

// ServeHTTP checks that the caller is a SCIM token whose group still exists, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := authz.From(r.Context())
	if p == nil {
		writeError(w, newError(http.StatusUnauthorized, "", "a SCIM bearer token is required"))
		return
	}
	if p.SCIMGroupID == 0 {
		writeError(w, newError(http.StatusForbidden, "", "only tokens made for SCIM (roster token create --scim) may use /scim/v2"))
		return
	}
	var one int
	err := h.db.QueryRowContext(r.Context(), `SELECT 1 FROM groups WHERE id = $1`, p.SCIMGroupID).Scan(&one)
	if store.IsNoRows(err) {
		writeError(w, newError(http.StatusForbidden, "", "the group of this token no longer exists"))
		return
	}
	if err != nil {
		writeError(w, toSCIM(h.log, err))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBody)
	h.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), scopeKey{}, p.SCIMGroupID)))
}

// scope is the group the calling token provisions under.
func scope(r *http.Request) int64 { id, _ := r.Context().Value(scopeKey{}).(int64); return id }

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

// checkIfMatch fails with 412 when the request carries If-Match and the resource moved on.
func checkIfMatch(ifMatch, etag string) error {
	if ifMatch != "" && !etagMatches(ifMatch, etag) {
		return newError(http.StatusPreconditionFailed, "", "the resource has changed (version %s)", etag)
	}
	return nil
}

func (h *Handler) location(endpoint, id string) string {
	return h.cfg.BaseURL + "/scim/v2" + endpoint + "/" + id
}

func rfc3339(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }
