// Package oneroster serves Roster's people, groups, courses and enrolments as the OneRoster
// 1.1 and 1.2 rostering service (read-only), to the course platforms that read it (Moodle's
// OneRoster enrolment plugin, Canvas, ...):
//
//   - orgs: the platform ("platform", type district, for clients of the whole platform) and
//     each group ("group-ID", type school), with parent and children;
//   - academicSessions: one term, "term-default", the current school year (1 September to 31
//     August);
//   - courses and classes: each Roster course is one course ("course-ID") and one class
//     ("class-ID") of that course; the school of both is the group of the course's oldest
//     group sync inside the client's scope, else the scope's root org;
//   - users ("user-ID"): role administrator (group or user administrator of a group of the
//     scope, or platform administrator for a platform-wide client), teacher (trainer of a
//     group of the scope, or a teacher role in some course), else student; orgs: their groups
//     in the scope;
//   - enrollments ("enrollment-COURSE-USER-ROLE"): a person's enrolments in one course folded
//     per OneRoster role (teacher roles: teacher; student roles: student; guests left out).
//
// A client reads everything (GroupID 0) or the sub-tree of one group: the groups of the
// sub-tree, the people with a membership in it, the courses linked to it by a group sync or
// with a participant who is a member there, and the enrolments of those people in those
// courses. Anonymised accounts are never shown; suspended accounts and enrolments have the
// status tobedeleted.
//
// Authentication is a dependency: a Verifier turns the bearer token into a Grant (the OpenID
// provider's client-credentials tokens, wired by the program). Without a Verifier every
// request is refused with 401.
package oneroster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster/internal/httpx"
	"roster/internal/store"
)

// Grant is what a valid bearer token allows: the client, its group (0: the whole platform)
// and its scopes.
type Grant struct {
	ClientID string
	GroupID  int64
	Scopes   []string
}

// Verifier checks a bearer token; any error means the token is refused (401).
type Verifier func(ctx context.Context, bearer string) (Grant, error)

// The scopes that allow reading the rostering service (OneRoster 1.1 and 1.2).
var ReadScopes = []string{
	"https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly",
	"https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly",
	"https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
	"https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
}

// Service serves the rostering endpoints.
type Service struct {
	db       *store.DB
	verify   Verifier
	log      *slog.Logger
	now      func() time.Time
	sessions *entity
	snaps    snapshots
}

// New returns the service; verify may be nil (every request gets 401).
func New(db *store.DB, verify Verifier, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, verify: verify, log: log, now: time.Now}
	if db != nil && db.Now != nil {
		s.now = db.Now
	}
	s.sessions = sessionsEntity(func() time.Time { return s.now() })
	return s
}

// The two versions' base paths.
const (
	V1p1 = "/ims/oneroster/v1p1"
	V1p2 = "/ims/oneroster/rostering/v1p2"
)

// Paths are the routes under each base path, as registered.
var Paths = []string{
	"/orgs", "/orgs/{id}", "/schools", "/schools/{id}",
	"/academicSessions", "/academicSessions/{id}", "/terms", "/terms/{id}",
	"/courses", "/courses/{id}", "/classes", "/classes/{id}",
	"/users", "/users/{id}", "/students", "/students/{id}", "/teachers", "/teachers/{id}",
	"/enrollments", "/enrollments/{id}",
	"/schools/{id}/classes", "/schools/{id}/courses", "/schools/{id}/terms", "/schools/{id}/enrollments",
	"/schools/{id}/students", "/schools/{id}/teachers",
	"/schools/{id}/classes/{class}/enrollments", "/schools/{id}/classes/{class}/students", "/schools/{id}/classes/{class}/teachers",
	"/classes/{id}/students", "/classes/{id}/teachers",
	"/courses/{id}/classes", "/terms/{id}/classes",
	"/users/{id}/classes", "/students/{id}/classes", "/teachers/{id}/classes",
}

// Routes registers every route, for both versions.
func (s *Service) Routes(mux httpx.Router) {
	for _, base := range []string{V1p1, V1p2} {
		v := 1
		if base == V1p2 {
			v = 2
		}
		for _, p := range Paths {
			mux.HandleFunc("GET "+base+p, s.handler(v, p))
		}
	}
	// Anything else under /ims/oneroster/: the spec's 404 (after the token check), not a
	// plain page.
	mux.HandleFunc("GET /ims/oneroster/", func(w http.ResponseWriter, r *http.Request) {
		q := &req{s: s, w: w, r: r, v: 2, base: V1p2}
		if strings.HasPrefix(r.URL.Path, V1p1+"/") {
			q.v, q.base = 1, V1p1
		}
		if _, ok := q.authenticate(); ok {
			q.fail(http.StatusNotFound, "unknownobject", "no such endpoint")
		}
	})
}

// req is one request being answered.
type req struct {
	s     *Service
	w     http.ResponseWriter
	r     *http.Request
	v     int // 1: v1p1, 2: v1p2
	sc    scope
	base  string
	route string
}

func (s *Service) handler(v int, route string) http.HandlerFunc {
	base := V1p1
	if v == 2 {
		base = V1p2
	}
	return func(w http.ResponseWriter, r *http.Request) {
		q := &req{s: s, w: w, r: r, v: v, base: base, route: route}
		g, ok := q.authenticate()
		if !ok {
			return
		}
		q.sc = scope{group: g.GroupID}
		q.serve()
	}
}

func (q *req) authenticate() (Grant, bool) {
	h := q.r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	token = strings.TrimSpace(token)
	if q.s.verify == nil || !ok || token == "" {
		q.w.Header().Set("WWW-Authenticate", `Bearer realm="oneroster"`)
		q.fail(http.StatusUnauthorized, "unauthorisedrequest", "a bearer token from the token endpoint is required")
		return Grant{}, false
	}
	g, err := q.s.verify(q.r.Context(), token)
	if err != nil {
		q.w.Header().Set("WWW-Authenticate", `Bearer realm="oneroster", error="invalid_token"`)
		q.fail(http.StatusUnauthorized, "unauthorisedrequest", "unknown, expired or revoked token")
		return Grant{}, false
	}
	if !slices.ContainsFunc(g.Scopes, func(sc string) bool { return slices.Contains(ReadScopes, sc) }) {
		q.w.Header().Set("WWW-Authenticate", `Bearer realm="oneroster", error="insufficient_scope"`)
		q.fail(http.StatusForbidden, "forbidden", "the token has no rostering scope")
		return Grant{}, false
	}
	return g, true
}

// fail writes the spec's status information document.
func (q *req) fail(status int, minor, desc string) {
	info := map[string]any{
		"imsx_codeMajor":   "failure",
		"imsx_severity":    "error",
		"imsx_description": desc,
		"imsx_CodeMinor": map[string]any{"imsx_codeMinorField": []any{map[string]any{
			"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}}},
	}
	var doc any = info
	if q.v == 1 {
		doc = map[string]any{"statusInfoSet": []any{info}}
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(status)
	json.NewEncoder(q.w).Encode(doc)
}

func (q *req) internal(err error) {
	q.s.log.Error("oneroster", "path", q.r.URL.Path, "err", err)
	q.fail(http.StatusInternalServerError, "internal_server_error", "internal error")
}

func (q *req) notFound(what string) {
	q.fail(http.StatusNotFound, "unknownobject", what+" not found")
}

// serve dispatches the route.
func (q *req) serve() {
	segs := strings.Split(strings.TrimPrefix(q.route, "/"), "/")
	id := q.r.PathValue("id")
	ctx := q.r.Context()
	switch len(segs) {
	case 1:
		e, where := q.collection(segs[0])
		q.list(e, where)
	case 2:
		e, where := q.collection(segs[0])
		q.one(e, where, id)
	case 3:
		// The parent must exist in the scope.
		parent, pwhere := q.collection(segs[0])
		if _, ok := q.get(ctx, parent, pwhere, id); !ok {
			return
		}
		e, where := q.sub(segs[0], id, segs[2])
		q.list(e, where)
	case 5: // schools/{id}/classes/{class}/X
		school, swhere := q.collection("schools")
		if _, ok := q.get(ctx, school, swhere, id); !ok {
			return
		}
		class := q.r.PathValue("class")
		cls, ok := q.get(ctx, classes, []restriction{eq("school", id)}, class)
		if !ok {
			return
		}
		cid, _ := cls.num("k")
		switch segs[4] {
		case "enrollments":
			q.list(enrollments, []restriction{eq("class", class), eq("school", id)})
		case "students":
			q.list(users, []restriction{enrolledAs(cid, "student")})
		case "teachers":
			q.list(users, []restriction{enrolledAs(cid, "teacher")})
		}
	}
}

// collection maps a top-level collection name to its entity and restriction.
func (q *req) collection(name string) (*entity, []restriction) {
	switch name {
	case "orgs":
		return orgs, nil
	case "schools":
		return orgs, []restriction{eq("type", "school")}
	case "academicSessions":
		return q.s.sessions, nil
	case "terms":
		return q.s.sessions, []restriction{eq("type", "term")}
	case "courses":
		return courses, nil
	case "classes":
		return classes, nil
	case "users":
		return users, nil
	case "students":
		return users, []restriction{eq("role", "student")}
	case "teachers":
		return users, []restriction{eq("role", "teacher")}
	case "enrollments":
		return enrollments, nil
	}
	panic("oneroster: unknown collection " + name)
}

// sub maps parent/{id}/child to the child's entity and restriction; the parent exists.
func (q *req) sub(parent, id, child string) (*entity, []restriction) {
	num := func(prefix string) int64 {
		v, _ := idAfter(prefix)(id)
		n, _ := v.(int64)
		return n
	}
	switch parent + "/" + child {
	case "schools/classes":
		return classes, []restriction{eq("school", id)}
	case "schools/courses":
		return courses, []restriction{eq("school", id)}
	case "schools/terms":
		return q.s.sessions, []restriction{eq("type", "term")}
	case "schools/enrollments":
		return enrollments, []restriction{eq("school", id)}
	case "schools/students":
		return users, []restriction{eq("role", "student"), memberOf(num("group-"))}
	case "schools/teachers":
		return users, []restriction{eq("role", "teacher"), memberOf(num("group-"))}
	case "classes/students":
		return users, []restriction{enrolledAs(num("class-"), "student")}
	case "classes/teachers":
		return users, []restriction{enrolledAs(num("class-"), "teacher")}
	case "courses/classes":
		return classes, []restriction{eq("course", id)}
	case "terms/classes":
		return classes, []restriction{eq("term", id)}
	case "users/classes":
		return classes, []restriction{classesOf(num("user-"), "")}
	case "students/classes":
		return classes, []restriction{classesOf(num("user-"), "student")}
	case "teachers/classes":
		return classes, []restriction{classesOf(num("user-"), "teacher")}
	}
	panic("oneroster: unknown sub-collection " + parent + "/" + child)
}

// get reads one entity by sourcedId in the scope, answering 404 when it is not there.
func (q *req) get(ctx context.Context, e *entity, where []restriction, id string) (row, bool) {
	key, ok := e.keyOf(id)
	if !ok || (e == orgs && key == int64(0) && q.sc.group > 0) {
		q.notFound(e.single)
		return nil, false
	}
	rows, err := byKeys(ctx, q.s.db, e, q.sc, []any{key})
	if err != nil {
		q.internal(err)
		return nil, false
	}
	if len(rows) == 1 && len(where) > 0 {
		// Check the restriction (schools are orgs of type school, students users with that role...).
		lr, _, err := list(ctx, q.s.db, nil, e, q.sc, listParams{limit: 1}, append(slices.Clone(where), func(qq *query) string {
			if e.numericKey {
				return "t.k = CAST(" + qq.arg(key) + " AS BIGINT)"
			}
			return "t.k = CAST(" + qq.arg(key) + " AS TEXT)"
		}))
		if err != nil {
			q.internal(err)
			return nil, false
		}
		rows = lr
	}
	if len(rows) != 1 {
		q.notFound(e.single)
		return nil, false
	}
	return rows[0], true
}

func (q *req) one(e *entity, where []restriction, id string) {
	fields, err := parseFields(q.r.URL.Query().Get("fields"), q.docFields(e))
	if err != nil {
		q.badRequest(err)
		return
	}
	r, ok := q.get(q.r.Context(), e, where, id)
	if !ok {
		return
	}
	docs, err := q.docs(q.r.Context(), e, []row{r})
	if err != nil {
		q.internal(err)
		return
	}
	q.write(http.StatusOK, map[string]any{e.single: pick(docs[0], fields)})
}

func (q *req) badRequest(err error) {
	var br *badRequest
	if errors.As(err, &br) {
		q.fail(http.StatusBadRequest, br.minor, br.msg)
		return
	}
	q.internal(err)
}

func (q *req) list(e *entity, where []restriction) {
	p, err := parseList(q.r.URL.Query(), e.fields, q.docFields(e))
	if err != nil {
		q.badRequest(err)
		return
	}
	rows, totalOf, err := list(q.r.Context(), q.s.db, &q.s.snaps, e, q.sc, p, where)
	if err != nil {
		q.internal(err)
		return
	}
	docs, err := q.docs(q.r.Context(), e, rows)
	if err != nil {
		q.internal(err)
		return
	}
	total, err := totalOf() // the first page of a long list: its keys may still be on their way
	if err != nil {
		q.internal(err)
		return
	}
	out := make([]any, len(docs))
	for i, d := range docs {
		out[i] = pick(d, p.fields)
	}
	h := q.w.Header()
	h.Set("X-Total-Count", strconv.Itoa(total))
	h.Set("Link", q.links(p, total))
	q.write(http.StatusOK, map[string]any{e.plural: out})
}

// links are the spec's paging links: first, prev, next, last.
func (q *req) links(p listParams, total int) string {
	page := func(offset int, rel string) string {
		v := q.r.URL.Query()
		v.Set("limit", strconv.Itoa(p.limit))
		v.Set("offset", strconv.Itoa(offset))
		u := url.URL{Path: q.r.URL.Path, RawQuery: v.Encode()}
		return "<" + u.String() + `>; rel="` + rel + `"`
	}
	last := 0
	if total > 0 {
		last = (total - 1) / p.limit * p.limit
	}
	ls := []string{page(0, "first")}
	if p.offset > 0 {
		ls = append(ls, page(max(p.offset-p.limit, 0), "prev"))
	}
	if p.offset+p.limit < total {
		ls = append(ls, page(p.offset+p.limit, "next"))
	}
	ls = append(ls, page(last, "last"))
	return strings.Join(ls, ", ")
}

func (q *req) write(status int, doc any) {
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(status)
	if err := json.NewEncoder(q.w).Encode(doc); err != nil {
		q.s.log.Debug("oneroster write", "err", err)
	}
}

// pick keeps the selected fields of a document (all when none are selected).
func pick(doc any, fields []string) any {
	if len(fields) == 0 {
		return doc
	}
	d, ok := doc.(map[string]any)
	if !ok {
		b, _ := json.Marshal(doc)
		json.Unmarshal(b, &d)
	}
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := d[f]; ok {
			out[f] = v
		}
	}
	return out
}
