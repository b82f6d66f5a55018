// Package server puts Roster's HTTP parts together: the web pages, the JSON API, health and
// metrics, behind the middleware every request passes (logging, metrics, security headers,
// cross-origin protection, rate limits on public endpoints, and finding who is calling).
package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/api"
	"roster/internal/audit"
	"roster/internal/authz"
	"roster/internal/errs"
	"roster/internal/httpx"
	"roster/internal/oidcp"
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
	Secure   bool // the base URL is https: cookies carry the Secure flag, responses HSTS
	// TrustedProxies are the reverse proxies whose forwarding headers name the client
	// (httpx.ResolveClient); empty: the peer's address is the client's.
	TrustedProxies []netip.Prefix
	// MetricsElsewhere is set when /metrics has a listener of its own (--metrics-addr, see
	// MetricsHandler): the main listener then does not serve it at all.
	MetricsElsewhere bool
	// SCIM serves /scim/v2/ (internal/scim); nil leaves it unmounted.
	SCIM http.Handler
	// OIDC is the OpenID provider (internal/oidcp); nil leaves it unmounted.
	OIDC *oidcp.Provider
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
	// The OpenID provider's token, userinfo, revocation and introspection endpoints are called
	// by other sites' pages and act on no session cookie.
	for _, p := range oidcp.CrossOriginEndpoints {
		csrf.AddInsecureBypassPattern(p)
	}
	limiter := httpx.NewLimiter(60, 20)

	var h http.Handler = mux
	h = authenticate(d, h)
	h = rateLimitPublic(limiter, h)
	h = csrf.Handler(h)
	// Health answers before anything that reads the database for the caller (authentication),
	// so that it tells the truth whatever the headers.
	h = healthFirst(mux, h)
	h = retryAfter(h)
	h = httpx.SecureHeaders(h)
	if d.Secure {
		h = httpx.StrictTransport(h)
	}
	h = httpx.Observe(d.Log, d.Metrics, h)
	h = httpx.ResolveClient(d.TrustedProxies, h)
	return h
}

// retryAfter adds Retry-After to every 503 that has none (the database is unreachable or
// its disk is full: errs.Unavailable), for pages, the API and SCIM alike.
func retryAfter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&retryWriter{ResponseWriter: w}, r)
	})
}

type retryWriter struct{ http.ResponseWriter }

func (w *retryWriter) WriteHeader(code int) {
	if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(errs.RetryUnavailable))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *retryWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *retryWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Routes registers every route Roster serves on mux. New sends the health routes to mux
// before authentication (see healthFirst).
func Routes(d Deps, mux httpx.Router) {
	mux.HandleFunc("GET /healthz", ready(d.DB))
	mux.HandleFunc("GET /readyz", ready(d.DB))
	mux.HandleFunc("GET /livez", live)
	if !d.MetricsElsewhere {
		// On the public listener the metrics are for platform administrators only (a token).
		mux.Handle("GET /metrics", platformAdminOnly(d.Metrics))
	}
	d.Web.Routes(mux)
	d.API.Routes(mux)
	if d.SCIM != nil {
		mux.Handle("/scim/v2/", d.SCIM)
	}
	if d.OIDC != nil {
		d.OIDC.Routes(mux)
	}
	oneroster.New(d.DB, d.OneRoster, d.Log).Routes(mux)
}

// MetricsHandler serves /metrics alone, without authentication, for the listener of
// --metrics-addr (meant for a private address the monitoring reaches, never the public one).
func MetricsHandler(m *httpx.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	return mux
}

// platformAdminOnly lets platform administrators through (a platform-admin API token, or a
// platform administrator's session) and answers 401 or 403 to everyone else.
func platformAdminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := authz.RequirePlatformAdmin(r.Context()); err != nil {
			if errs.Is(err, errs.Unauthorized) {
				unauthorized(w, r, "the metrics need a platform administrator's token")
				return
			}
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// publicPosts are the unauthenticated endpoints that someone could hammer.
var publicPosts = []string{"/login", "/password/", "/setup/", "/account/setup/", "/invitation/", "/api/v1/auth/",
	"/api/v1/account/setup", "/api/v1/invitations/accept"}

// loginPosts are the logins themselves: never limited by volume here, since a campus behind
// one address sends hundreds of correct ones a minute. Their guard is the failed-login
// throttle of package account (per account, and a growing delay per address), and the
// bounded number of password hashes computed at once.
var loginPosts = map[string]bool{"/login": true, "/api/v1/auth/login": true}

// rateLimitPublic limits the other public POSTs (password-reset requests, set-up, invitation
// answers) per client address: 60 a minute after a burst of 20.
func rateLimitPublic(l *httpx.Limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !loginPosts[r.URL.Path] {
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
// The OpenID provider's endpoints read the Authorization header themselves (client secrets,
// their own access tokens): for them only the cookie is looked at.
func authenticate(d Deps, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := audit.WithIP(r.Context(), httpx.ClientIP(r))
		if strings.HasPrefix(r.URL.Path, "/ims/oneroster/") {
			// The OneRoster service checks its own tokens (the OpenID provider's client
			// credentials), never Roster's API tokens or sessions.
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		h := r.Header.Get("Authorization")
		if h != "" && oidcp.OwnAuth(r.URL.Path) {
			// A Roster API or SCIM token is not for these endpoints either (its lane).
			if token, ok := strings.CutPrefix(h, "Bearer "); ok {
				if _, err := d.Accounts.TokenPrincipal(ctx, strings.TrimSpace(token)); err == nil {
					forbidden(w, r, "this token is not for this endpoint")
					return
				}
			}
			h = ""
		}
		if h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				unauthorized(w, r, "the Authorization header must be: Bearer TOKEN")
				return
			}
			p, err := d.Accounts.TokenPrincipal(ctx, strings.TrimSpace(token))
			if err != nil {
				if errs.Is(err, errs.Unavailable) {
					unavailable(w, d.Log, err)
					return
				}
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
			case errs.Is(err, errs.Unavailable):
				unavailable(w, d.Log, err)
				return
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

// unavailable answers 503 when the database cannot be reached while finding the caller.
func unavailable(w http.ResponseWriter, log *slog.Logger, err error) {
	log.Warn("database unavailable", "err", err)
	w.Header().Set("Retry-After", strconv.Itoa(errs.RetryUnavailable))
	http.Error(w, "The service is unavailable for a moment. Try again shortly.", http.StatusServiceUnavailable)
}
