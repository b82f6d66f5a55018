package web

import (
	"net/http"

	"roster/internal/i18n"
	"roster/internal/site"
	"roster/internal/store"
)

// The site's settings, /admin/settings (platform administrators), and the same fields on the
// first set-up page: the site's language and time zone.

// siteFields are the values of the "site_fields" template.
type siteFields struct {
	SiteLanguage, SiteTimeZone   string
	LanguageFixed, TimeZoneFixed bool
	Languages, TimeZones         []string
}

// commonTimeZones are proposed in the time zone field (any IANA name is accepted).
var commonTimeZones = []string{"Europe/Paris", "Europe/Brussels", "Europe/Zurich", "Europe/Luxembourg",
	"Europe/London", "America/Montreal", "America/New_York", "Indian/Reunion", "America/Guadeloupe",
	"America/Martinique", "America/Cayenne", "Pacific/Noumea", "Pacific/Tahiti", "Africa/Dakar",
	"Africa/Abidjan", "Africa/Casablanca", "UTC"}

func (w *Web) siteFields(st site.Settings, lang string) siteFields {
	f := siteFields{SiteLanguage: st.Language, SiteTimeZone: st.TimeZone, LanguageFixed: w.cfg.LanguageFixed,
		TimeZoneFixed: w.cfg.TimeZoneFixed, Languages: i18n.Languages, TimeZones: commonTimeZones}
	if f.SiteLanguage == "" {
		f.SiteLanguage = lang
	}
	return f
}

type settingsData struct{ siteFields }

func (w *Web) adminSettings(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	p := w.page(rw, r, "settings.title")
	if !p.User.IsAdmin {
		p.Error = p.L.T("error.forbidden")
		w.render(rw, r, http.StatusForbidden, "message", p)
		return
	}
	st, err := site.Get(r.Context(), w.db)
	if err != nil {
		w.render(rw, r, showError(p, err), "message", p)
		return
	}
	p.Data = &settingsData{w.siteFields(st, p.L.Lang)}
	if r.URL.Query().Get("done") == "saved" {
		p.Notice = p.L.T("settings.saved")
	}
	w.render(rw, r, http.StatusOK, "admin_settings", p)
}

func (w *Web) adminSettingsSave(rw http.ResponseWriter, r *http.Request) {
	if w.requireLogin(rw, r) == nil {
		return
	}
	if err := parseForm(rw, r); err != nil {
		w.badForm(rw, r)
		return
	}
	lang, tz := w.siteForm(r)
	if err := site.Save(r.Context(), w.db, lang, tz); err != nil {
		p := w.page(rw, r, "settings.title")
		st, _ := site.Get(r.Context(), w.db)
		d := &settingsData{w.siteFields(st, p.L.Lang)}
		d.SiteLanguage, d.SiteTimeZone = lang, tz
		p.Data = d
		w.render(rw, r, showError(p, err), "admin_settings", p)
		return
	}
	http.Redirect(rw, r, "/admin/settings?done=saved", http.StatusSeeOther)
}

// siteForm reads the site fields; a setting fixed by the configuration is not taken from the
// form.
func (w *Web) siteForm(r *http.Request) (lang, tz string) {
	if !w.cfg.LanguageFixed {
		lang = formValue(r, "site_language")
	}
	if !w.cfg.TimeZoneFixed {
		tz = formValue(r, "site_timezone")
	}
	return lang, tz
}

// saveSiteTx saves the set-up page's site fields in the transaction that creates the first
// administrator.
func saveSiteTx(r *http.Request, lang, tz string) func(tx *store.Tx) error {
	return func(tx *store.Tx) error { return site.SaveTx(r.Context(), tx, lang, tz) }
}
