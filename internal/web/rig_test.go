package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/httpx"
	"roster/internal/invite"
	"roster/internal/oidcp"
	"roster/internal/sis"
	"roster/internal/sso"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// rig is the pages' whole handler over a fresh SQLite database, with every service wired.
// The web mux has no session middleware (that lives in internal/server), so a request runs
// as a user by carrying that user and their principal in its context, as the middleware would.
type rig struct {
	t        *testing.T
	ctx      context.Context
	db       *store.DB
	clock    *storetest.Clock
	accounts *account.Service
	courses  *course.Service
	invites  *invite.Service
	groups   *group.Service
	mux      *http.ServeMux
}

func newRig(t *testing.T) *rig {
	t.Helper()
	db, clock := storetest.OpenSQLite(t)
	return newRigOn(t, db, clock)
}

// newRigOn is a rig over db: two rigs over one database are two instances of Roster.
func newRigOn(t *testing.T, db *store.DB, clock *storetest.Clock) *rig {
	t.Helper()
	cfg := Config{BaseURL: "https://roster.test"}
	accounts := account.NewService(db, account.Config{BaseURL: cfg.BaseURL})
	invites := invite.NewService(db, accounts, invite.Config{BaseURL: cfg.BaseURL})
	courses := course.NewService(db, course.Config{BaseURL: cfg.BaseURL})
	t.Cleanup(func() { courses.Close() })
	invites.SetCourseHooks(func(ctx context.Context, q store.Querier, id int64) (string, error) {
		if err := authz.CanInCourse(ctx, q, authz.ManageParticipants, id, db.Now()); err != nil {
			return "", err
		}
		var name string // the course's name, as cmd/roster's check answers
		if err := q.QueryRowContext(ctx, `SELECT fullname FROM courses WHERE id = $1`, id).Scan(&name); err != nil {
			return "a course", nil
		}
		return name, nil
	}, course.CourseOpen, course.EnrolInvitedTx)
	groups := group.NewService(db)
	op, err := oidcp.New(db, accounts, oidcp.Config{BaseURL: cfg.BaseURL})
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(cfg, Services{OIDC: op, Log: slog.New(slog.DiscardHandler), DB: db, Accounts: accounts, Courses: courses,
		SSO: sso.NewService(db, accounts, sso.Config{BaseURL: cfg.BaseURL}), Invites: invites, Groups: groups,
		SIS: sis.NewService(db, accounts)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Routes(mux)
	return &rig{t: t, ctx: context.Background(), db: db, clock: clock, accounts: accounts, courses: courses,
		invites: invites, groups: groups, mux: mux}
}

// user creates an account.
func (r *rig) user(in account.NewUser) *account.User {
	r.t.Helper()
	var u *account.User
	err := r.db.Tx(r.ctx, func(tx *store.Tx) error {
		var err error
		u, err = r.accounts.CreateUser(r.ctx, tx, in)
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return u
}

// do serves req as the user as (nobody when nil), from the same origin.
func (r *rig) do(as *account.User, req *http.Request) *httptest.ResponseRecorder {
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if as != nil {
		c := authz.With(req.Context(), r.accounts.PrincipalFor(as))
		req = req.WithContext(httpx.WithUser(c, as))
	}
	rec := httptest.NewRecorder()
	r.mux.ServeHTTP(rec, req)
	return rec
}

func (r *rig) get(as *account.User, path string) *httptest.ResponseRecorder {
	return r.do(as, httptest.NewRequest("GET", path, nil))
}

func (r *rig) post(as *account.User, path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r.do(as, req)
}

// send is get (form nil) or a form request with any method.
func (r *rig) send(as *account.User, method, path string, form url.Values) *httptest.ResponseRecorder {
	r.t.Helper()
	if form == nil {
		return r.do(as, httptest.NewRequest(method, path, nil))
	}
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r.do(as, req)
}

// call is send returning the status, the body and the Location header.
func (r *rig) call(as *account.User, method, path string, form url.Values) (int, string, string) {
	r.t.Helper()
	rec := r.send(as, method, path, form)
	return rec.Code, rec.Body.String(), rec.Header().Get("Location")
}

// want fails unless code is wantCode and body holds every part.
func (r *rig) want(code int, body string, wantCode int, parts ...string) {
	r.t.Helper()
	if code != wantCode {
		r.t.Fatalf("status %d, want %d:\n%s", code, wantCode, body)
	}
	for _, p := range parts {
		if !strings.Contains(body, p) {
			r.t.Fatalf("page lacks %q:\n%s", p, body)
		}
	}
}
