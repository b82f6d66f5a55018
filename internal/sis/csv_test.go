package sis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testDirectory() *Directory {
	d := NewDirectory()
	d.Courses["math101"] = 1
	d.Courses["bio"] = 2
	for _, r := range []string{"student", "teacher", "non_editing_teacher", "guest"} {
		d.Roles[r] = true
	}
	d.AddUser(10, "alice", "alice@example.org", "S001")
	d.AddUser(11, "bob", "bob@example.org", "S002")
	d.AddUser(12, "carol", "shared@example.org", "S003")
	d.AddUser(13, "dave", "shared@example.org", "S004")
	return d
}

func issuesText(is []Issue) string {
	var out []string
	for _, i := range is {
		out = append(out, i.String())
	}
	return strings.Join(out, "\n")
}

func TestCSVReadAndResolve(t *testing.T) {
	in := "course,user,role,group,starts,ends\n" +
		"MATH101,alice,student,A,2026-09-01,2027-06-30\n" + // 2: by username, case-insensitive course
		"math101,bob@example.org,Teacher,,,\n" + // 3: by email
		"bio,S001,student,,,\n" + // 4: by idnumber
		"nope,alice,student,,,\n" + // 5: unknown course
		"bio,zed,student,,,\n" + // 6: unknown user
		"bio,bob,wizard,,,\n" + // 7: unknown role
		"math101,ALICE,student,,,\n" + // 8: duplicate of 2
		"bio,shared@example.org,student,,,\n" + // 9: ambiguous
		"bio,carol\n" + // 10: wrong field count
		"bio,,student,,,\n" + // 11: empty user
		"bio,carol,student,,someday,\n" + // 12: bad date
		"\n" +
		"bio,dave,student,,,\n" // 14
	src, err := ReadCSV(strings.NewReader(in), "export.csv")
	if err != nil {
		t.Fatal(err)
	}
	r := Resolve(src, testDirectory())
	if len(r.Want) != 4 {
		t.Errorf("want %d rows: %v", len(r.Want), r.Want)
	}
	if w := r.Want[MakeKey(1, 10)]; w.Role != "student" || w.Starts == 0 || w.Ends <= w.Starts {
		t.Errorf("alice in math101: %+v", w)
	}
	if w := r.Want[MakeKey(1, 11)]; w.Role != "teacher" {
		t.Errorf("bob in math101: %+v", w)
	}
	if _, ok := r.Want[MakeKey(2, 10)]; !ok {
		t.Errorf("S001 in bio missing")
	}
	if !r.Protected[MakeKey(2, 11)] {
		t.Errorf("the row with an unknown role should protect bob in bio")
	}
	got := issuesText(r.Issues)
	for _, wantIssue := range []string{
		`export.csv:5: unknown course "nope"`,
		`export.csv:6: unknown user "zed"`,
		`export.csv:7: unknown role "wizard"`,
		`export.csv:8: duplicate of line 2`,
		`export.csv:9: user "shared@example.org" is ambiguous`,
		`export.csv:10: malformed row: 2 fields`,
		`export.csv:11: malformed row: empty user`,
		`export.csv:12: malformed row: starts:`,
	} {
		if !strings.Contains(got, wantIssue) {
			t.Errorf("missing issue %q in:\n%s", wantIssue, got)
		}
	}
	if len(r.Issues) != 8 {
		t.Errorf("%d issues:\n%s", len(r.Issues), got)
	}
}

func TestCSVUnreadable(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"no role":      "course,user\nbio,alice\n",
		"broken quote": "course,user,role\nbio,\"alice,student\n",
	} {
		if _, err := ReadCSV(strings.NewReader(in), "x.csv"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ReadCSVFile(filepath.Join(t.TempDir(), "absent.csv")); err == nil {
		t.Error("absent file: no error")
	}
	p := filepath.Join(t.TempDir(), "ok.csv")
	os.WriteFile(p, []byte("\ufeffCourse,User,Role\nbio,alice,student\n"), 0o600)
	src, err := ReadCSVFile(p)
	if err != nil || len(src.Rows) != 1 || src.Name != "csv" {
		t.Fatalf("bom header: %v %+v", err, src)
	}
}
