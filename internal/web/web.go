// Package web serves Roster's HTML pages: server-rendered Go templates, embedded, in French
// and English. Handlers are thin: parse the form, call a service, re-render with a translated
// message or redirect (post-redirect-get). Every rule lives in the services.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"roster/internal/account"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/httpx"
	"roster/internal/i18n"
	"roster/internal/invite"
	"roster/internal/oidcp"
	"roster/internal/sis"
	"roster/internal/site"
	"roster/internal/sso"
	"roster/internal/store"
)

//go:embed templates/*.html templates/*.tmpl
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the pages need to know about the deployment.
type Config struct {
	BaseURL       string
	SecureCookies bool
	ResetTTL      time.Duration
	MailDelivered bool // an SMTP server is configured
	LanguageFixed bool // ROSTER_LANGUAGE sets the site's language: the settings page shows it, read-only
	TimeZoneFixed bool // ROSTER_TIMEZONE sets the site's time zone
}

// Services are the parts the pages call. Each feature adds its service here.
type Services struct {
	Log      *slog.Logger
	DB       *store.DB
	Accounts *account.Service
	Courses  *course.Service
	SSO      *sso.Service
	Invites  *invite.Service
	Groups   *group.Service
	SIS      *sis.Service    // configured sync sources (/admin/sync)
	OIDC     *oidcp.Provider // the OpenID provider's clients (/admin/oidc-clients)
}

// Web holds the page handlers' dependencies.
type Web struct {
	Services
	cfg     Config
	log     *slog.Logger
	db      *store.DB
	catalog *i18n.Catalog
	pages   map[string]*template.Template
}

// New parses the templates and catalogs.
func New(cfg Config, s Services) (*Web, error) {
	catalog := i18n.Default()
	w := &Web{Services: s, cfg: cfg, log: s.Log, db: s.DB, catalog: catalog, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"ago": func(l Localizer, t *time.Time) string { return ago(l, t, time.Now()) },
		"date": func(t time.Time) string {
			return t.Format("2006-01-02 15:04")
		},
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/*.tmpl", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		w.pages[name] = t
	}
	return w, nil
}

// Routes registers the pages. The table reads in one screen; the handlers are one per file.
func (w *Web) Routes(mux httpx.Router) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))

	mux.HandleFunc("GET /{$}", w.home)
	mux.HandleFunc("GET /setup/{token}", w.setupForm)
	mux.HandleFunc("POST /setup/{token}", w.setupSubmit)
	mux.HandleFunc("GET /login", w.loginForm)
	mux.HandleFunc("POST /login", w.loginSubmit)
	mux.HandleFunc("POST /logout", w.logout)
	mux.HandleFunc("GET /password/forgot", w.forgotForm)
	mux.HandleFunc("POST /password/forgot", w.forgotSubmit)
	mux.HandleFunc("GET /password/reset/{token}", w.resetForm)
	mux.HandleFunc("POST /password/reset/{token}", w.resetSubmit)
	mux.HandleFunc("GET /account/setup/{token}", w.accountSetupForm)
	mux.HandleFunc("POST /account/setup/{token}", w.accountSetupSubmit)
	mux.HandleFunc("GET /admin/mail", w.adminMail)
	mux.HandleFunc("POST /admin/mail/{id}/send-now", w.adminMailAction)
	mux.HandleFunc("POST /admin/mail/{id}/cancel", w.adminMailAction)
	mux.HandleFunc("GET /admin/users", w.adminUsers)
	mux.HandleFunc("GET /admin/users/{id}", w.adminUser)
	mux.HandleFunc("POST /admin/users/{id}", w.adminUserSave)
	mux.HandleFunc("POST /admin/users/{id}/status", w.adminUserStatus)
	mux.HandleFunc("GET /admin/users/{id}/delete", w.adminUserDeleteForm)
	mux.HandleFunc("POST /admin/users/{id}/delete", w.adminUserDelete)
	mux.HandleFunc("GET /admin/profile-fields", w.adminProfileFields)
	mux.HandleFunc("POST /admin/profile-fields", w.adminProfileFieldCreate)
	mux.HandleFunc("POST /admin/profile-fields/{id}", w.adminProfileFieldSave)
	mux.HandleFunc("POST /admin/profile-fields/{id}/delete", w.adminProfileFieldDelete)
	mux.HandleFunc("POST /admin/settings/accounts", w.adminAccountSettings)
	mux.HandleFunc("GET /admin/settings", w.adminSettings)
	mux.HandleFunc("POST /admin/settings", w.adminSettingsSave)
	mux.HandleFunc("GET /admin/billing", w.adminBilling)
	mux.HandleFunc("GET /admin/audit", w.adminAudit)
	mux.HandleFunc("GET /admin/imports", w.adminImports)
	mux.HandleFunc("POST /admin/imports/preview", w.adminImportPreview)
	mux.HandleFunc("POST /admin/imports/apply", w.adminImportApply)
	mux.HandleFunc("GET /admin/imports/template.csv", w.adminImportTemplateCSV)
	mux.HandleFunc("GET /admin/imports/template.xlsx", w.adminImportTemplateXLSX)
	mux.HandleFunc("GET /admin/imports/{id}", w.adminImportBatch)
	mux.HandleFunc("GET /admin/imports/{id}/progress", w.adminImportProgress)
	mux.HandleFunc("GET /admin/imports/{id}/report.csv", w.adminImportReportCSV)
	mux.HandleFunc("GET /admin/imports/{id}/undo", w.adminImportUndoForm)
	mux.HandleFunc("POST /admin/imports/{id}/undo", w.adminImportUndo)
	mux.HandleFunc("GET /admin/course-roles", w.adminCourseRoles)
	mux.HandleFunc("POST /admin/course-roles", w.adminCourseRoleCreate)
	mux.HandleFunc("POST /admin/course-roles/map", w.adminRoleMapSet)
	mux.HandleFunc("POST /admin/course-roles/{shortname}/names", w.adminCourseRoleNames)
	mux.HandleFunc("GET /admin/oidc-clients", w.adminOIDCClients)
	mux.HandleFunc("POST /admin/oidc-clients", w.adminOIDCClientCreate)
	mux.HandleFunc("POST /admin/oidc-clients/{id}", w.adminOIDCClientSave)
	mux.HandleFunc("POST /admin/oidc-clients/{id}/delete", w.adminOIDCClientDelete)
	mux.HandleFunc("POST /admin/oidc-clients/{id}/secret", w.adminOIDCClientSecret)
	mux.HandleFunc("GET /admin/sync", w.adminSync)
	mux.HandleFunc("POST /admin/sync", w.adminSyncSave)
	mux.HandleFunc("POST /admin/sync/{name}", w.adminSyncSave)
	mux.HandleFunc("POST /admin/sync/{name}/run", w.adminSyncRun)
	mux.HandleFunc("POST /admin/sync/{name}/delete", w.adminSyncDelete)
	mux.HandleFunc("GET /sso/{slug}/login", w.ssoStart)
	mux.HandleFunc("GET /sso/{slug}/cas", w.ssoCAS)
	mux.HandleFunc("POST /sso/{slug}/cas", w.ssoCASLogout)
	mux.HandleFunc("GET /sso/{slug}/callback", w.ssoCallback)
	mux.HandleFunc("GET /admin/sso", w.ssoAdmin)
	mux.HandleFunc("POST /admin/sso/convert", w.ssoConvert)
	mux.HandleFunc("GET /admin/sso/new", w.ssoNew)
	mux.HandleFunc("GET /admin/sso/{id}", w.ssoEdit)
	mux.HandleFunc("GET /courses", w.courseList)
	mux.HandleFunc("POST /courses", w.courseCreate)
	mux.HandleFunc("GET /courses/enrol.js", w.courseEnrolJS)
	mux.HandleFunc("GET /courses/{id}", w.coursePage)
	mux.HandleFunc("GET /courses/{id}/participants", w.courseParticipants)
	mux.HandleFunc("POST /courses/{id}/participants/bulk", w.courseParticipantsBulk)
	mux.HandleFunc("GET /courses/{id}/participants/download", w.courseParticipantsDownload)
	mux.HandleFunc("GET /courses/{id}/enrol/search", w.courseEnrolSearch)
	mux.HandleFunc("POST /courses/{id}/enrol", w.courseEnrolSubmit)
	mux.HandleFunc("POST /courses/{id}/self-enrol", w.courseSelfEnrol)
	mux.HandleFunc("GET /courses/{id}/invitations", w.courseInvitations)
	mux.HandleFunc("POST /courses/{id}/invitations", w.courseInviteSubmit)
	mux.HandleFunc("POST /courses/{id}/invitations/{inv}/resend", w.courseInvitationAction)
	mux.HandleFunc("POST /courses/{id}/invitations/{inv}/cancel", w.courseInvitationAction)
	mux.HandleFunc("GET /courses/{id}/methods", w.courseMethods)
	mux.HandleFunc("POST /courses/{id}/methods", w.courseMethodAdd)
	mux.HandleFunc("POST /courses/{id}/methods/{mid}", w.courseMethodSave)
	mux.HandleFunc("POST /courses/{id}/methods/{mid}/enable", w.courseMethodEnable)
	mux.HandleFunc("POST /courses/{id}/methods/{mid}/delete", w.courseMethodDelete)
	mux.HandleFunc("POST /admin/sso/{id}", w.ssoSave)
	mux.HandleFunc("GET /invitations", w.invitations)
	mux.HandleFunc("GET /invitations/new", w.inviteForm)
	mux.HandleFunc("POST /invitations/new", w.inviteSubmit)
	mux.HandleFunc("POST /invitations/add-existing", w.inviteAddExisting)
	mux.HandleFunc("POST /invitations/resend-all", w.invitationsResendAll)
	mux.HandleFunc("POST /invitations/cancel-many", w.invitationsCancelMany)
	mux.HandleFunc("POST /invitations/lifetime", w.invitationsLifetime)
	mux.HandleFunc("POST /invitations/{id}/resend", w.invitationAction)
	mux.HandleFunc("POST /invitations/{id}/cancel", w.invitationAction)
	mux.HandleFunc("POST /invitations/{id}/link", w.invitationLink)
	mux.HandleFunc("GET /invitation/{token}", w.invitationAcceptForm)
	mux.HandleFunc("POST /invitation/{token}", w.invitationAcceptSubmit)
	mux.HandleFunc("POST /invitation/{token}/renew", w.invitationRenew)
	mux.HandleFunc("GET /external/new", w.externalForm)
	mux.HandleFunc("POST /external/new", w.externalSubmit)
	mux.HandleFunc("GET /groups", w.groups)
	mux.HandleFunc("POST /groups", w.groupCreate)
	mux.HandleFunc("GET /groups/{id}", w.groupPage)
	mux.HandleFunc("POST /groups/{id}", w.groupSave)
	mux.HandleFunc("POST /groups/{id}/move", w.groupMove)
	mux.HandleFunc("GET /groups/{id}/delete", w.groupDeleteForm)
	mux.HandleFunc("POST /groups/{id}/delete", w.groupDelete)
	mux.HandleFunc("GET /groups/{id}/members/add", w.groupAddPreview)
	mux.HandleFunc("POST /groups/{id}/members", w.groupAdd)
	mux.HandleFunc("POST /groups/{id}/members/remove", w.groupRemove)
	mux.HandleFunc("GET /groups/{id}/members.csv", w.groupMembersCSV)
}

// Page is what every template receives: the localizer, the logged-in user, and the page's own
// data in Data.
type Page struct {
	L     Localizer
	User  *account.User
	Title string
	Error string // a message for the whole form
	// Fields holds messages per form field.
	Fields map[string]string
	Notice string
	Data   any
	// ManagesGroups puts "Groups" in the navigation (see managesGroups).
	ManagesGroups bool
	// Forgot adds "forgotten password" to the links of a message page (a link that no longer
	// works, an invitation overtaken by an account).
	Forgot bool
	// Roles and Menu: what the person is, and the header's menu for it (menu.go).
	Roles Roles
	Menu  []MenuSection
}

// page starts the view data for r, in the language of the person (or of the browser, or of
// the site: see pickLanguage) and the site's time zone.
func (w *Web) page(rw http.ResponseWriter, r *http.Request, titleKey string) *Page {
	return w.pageIn(rw, r, titleKey, "")
}

// pageIn is page for a page that belongs to something with a language of its own, such as an
// invitation: it comes after the person's choice and before the site's.
func (w *Web) pageIn(rw http.ResponseWriter, r *http.Request, titleKey, hint string) *Page {
	u := currentUser(r)
	userLang := ""
	if u != nil {
		userLang = u.Language
	}
	st, err := site.Get(r.Context(), w.db)
	if err != nil {
		w.log.Error("web: site settings", "err", err)
	}
	lang := pickLanguage(rw, r, userLang, hint, st.Language)
	if u != nil && r.URL.Query().Has("lang") && lang != u.Language {
		// The header's language switch, for a logged-in person, is saved on their account.
		if err := w.Accounts.SetOwnLanguage(r.Context(), lang); err != nil {
			w.log.Error("web: save language", "err", err)
		} else {
			u.Language = lang
		}
	}
	l := Localizer{Lang: lang, c: w.catalog, TZ: st.Location()}
	roles := w.roles(r.Context(), u)
	return &Page{L: l, User: u, Title: l.T(titleKey), Fields: map[string]string{}, ManagesGroups: roles.ManagesGroups,
		Roles: roles, Menu: menu(roles)}
}

// render writes a page with a status. Rendering into a buffer first means a template error
// gives a clean 500, never half a page.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	t, ok := w.pages[name]
	if !ok {
		w.log.Error("web: no such template", "name", name)
		http.Error(rw, p.L.T("error.internal"), http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		w.log.Error("web: render", "template", name, "err", err)
		http.Error(rw, p.L.T("error.internal"), http.StatusInternalServerError)
		return
	}
	if unshownFieldErrors(p, buf.Bytes()) {
		buf.Reset()
		if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
			w.log.Error("web: render", "template", name, "err", err)
			http.Error(rw, p.L.T("error.internal"), http.StatusInternalServerError)
			return
		}
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	rw.Write(buf.Bytes())
}

// currentUser is the logged-in person, or nil.
func currentUser(r *http.Request) *account.User {
	u, _ := httpx.User(r.Context()).(*account.User)
	return u
}

// requireLogin redirects anonymous visitors to the login page and reports whether to go on.
func (w *Web) requireLogin(rw http.ResponseWriter, r *http.Request) *account.User {
	u := currentUser(r)
	if u == nil {
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
	}
	return u
}

// ago says how long ago t was, as "3 days 4 hours"; "never" for nil.
func ago(l Localizer, t *time.Time, now time.Time) string {
	if t == nil {
		return l.T("time.never")
	}
	d := now.Sub(*t)
	if d < time.Minute {
		return l.T("time.now")
	}
	days := int(d / (24 * time.Hour))
	hours := int(d/time.Hour) % 24
	mins := int(d/time.Minute) % 60
	switch {
	case days > 0:
		return l.T("time.days_hours", days, hours)
	case hours > 0:
		return l.T("time.hours_minutes", hours, mins)
	default:
		return l.T("time.minutes", mins)
	}
}
