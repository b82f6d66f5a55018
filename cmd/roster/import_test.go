package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "roster.db")}
	file := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(file, []byte("username,firstname,lastname,email\nann,Ann,A,ann@x.org\nbob,Bob,B,bob@x.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, env, "", "import", file)
	if err != nil || !strings.Contains(out, "created 2, updated 0, enrolled 0, skipped 0, errors 0") || !strings.Contains(out, "preview only") {
		t.Fatalf("preview: %v\n%s", err, out)
	}
	out, err = run(t, env, "", "import", file, "--format", "moodle", "--apply")
	if err != nil || !strings.Contains(out, "applied as import batch 1") {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	out, err = run(t, env, "", "import", "--apply", file)
	if err != nil || !strings.Contains(out, "skipped 2") {
		t.Fatalf("again: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.csv")
	_ = os.WriteFile(bad, []byte("username,email,shoe\n"), 0o600)
	if out, err = run(t, env, "", "import", bad); err == nil || !strings.Contains(err.Error(), `unknown column "shoe"`) {
		t.Fatalf("bad header: %v\n%s", err, out)
	}
	_ = os.WriteFile(bad, []byte("username,email,firstname,lastname\ncid,not-an-email,C,D\n"), 0o600)
	if out, err = run(t, env, "", "import", bad, "--apply"); err == nil || !strings.Contains(out, "line 2: error (email:") {
		t.Fatalf("bad row: %v\n%s", err, out)
	}
	out, err = run(t, env, "", "import", "--undo", "1", "--apply")
	if err != nil || !strings.Contains(out, "deleted 2 accounts") {
		t.Fatalf("undo: %v\n%s", err, out)
	}
}

// TestImportMethodsAndUserField: --format methods and --user-field, from the command line.
func TestImportMethodsAndUserField(t *testing.T) {
	env := sqliteEnv(t)
	if out, err := run(t, env, "", "demo"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	dir := t.TempDir()
	methods := filepath.Join(dir, "methods.csv")
	_ = os.WriteFile(methods, []byte("add,cohort,DATA201,L1-INFO-2026,0,,student\nadd,meta,INFO102,INFO101,0,,\ndel,cohort,HIST101,L1-HIST-2026,0,,student\n"), 0o600)
	out, err := run(t, env, "", "import", methods, "--format", "methods", "--valid-only", "--apply")
	if err != nil || !strings.Contains(out, "line 2: error (metacohort: the course already has this method)") ||
		!strings.Contains(out, "created 1, updated 0, enrolled 0, skipped 0, errors 1, deleted 1") {
		t.Fatalf("methods: %v\n%s", err, out)
	}
	flat := filepath.Join(dir, "flat.txt")
	_ = os.WriteFile(flat, []byte("add,teacher,alan.turing@demo.example,HIST101\n"), 0o600)
	if out, err = run(t, env, "", "import", flat, "--format", "enrolments", "--user-field", "username"); err == nil ||
		!strings.Contains(out, `no account has the username "alan.turing@demo.example"`) {
		t.Fatalf("by username: %v\n%s", err, out)
	}
	if out, err = run(t, env, "", "import", flat, "--format", "enrolments", "--user-field", "email", "--apply"); err != nil ||
		!strings.Contains(out, "enrolled 1") {
		t.Fatalf("by email: %v\n%s", err, out)
	}
}

// TestImportUpdatePasswords: --update-passwords sets the password of existing accounts from
// an update-only file with just username,password; without it, every row says why not.
func TestImportUpdatePasswords(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "roster.db")}
	users := filepath.Join(dir, "users.csv")
	_ = os.WriteFile(users, []byte("username,firstname,lastname,email\nann,Ann,A,ann@x.org\n"), 0o600)
	if out, err := run(t, env, "", "import", users, "--apply"); err != nil {
		t.Fatalf("users: %v\n%s", err, out)
	}
	pw := filepath.Join(dir, "pw.csv")
	_ = os.WriteFile(pw, []byte("username,password\nann,Correct-Horse-Battery-9\n"), 0o600)
	out, err := run(t, env, "", "import", pw, "--mode", "update_only", "--apply")
	if err != nil || !strings.Contains(out, "line 2: skip (password: not changed for an existing account") {
		t.Fatalf("without the option: %v\n%s", err, out)
	}
	out, err = run(t, env, "", "import", pw, "--mode", "update_only", "--update-passwords", "--apply")
	if err != nil || !strings.Contains(out, "line 2: update (changes password; password: will be changed") ||
		!strings.Contains(out, "updated 1") || strings.Contains(out, "Correct-Horse") {
		t.Fatalf("--update-passwords: %v\n%s", err, out)
	}
}

// TestCommandLineInFrench: the command line speaks the site's language, else the locale's
// (LANG); English stays for English.
func TestCommandLineInFrench(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ROSTER_DB": "sqlite:" + filepath.Join(dir, "roster.db"), "LANG": "fr_FR.UTF-8"}
	file := filepath.Join(dir, "personnes.csv")
	if err := os.WriteFile(file, []byte("username,email,firstname,lastname\nann,ann@x.org,Ann,A\ncid,pas-une-adresse,C,D\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, env, "", "import", file)
	for _, want := range []string{"créations\u00a0: 1", "ligne 3\u00a0: erreur (email\u00a0: n’est pas une adresse e-mail valide)"} {
		if !strings.Contains(out, want) {
			t.Errorf("LANG=fr_FR.UTF-8: no %q in:\n%s (%v)", want, out, err)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "le fichier contient des erreurs") {
		t.Errorf("the refusal is not French: %v", err)
	}
	// The site's language wins over the locale's.
	env["ROSTER_LANGUAGE"] = "en"
	if out, _ = run(t, env, "", "import", file); !strings.Contains(out, "created 1, updated 0") {
		t.Errorf("ROSTER_LANGUAGE=en: %s", out)
	}
}
