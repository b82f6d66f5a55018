package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roster/internal/store"
)

func TestSyncCommand(t *testing.T) {
	env := sqliteEnv(t)
	if out, err := run(t, env, "", "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, env["ROSTER_DB"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO courses (shortname, fullname, created_at, updated_at) VALUES ('bio', 'Biology', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := 1; i <= 10; i++ {
		if _, err := db.ExecContext(ctx, `INSERT INTO users (username, email, email_norm, created_at, updated_at) VALUES ($1, '', '', 0, 0)`, fmt.Sprintf("s%d", i)); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("bio,s%d,student", i))
	}
	db.Close()
	dir := t.TempDir()
	write := func(rows []string) string {
		p := filepath.Join(dir, "export.csv")
		if err := os.WriteFile(p, []byte("course,user,role\n"+strings.Join(rows, "\n")+"\nnope,s1,student\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return "csv:" + p
	}
	out, err := run(t, env, "", "sync", "--source", write(lines))
	if err != nil || !strings.HasPrefix(out, "added 10, changed 0, removed 0\n") {
		t.Fatalf("first sync: %v %q", err, out)
	}
	out, err = run(t, env, "", "sync", write(lines))
	if err != nil || out != "added 0, changed 0, removed 0\n" {
		t.Fatalf("second sync: %v %q", err, out)
	}
	// Two of ten gone (20 %): the default threshold stops it, non-zero exit.
	out, err = run(t, env, "", "sync", "--source", write(lines[2:]))
	if err == nil || !strings.Contains(out, "threshold") || !strings.Contains(out, `export.csv:10: unknown course "nope"`) {
		t.Fatalf("threshold: %v %q", err, out)
	}
	out, err = run(t, env, "", "sync", "--source", write(lines[2:]), "--threshold", "25", "--dry-run", "--action", "unenrol")
	if err != nil || !strings.HasPrefix(out, "added 0, changed 0, removed 2\n- course 1 user 1\n") {
		t.Fatalf("dry run: %v %q", err, out)
	}
	out, err = run(t, env, "", "sync", "--source", write(lines[2:]), "--threshold", "25")
	if err != nil || out != "added 0, changed 0, removed 2\n" {
		t.Fatalf("suspend: %v %q", err, out)
	}
	if out, err := run(t, env, "", "sync", "--source", "somewhere"); err == nil || !strings.Contains(err.Error(), `no sync source named "somewhere"`) {
		t.Fatalf("an unknown configured source: %v %q", err, out)
	}
	// A configured source, by name: its own location, action and threshold.
	db, err = store.Open(ctx, env["ROSTER_DB"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO sis_sources (name, kind, location, action, threshold, created_at, updated_at)
		VALUES ('registry', 'csv', $1, 'unenrol', 100, 0, 0)`, strings.TrimPrefix(write(lines[:5]), "csv:")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err = run(t, env, "", "sync", "registry", "--dry-run")
	if err != nil || !strings.HasPrefix(out, "added 5, changed 0, removed 0\n") {
		t.Fatalf("configured dry run: %v %q", err, out)
	}
	out, err = run(t, env, "", "sync", "--source", "registry")
	if err != nil || !strings.HasPrefix(out, "added 5, changed 0, removed 0\n") {
		t.Fatalf("configured: %v %q", err, out)
	}
	if _, err := run(t, env, "", "sync", "--source", "csv:"+filepath.Join(dir, "absent.csv")); err == nil {
		t.Fatal("an unreadable file must fail")
	}
}
