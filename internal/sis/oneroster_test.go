package sis

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bundle writes a OneRoster bundle (files name → content) as a folder, or a zip if zipped.
func bundle(t *testing.T, files map[string]string, zipped bool) string {
	t.Helper()
	dir := t.TempDir()
	if !zipped {
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	p := filepath.Join(dir, "bundle.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	for name, body := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func manifest(version, mode string, extra ...string) string {
	s := "propertyName,value\nmanifest.version,1.0\noneroster.version," + version + "\n" +
		"file.academicSessions,absent\nfile.classes," + mode + "\nfile.courses,absent\nfile.enrollments," + mode +
		"\nfile.orgs,absent\nfile.users," + mode + "\n"
	for _, e := range extra {
		s += e + "\n"
	}
	return s
}

const (
	users11 = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n" +
		"u-1,active,2026-11-01T00:00:00Z,true,org-1,student,alice,,Alice,A,,S001,alice@example.org,,,,,\n" +
		"u-2,active,2026-11-01T00:00:00Z,true,org-1,teacher,,,Bob,B,,,bob@example.org,,,,,\n" +
		"u-3,active,2026-11-01T00:00:00Z,true,org-1,student,,,Ghost,G,,S999,,,,,,\n"
	users12 = "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n" +
		"u-1,active,2026-11-01T00:00:00Z,true,alice,,Alice,A,,S001,alice@example.org,,,,,,M1,,,,,org-1,\n" +
		"u-2,active,2026-11-01T00:00:00Z,true,,,Bob,B,,S002,bob@example.org,,,,,,M2,,,,,org-1,\n"
	classes = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n" +
		"cl-1,active,2026-11-01T00:00:00Z,Mathematics 101,,co-1,MATH101,scheduled,,org-1,t-1,,,\n" +
		"cl-2,active,2026-11-01T00:00:00Z,bio,,co-2,,scheduled,,org-1,t-1,,,\n"
	enrolHeader = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n"
)

func TestOneRoster11BulkFolderAndZip(t *testing.T) {
	files := map[string]string{
		"manifest.csv": manifest("1.1", "bulk"),
		"users.csv":    users11,
		"classes.csv":  classes,
		"enrollments.csv": enrolHeader +
			"e-1,active,2026-11-01T00:00:00Z,cl-1,org-1,u-1,student,,2026-09-01,2027-06-30\n" +
			"e-2,active,2026-11-01T00:00:00Z,cl-1,org-1,u-2,teacher,true,,\n" +
			"e-3,active,2026-11-01T00:00:00Z,cl-2,org-1,u-1,student,,,\n" +
			"e-4,tobedeleted,2026-11-01T00:00:00Z,cl-2,org-1,u-2,student,,,\n" + // bulk: not listed
			"e-5,active,2026-11-01T00:00:00Z,cl-9,org-1,u-1,student,,,\n" + // unknown class
			"e-6,active,2026-11-01T00:00:00Z,cl-2,org-1,u-3,student,,,\n" + // unknown account
			"e-7,active,2026-11-01T00:00:00Z,cl-2,org-1,u-2,guardian,,,\n", // unknown role
	}
	for _, zipped := range []bool{false, true} {
		src, err := ReadOneRoster(bundle(t, files, zipped))
		if err != nil {
			t.Fatalf("zipped %v: %v", zipped, err)
		}
		if src.Delta {
			t.Error("bulk read as delta")
		}
		r := Resolve(src, testDirectory())
		if len(r.Want) != 3 || r.Want[MakeKey(1, 11)].Role != "teacher" || r.Want[MakeKey(1, 10)].Ends == 0 {
			t.Errorf("zipped %v: want %v", zipped, r.Want)
		}
		got := issuesText(r.Issues)
		for _, w := range []string{`enrollments.csv:6: unknown class "cl-9"`, `enrollments.csv:7: unknown user "S999"`, `enrollments.csv:8: unknown role "guardian"`} {
			if !strings.Contains(got, w) {
				t.Errorf("zipped %v: missing %q in\n%s", zipped, w, got)
			}
		}
	}
}

func TestOneRoster12Delta(t *testing.T) {
	src, err := ReadOneRoster(bundle(t, map[string]string{
		"manifest.csv": manifest("1.2", "delta", "file.roles,absent"),
		"users.csv":    users12,
		"classes.csv":  classes,
		"enrollments.csv": enrolHeader +
			"e-1,active,2026-11-01T00:00:00Z,cl-1,org-1,u-1,student,,,\n" +
			"e-2,tobedeleted,2026-11-01T00:00:00Z,cl-2,org-1,u-2,student,,,\n" +
			"e-3,whatever,2026-11-01T00:00:00Z,cl-2,org-1,u-2,student,,,\n",
	}, true))
	if err != nil {
		t.Fatal(err)
	}
	r := Resolve(src, testDirectory())
	if !src.Delta || len(r.Want) != 1 || !r.Deleted[MakeKey(2, 11)] {
		t.Fatalf("delta: %v want %v deleted %v", src.Delta, r.Want, r.Deleted)
	}
	if !strings.Contains(issuesText(r.Issues), `enrollments.csv:4: malformed row: status "whatever"`) {
		t.Errorf("issues: %s", issuesText(r.Issues))
	}
	have := map[Key]Have{MakeKey(2, 11): {ID: 1, Role: "student"}, MakeKey(2, 10): {ID: 2, Role: "student"}}
	p := Diff(r.Want, r.Deleted, have, Options{Delta: true, Threshold: 100})
	if len(p.Add) != 1 || len(p.Suspend) != 1 || p.Suspend[0].ID != 1 {
		t.Errorf("delta plan: %+v", p)
	}
}

func TestOneRosterBadBundles(t *testing.T) {
	base := map[string]string{"users.csv": users11, "classes.csv": classes, "enrollments.csv": enrolHeader}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	for name, c := range map[string]struct {
		files map[string]string
		want  string
	}{
		"no manifest":   {with(nil), "no manifest.csv"},
		"absent file":   {with(map[string]string{"manifest.csv": manifest("1.1", "bulk"), "classes.csv": ""}), "lists classes.csv as bulk, but the bundle has no classes.csv"},
		"1.1 roles":     {with(map[string]string{"manifest.csv": manifest("1.1", "bulk", "file.roles,bulk"), "roles.csv": "sourcedId\n"}), "mixes versions"},
		"1.2 old users": {with(map[string]string{"manifest.csv": manifest("1.2", "bulk")}), "mixes versions"},
		"1.1 new users": {with(map[string]string{"manifest.csv": manifest("1.1", "bulk"), "users.csv": users12}), "mixes versions"},
		"version":       {with(map[string]string{"manifest.csv": manifest("1.0", "bulk")}), "expected 1.1 or 1.2"},
	} {
		_, err := ReadOneRoster(bundle(t, c.files, false))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
}

func TestOpenNamesTheSource(t *testing.T) {
	dir := bundle(t, map[string]string{"manifest.csv": manifest("1.1", "bulk"), "users.csv": users11, "classes.csv": classes,
		"enrollments.csv": enrolHeader}, false)
	src, err := Open("oneroster:"+dir, "")
	if err != nil || src.Name != "oneroster" {
		t.Fatalf("oneroster: %v %+v", err, src)
	}
	p := filepath.Join(t.TempDir(), "e.csv")
	os.WriteFile(p, []byte("course,user,role\n"), 0o600)
	if src, err := Open("csv:"+p, "registrar"); err != nil || src.Name != "registrar" {
		t.Fatalf("csv: %v %+v", err, src)
	}
	if _, err := Open("registrar", ""); err == nil {
		t.Fatal("configured sources are not available yet")
	}
}
