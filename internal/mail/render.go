package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"reflect"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"roster/internal/i18n"
)

// The catalog: for each language, templates/LANG/NAME.txt defines "subject" and "text" (Go
// text/template), and templates/LANG/NAME.html defines "html" (html/template, wrapped in
// templates/layout.html). The catalog test fails when a file is missing in a language.
//
//go:embed templates
var templateFS embed.FS

// languages are the languages every template exists in; the first is the fallback.
var languages = i18n.Languages

// spec is what a template needs from Message.Data.
type spec struct {
	required []string       // must be present and not empty
	optional map[string]any // filled with this value when absent
	link     bool           // asks the reader to act: Data["Link"] is its one link
}

// specs lists every template. Adding one means adding its files in every language.
var specs = map[string]spec{
	"password_reset": {
		required: []string{"Username", "Link", "TTL"},
		optional: map[string]any{"FirstName": ""},
		link:     true,
	},
	"account_setup": {
		required: []string{"Username", "Link"},
		optional: map[string]any{"FirstName": ""},
		link:     true,
	},
	"invitation": {
		required: []string{"InviterName", "Link"},
		optional: map[string]any{"PlatformName": "", "GroupNames": []string(nil), "CourseName": ""},
		link:     true,
	},
	"email_changed": {
		required: []string{"OldEmail", "NewEmail"},
		optional: map[string]any{"FirstName": ""},
	},
	"deletion_notice": {
		required: []string{"Count", "Date"},
	},
	"course_welcome": {
		required: []string{"FirstName", "CourseName", "Link"},
		optional: map[string]any{"RoleName": ""},
		link:     true,
	},
	"course_message": { // written by a teacher: no link of Roster's, the body is shown as typed
		required: []string{"SenderName", "CourseName", "Subject", "Body"},
	},
}

// rendered is a message ready to store.
type rendered struct {
	Language, Subject, Text, HTML string
}

// parsed is one template in one language.
type parsed struct {
	text *texttemplate.Template // "subject" and "text"
	html *htmltemplate.Template // "layout" calling "html"
}

// catalog parses every embedded template once; a broken template is a programming error
// caught by the tests, so it panics.
var catalog = sync.OnceValue(func() map[string]parsed {
	c := map[string]parsed{}
	for _, lang := range languages {
		funcs := templateFuncs(lang)
		for name := range specs {
			t, err := texttemplate.New(name).Funcs(funcs).Option("missingkey=error").
				ParseFS(templateFS, "templates/"+lang+"/"+name+".txt")
			if err != nil {
				panic(fmt.Sprintf("mail: template %s/%s: %v", lang, name, err))
			}
			h, err := htmltemplate.New(name).Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error").
				ParseFS(templateFS, "templates/layout.html", "templates/"+lang+"/"+name+".html")
			if err != nil {
				panic(fmt.Sprintf("mail: template %s/%s: %v", lang, name, err))
			}
			c[lang+"/"+name] = parsed{text: t, html: h}
		}
	}
	return c
})

// language maps a user's language setting to one we have templates in: "fr", "fr-CA" and
// "FR" give "fr"; anything unknown gives English.
func language(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	for _, l := range languages {
		if s == l {
			return l
		}
	}
	return languages[0]
}

// render produces the subject and both bodies of m in the recipient's language. It fails on
// an unknown template, missing data or a link that is not an absolute http(s) URL.
func render(m Message) (rendered, error) {
	sp, ok := specs[m.Template]
	if !ok {
		return rendered{}, fmt.Errorf("unknown template %q", m.Template)
	}
	lang := language(m.Language)
	data := make(map[string]any, len(m.Data)+len(sp.optional)+2)
	for k, v := range sp.optional {
		data[k] = v
	}
	for k, v := range m.Data {
		data[k] = v
	}
	for _, k := range sp.required {
		if isEmpty(data[k]) {
			return rendered{}, fmt.Errorf("missing data %q", k)
		}
	}
	if sp.link {
		link, _ := data["Link"].(string)
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(link, " \t\r\n") {
			return rendered{}, fmt.Errorf("link %q is not an absolute http(s) URL", link)
		}
	} else if _, has := m.Data["Link"]; has {
		return rendered{}, fmt.Errorf("template %q carries no link, but Data has one", m.Template)
	}
	data["Lang"] = lang

	p := catalog()[lang+"/"+m.Template]
	var subject, text, html bytes.Buffer
	if err := p.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return rendered{}, err
	}
	r := rendered{Language: lang, Subject: strings.Join(strings.Fields(subject.String()), " ")}
	data["Subject"] = r.Subject
	if err := p.text.ExecuteTemplate(&text, "text", data); err != nil {
		return rendered{}, err
	}
	if err := p.html.ExecuteTemplate(&html, "layout", data); err != nil {
		return rendered{}, err
	}
	r.Text = strings.TrimLeft(text.String(), "\n")
	r.HTML = html.String()
	if sp.link {
		// The contract: exactly one link, on a line of its own. A template that breaks it
		// fails here rather than in someone's inbox.
		if n := linesEqual(r.Text, data["Link"].(string)); n != 1 {
			return rendered{}, fmt.Errorf("template %s/%s: the link is on its own line %d times, want 1", lang, m.Template, n)
		}
	}
	return r, nil
}

// linesEqual counts the lines of s that are exactly line.
func linesEqual(s, line string) int {
	n := 0
	for l := range strings.Lines(s) {
		if strings.TrimRight(l, "\r\n") == line {
			n++
		}
	}
	return n
}

// isEmpty reports a missing value, an empty string or a nil.
func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s) == ""
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

var monthsFR = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet",
	"août", "septembre", "octobre", "novembre", "décembre"}

// templateFuncs are the functions templates may call, formatting for lang.
func templateFuncs(lang string) texttemplate.FuncMap {
	return texttemplate.FuncMap{
		// duration writes a time.Duration in words: "30 minutes", "5 secondes".
		"duration": func(d time.Duration) string { return i18n.Duration(lang, d) },
		// t is a catalog entry in the reader's language, with its plural forms:
		// {{t "mail.deletion.subject" .Count (date .Date)}}.
		"t": func(key string, args ...any) string { return i18n.T(lang, key, args...) },
		// join lists names: {{join .GroupNames ", "}}.
		"join": func(v []string, sep string) string { return strings.Join(v, sep) },
		// date formats a day: a time.Time in the reader's language, a string as it is.
		"date": func(v any) string {
			var t time.Time
			switch d := v.(type) {
			case time.Time:
				t = d
			case *time.Time:
				if d == nil {
					return ""
				}
				t = *d
			default:
				return fmt.Sprint(v)
			}
			if lang == "fr" {
				return fmt.Sprintf("%d %s %d", t.Day(), monthsFR[t.Month()-1], t.Year())
			}
			return t.Format("January 2, 2006")
		},
	}
}
