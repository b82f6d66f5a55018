package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

var bg = context.Background()

// rig is the API over a database, with callers chosen by the X-As header (a name in who).
type rig struct {
	t        testing.TB
	db       *store.DB
	accounts *account.Service
	h        http.Handler
	who      map[string]*authz.Principal
}

func newRig(t testing.TB, db *store.DB) *rig {
	r := &rig{t: t, db: db, accounts: account.NewService(db, account.Config{BaseURL: "https://roster.test"}),
		who: map[string]*authz.Principal{"admin": authz.System}}
	mux := http.NewServeMux()
	New(Config{}, Services{Log: slog.New(slog.DiscardHandler), DB: db, Accounts: r.accounts}).Routes(mux)
	r.h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := audit.WithIP(req.Context(), "192.0.2.7")
		if p := r.who[req.Header.Get("X-As")]; p != nil {
			ctx = authz.With(ctx, p)
		}
		mux.ServeHTTP(w, req.WithContext(ctx))
	})
	return r
}

// do sends a request as who and decodes the JSON answer into out (when not nil).
func (r *rig) do(who, method, path, body string, out any) (int, string) {
	r.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("X-As", who)
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if out != nil && rec.Code < 300 {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			r.t.Fatalf("%s %s: %v\n%s", method, path, err, rec.Body)
		}
	}
	return rec.Code, rec.Body.String()
}

func (r *rig) user(username, email string) *account.User {
	r.t.Helper()
	var u *account.User
	err := r.db.Tx(bg, func(tx *store.Tx) error {
		var err error
		u, err = r.accounts.CreateUser(bg, tx, account.NewUser{Username: username, Email: email, FirstName: "F" + username,
			LastName: "L" + username})
		return err
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return u
}

func (r *rig) exec(q string, args ...any) {
	r.t.Helper()
	if _, err := r.db.ExecContext(bg, q, args...); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
}

func TestUsersAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db)
		for i := range 5 {
			r.user(fmt.Sprint("u", i), fmt.Sprintf("u%d@example.org", i))
		}
		var page List[User]
		if code, body := r.do("admin", "GET", "/api/v1/users?limit=2", "", &page); code != 200 || len(page.Items) != 2 ||
			page.NextCursor == "" || !page.Items[0].Billable || page.Items[0].Username != "u0" {
			t.Fatalf("list: %d %s", code, body)
		}
		var rest List[User]
		r.do("admin", "GET", "/api/v1/users?limit=500&cursor="+page.NextCursor, "", &rest)
		if len(rest.Items) != 3 || rest.NextCursor != "" {
			t.Fatalf("second page %+v", rest)
		}
		if code, body := r.do("admin", "GET", "/api/v1/users?q=U3%40", "", &page); code != 200 || len(page.Items) != 1 {
			t.Fatalf("q: %d %s", code, body)
		}
		for path, field := range map[string]string{"/api/v1/users?limit=501": "limit", "/api/v1/users?status=x": "status",
			"/api/v1/users?group_id=x": "group_id", "/api/v1/users?cursor=x": "cursor"} {
			if code, body := r.do("admin", "GET", path, "", nil); code != 422 || !strings.Contains(body, `"field":"`+field+`"`) {
				t.Errorf("%s: %d %s", path, code, body)
			}
		}
		if code, _ := r.do("", "GET", "/api/v1/users", "", nil); code != 401 {
			t.Errorf("anonymous: %d", code)
		}

		// PATCH: names, email (both addresses told), deletion date.
		id := fmt.Sprint(rest.Items[0].ID)
		var u User
		code, body := r.do("admin", "PATCH", "/api/v1/users/"+id,
			`{"first_name":"Ada","email":"new@example.org","delete_at":"2027-01-31","language":"fr"}`, &u)
		if code != 200 || u.FirstName != "Ada" || u.Email != "new@example.org" || u.DeleteAt == nil ||
			!u.DeleteAt.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) || u.Language != "fr" {
			t.Fatalf("patch: %d %s", code, body)
		}
		var to []string
		rows, _ := db.QueryContext(bg, `SELECT to_addr FROM outbox WHERE template = 'email_changed' ORDER BY id`)
		for rows.Next() {
			var s string
			rows.Scan(&s)
			to = append(to, s)
		}
		rows.Close()
		if strings.Join(to, ",") != "u2@example.org,new@example.org" {
			t.Fatalf("email_changed to %v", to)
		}
		if code, body := r.do("admin", "PATCH", "/api/v1/users/"+id, `{"delete_at":null}`, &u); code != 200 || u.DeleteAt != nil {
			t.Fatalf("clear delete_at: %d %s", code, body)
		}
		// Bad input names the fields and changes nothing.
		for body, field := range map[string]string{
			`{"email":"nope","last_name":"Changed"}`:     "email",
			`{"delete_at":"next week"}`:                  "delete_at",
			`{"status":"deleted"}`:                       "status",
			`{"shoe_size":42}`:                           "shoe_size",
			`{"custom_fields":{"faculty":"law"}}`:        "custom_fields.faculty",
			`{"username":"u0","last_name":"Changed"}`:    "username",
			`{"email":"u0@example.org","last_name":"X"}`: "email",
		} {
			code, got := r.do("admin", "PATCH", "/api/v1/users/"+id, body, nil)
			if (code != 422 && code != 409) || !strings.Contains(got, `"field":"`+field+`"`) {
				t.Errorf("%s: %d %s", body, code, got)
			}
		}
		r.do("admin", "GET", "/api/v1/users/"+id, "", &u)
		if u.LastName != "Lu2" || u.Status != "active" {
			t.Errorf("refused patches changed %+v", u)
		}

		// Suspension keeps the month billable; DELETE anonymises at once.
		clock.Advance(time.Hour)
		if code, body := r.do("admin", "PATCH", "/api/v1/users/"+id, `{"status":"suspended"}`, &u); code != 200 ||
			u.Status != "suspended" || !u.Billable {
			t.Fatalf("suspend: %d %s", code, body)
		}
		if code, body := r.do("admin", "DELETE", "/api/v1/users/"+id, "", nil); code != 204 {
			t.Fatalf("delete: %d %s", code, body)
		}
		if code, _ := r.do("admin", "GET", "/api/v1/users/"+id, "", nil); code != 404 {
			t.Fatalf("deleted user: %d", code)
		}

		// The audit log shows who did what to whom, when and from where.
		var events List[AuditEvent]
		if code, body := r.do("admin", "GET", "/api/v1/audit?target="+id+"&action=user.", "", &events); code != 200 ||
			len(events.Items) < 4 || events.Items[0].Action != "user.delete" || events.Items[0].IP != "192.0.2.7" {
			t.Fatalf("audit: %d %s", code, body)
		}
		r.do("admin", "GET", "/api/v1/audit?action=user.email_change", "", &events)
		if len(events.Items) != 1 || events.Items[0].Details["new"] != "new@example.org" {
			t.Fatalf("email change events %+v", events.Items)
		}

		// Billing of this month counts the five accounts, the deleted one included.
		var bill Billing
		if code, body := r.do("admin", "GET", "/api/v1/billing?month=2026-11", "", &bill); code != 200 ||
			bill.Billable != 5 || bill.Month != "2026-11" || len(bill.Users) != 5 {
			t.Fatalf("billing: %d %s", code, body)
		}
		if code, body := r.do("admin", "GET", "/api/v1/billing?month=11-2026", "", nil); code != 422 || !strings.Contains(body, `"month"`) {
			t.Fatalf("bad month: %d %s", code, body)
		}
	})
}

// TestUsersAPIScope: a user_admin reaches the members of its groups and nobody else.
func TestUsersAPIScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		r.exec(`INSERT INTO groups (id, name, visibility, created_at, updated_at) VALUES (1, 'A', 'private', 0, 0), (2, 'B', 'private', 0, 0)`)
		r.exec(`INSERT INTO group_paths (ancestor_id, descendant_id, depth) VALUES (1, 1, 0), (2, 2, 0)`)
		boss, in, out := r.user("boss", "boss@example.org"), r.user("in", "in@example.org"), r.user("out", "out@example.org")
		for _, m := range [][3]any{{1, boss.ID, "user_admin"}, {1, in.ID, "learner"}, {2, out.ID, "learner"}} {
			r.exec(`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) VALUES ($1, $2, $3, 'manual', 0, 0)`,
				m[0], m[1], m[2])
		}
		r.who["boss"] = &authz.Principal{UserID: boss.ID}
		var page List[User]
		if code, body := r.do("boss", "GET", "/api/v1/users", "", &page); code != 200 || len(page.Items) != 2 {
			t.Fatalf("scoped list: %d %s", code, body)
		}
		if code, _ := r.do("boss", "GET", "/api/v1/users?group_id=2", "", nil); code != 403 {
			t.Errorf("group out of scope: %d", code)
		}
		if code, _ := r.do("boss", "PATCH", fmt.Sprint("/api/v1/users/", in.ID), `{"last_name":"Renamed"}`, nil); code != 200 {
			t.Errorf("in scope: %d", code)
		}
		for _, c := range []struct{ method, body string }{{"GET", ""}, {"PATCH", `{"last_name":"Renamed"}`}, {"DELETE", ""}} {
			if code, _ := r.do("boss", c.method, fmt.Sprint("/api/v1/users/", out.ID), c.body, nil); code != 403 {
				t.Errorf("%s out of scope: %d", c.method, code)
			}
		}
		if code, _ := r.do("boss", "GET", "/api/v1/billing", "", nil); code != 403 {
			t.Errorf("billing for a user_admin: %d", code)
		}
		if code, _ := r.do("boss", "GET", "/api/v1/audit", "", nil); code != 403 {
			t.Errorf("audit for a user_admin: %d", code)
		}
	})
}

func TestProfileFieldsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		u := r.user("someone", "someone@example.org")
		r.who["someone"] = &authz.Principal{UserID: u.ID}
		var f ProfileField
		if code, body := r.do("admin", "POST", "/api/v1/profile-fields",
			`{"key":"faculty","label":"Faculty","kind":"choice","options":["law","science"],"required":true}`, &f); code != 201 || f.ID == "" {
			t.Fatalf("create: %d %s", code, body)
		}
		if code, body := r.do("admin", "POST", "/api/v1/profile-fields", `{"key":"faculty","label":"Again","kind":"text"}`, nil); code != 409 {
			t.Fatalf("duplicate: %d %s", code, body)
		}
		if code, body := r.do("someone", "POST", "/api/v1/profile-fields", `{"key":"x","label":"X","kind":"text"}`, nil); code != 403 {
			t.Fatalf("non-admin: %d %s", code, body)
		}
		if code, body := r.do("admin", "PATCH", "/api/v1/profile-fields/"+f.ID, `{"label":"School"}`, &f); code != 200 ||
			f.Label != "School" || f.Kind != "choice" || len(f.Options) != 2 {
			t.Fatalf("patch: %d %s", code, body)
		}
		var list List[ProfileField]
		if code, _ := r.do("someone", "GET", "/api/v1/profile-fields", "", &list); code != 200 || len(list.Items) != 1 {
			t.Fatalf("list %+v", list)
		}
		// The user API checks values against the definitions.
		var got User
		if code, body := r.do("admin", "PATCH", fmt.Sprint("/api/v1/users/", u.ID), `{"custom_fields":{"faculty":"law"}}`, &got); code != 200 ||
			got.CustomFields["faculty"] != "law" {
			t.Fatalf("set field: %d %s", code, body)
		}
		if code, body := r.do("admin", "PATCH", fmt.Sprint("/api/v1/users/", u.ID), `{"custom_fields":{"faculty":"arts"}}`, nil); code != 422 ||
			!strings.Contains(body, "custom_fields.faculty") {
			t.Fatalf("bad value: %d %s", code, body)
		}
		if code, _ := r.do("admin", "DELETE", "/api/v1/profile-fields/"+f.ID, "", nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		if code, _ := r.do("admin", "DELETE", "/api/v1/profile-fields/"+f.ID, "", nil); code != 404 {
			t.Fatalf("delete twice: %d", code)
		}
	})
}

// TestProblemsCarryCodes: each problem and each errors item has a stable code beside its
// English message (CONTRACT.md "Errors carry stable codes").
func TestProblemsCarryCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newRig(t, db)
		u := r.user("ann", "ann@example.org")
		code, body := r.do("admin", "PATCH", fmt.Sprint("/api/v1/users/", u.ID), `{"email":"nope","first_name":""}`, nil)
		if code != 422 || !strings.Contains(body, `"code":"invalid_email"`) ||
			!strings.Contains(body, `{"field":"email","code":"invalid_email","message":"is not a valid email address"}`) ||
			!strings.Contains(body, `"field":"first_name","code":"required_max"`) {
			t.Errorf("invalid: %d %s", code, body)
		}
		if code, body := r.do("", "GET", "/api/v1/users", "", nil); code != 401 || !strings.Contains(body, `"code":"login_required"`) {
			t.Errorf("anonymous: %d %s", code, body)
		}
		// The API's own errors have codes too: a bad query parameter.
		if code, body := r.do("admin", "GET", "/api/v1/users?limit=x", "", nil); code != 422 ||
			!strings.Contains(body, `{"field":"limit","code":"api_bad_limit","message":"must be a whole number from 1 to 500, not \"x\""}`) {
			t.Errorf("uncoded: %d %s", code, body)
		}
	})
}
