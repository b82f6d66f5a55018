package web

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"roster/internal/i18n"
)

// frenchCheck finds what a French page or email shows that is not French. Its words come
// from the catalogs themselves: every fragment a person reads must be a piece of a French
// catalog entry (or of a French email template), a data value the test typed, or a number, a
// date, an address or a link. Whatever is left is in no catalog (English written in a
// template or a service, a raw code); a sentence of the English catalog that the French one
// lacks is reported as English.
type frenchCheck struct {
	known   []string // literal pieces of the French texts and the values the test typed, longest first
	english []string // sentences of the English catalog that French lacks
}

// verbs are the holes of a catalog text: printf verbs, ${var}, {name}, the HTML tags an entry
// may hold and line breaks.
var verbs = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*[a-zA-Z%]|\$\{\w+\}|\{\w+\}|</?(a|b|br|code|em|i|kbd|p|span|strong)\b[^>]*>|\n`)

// actions are a template's actions and tags: what is left are its literal texts.
var actions = regexp.MustCompile(`(?s)\{\{.*?\}\}|<[^>]*>|\n`)

// generic are fragments that belong to no language: addresses, links, numbers, dates and
// times (with French month names: the mails write "31 janvier 2027"), and codes: snake_case
// identifiers and a lower-case code in parentheses after its name ("Enseignant (teacher)").
var generic = regexp.MustCompile(`[^\s<>@,;«»]+@[^\s<>@,;«»]+|https?://\S+|#?\d+([/:.,h\x{202f}\x{a0} -]\d+)*( ?%)?|` +
	`\b(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)\b|` +
	`\b[a-z][a-z0-9]*(_[a-zA-Z0-9]+)+\b|\([a-z][a-z0-9_]*\)`)

var letters = regexp.MustCompile(`\p{L}[\p{L}\p{M}’'-]*`)

// names are proper nouns and abbreviations, the same in every language.
var names = []string{"Roster", "CSV", "XLSX", "ODS", "JSON", "TSV", "CAS", "SCIM", "SIS", "OneRoster",
	"Moodle", "OpenID Connect", "OIDC", "SSO", "SMTP", "UTC", "URL", "API", "English", "Français"}

func newFrenchCheck(t *testing.T, data ...string) *frenchCheck {
	t.Helper()
	c := i18n.Default()
	fc := &frenchCheck{}
	seen := map[string]bool{}
	pieces := 0
	add := func(s string) {
		for _, p := range verbs.Split(html.UnescapeString(s), -1) {
			if p = strings.TrimSpace(p); p != "" && letters.MatchString(p) && !seen[p] {
				seen[p] = true
				fc.known = append(fc.known, p)
				pieces++
				// A message put at the head of a sentence starts with a capital.
				if r, n := utf8.DecodeRuneInString(p); unicode.IsLower(r) {
					if c := string(unicode.ToUpper(r)) + p[n:]; !seen[c] {
						seen[c] = true
						fc.known = append(fc.known, c)
					}
				}
			}
		}
	}
	french := map[string]bool{}
	for _, k := range c.Keys("fr") {
		for _, s := range c.Texts("fr", k) {
			french[s] = true
			add(s)
		}
	}
	files, err := filepath.Glob("../mail/templates/fr/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no French email templates: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range actions.Split(string(b), -1) {
			add(p)
		}
	}
	englishSeen := map[string]bool{}
	for _, k := range c.Keys("en") {
		for _, s := range c.Texts("en", k) {
			if french[s] {
				continue
			}
			for _, frag := range verbs.Split(s, -1) {
				frag = strings.TrimSpace(frag)
				if len(strings.Fields(frag)) < 3 || englishSeen[frag] {
					continue
				}
				englishSeen[frag] = true
				fc.english = append(fc.english, frag)
			}
		}
	}
	for _, d := range append(data, names...) {
		if d = strings.TrimSpace(d); d != "" && !seen[d] {
			seen[d] = true
			fc.known = append(fc.known, d)
		}
	}
	longestFirst(fc.known)
	if pieces < 500 || len(fc.english) < 50 {
		t.Fatalf("%d French pieces, %d English sentences: the catalog scan is broken", pieces, len(fc.english))
	}
	return fc
}

func longestFirst(list []string) {
	sort.Slice(list, func(i, j int) bool {
		if len(list[i]) != len(list[j]) {
			return len(list[i]) > len(list[j])
		}
		return list[i] < list[j]
	})
}

// unfilled are placeholders left in a text: a parameter the entry names and the call did not
// give, or a printf verb without its argument.
var unfilled = regexp.MustCompile(`\{[\w-]+\}|%!|%\[\d+\]|\$\{\w+\}`)

// blank replaces each occurrence of needle in s that starts and ends at a word boundary by
// NUL bytes (so that later needles cannot join its neighbours).
func blank(s, needle string) string {
	if !strings.Contains(s, needle) {
		return s
	}
	first, _ := utf8.DecodeRuneInString(needle)
	last, _ := utf8.DecodeLastRuneInString(needle)
	var b strings.Builder
	for {
		i := strings.Index(s, needle)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(needle):])
		if (i > 0 && isWord(first) && isWord(before)) || (i+len(needle) < len(s) && isWord(last) && isWord(after)) {
			// Inside a word: keep its first byte and look further.
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(strings.Repeat("\x00", len(needle)))
		s = s[i+len(needle):]
	}
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// problems lists what in texts is not French. extra are data values of this page only (the
// column names of an imported file).
func (fc *frenchCheck) problems(texts []string, extra ...string) []string {
	known := fc.known
	if len(extra) > 0 {
		known = append(append([]string(nil), extra...), fc.known...)
		longestFirst(known)
	}
	var bad []string
	for _, s := range texts {
		for _, f := range fc.english {
			if strings.Contains(s, f) {
				bad = append(bad, fmt.Sprintf("English sentence %q in %q", f, s))
			}
		}
		if m := unfilled.FindString(s); m != "" {
			bad = append(bad, fmt.Sprintf("placeholder %q left in %q", m, s))
		}
		// Catalog pieces and data first (a piece may hold a number or a name), then the
		// numbers and codes between them, then the pieces that those separated.
		rest := s
		for _, p := range known {
			rest = blank(rest, p)
		}
		rest = generic.ReplaceAllStringFunc(rest, func(m string) string { return strings.Repeat("\x00", len(m)) })
		for _, p := range known {
			rest = blank(rest, p)
		}
		if w := letters.FindAllString(rest, -1); len(w) > 0 {
			bad = append(bad, fmt.Sprintf("in no French catalog: %q in %q", strings.Join(w, " "), s))
		}
	}
	return bad
}

// TestFrenchCheck: the detector finds English and raw codes, and passes French made of
// catalog pieces and data.
func TestFrenchCheck(t *testing.T) {
	fc := newFrenchCheck(t, "Agence de Lyon", "jmartin")
	for _, s := range []string{"Saved", "learner", "Teacher", "Agence de Lyon: you may not see this group", "Membres de Agence de Lyon (3) — suspended"} {
		if len(fc.problems([]string{s})) == 0 {
			t.Errorf("%q passes as French", s)
		}
	}
	fr := []string{i18n.T("fr", "login.title"), "jmartin", "Agence de Lyon", "12/03/2027 09:30", "paul@entreprise.test",
		i18n.T("fr", "err.required")}
	if p := fc.problems(fr); len(p) > 0 {
		t.Errorf("French fails: %v", p)
	}
}
