package bulk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"roster/internal/errs"
)

func parseAll(format, text string) ([]*Row, error) {
	p, err := NewParser(format, strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	var rows []*Row
	for {
		r, err := p.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name, format, text, want string
		line                     int
	}{
		{"empty", FormatMoodle, "", "the file is empty", 0},
		{"unknown column", FormatMoodle, "username,email,shoesize\n", `unknown column "shoesize"`, 1},
		{"no identity", FormatMoodle, "firstname,lastname\n", "username or an email", 1},
		{"duplicate column", FormatMoodle, "username,Username\n", "appears twice", 1},
		{"truncated", FormatMoodle, "username,email\n\"bob,b@x.org\n", "quote", 2},
		{"latin1", FormatMoodle, "username,firstname\nbob,Jos\xe9\n", "not UTF-8", 2},
		{"long line", FormatMoodle, "username\n" + strings.Repeat("a", MaxLineBytes+10) + "\n", "longer than", 0},
		{"groups without name", FormatGroups, "idnumber\n", "name column", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseAll(c.format, c.text)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if e := errs.As(err); e.Code != errs.Invalid {
				t.Errorf("code %s", e.Code)
			} else if c.line > 0 && (len(e.Fields) == 0 || e.Fields[0].Line != c.line) {
				t.Errorf("fields %+v, want line %d", e.Fields, c.line)
			}
		})
	}
}

func TestMoodleRows(t *testing.T) {
	text := "\xef\xbb\xbfUserName;EMAIL;firstname;lastname;lang;suspended;course1;role1;enrolstatus1;profile_field_dept;city\n" +
		"ann;ann@x.org;Ann;A;fr_ca;1;c1;editingteacher;1;Maths;Paris\n" +
		";;\n" +
		"bob;bob@x.org;Bob;B;de;2;;student;x;;\n"
	rows, err := parseAll(FormatMoodle, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	a := rows[0]
	if a.Line != 2 || a.User.Username != "ann" || a.User.Language != "fr" || !a.User.Suspended || a.User.Custom["dept"] != "Maths" ||
		len(a.Enrols) != 1 || a.Enrols[0].Role != "teacher" || !a.Enrols[0].Suspended || len(a.Notes) != 1 || len(a.Errors) != 0 {
		t.Errorf("ann: %+v %+v", a, a.User)
	}
	b := rows[1]
	if b.Line != 4 {
		t.Errorf("bob on line %d", b.Line)
	}
	var fields []string
	for _, e := range b.Errors {
		fields = append(fields, e.Field)
		if e.Line != 4 {
			t.Errorf("error line %d", e.Line)
		}
	}
	if strings.Join(fields, ",") != "lang,suspended,role1" {
		t.Errorf("bob errors: %+v", b.Errors)
	}
}

func TestTSVAndEnrolments(t *testing.T) {
	rows, err := parseAll(FormatTSV, "Email\tFirst name\tLast name\tGroups\tRoles\n"+
		"a@x.org\tAnn\tA\tG1, G2\ttrainer\tfr\t2027-01-31\n"+
		"b@x.org\tBob\tB\tG1;G2\tlearner;boss\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Line != 2 || len(rows[0].Groups) != 2 || rows[0].Groups[1].Role != "trainer" ||
		rows[0].User.DeleteAt == nil || rows[0].User.Language != "fr" || len(rows[0].Errors) != 0 {
		t.Fatalf("%+v", rows[0])
	}
	if len(rows[1].Errors) != 1 || rows[1].Errors[0].Field != "roles" {
		t.Errorf("%+v", rows[1].Errors)
	}
	rows, err = parseAll(FormatEnrolments, "add,student,ann,c1\ndel,editingteacher,bob@x.org,c2,2026-01-01,2025-01-01\nmove,x,y,z\nadd,student\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0].Login != "ann" || rows[0].Enrols[0].Course != "c1" || rows[1].Enrols[0].Role != "teacher" ||
		!rows[1].Enrols[0].Remove || len(rows[1].Errors) != 1 || len(rows[2].Errors) != 1 || len(rows[3].Errors) != 1 {
		t.Errorf("%+v %+v %+v %+v", rows[0], rows[1], rows[2], rows[3])
	}
}

// FuzzParse feeds every format arbitrary bytes: parsing never panics, every error is an
// Invalid error, and every row error carries the row's line.
func FuzzParse(f *testing.F) {
	f.Add([]byte("username,email,firstname,lastname,course1,role1\nbob,b@x.org,Bob,B,c1,student\n"))
	f.Add([]byte("name,idnumber,category\nA,a,Cat 1 / Cat 3\n"))
	f.Add([]byte("add,student,bob,c1,2026-01-01,0\n"))
	f.Add([]byte("a@x.org\tA\tB\tG1,G2\tlearner\n"))
	f.Add([]byte("\xef\xbb\xbfusername;email\n\"x;y\n"))
	f.Add([]byte("'add','student','u1','c1'\n\"add\" , \"ucitel\" , \"S3\" , \"c,2\"\n# comment\n'del,x\n"))
	f.Add([]byte("operation,method,shortname,metacohort,disabled,group,role\nadd,cohort,math102,MGMT,0,G,student\nupd,meta,film1,math102,1,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range Formats {
			p, err := NewParser(format, bytes.NewReader(data))
			if err != nil {
				if errs.CodeOf(err) != errs.Invalid {
					t.Fatalf("%s: header error %v", format, err)
				}
				continue
			}
			snap, seen := testSnapshot(), NewSeen()
			for i := 0; ; i++ {
				row, err := p.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if errs.CodeOf(err) != errs.Invalid {
						t.Fatalf("%s: %v", format, err)
					}
					break
				}
				for _, e := range row.Errors {
					if e.Line != row.Line || row.Line < 1 {
						t.Fatalf("%s: error line %d on row %d", format, e.Line, row.Line)
					}
				}
				plan := PlanRow(row, snap, seen, Options{Format: format, Mode: AddUpdate, CreateGroups: true})
				if (len(plan.Errors) > 0) != (plan.Action == ActError) || plan.Action == "" && len(plan.Errors) == 0 && row.User != nil {
					t.Fatalf("%s: plan %+v", format, plan)
				}
			}
		}
	})
}

func TestPlanBadRows(t *testing.T) {
	snap := testSnapshot()
	snap.AddUser(&Existing{ID: 7, Username: "ann", Email: "ann@x.org", FirstName: "Ann", LastName: "A", Status: "active", Auth: "local"})
	rows, err := parseAll(FormatMoodle, "username,email,firstname,lastname,course1,role1,cohort1\n"+
		"ann,other@x.org,Ann,A,,,\n"+ // the username exists under another email
		"bob,bob@x.org,Bob,B,math102,nosuchrole,\n"+ // unknown role
		"bob,bob2@x.org,Bob,B,,,\n"+ // duplicate username in the file
		"cid,bob@x.org,Cid,C,,,\n"+ // duplicate email in the file
		"dan,not-an-email,Dan,D,,,\n"+ // bad email
		"eve,eve@x.org,,E,,,\n"+ // missing first name
		"fay,fay@x.org,Fay,F,,,NOPE\n") // unknown group (cohorts are not created here)
	if err != nil {
		t.Fatal(err)
	}
	seen := NewSeen()
	var got []string
	for _, r := range rows {
		p := PlanRow(r, snap, seen, Options{Format: FormatMoodle, Mode: AddNew})
		s := fmt.Sprintf("%d:%s", r.Line, p.Action)
		for _, e := range p.Errors {
			s += "(" + e.Field + ")"
			if e.Line != r.Line || e.Message == "" {
				t.Errorf("line %d: %+v", r.Line, e)
			}
		}
		got = append(got, s)
	}
	want := "2:error(username) 3:error(role1) 4:error(username) 5:error(email) 6:error(email) 7:error(firstname) 8:error(cohort1)"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestPlanRefusesHiddenCharactersAndLookalikes: the account rules for names and usernames hold
// in imports, for new accounts and for changes to existing ones.
func TestPlanRefusesHiddenCharactersAndLookalikes(t *testing.T) {
	snap := testSnapshot()
	snap.AddUser(&Existing{ID: 7, Username: "ape", Email: "ape@x.org", FirstName: "Ape", LastName: "A", Status: "active", Auth: "local"})
	rows, err := parseAll(FormatMoodle, "username,email,firstname,lastname\n"+
		"nul,nul@x.org,Ann\x00,A\n"+ // NUL in a name
		"long,long@x.org,"+strings.Repeat("x", 101)+",A\n"+ // too long
		"\u0430\u0440\u0435,cyr@x.org,Cyr,C\n"+ // Cyrillic look-alike of ape
		"ad\u200bmin,zw@x.org,Zw,Z\n"+ // zero-width space
		"ape,ape@x.org,Ape\u202e,A\n"+ // an update with a right-to-left override
		"fine,fine@x.org,Fine,F\n")
	if err != nil {
		t.Fatal(err)
	}
	seen := NewSeen()
	var got []string
	for _, r := range rows {
		p := PlanRow(r, snap, seen, Options{Format: FormatMoodle, Mode: AddUpdate})
		s := fmt.Sprintf("%d:%s", r.Line, p.Action)
		for _, e := range p.Errors {
			s += "(" + e.Field + ")"
		}
		got = append(got, s)
	}
	want := "2:error(firstname) 3:error(firstname) 4:error(username) 5:error(username) 6:error(firstname) 7:create"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestSplitFlat: Moodle's flat file values, with its quoting and spacing.
func TestSplitFlat(t *testing.T) {
	for line, want := range map[string]string{
		`add,student,u1,c1`:                          "add|student|u1|c1",
		`'add','student','u2@example.org','math102'`: "add|student|u2@example.org|math102",
		`"add" , "ucitel" , "S3" , "math102"`:        "add|ucitel|S3|math102",
		`add, editingteacher, S4, film1, 1788220800`: "add|editingteacher|S4|film1|1788220800",
		`"add","student","O'Brien","c,1"`:            "add|student|O'Brien|c,1",
		`'add','student','it''s','c1'`:               "add|student|it's|c1",
		`add,student,,c1`:                            "add|student||c1",
		`"add" x,student,u1,c1`:                      "error: text after a closing quote",
		`'add,student,u1,c1`:                         "error: a quote is not closed",
	} {
		got, bad := splitFlat(line)
		s := strings.Join(got, "|")
		if bad != "" {
			s = "error: " + bad
		}
		if s != want {
			t.Errorf("%s: %q, want %q", line, s, want)
		}
	}
}

func TestGroupRoleNames(t *testing.T) {
	for name, want := range map[string]string{"learner": "learner", "Apprenant": "learner", "apprenante": "learner",
		"formateur": "trainer", "Trainer": "trainer", "Administrateur  du groupe": "group_admin", "manager": "group_admin",
		"administratrice des utilisateurs": "user_admin", "User administrator": "user_admin"} {
		if got, ok := groupRoleNamed(name); !ok || got != want {
			t.Errorf("groupRoleNamed(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if _, ok := groupRoleNamed("chef"); ok {
		t.Error("an unknown role name is accepted")
	}
}
