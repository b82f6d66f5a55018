package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"roster/internal/i18n"
	"roster/internal/web/locales"
)

// TestCatalogComplete fails on any key missing from a language, and on any key that a
// template or a handler uses but no catalog has.
func TestCatalogComplete(t *testing.T) {
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range Languages {
		for _, b := range Languages {
			for k := range c[a] {
				if _, ok := c[b][k]; !ok {
					t.Errorf("key %q is in %s but missing in %s", k, a, b)
				}
			}
		}
	}
	// Every language names the same parameters: a French "{e-mail}" where English says
	// "{email}" would show the placeholder itself.
	holes := regexp.MustCompile(`(?:^|[^$])\{([^{}\s]+)\}`)
	all, err := i18n.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range all.Keys("en") {
		want := map[string]bool{}
		for _, s := range all.Texts("en", k) {
			for _, m := range holes.FindAllStringSubmatch(s, -1) {
				want[m[1]] = true
			}
		}
		for _, lang := range Languages[1:] {
			for _, s := range all.Texts(lang, k) {
				for _, m := range holes.FindAllStringSubmatch(s, -1) {
					if !want[m[1]] {
						t.Errorf("%s %q names {%s}, which English does not", lang, k, m[1])
					}
				}
			}
		}
	}
	// A French entry written like the English one is English left over, unless each of its
	// words is also French.
	shared := map[string]bool{}
	for _, w := range strings.Fields("Action Administration CAS Connect CSV Date Description English Excel Format Français Messages " +
		"Import Imports Invitation Invitations JSON LibreOffice ODS OpenID Options Participants SCIM Sources XLSX date " +
		"import invitation minute minutes participant participants public site") {
		shared[w] = true
	}
	words := regexp.MustCompile(`\pL+`)
	for _, k := range all.Keys("fr") {
		if strings.Join(all.Texts("fr", k), "|") != strings.Join(all.Texts("en", k), "|") {
			continue
		}
		for _, s := range all.Texts("fr", k) {
			for _, w := range words.FindAllString(regexp.MustCompile(`%(\[\d\])?[a-z]`).ReplaceAllString(s, " "), -1) {
				if !shared[w] {
					t.Errorf("fr %q is the English text %q", k, s)
					break
				}
			}
		}
	}
	used := map[string]string{}
	inTemplates := regexp.MustCompile(`\.L\.T "([^"]+)"`)
	fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			return nil
		}
		b, _ := fs.ReadFile(templateFS, path)
		for _, m := range inTemplates.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = path
		}
		return nil
	})
	inGo := regexp.MustCompile(`L\.T\("([^"]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range inGo.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") { // a prefix: "imports.action." + action
				used[m[1]] = f
			}
		}
	}
	if len(used) < 20 {
		t.Fatalf("found only %d keys in use: the scan is broken", len(used))
	}
	for k, where := range used {
		for _, lang := range Languages {
			if _, ok := c[lang][k]; !ok {
				t.Errorf("%s uses key %q, missing in %s", where, k, lang)
			}
		}
	}
}

func TestMatchLanguage(t *testing.T) {
	for accept, want := range map[string]string{
		"fr-FR,fr;q=0.9,en;q=0.8": "fr",
		"en-GB":                   "en",
		"de-DE":                   "en",
		"":                        "en",
		"de;q=1, fr-CA;q=0.5":     "fr",
	} {
		if got := MatchLanguage(accept); got != want {
			t.Errorf("MatchLanguage(%q) = %s, want %s", accept, got, want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	then := now.Add(-(3*24 + 4) * time.Hour)
	if got := ago(Localizer{Lang: "en"}, &then, now); got != "3 days 4 hours" {
		t.Errorf("ago = %q", got)
	}
	if got := ago(Localizer{Lang: "fr"}, nil, now); got != "Jamais" {
		t.Errorf("ago(nil) = %q", got)
	}
}
