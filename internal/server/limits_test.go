package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/api"
	"roster/internal/authz"
	"roster/internal/httpx"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/web"
)

// limitsRig is the whole handler with the given deps changes, and accounts to log in with.
type limitsRig struct {
	h        http.Handler
	accounts *account.Service
	db       *store.DB
}

func newLimitsRig(tb testing.TB, db *store.DB, change func(*Deps)) *limitsRig {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accounts := account.NewService(db, account.Config{BaseURL: "https://roster.test"})
	pages, err := web.New(web.Config{BaseURL: "https://roster.test"}, web.Services{Log: log, DB: db, Accounts: accounts})
	if err != nil {
		tb.Fatal(err)
	}
	d := Deps{Log: log, DB: db, Accounts: accounts, Web: pages,
		API: api.New(api.Config{}, api.Services{Log: log, DB: db, Accounts: accounts}), Metrics: httpx.NewMetrics()}
	if change != nil {
		change(&d)
	}
	return &limitsRig{h: New(d), accounts: accounts, db: db}
}

func (r *limitsRig) person(tb testing.TB, username, password string, admin bool) *account.User {
	tb.Helper()
	ctx := authz.With(context.Background(), authz.System)
	var u *account.User
	err := r.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		u, err = r.accounts.CreateUser(ctx, tx, account.NewUser{Username: username, Email: username + "@example.org",
			FirstName: "F", LastName: "L", Password: password, IsAdmin: admin})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// do sends one request from remote (host:port), with extra headers as "Name: value".
func (r *limitsRig) do(method, path, body, remote string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = remote
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	return rec
}

func login(name, password string) string {
	return fmt.Sprintf(`{"login":%q,"password":%q}`, name, password)
}

// TestFailuresFromAnAddressLockNobodyOut: after 50 wrong passwords from one address (many
// accounts tried), another person behind that address logs in with the right password.
func TestFailuresFromAnAddressLockNobodyOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newLimitsRig(t, db, nil)
		r.person(t, "victim", "right horse battery 1", false)
		r.person(t, "other", "green meadow long phrase", false)
		const campus = "198.51.100.20:40000"
		for i := 0; i < 50; i++ {
			who := fmt.Sprintf("guess%d", i)
			if i < 4 {
				who = "victim"
			}
			if rec := r.do("POST", "/api/v1/auth/login", login(who, "wrong password 123"), campus); rec.Code != 401 {
				t.Fatalf("wrong password %d: %d %s", i, rec.Code, rec.Body)
			}
		}
		for _, p := range [][2]string{{"other", "green meadow long phrase"}, {"victim", "right horse battery 1"}} {
			if rec := r.do("POST", "/api/v1/auth/login", login(p[0], p[1]), campus); rec.Code != 200 {
				t.Fatalf("%s from the same address, right password: %d %s", p[0], rec.Code, rec.Body)
			}
		}
	})
}

// TestTrustedProxies: behind a trusted proxy each client has its own limit; from anyone
// else X-Forwarded-For is ignored.
func TestTrustedProxies(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	r := newLimitsRig(t, db, func(d *Deps) { d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
	forgot := func(remote, xff string) int {
		return r.do("POST", "/api/v1/auth/password/forgot", `{"login":"nobody"}`, remote, "X-Forwarded-For: "+xff).Code
	}
	for i := 0; i < 20; i++ {
		if c := forgot("10.0.0.1:1", "203.0.113.1"); c != 202 {
			t.Fatalf("request %d: %d", i, c)
		}
	}
	if c := forgot("10.0.0.1:1", "203.0.113.1"); c != 429 {
		t.Fatalf("21st request of one client: %d, want 429", c)
	}
	if c := forgot("10.0.0.1:1", "203.0.113.2"); c != 202 {
		t.Fatalf("another client behind the proxy: %d, want 202", c)
	}
	// Not a trusted proxy: its header is not believed, so changing it gains nothing.
	for i := 0; i < 20; i++ {
		forgot("192.0.2.50:1", fmt.Sprintf("203.0.113.%d", 100+i))
	}
	if c := forgot("192.0.2.50:1", "203.0.113.250"); c != 429 {
		t.Fatalf("spoofed X-Forwarded-For from an untrusted peer: %d, want 429", c)
	}
}

func TestMetricsNeedPlatformAdmin(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	r := newLimitsRig(t, db, nil)
	r.person(t, "admin", "copper kettle long phrase", true)
	r.person(t, "plain", "silver lantern long phrase", false)
	if rec := r.do("GET", "/metrics", "", "192.0.2.1:1"); rec.Code != 401 {
		t.Fatalf("anonymous: %d", rec.Code)
	}
	ctx := context.Background()
	adminToken, err := r.accounts.CreateAPIToken(authz.With(ctx, authz.System), "mon", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec := r.do("GET", "/metrics", "", "192.0.2.1:1", "Authorization: Bearer "+adminToken); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), "roster_http_requests_total") {
		t.Fatalf("platform-admin token: %d %s", rec.Code, rec.Body)
	}
	sess := r.do("POST", "/api/v1/auth/login", login("plain", "silver lantern long phrase"), "192.0.2.1:1")
	if sess.Code != 200 {
		t.Fatal(sess.Code)
	}
	cookie := sess.Result().Cookies()[0]
	if rec := r.do("GET", "/metrics", "", "192.0.2.1:1", "Cookie: "+cookie.Name+"="+cookie.Value); rec.Code != 403 {
		t.Fatalf("a learner: %d", rec.Code)
	}
	// With --metrics-addr the public listener does not serve them at all.
	elsewhere := newLimitsRig(t, db, func(d *Deps) { d.MetricsElsewhere = true })
	if rec := elsewhere.do("GET", "/metrics", "", "192.0.2.1:1", "Authorization: Bearer "+adminToken); rec.Code == 200 {
		t.Fatalf("metrics on the public listener with --metrics-addr: %d", rec.Code)
	}
}

func TestStrictTransportOnHTTPS(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	for _, secure := range []bool{true, false} {
		r := newLimitsRig(t, db, func(d *Deps) { d.Secure = secure })
		got := r.do("GET", "/login", "", "192.0.2.1:1").Header().Get("Strict-Transport-Security")
		if (got != "") != secure || (secure && !strings.HasPrefix(got, "max-age=")) {
			t.Errorf("https %v: Strict-Transport-Security %q", secure, got)
		}
	}
}

// BenchmarkCorrectLoginsFromOneAddress sends 500 correct logins from one address (a campus
// behind one NAT at the start of a lecture), 16 at a time, through the whole handler, and
// fails if any is refused. It reports the latency percentiles, the time for all 500 and the
// peak heap. Every login computes an argon2id hash: the figures are what that costs here.
func BenchmarkCorrectLoginsFromOneAddress(b *testing.B) {
	db, _ := storetest.OpenSQLite(b)
	benchLogins(b, db)
}

// BenchmarkCorrectLoginsFromOneAddressPostgres is the same on PostgreSQL.
func BenchmarkCorrectLoginsFromOneAddressPostgres(b *testing.B) {
	db, _ := storetest.OpenPostgres(b)
	benchLogins(b, db)
}

func benchLogins(b *testing.B, db *store.DB) {
	const people, logins, parallel = 50, 500, 16
	r := newLimitsRig(b, db, nil)
	for i := range people {
		r.person(b, fmt.Sprintf("student%d", i), fmt.Sprintf("student %d passphrase", i), false)
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	defer close(stop)
	var all []time.Duration
	var total time.Duration
	b.ResetTimer()
	for b.Loop() {
		lat := make([]time.Duration, logins)
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range parallel {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= logins {
						return
					}
					p := i % people
					t0 := time.Now()
					rec := r.do("POST", "/api/v1/auth/login", login(fmt.Sprintf("student%d", p), fmt.Sprintf("student %d passphrase", p)),
						"198.51.100.1:40000")
					lat[i] = time.Since(t0)
					if rec.Code != 200 {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		total += time.Since(start)
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d of %d correct logins from one address refused", n, logins)
		}
		all = append(all, lat...)
	}
	b.StopTimer()
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(float64(len(all)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/500logins")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
}
