// Package server puts Roster's HTTP parts together: the web pages, the JSON API, health and
// metrics, behind the middleware every request passes (logging, metrics, security headers,
// cross-origin protection, rate limits on public endpoints, and finding who is calling).
package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/api"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/httpx"
	"roster/internal/oneroster"
	"roster/internal/scim"
	"roster/internal/store"
	"roster/internal/web"
)

// Deps are the parts the server is built from.
type Deps struct {
	Log      *slog.Logger
	DB       *store.DB
	Accounts *account.Service
	Web      *web.Web
	API      *api.API
	Metrics  *httpx.Metrics
	Secure   bool // cookies carry the Secure flag
	// SCIM serves /scim/v2/ (internal/scim); nil leaves it unmounted.
	SCIM http.Handler
	// OneRoster checks the bearer tokens of the OneRoster rostering service under
	// /ims/oneroster/ (internal/oneroster); nil refuses every request there with 401.
	OneRoster oneroster.Verifier
}

// New returns the handler for every route Roster serves.
func New(d Deps) http.Handler {
	mux := http.NewServeMux()
	Routes(d, mux)

	// Cross-site request forgery: state-changing requests from another origin are refused, by
	// the browser's Sec-Fetch-Site and Origin headers (requests with a bearer token come from
	// programs, which send neither, and pass).
	csrf := http.NewCrossOriginProtection()
	limiter := httpx.NewLimiter(60, 20)

	var h http.Handler = mux
	h = authenticate(d, h)
	h = rateLimitPublic(limiter, h)
	h = csrf.Handler(h)
	h = httpx.SecureHeaders(h)
	h = httpx.Observe(d.Log, d.Metrics, h)
	return h
}

// Routes registers every route Roster serves on mux.
func Routes(d Deps, mux httpx.Router) {
	mux.HandleFunc("GET /healthz", health(d.DB))
	mux.Handle("GET /metrics", d.Metrics)
	d.Web.Routes(mux)
	d.API.Routes(mux)
	if d.SCIM != nil {
		mux.Handle("/scim/v2/", d.SCIM)
	}
	oneroster.New(d.DB, d.OneRoster, d.Log).Routes(mux)
}

func health(db *store.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := db.PingContext(r.Context()); err != nil {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	}
}

// publicPosts are the unauthenticated endpoints that someone could hammer.
var publicPosts = []string{"/login", "/password/", "/setup/", "/account/setup/", "/invitation/", "/api/v1/auth/",
	"/api/v1/account/setup", "/api/v1/invitations/accept"}

func rateLimitPublic(l *httpx.Limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			for _, p := range publicPosts {
				if strings.HasPrefix(r.URL.Path, p) {
					if ok, wait := l.Allow(httpx.ClientIP(r)); !ok {
						secs := int(wait.Seconds())
						w.Header().Set("Retry-After", strconv.Itoa(secs))
						http.Error(w, "Too many requests. Try again in "+strconv.Itoa(secs)+" seconds.", http.StatusTooManyRequests)
						return
					}
					break
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate finds the caller: a bearer token (API, SCIM), else the session cookie. A bad
// bearer token is refused at once; a stale cookie is dropped and the request goes on anonymous.
func authenticate(d Deps, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := audit.WithIP(r.Context(), httpx.ClientIP(r))
		if strings.HasPrefix(r.URL.Path, "/ims/oneroster/") {
			// The OneRoster service checks its own tokens (the OpenID provider's client
			// credentials), never Roster's API tokens or sessions.
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				unauthorized(w, r, "the Authorization header must be: Bearer TOKEN")
				return
			}
			p, err := d.Accounts.TokenPrincipal(ctx, strings.TrimSpace(token))
			if err != nil {
				if errs.Is(err, errs.Internal) {
					d.Log.Error("token", "err", err)
					http.Error(w, "internal error", http.StatusInternalServerError)
					return
				}
				unauthorized(w, r, "unknown or revoked token")
				return
			}
			if !authz.TokenLane(p.TokenKind, r.URL.Path) {
				forbidden(w, r, "this token is not for this endpoint")
				return
			}
			next.ServeHTTP(w, r.WithContext(authz.With(ctx, p)))
			return
		}
		if token := httpx.SessionToken(r); token != "" {
			u, err := d.Accounts.SessionUser(ctx, token)
			switch {
			case err == nil:
				ctx = authz.With(ctx, d.Accounts.PrincipalFor(u))
				ctx = httpx.WithUser(ctx, u)
			case errs.Is(err, errs.Internal):
				d.Log.Error("session", "err", err)
			default:
				httpx.ClearSession(w, d.Secure)
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// forbidden refuses a token outside its lane (authz.TokenLane): in SCIM's error format under
// /scim/v2/ (RFC 7644 §3.12), as problem details elsewhere.
func forbidden(w http.ResponseWriter, r *http.Request, detail string) {
	if r.URL.Path == "/scim/v2" || strings.HasPrefix(r.URL.Path, "/scim/v2/") {
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"` + detail + `"}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusForbidden)
	w.Write([]byte(`{"type":"https://roster.invalid/problems/forbidden","title":"Forbidden","status":403,"detail":"` + detail + `"}` + "\n"))
}

// unauthorized refuses a request whose credentials are bad: in SCIM's error format under
// /scim/v2/ (RFC 7644 §3.12), as problem details elsewhere.
func unauthorized(w http.ResponseWriter, r *http.Request, detail string) {
	if r.URL.Path == "/scim/v2" || strings.HasPrefix(r.URL.Path, "/scim/v2/") {
		scim.Unauthorized(w, detail)
		return
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(`{"type":"https://roster.invalid/problems/unauthorized","title":"Unauthorized","status":401,"detail":"` + detail + `"}` + "\n"))
}
