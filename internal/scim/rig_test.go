package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/group"
	"roster/internal/scim"
	"roster/internal/store"
)

// rig is a SCIM endpoint over a fresh database with one token, as internal/server mounts it:
// the bearer token is turned into a principal by account.TokenPrincipal.
type rig struct {
	t        testing.TB
	db       *store.DB
	accounts *account.Service
	groups   *group.Service
	handler  http.Handler
	token    string
	scopeID  int64
}

func newRig(t testing.TB, db *store.DB) *rig {
	t.Helper()
	ctx := authz.With(context.Background(), authz.System)
	accounts := account.NewService(db, account.Config{BaseURL: "https://roster.test"})
	groups := group.NewService(db)
	root, err := groups.Create(ctx, group.Group{Name: "Contoso"})
	if err != nil {
		t.Fatal(err)
	}
	token, err := accounts.CreateAPIToken(ctx, "entra", 0, root.ID)
	if err != nil {
		t.Fatal(err)
	}
	h := scim.New(scim.Services{DB: db, Accounts: accounts, Groups: groups}, scim.Config{BaseURL: "https://roster.test"})
	r := &rig{t: t, db: db, accounts: accounts, groups: groups, token: token, scopeID: root.ID}
	r.handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
			p, err := accounts.TokenPrincipal(req.Context(), tok)
			if err != nil {
				http.Error(w, "bad token", http.StatusUnauthorized)
				return
			}
			req = req.WithContext(authz.With(req.Context(), p))
		}
		h.ServeHTTP(w, req)
	})
	return r
}

// tokenFor makes a SCIM token for another group.
func (r *rig) tokenFor(groupID int64) string {
	r.t.Helper()
	tok, err := r.accounts.CreateAPIToken(authz.With(context.Background(), authz.System), "other", 0, groupID)
	if err != nil {
		r.t.Fatal(err)
	}
	return tok
}

type resp struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// do sends a request; body is JSON-encoded unless it is a string. headers are "Name: value".
func (r *rig) do(method, path string, body any, headers ...string) *resp {
	r.t.Helper()
	return r.doAs(r.token, method, path, body, headers...)
}

func (r *rig) doAs(token, method, path string, body any, headers ...string) *resp {
	r.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, "https://roster.test"+strings.NewReplacer(" ", "%20", "+", "%2B").Replace(path), rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	r.handler.ServeHTTP(w, req)
	out := &resp{Status: w.Code, Header: w.Header(), Raw: w.Body.String()}
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &out.Body); err != nil {
			r.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, w.Body.String())
		}
	}
	if w.Code >= 500 {
		r.t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body.String())
	}
	return out
}

// want fails unless the response has this status.
func (p *resp) want(t testing.TB, status int) *resp {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d: %s", p.Status, status, p.Raw)
	}
	return p
}

// get reads a value by a dotted path with list indexes: "emails.0.value".
func (p *resp) get(path string) any {
	var v any = p.Body
	parts := strings.Split(path, ".")
	for i := 0; i < len(parts); i++ {
		switch x := v.(type) {
		case map[string]any:
			// Keys may hold dots (schema URNs): take the longest one that exists.
			found := false
			for j := len(parts); j > i; j-- {
				if e, ok := x[strings.Join(parts[i:j], ".")]; ok {
					v, i, found = e, j-1, true
					break
				}
			}
			if !found {
				return nil
			}
		case []any:
			var n int
			fmt.Sscan(parts[i], &n)
			if n >= len(x) {
				return nil
			}
			v = x[n]
		default:
			return nil
		}
	}
	return v
}

func (p *resp) str(path string) string { s, _ := p.get(path).(string); return s }

func (p *resp) total() int { n, _ := p.get("totalResults").(float64); return int(n) }

// wantError checks an RFC 7644 error: status as a string, and the scimType if given.
func (p *resp) wantError(t testing.TB, status int, scimType string) {
	t.Helper()
	p.want(t, status)
	if ct := p.Header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("error content type %q", ct)
	}
	schemas, _ := p.Body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("error schemas %v", p.Body["schemas"])
	}
	if s, ok := p.Body["status"].(string); !ok || s != fmt.Sprint(status) {
		t.Errorf("error status %#v, want the string %q", p.Body["status"], fmt.Sprint(status))
	}
	if scimType != "" && p.Body["scimType"] != scimType {
		t.Errorf("scimType %v, want %s: %s", p.Body["scimType"], scimType, p.Raw)
	}
}

// userJSON is a typical POST /Users body.
func userJSON(userName, given, family string) map[string]any {
	return map[string]any{
		"schemas":  []any{scim.UserSchema},
		"userName": userName,
		"name":     map[string]any{"givenName": given, "familyName": family},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":   true,
	}
}

func patch(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []any{scim.PatchSchema}, "Operations": list}
}

func op(o, path string, value any) map[string]any {
	m := map[string]any{"op": o}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

// sqlInt runs a query returning one integer.
func (r *rig) sqlInt(q string, args ...any) int64 {
	r.t.Helper()
	var n int64
	if err := r.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (r *rig) sqlString(q string, args ...any) string {
	r.t.Helper()
	var s string
	if err := r.db.QueryRowContext(context.Background(), q, args...).Scan(&s); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	return s
}
