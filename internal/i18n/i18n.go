// Package i18n is Roster's one catalog of words: every text a page, an email, an error or the
// command line shows, in every language, with plural forms by the CLDR rules
// (golang.org/x/text/message and its catalog). The texts live in internal/web/locales/LANG/*.json;
// docs/i18n.md says how to add a language.
//
// A catalog entry is one of:
//
//	"key": "text with %d or %[2]s verbs"                  positional arguments (printf verbs)
//	"key": "text with {name} placeholders"                named parameters (errors: see Named)
//	"key": {"one": "%d person", "other": "%d people"}     plural forms chosen by argument 1
//	"key": {"arg": "limit", "one": "…", "other": "…"}     … or by another argument, by number or name
//	"key": {"text": "${a}, ${b}", "vars": {"a": {"arg": 1, "one": …, "other": …}, …}}
//	                                                      several plurals in one sentence
//
// The plural categories are CLDR's: "zero", "one", "two", "few", "many", "other", and "=N" for
// an exact number. French puts 0 and 1 in "one".
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"roster/internal/web/locales"
)

// Languages are the languages Roster speaks; the first is the fallback.
var Languages = []string{"en", "fr"}

var tags = map[string]language.Tag{"en": language.English, "fr": language.French}

var matcher = language.NewMatcher([]language.Tag{language.English, language.French})

// Catalog is every entry of every language.
type Catalog struct {
	b        *catalog.Builder
	printers map[string]*message.Printer
	keys     map[string]map[string]bool // lang -> key -> defined
	params   map[string][]string        // key -> its named parameters, in argument order
	texts    map[string]map[string][]string
}

var named = regexp.MustCompile(`\$?\{([a-z_][a-z0-9_]*)\}`)

// placeholders lists the {name} placeholders of s, leaving x/text's ${var} alone.
func placeholders(s string) []string {
	var names []string
	for _, m := range named.FindAllStringSubmatch(s, -1) {
		if m[0][0] != '$' {
			names = append(names, m[1])
		}
	}
	return names
}

// Load reads LANG/*.json from fsys for every language. A key defined twice in a language, or a
// malformed entry, is an error.
func Load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{
		b:        catalog.NewBuilder(catalog.Fallback(language.English)),
		printers: map[string]*message.Printer{},
		keys:     map[string]map[string]bool{},
		params:   map[string][]string{},
		texts:    map[string]map[string][]string{},
	}
	raw := map[string]map[string]json.RawMessage{}
	for _, lang := range Languages {
		files, err := fs.Glob(fsys, lang+"/*.json")
		if err != nil {
			return nil, err
		}
		raw[lang] = map[string]json.RawMessage{}
		for _, f := range files {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			m := map[string]json.RawMessage{}
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for k, v := range m {
				if _, dup := raw[lang][k]; dup {
					return nil, fmt.Errorf("%s: key %q is defined twice", f, k)
				}
				raw[lang][k] = v
			}
		}
	}
	// The named parameters of a key, from every language, sorted: their argument positions.
	for _, lang := range Languages {
		for k, v := range raw[lang] {
			for _, name := range placeholders(string(v)) {
				c.params[k] = appendNew(c.params[k], name)
			}
		}
	}
	for k := range c.params {
		sort.Strings(c.params[k])
	}
	for _, lang := range Languages {
		c.keys[lang] = map[string]bool{}
		c.texts[lang] = map[string][]string{}
		for k, v := range raw[lang] {
			msgs, texts, err := c.entry(k, v)
			if err != nil {
				return nil, fmt.Errorf("%s: key %q: %w", lang, k, err)
			}
			if err := c.b.Set(tags[lang], k, msgs...); err != nil {
				return nil, fmt.Errorf("%s: key %q: %w", lang, k, err)
			}
			c.keys[lang][k] = true
			c.texts[lang][k] = texts
		}
		c.printers[lang] = message.NewPrinter(tags[lang], message.Catalog(c.b))
	}
	return c, nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// entry turns one JSON entry into catalog messages, and returns its texts (for the tests that
// look for English on French pages).
func (c *Catalog) entry(key string, v json.RawMessage) ([]catalog.Message, []string, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		s = c.positional(key, s)
		return []catalog.Message{catalog.String(s)}, []string{s}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return nil, nil, fmt.Errorf("neither a string nor an object")
	}
	if text, ok := obj["text"]; ok {
		var t string
		if err := json.Unmarshal(text, &t); err != nil {
			return nil, nil, err
		}
		var vars map[string]json.RawMessage
		if err := json.Unmarshal(obj["vars"], &vars); err != nil {
			return nil, nil, fmt.Errorf("vars: %w", err)
		}
		var msgs []catalog.Message
		texts := []string{c.positional(key, t)}
		names := make([]string, 0, len(vars))
		for name := range vars {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			sel, ts, err := c.selectf(key, vars[name])
			if err != nil {
				return nil, nil, fmt.Errorf("var %s: %w", name, err)
			}
			msgs = append(msgs, catalog.Var(name, sel))
			texts = append(texts, ts...)
		}
		return append(msgs, catalog.String(c.positional(key, t))), texts, nil
	}
	sel, texts, err := c.selectf(key, v)
	if err != nil {
		return nil, nil, err
	}
	return []catalog.Message{sel}, texts, nil
}

// selectf reads {"arg": N or "name", "one": …, "other": …}.
func (c *Catalog) selectf(key string, v json.RawMessage) (catalog.Message, []string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return nil, nil, err
	}
	arg := 1
	if a, ok := obj["arg"]; ok {
		var n int
		var name string
		if json.Unmarshal(a, &n) == nil {
			arg = n
		} else if json.Unmarshal(a, &name) == nil {
			arg = c.position(key, name)
			if arg == 0 {
				return nil, nil, fmt.Errorf("arg %q is not a parameter of the entry", name)
			}
		} else {
			return nil, nil, fmt.Errorf("arg: a number or a parameter name")
		}
	}
	if _, ok := obj["other"]; !ok {
		return nil, nil, fmt.Errorf(`a plural entry needs "other"`)
	}
	var cases []any
	var texts []string
	forms := make([]string, 0, len(obj))
	for form := range obj {
		if form != "arg" {
			forms = append(forms, form)
		}
	}
	// "=N" first, then the CLDR categories, "other" last (the selector takes the first match).
	sort.Slice(forms, func(i, j int) bool { return formRank(forms[i]) < formRank(forms[j]) })
	for _, form := range forms {
		var t string
		if err := json.Unmarshal(obj[form], &t); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", form, err)
		}
		if formRank(form) > 6 {
			return nil, nil, fmt.Errorf("unknown plural form %q", form)
		}
		t = c.positional(key, t)
		cases = append(cases, form, t)
		texts = append(texts, t)
	}
	return plural.Selectf(arg, "%d", cases...), texts, nil
}

func formRank(form string) int {
	if strings.HasPrefix(form, "=") {
		return 0
	}
	switch form {
	case "zero":
		return 1
	case "one":
		return 2
	case "two":
		return 3
	case "few":
		return 4
	case "many":
		return 5
	case "other":
		return 6
	}
	return 99
}

// positional rewrites {name} placeholders as %[N]v, N being the parameter's position.
func (c *Catalog) positional(key, s string) string {
	if len(c.params[key]) == 0 {
		return s
	}
	return named.ReplaceAllStringFunc(s, func(m string) string {
		if m[0] == '$' {
			return m
		}
		return "%[" + strconv.Itoa(c.position(key, m[1:len(m)-1])) + "]v"
	})
}

func (c *Catalog) position(key, name string) int {
	for i, p := range c.params[key] {
		if p == name {
			return i + 1
		}
	}
	return 0
}

// Has reports whether lang defines key.
func (c *Catalog) Has(lang, key string) bool { return c.keys[lang][key] }

// Keys lists the keys of lang, sorted.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.keys[lang]))
	for k := range c.keys[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Texts returns every text of lang's entry for key: each plural form and variable.
func (c *Catalog) Texts(lang, key string) []string { return c.texts[lang][key] }

// Params lists the named parameters of key.
func (c *Catalog) Params(key string) []string { return c.params[key] }

// T returns the text of key in lang formatted with args (printf verbs; numbers written the
// language's way). A key lang lacks falls back to English; a key no language has shows
// itself (the catalog tests make sure none is missing).
func (c *Catalog) T(lang, key string, args ...any) string {
	p, ok := c.printers[lang]
	if !ok {
		p = c.printers[Languages[0]]
	}
	if !c.keys[lang][key] && !c.keys[Languages[0]][key] {
		return key
	}
	return p.Sprintf(key, args...)
}

// Label is a parameter value that is itself a catalog key (a role, a status): Named writes
// it in the message's language.
type Label string

// Named returns the text of key in lang with named parameters.
func (c *Catalog) Named(lang, key string, params map[string]any) string {
	names := c.params[key]
	args := make([]any, len(names))
	for i, n := range names {
		v, ok := params[n]
		switch {
		case !ok:
			args[i] = ""
		case isLabel(v):
			args[i] = c.T(lang, string(v.(Label)))
		case isTime(v):
			// An instant in a message: the language's way, in UTC (a message has no zone).
			args[i] = time.Time(v.(Time)).UTC().Format(c.T(lang, "format.datetime")) + " UTC"
		default:
			args[i] = v
		}
	}
	return c.T(lang, key, args...)
}

func isLabel(v any) bool { _, ok := v.(Label); return ok }

// Time is an instant given as a parameter: Named writes it the language's way.
type Time time.Time

func isTime(v any) bool { _, ok := v.(Time); return ok }

// Default is the catalog built into Roster. A broken catalog is a programming error that the
// tests catch, so it panics.
var Default = sync.OnceValue(func() *Catalog {
	c, err := Load(locales.FS)
	if err != nil {
		panic("i18n: " + err.Error())
	}
	return c
})

// T translates with the built-in catalog.
func T(lang, key string, args ...any) string { return Default().T(lang, key, args...) }

// Supported reports whether Roster speaks lang.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Norm maps a language setting to one Roster speaks: "fr", "fr-CA" and "FR" give "fr";
// anything unknown gives "".
func Norm(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	if Supported(s) {
		return s
	}
	return ""
}

// Pick returns the first of langs that Roster speaks, else the fallback language: the
// person's, then the invitation's, then the site's.
func Pick(langs ...string) string {
	for _, l := range langs {
		if n := Norm(l); n != "" {
			return n
		}
	}
	return Languages[0]
}

// Match picks the language that best fits an Accept-Language header.
func Match(accept string) string {
	t, _, _ := language.ParseAcceptLanguage(accept)
	_, i, _ := matcher.Match(t...)
	return Languages[i]
}

// Duration writes d in lang, in whole units with their plural: "30 minutes", "5 secondes",
// "1 heure 30 minutes".
func Duration(lang string, d time.Duration) string {
	c := Default()
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return c.T(lang, "duration.seconds", int(d/time.Second))
	case d < time.Hour:
		return c.T(lang, "duration.minutes", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return c.T(lang, "duration.hours", h)
		}
		return c.T(lang, "duration.hours", h) + " " + c.T(lang, "duration.minutes", m)
	default:
		days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 {
			return c.T(lang, "duration.days", days)
		}
		return c.T(lang, "duration.days", days) + " " + c.T(lang, "duration.hours", h)
	}
}
