package oidcp

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"roster/internal/account"
	"roster/internal/errs"
	"roster/internal/httpx"
)

// sessionUser is the person logged in to Roster in this request, or nil.
func sessionUser(r *http.Request) *account.User {
	u, _ := httpx.User(r.Context()).(*account.User)
	return u
}

// expired answers a login whose request is unknown or expired (an old tab, a used link).
func expired(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte("Cette demande de connexion a expiré : retournez sur la plateforme et recommencez.\n" +
		"This login request has expired: go back to the platform and start again.\n"))
}

// login is where the authorization endpoint sends the browser (the client's LoginURL): a
// person without a session, or whose login is older than the client's max_age (or
// prompt=login), goes to Roster's login page and comes back here; a logged-in person's
// request is completed, with the start of their session as auth_time, and goes on to the
// callback, which issues the code. There
// is no consent screen: clients are registered by the platform's administrators.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	a, err := p.authRequestByID(r.Context(), id)
	if err != nil {
		expired(w)
		return
	}
	u := sessionUser(r)
	var authTime time.Time
	if u != nil {
		if authTime, err = p.accounts.SessionStart(r.Context(), httpx.SessionToken(r)); err != nil {
			u = nil
		}
	}
	if u == nil || !fresh(a, authTime, p.db.Now()) {
		if slices.Contains(a.prompt, oidc.PromptNone) {
			op.AuthRequestError(w, r, a, oidc.ErrLoginRequired(), p.op)
			return
		}
		// Roster's login page, also for a person logged in too long ago for the client: a
		// new login starts a new session, whose start is the new auth_time.
		http.Redirect(w, r, "/login?next="+url.QueryEscape(PathLogin+"?resume=1&id="+url.QueryEscape(id)), http.StatusFound)
		return
	}
	if err := p.completeAuthRequest(r.Context(), id, u.ID, authTime); err != nil {
		p.log.Error("oidc login", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	next := PathCallback + "?id=" + url.QueryEscape(id)
	if r.URL.Query().Get("resume") == "" {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	// Back from the login form: the browser is still in the redirects that answer a form
	// submission, which the pages' Content-Security-Policy (form-action 'self') keeps on this
	// site. A page that moves on by itself starts a new navigation, free to leave it.
	resume(w, next)
}

// fresh reports whether a login at authTime satisfies the request's max_age (prompt=login is
// max_age 0): a login after the request began always does, so that a person who has just
// logged in again is not sent back to the login page.
func fresh(a *authRequest, authTime, now time.Time) bool {
	if a.maxAge == nil || !authTime.Before(a.createdAt) {
		return true
	}
	return now.Sub(authTime) <= time.Duration(*a.maxAge)*time.Second
}

// resume answers with a page that goes on to next at once (a meta refresh: no script).
func resume(w http.ResponseWriter, next string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	u := html.EscapeString(next)
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=%s"><title>…</title></head>`+
		`<body><p><a id="resume" href="%s">→</a></p></body></html>`, u, u)
}

// callback issues the code, for the browser whose person completed the request only: a
// request id seen elsewhere (a log, a shoulder) gets nobody a code.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	a, err := p.authRequestByID(r.Context(), id)
	if err != nil {
		expired(w)
		return
	}
	u := sessionUser(r)
	if u == nil || !a.Done() || u.ID != a.userID {
		http.Redirect(w, r, PathLogin+"?id="+url.QueryEscape(id), http.StatusFound)
		return
	}
	p.op.HttpHandler().ServeHTTP(w, r)
}

type logoutKey struct{}

// logoutState carries the browser's session into the storage's TerminateSessionFromRequest,
// and back whether it was ended.
type logoutState struct {
	token  string
	userID int64
	ended  bool
}

// endSession is RP-initiated logout: op validates the request (ID token hint, client,
// post-logout redirect URI) and the storage ends the Roster session; the cookie is cleared
// before the redirect is written.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	ls := &logoutState{token: httpx.SessionToken(r)}
	if u := sessionUser(r); u != nil {
		ls.userID = u.ID
	}
	ctx := context.WithValue(r.Context(), logoutKey{}, ls)
	p.op.HttpHandler().ServeHTTP(&clearOnEnd{ResponseWriter: w, ls: ls, secure: p.cfg.Secure}, r.WithContext(ctx))
}

type clearOnEnd struct {
	http.ResponseWriter
	ls     *logoutState
	secure bool
	wrote  bool
}

func (c *clearOnEnd) WriteHeader(code int) {
	if !c.wrote && c.ls.ended {
		httpx.ClearSession(c.ResponseWriter, c.secure)
	}
	c.wrote = true
	c.ResponseWriter.WriteHeader(code)
}

func (c *clearOnEnd) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// activeUser returns an active account. Errors: Unauthorized otherwise.
func (p *Provider) activeUser(ctx context.Context, id int64) (*account.User, error) {
	u, err := p.accounts.UserByID(ctx, id)
	if errs.Is(err, errs.NotFound) || (err == nil && u.Status != account.StatusActive) {
		return nil, errs.New(errs.Unauthorized, "account not active")
	}
	return u, err
}

// setUserinfo fills the claims of a person for the scopes granted. sub is the account id,
// which Roster never reuses. Groups and course roles only for a client still registered for
// them.
func (p *Provider) setUserinfo(ctx context.Context, info *oidc.UserInfo, userID int64, clientID string, scopes []string) error {
	u, err := p.activeUser(ctx, userID)
	if err != nil {
		return err
	}
	info.Subject = strconv.FormatInt(u.ID, 10)
	var c *Client
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.Name = u.Name()
			info.GivenName = u.FirstName
			info.FamilyName = u.LastName
			info.PreferredUsername = u.Username
			if u.Language != "" {
				info.Locale = oidc.NewLocale(language.Make(u.Language))
			}
		case oidc.ScopeEmail:
			info.Email = u.Email
			// Roster does not prove that people own the addresses that administrators,
			// teachers and imports give it.
			// (Said explicitly: the library leaves a false value out.)
			info.AppendClaims("email_verified", false)
		case ScopeGroups, ScopeRoles:
			if c == nil {
				if c, err = clientByClientID(ctx, p.db, clientID); err != nil {
					return err
				}
			}
			if !slices.Contains(c.Scopes, sc) {
				continue
			}
			if sc == ScopeGroups {
				g, err := p.groupsOf(ctx, u.ID)
				if err != nil {
					return err
				}
				info.AppendClaims("groups", g)
			} else {
				r, err := p.rolesOf(ctx, u.ID)
				if err != nil {
					return err
				}
				info.AppendClaims("roles", r)
			}
		}
	}
	return nil
}

// groupsOf lists the names of the groups a person is a member of.
func (p *Provider) groupsOf(ctx context.Context, userID int64) ([]string, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT DISTINCT g.name FROM group_members m JOIN groups g ON g.id = m.group_id
		WHERE m.user_id = $1 ORDER BY g.name`, userID)
	if err != nil {
		return nil, errs.Wrap(err, "groups claim")
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, errs.Wrap(err, "groups claim")
		}
		out = append(out, n)
	}
	return out, errs.Wrap(rows.Err(), "groups claim")
}

// CourseRole is one entry of the "roles" claim.
type CourseRole struct {
	Course string `json:"course"` // the course's shortname
	Role   string `json:"role"`   // the course role's shortname
}

// rolesOf lists a person's active course roles.
func (p *Provider) rolesOf(ctx context.Context, userID int64) ([]CourseRole, error) {
	now := p.db.Now().Unix()
	rows, err := p.db.QueryContext(ctx, `SELECT DISTINCT c.shortname, e.role FROM course_enrolments e JOIN courses c ON c.id = e.course_id
		WHERE e.user_id = $1 AND e.status = 'active' AND (e.starts_at IS NULL OR e.starts_at <= $2) AND (e.ends_at IS NULL OR e.ends_at > $2)
		ORDER BY c.shortname, e.role`, userID, now)
	if err != nil {
		return nil, errs.Wrap(err, "roles claim")
	}
	defer rows.Close()
	out := []CourseRole{}
	for rows.Next() {
		var cr CourseRole
		if err := rows.Scan(&cr.Course, &cr.Role); err != nil {
			return nil, errs.Wrap(err, "roles claim")
		}
		out = append(out, cr)
	}
	return out, errs.Wrap(rows.Err(), "roles claim")
}
