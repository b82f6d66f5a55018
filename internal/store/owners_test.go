package store_test

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// ownerExceptions are the places that still write a table they do not own, as "table package"
// (package as its path under internal/, or cmd/...), one a line with the branch moving it:
// delete your line when the write goes through the owner. The aim is an empty list; an entry
// no longer needed fails the test.
var ownerExceptions = []string{
	"audit_events scim", // scim-service: SCIM records through audit
	"users scim",        // scim-service: SCIM updates accounts through account
}

// writeSQL finds the table an SQL text writes. Keywords are upper case in Roster's SQL, table
// names lower case ("DO UPDATE SET" of an upsert is no table).
var writeSQL = regexp.MustCompile(`(?:INSERT\s+(?:OR\s+[A-Z]+\s+)?INTO|REPLACE\s+INTO|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)\s+([a-z_][a-z0-9_]*)` +
	`|UPDATE\s+([a-z_][a-z0-9_]*)(?:\s+(?:AS\s+)?[a-z_][a-z0-9_]*)?\s+SET\b`)

// TestTablesHaveOneOwner checks that every table of the schema has an owner in docs/tables.md
// and that no Go code outside the owner's package writes it (SQL text, or store.Insert's
// Table), tests aside.
func TestTablesHaveOneOwner(t *testing.T) {
	root := filepath.Join("..", "..")
	owners := readOwners(t, filepath.Join(root, "docs", "tables.md"))
	for _, table := range schemaTables(t, filepath.Join(root, "internal", "store", "migrations")) {
		if owners[table] == "" {
			t.Errorf("table %s has no owner in docs/tables.md", table)
		}
	}
	writes := map[string][]string{} // "table package" -> places
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			pkg := strings.TrimPrefix(filepath.ToSlash(rel), "internal/")
			for _, w := range tablesWritten(t, path) {
				if owners[w.table] == "" {
					t.Errorf("%s:%d writes %s, which docs/tables.md does not list", path, w.line, w.table)
					continue
				}
				if owners[w.table] != pkg {
					key := w.table + " " + pkg
					writes[key] = append(writes[key], path+":"+strconv.Itoa(w.line))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	allowed := map[string]bool{}
	for _, e := range ownerExceptions {
		allowed[e] = true
		if writes[e] == nil {
			t.Errorf("exception %q: no such write any more; delete the line", e)
		}
	}
	var keys []string
	for k := range writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !allowed[k] {
			table, pkg, _ := strings.Cut(k, " ")
			t.Errorf("%s writes %s, owned by %s (docs/tables.md): call the owner's functions\n\t%s", pkg, table, owners[table],
				strings.Join(writes[k], "\n\t"))
		}
	}
	if len(owners) < 40 {
		t.Errorf("docs/tables.md: %d tables read", len(owners))
	}
}

func readOwners(t *testing.T, path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	owners := map[string]string{}
	row := regexp.MustCompile(`^\|\s*([a-z_][a-z0-9_]*)\s*\|\s*([a-z][a-z0-9_/]*)\s*\|\s*$`)
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			if owners[m[1]] != "" {
				t.Errorf("docs/tables.md lists %s twice", m[1])
			}
			owners[m[1]] = m[2]
		}
	}
	return owners
}

// schemaTables returns the tables the migrations of both trees create.
func schemaTables(t *testing.T, dir string) []string {
	create := regexp.MustCompile(`(?i)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)`)
	seen := map[string]bool{}
	for _, tree := range []string{"sqlite", "postgres"} {
		files, err := filepath.Glob(filepath.Join(dir, tree, "*.sql"))
		if err != nil || len(files) == 0 {
			t.Fatalf("migrations of %s: %v", tree, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range create.FindAllStringSubmatch(string(b), -1) {
				if !strings.HasSuffix(m[1], "_new") && !strings.HasSuffix(m[1], "_old") { // table rebuilds
					seen[strings.ToLower(m[1])] = true
				}
			}
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type tableWrite struct {
	table string
	line  int
}

// tablesWritten returns the tables the string literals of a Go file write, and the Table of
// its store.Insert literals.
func tablesWritten(t *testing.T, path string) []tableWrite {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []tableWrite
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err != nil {
				return true
			}
			for _, m := range writeSQL.FindAllStringSubmatch(s, -1) {
				out = append(out, tableWrite{m[1] + m[2], fset.Position(n.Pos()).Line})
			}
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Table" {
				if v, ok := n.Value.(*ast.BasicLit); ok && v.Kind == token.STRING {
					s, _ := strconv.Unquote(v.Value)
					out = append(out, tableWrite{s, fset.Position(n.Pos()).Line})
					return false
				}
			}
		}
		return true
	})
	return out
}
