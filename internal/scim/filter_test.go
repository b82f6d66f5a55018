package scim_test

import (
	"reflect"
	"testing"

	"roster/internal/scim"
)

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct{ in, canonical string }{
		{`userName eq "bjensen"`, `userName eq "bjensen"`},
		{`userName Eq "bjensen"`, `userName eq "bjensen"`},
		{`name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
		{`userName sw "J"`, `userName sw "J"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
		{`title pr`, `title pr`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{`title pr and userType eq "Employee"`, `title pr and userType eq "Employee"`},
		{`title pr or userType eq "Intern"`, `title pr or userType eq "Intern"`},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
			`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
			`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`},
		{`userType eq "Employee" and (emails.type eq "work")`, `userType eq "Employee" and emails.type eq "work"`},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
			`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
			`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`},
		{`emails[type eq "work"].value eq "a@b.c"`, `emails[type eq "work" and value eq "a@b.c"]`},
		{`a eq 1 or b eq true and c eq null`, `a eq 1 or (b eq true and c eq null)`},
		{`(a eq 1 or b eq false) and c le -2.5e3`, `(a eq 1 or b eq false) and c le -2.5e3`},
		{`a eq "quote \" and \\ and \u00e9"`, `a eq "quote \" and \\ and é"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
			`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`},
	} {
		f, err := scim.ParseFilter(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := f.String(); got != tc.canonical {
			t.Errorf("%s\n got  %s\n want %s", tc.in, got, tc.canonical)
		}
		again, err := scim.ParseFilter(f.String())
		if err != nil || !reflect.DeepEqual(f, again) {
			t.Errorf("%s does not re-parse equal: %v", f, err)
		}
	}
	for _, bad := range []string{``, `userName`, `userName eq`, `userName zz "x"`, `userName eq "x`, `userName eq bjensen`,
		`(userName eq "x"`, `userName eq "x")`, `emails[type eq "work"`, `emails[type[a eq "b"] eq "c"]`,
		`not userName eq "x"`, `userName eq "x" and`, `1abc eq "x"`, `emails[value eq "x"].1 eq "y"`, `a eq 01`,
		`emails.value[type eq "work"]`, `x:y eq "z"`, `"a" eq "b"`, `a eq "b" c`} {
		if f, err := scim.ParseFilter(bad); err == nil {
			t.Errorf("%q parsed as %s", bad, f)
		} else if e, ok := err.(*scim.Error); !ok || e.Type != "invalidFilter" || e.Status != 400 {
			t.Errorf("%q: error %#v", bad, err)
		}
	}
}

func TestParseFilterDepth(t *testing.T) {
	deep := ""
	for i := 0; i < 1000; i++ {
		deep += "("
	}
	if _, err := scim.ParseFilter(deep + `a eq "b"`); err == nil {
		t.Fatal("a deeply nested filter must be refused")
	}
}

// FuzzParseFilter: the parser never panics, and whatever it accepts prints a filter that
// parses back equal.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`userName eq "bjensen"`, `emails[type eq "work"].value co "@x"`,
		`not (a pr) or (b gt 1.5 and c ne null)`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
		`a eq "\u00e9\n"`, `((a eq true))`, `meta.created ge "2020-01-01T00:00:00Z"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		filter, err := scim.ParseFilter(s)
		if err != nil {
			if e, ok := err.(*scim.Error); !ok || e.Type != "invalidFilter" {
				t.Fatalf("%q: error of the wrong kind: %#v", s, err)
			}
			return
		}
		again, err := scim.ParseFilter(filter.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, filter, err)
		}
		if !reflect.DeepEqual(filter, again) {
			t.Fatalf("%q printed as %q, which parses differently", s, filter)
		}
	})
}
