package web

import (
	"html/template"
	"net/http"
	"regexp"
	"time"

	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/i18n"
	"roster/internal/web/locales"
)

// Languages are the languages of the pages, the first being the fallback.
var Languages = i18n.Languages

// Catalog maps a message key to its text in each language (the "other" form of a plural):
// for tests that check a key exists. Pages translate through package i18n.
type Catalog map[string]map[string]string

// LoadCatalog lists the built-in catalog (internal/web/locales, read by package i18n).
func LoadCatalog() (Catalog, error) {
	c, err := i18n.Load(locales.FS)
	if err != nil {
		return nil, err
	}
	out := Catalog{}
	for _, lang := range Languages {
		out[lang] = map[string]string{}
		for _, k := range c.Keys(lang) {
			texts := c.Texts(lang, k)
			out[lang][k] = texts[len(texts)-1]
		}
	}
	return out, nil
}

// Localizer translates for one language. Pages call it from templates as {{.L.T "key"}}.
type Localizer struct {
	Lang string
	TZ   *time.Location // the site's time zone; nil is UTC
	c    *i18n.Catalog
}

// T returns the text of key, formatted with args (plural forms by the language's rules). A
// missing key shows itself (the catalog test makes sure none is missing).
func (l Localizer) T(key string, args ...any) string {
	if l.c == nil {
		l.c = i18n.Default()
	}
	return l.c.T(l.Lang, key, args...)
}

// Has reports whether the catalog has key in the page's language.
func (l Localizer) Has(key string) bool {
	if l.c == nil {
		l.c = i18n.Default()
	}
	return l.c.Has(l.Lang, key)
}

// Err returns a service error in the page's language.
func (l Localizer) Err(err error) string { return errs.As(err).In(l.Lang) }

// Duration writes d in words: "30 minutes", "5 secondes".
func (l Localizer) Duration(d time.Duration) string { return i18n.Duration(l.Lang, d) }

// langCookie remembers a language chosen with ?lang= by someone not logged in.
const langCookie = "roster_lang"

// pickLanguage chooses the page language: ?lang= (remembered in a cookie), else the
// person's saved language, else the cookie, else the language of what the page is about (an
// invitation), else the site's, else Accept-Language, else English.
func pickLanguage(w http.ResponseWriter, r *http.Request, userLang, hint, siteLang string) string {
	if q := r.URL.Query().Get("lang"); supported(q) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 86400, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		return q
	}
	if supported(userLang) {
		return userLang
	}
	if c, err := r.Cookie(langCookie); err == nil && supported(c.Value) {
		return c.Value
	}
	if supported(hint) {
		return hint
	}
	if supported(siteLang) {
		return siteLang
	}
	return MatchLanguage(r.Header.Get("Accept-Language"))
}

// MatchLanguage picks the supported language that best fits an Accept-Language header.
func MatchLanguage(accept string) string { return i18n.Match(accept) }

func supported(lang string) bool { return i18n.Supported(lang) }

func (l Localizer) loc() *time.Location {
	if l.TZ == nil {
		return time.UTC
	}
	return l.TZ
}

// toTime accepts a time.Time or a *time.Time (nil gives false).
func toTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, !t.IsZero()
	}
	return time.Time{}, false
}

// DateTime writes an instant in the site's time zone, the language's way: 23/11/2026 09:00 in
// French, 2026-11-23 09:00 in English.
func (l Localizer) DateTime(v any) string {
	t, ok := toTime(v)
	if !ok {
		return ""
	}
	return t.In(l.loc()).Format(l.T("format.datetime"))
}

// Date writes a day the language's way (a day is stored as midnight UTC: no zone shift).
func (l Localizer) Date(v any) string {
	t, ok := toTime(v)
	if !ok {
		return ""
	}
	return t.UTC().Format(l.T("format.date"))
}

// DateIn writes an instant's day in the site's time zone.
func (l Localizer) DateIn(v any) string {
	t, ok := toTime(v)
	if !ok {
		return ""
	}
	return t.In(l.loc()).Format(l.T("format.date"))
}

// Role is a course role's name in the page's language: built-in roles by the catalog
// ("label.course_role.teacher"), the others by the name an administrator gave.
func (l Localizer) Role(shortname, name string) string {
	if i18n.Default().Has(l.Lang, "label.course_role."+shortname) {
		return l.T("label.course_role." + shortname)
	}
	return name
}

// RoleOf is a course role's name in the page's language: the catalog's for a built-in role,
// the name given in this language for the others.
func (l Localizer) RoleOf(r course.Role) string {
	if i18n.Default().Has(l.Lang, "label.course_role."+r.Shortname) {
		return l.T("label.course_role." + r.Shortname)
	}
	return r.NameIn(l.Lang)
}

// Label writes a value that is a code (a status, a method, a login method) by the catalog's
// "label.KIND.VALUE"; an unknown value shows as it is.
func (l Localizer) Label(kind, value string) string {
	if i18n.Default().Has(l.Lang, "label."+kind+"."+value) {
		return l.T("label." + kind + "." + value)
	}
	return value
}

// Method is an enrolment method's name, or its type in the page's language.
func (l Localizer) Method(typ, name string) string {
	if name != "" {
		return name
	}
	return l.Label("method", typ)
}

// Code writes a coded message in the page's language, with its parameters (an errs.P) or
// an English fallback (a string, shown when code is empty).
func (l Localizer) Code(code string, v any) string {
	if code == "" {
		s, _ := v.(string)
		return s
	}
	p, _ := v.(errs.P)
	return errs.Text(l.Lang, code, p)
}

// DateInput is the attributes of a date field: a text field read as dd/mm/yyyy on French
// pages (a browser draws type=date in its own locale, whatever the page's language), the
// browser's date picker otherwise.
func (l Localizer) DateInput() template.HTMLAttr {
	if l.Lang == "fr" {
		return template.HTMLAttr(`type="text" inputmode="numeric" pattern="\d{1,2}/\d{1,2}/\d{4}" placeholder="jj/mm/aaaa"`)
	}
	return template.HTMLAttr(`type="date"`)
}

// DateValue writes a yyyy-mm-dd value for a date field of the page's language. A value shaped
// like a date that is not one (31/02 typed, refused, shown again) keeps its digits as typed.
func (l Localizer) DateValue(iso string) string {
	if l.Lang != "fr" {
		return iso
	}
	if t, err := time.Parse(time.DateOnly, iso); err == nil {
		return t.Format("02/01/2006")
	}
	if m := yearMonthDay.FindStringSubmatch(iso); m != nil {
		return m[3] + "/" + m[2] + "/" + m[1]
	}
	return iso
}

var yearMonthDay = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})$`)
