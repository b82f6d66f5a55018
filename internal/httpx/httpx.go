// Package httpx holds what the web pages and the JSON API share over HTTP: the session
// cookie, the client address, rate limiting, metrics and the middleware around every request.
package httpx

import (
	"context"
	"net/http"
	"time"
)

// SessionCookie is the name of the cookie that carries the session token.
const SessionCookie = "roster_session"

// SetSession writes the session cookie: HttpOnly, SameSite=Lax, Secure when served by HTTPS.
func SetSession(w http.ResponseWriter, token string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteLaxMode})
}

// ClearSession removes the session cookie.
func ClearSession(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0)})
}

// SessionToken returns the session cookie's value, or "".
func SessionToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

type userKey struct{}

// WithUser stores the logged-in user (any type the caller chooses) in ctx for page rendering.
func WithUser(ctx context.Context, u any) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// User returns what WithUser stored.
func User(ctx context.Context) any { return ctx.Value(userKey{}) }

// Router is what route tables register on: *http.ServeMux, or a wrapper that also records
// the patterns (the authorization matrix test lists every route this way).
type Router interface {
	Handle(pattern string, handler http.Handler)
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}
