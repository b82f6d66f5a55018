package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

//go:embed locales
var localeFS embed.FS

// Languages are the languages of the pages, the first being the fallback.
var Languages = []string{"en", "fr"}

var matcher = language.NewMatcher([]language.Tag{language.English, language.French})

// Catalog maps a message key to its text in each language.
type Catalog map[string]map[string]string

// LoadCatalog reads the embedded catalogs: locales/LANG/*.json, one file per feature, merged.
// A key defined twice is an error.
func LoadCatalog() (Catalog, error) {
	c := Catalog{}
	for _, lang := range Languages {
		files, err := fs.Glob(localeFS, "locales/"+lang+"/*.json")
		if err != nil {
			return nil, err
		}
		c[lang] = map[string]string{}
		for _, f := range files {
			b, err := localeFS.ReadFile(f)
			if err != nil {
				return nil, err
			}
			m := map[string]string{}
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for k, v := range m {
				if _, dup := c[lang][k]; dup {
					return nil, fmt.Errorf("%s: key %q is defined twice", f, k)
				}
				c[lang][k] = v
			}
		}
	}
	return c, nil
}

// Localizer translates for one language. Pages call it from templates as {{.L.T "key"}}.
type Localizer struct {
	Lang string
	c    Catalog
}

// T returns the text of key, formatted with args when there are any. A missing key shows
// itself (the catalog test makes sure none is missing).
func (l Localizer) T(key string, args ...any) string {
	s, ok := l.c[l.Lang][key]
	if !ok {
		s, ok = l.c["en"][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// langCookie remembers a language chosen with ?lang= by someone not logged in.
const langCookie = "roster_lang"

// pickLanguage chooses the page language: the user's setting, else ?lang= or the cookie it
// set, else Accept-Language, else English.
func pickLanguage(w http.ResponseWriter, r *http.Request, userLang string) string {
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
	return MatchLanguage(r.Header.Get("Accept-Language"))
}

// MatchLanguage picks the supported language that best fits an Accept-Language header.
func MatchLanguage(accept string) string {
	tags, _, _ := language.ParseAcceptLanguage(accept)
	_, i, _ := matcher.Match(tags...)
	return Languages[i]
}

func supported(lang string) bool {
	lang = strings.ToLower(lang)
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}
