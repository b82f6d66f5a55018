package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPluralsFollowCLDR(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{"fr", 0, "0 minute"}, {"fr", 1, "1 minute"}, {"fr", 2, "2 minutes"},
		{"en", 0, "0 minutes"}, {"en", 1, "1 minute"}, {"en", 2, "2 minutes"},
		{"fr", 1500, "1\u00a0500 minutes"},
	} {
		if got := T(tc.lang, "duration.minutes", tc.n); got != tc.want {
			t.Errorf("%s %d: %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	if got := T("fr", "time.days_hours", 1, 2); got != "1 jour 2 heures" {
		t.Errorf("two plurals in one sentence: %q", got)
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"fr", 5 * time.Second, "5 secondes"},
		{"en", 5 * time.Second, "5 seconds"},
		{"fr", 30 * time.Minute, "30 minutes"},
		{"fr", time.Minute, "1 minute"},
		{"fr", 90 * time.Minute, "1 heure 30 minutes"},
		{"en", 48 * time.Hour, "2 days"},
		{"fr", 25 * time.Hour, "1 jour 1 heure"},
	} {
		if got := Duration(tc.lang, tc.d); got != tc.want {
			t.Errorf("Duration(%s, %v) = %q, want %q", tc.lang, tc.d, got, tc.want)
		}
	}
}

func TestNamedParameters(t *testing.T) {
	if got := Default().Named("fr", "err.too_long", map[string]any{"limit": 100}); got != "doit faire au plus 100 caractères" {
		t.Errorf("fr: %q", got)
	}
	if got := Default().Named("en", "err.too_long", map[string]any{"limit": 1}); got != "must be at most 1 character long" {
		t.Errorf("en: %q", got)
	}
}

func TestPick(t *testing.T) {
	if got := Pick("", "fr-CA", "en"); got != "fr" {
		t.Errorf("Pick = %s", got)
	}
	if got := Pick("", "de"); got != "en" {
		t.Errorf("Pick = %s", got)
	}
}

// TestEveryLanguageHasEveryKey fails on a key one language lacks, and on a plural entry
// whose forms differ in parameters between languages.
func TestEveryLanguageHasEveryKey(t *testing.T) {
	c := Default()
	for _, a := range Languages {
		for _, k := range c.Keys(a) {
			for _, b := range Languages {
				if !c.Has(b, k) {
					t.Errorf("key %q is in %s but missing in %s", k, a, b)
				}
			}
		}
	}
}

// TestCodedErrorsInCatalog reads every Go file of Roster for the calls that build a coded
// error (errs.FieldCode, errs.Coded, Fields.AddCode, Fields.AddAt) and fails when a language
// has no "err."+key entry, or when the named parameters given differ from the ones the entry
// uses. A key that is not a string literal must be listed on a comment just above the call
// ("// errkeys: a_key another_key"), and each listed key is checked.
func TestCodedErrorsInCatalog(t *testing.T) {
	c := Default()
	// The builders, and the packages' helpers that pass their "key" parameter on to them.
	keyArg := map[string]int{"FieldCode": 1, "Coded": 1, "AddCode": 1, "AddAt": 3, "reject": 0, "fail": 1, "addErr": 1,
		"conflictField": 1, "notFoundField": 1}
	onlyIn := map[string]string{"fail": "internal/bulk/", "addErr": "internal/bulk/"} // a name other packages use otherwise
	fset := token.NewFileSet()
	found := 0
	check := func(pos token.Position, key string, given []string, checkParams bool) {
		found++
		for _, lang := range Languages {
			if !c.Has(lang, "err."+key) {
				t.Errorf("%s: error key %q has no entry err.%s in %s", pos, key, key, lang)
			}
		}
		if !checkParams {
			return
		}
		sort.Strings(given)
		want := c.Params("err." + key)
		if strings.Join(given, ",") != strings.Join(want, ",") {
			t.Errorf("%s: error key %q given parameters %v, its entry uses %v", pos, key, given, want)
		}
	}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "../.." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			strings.HasSuffix(path, "internal/errs/errs.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		listed := map[int][]string{} // line of a comment's end -> the keys it lists
		for _, cg := range f.Comments {
			for _, cm := range cg.List {
				if _, after, ok := strings.Cut(cm.Text, "errkeys:"); ok {
					line := fset.Position(cg.End()).Line
					listed[line] = append(listed[line], strings.Fields(after)...)
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				name = fn.Sel.Name
				if x, ok := fn.X.(*ast.Ident); (name == "FieldCode" || name == "Coded") && (!ok || x.Name != "errs") {
					return true
				}
			case *ast.Ident: // a package's own helper
				name = fn.Name
				if name == "FieldCode" || name == "Coded" {
					return true
				}
			default:
				return true
			}
			i, ok := keyArg[name]
			if !ok || len(call.Args) <= i {
				return true
			}
			if under, ok := onlyIn[name]; ok && !strings.Contains(filepath.ToSlash(path), under) {
				return true
			}
			pos := fset.Position(call.Pos())
			if id, ok := call.Args[i].(*ast.Ident); ok && id.Name == "key" {
				return true // a helper passing on its key parameter: its callers are checked
			}
			lit, ok := call.Args[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				keys := append(listed[pos.Line-1], listed[pos.Line]...)
				if len(keys) == 0 {
					t.Errorf("%s: the error key is not a string literal: list its keys in a comment above (// errkeys: …)", pos)
				}
				for _, k := range keys {
					check(pos, k, nil, false)
				}
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			var given []string
			for _, a := range call.Args[i+1:] {
				cl, ok := a.(*ast.CompositeLit)
				if !ok {
					continue
				}
				for _, e := range cl.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if kl, ok := kv.Key.(*ast.BasicLit); ok {
							name, _ := strconv.Unquote(kl.Value)
							given = append(given, name)
						}
					}
				}
			}
			check(pos, key, given, true)
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("found no coded error: the scan is broken")
	}
	t.Logf("%d coded errors", found)
}

// TestFrenchTypography: a no-break space before : ; ? !, the typographic apostrophe, « »
// quotes, and one word for email ("e-mail", never "courriel").
func TestFrenchTypography(t *testing.T) {
	c := Default()
	bad := []struct{ re, why string }{
		{`'`, "an ASCII apostrophe (use ’)"},
		{`"`, "ASCII quotes (use « »)"},
		{`[^\x{00a0}\x{202f}][:;?!](\s|$)`, "no no-break space before : ; ? !"},
		{`(?i)courriel|\bemails?\b`, `"courriel" or "email" (use "e-mail")`},
		{`«[^\x{00a0}]|[^\x{00a0}]»`, "no no-break space inside « »"},
	}
	for _, k := range c.Keys("fr") {
		for _, s := range c.Texts("fr", k) {
			for _, b := range bad {
				if regexp.MustCompile(b.re).MatchString(stripVerbs(s)) {
					t.Errorf("fr %s: %s: %q", k, b.why, s)
				}
			}
		}
	}
}

// stripVerbs drops printf verbs and ${vars}, and %[1]s: text, which are not French text.
func stripVerbs(s string) string {
	return regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*[a-zA-Z%]|\$\{\w+\}`).ReplaceAllString(s, "X")
}
