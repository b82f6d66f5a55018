package invite

import (
	"net/mail"
	"strings"
	"testing"
)

func TestParseAddresses(t *testing.T) {
	type want struct{ email, name, problem string }
	cases := []struct {
		in   string
		want []want
	}{
		{"", nil},
		{" ,; \n\t", nil},
		{"a@x.org", []want{{email: "a@x.org"}}},
		{"a@x.org, b@x.org; c@x.org d@x.org\ne@x.org\r\nf@x.org\tg@x.org", []want{
			{email: "a@x.org"}, {email: "b@x.org"}, {email: "c@x.org"}, {email: "d@x.org"}, {email: "e@x.org"},
			{email: "f@x.org"}, {email: "g@x.org"}}},
		// Duplicates fold case-insensitively; the first spelling stays.
		{"Ada@X.org, ada@x.org; ADA@x.ORG", []want{{email: "Ada@X.org"}}},
		{"Ada Lovelace <ada@x.org>", []want{{email: "ada@x.org", name: "Ada Lovelace"}}},
		{`"Lovelace, Ada" <ada@x.org>, "Hopper; Grace" <grace@x.org>`, []want{
			{email: "ada@x.org", name: "Lovelace, Ada"}, {email: "grace@x.org", name: "Hopper; Grace"}}},
		{`Ada<ada@x.org>Bob<bob@x.org>`, []want{{email: "ada@x.org", name: "Ada"}, {email: "bob@x.org", name: "Bob"}}},
		{`"Esc \"q\"" <q@x.org>`, []want{{email: "q@x.org", name: `Esc "q"`}}},
		{"<bare@x.org>", []want{{email: "bare@x.org"}}},
		{"adax.org", []want{{problem: "missing @"}}},
		{"ada@", []want{{problem: "no domain"}}},
		{"@x.org", []want{{problem: "nothing before the @"}}},
		{"ada@localhost", []want{{email: "ada@localhost"}}},
		{"ada@intranet", []want{{problem: "the domain has no dot"}}},
		{"a@b@x.org", []want{{problem: "more than one @"}}},
		{"ada@x..org", []want{{problem: "invalid domain"}}},
		{"ada@-x.org", []want{{problem: "invalid domain"}}},
		{"ada@x_y.org", []want{{problem: "invalid domain"}}},
		{"a(b)@x.org", []want{{problem: "not a valid address"}}},
		{"Ada <ada@x.org", []want{{name: "Ada", problem: "missing >"}}},
		{"Ada <>", []want{{name: "Ada", problem: "empty address"}}},
		{`"Ada <ada@x.org>`, []want{{problem: "missing closing quote"}}},
		{`"Just a name"`, []want{{problem: `a name without an address: write it as "Name" <address>`}}},
		// Space separates entries: a name before a bare address is an entry of its own.
		{"Ada ada@x.org", []want{{problem: "missing @"}, {email: "ada@x.org"}}},
		{"x@x.org, bad, bad, y@x.org", []want{{email: "x@x.org"}, {problem: "missing @"}, {email: "y@x.org"}}},
		{strings.Repeat("a", 250) + "@x.org", []want{{problem: "too long"}}},
	}
	for _, c := range cases {
		got := ParseAddresses(c.in)
		if len(got) != len(c.want) {
			t.Errorf("ParseAddresses(%q) = %+v, want %d entries", c.in, got, len(c.want))
			continue
		}
		for i, w := range c.want {
			g := got[i]
			if g.Email != w.email || g.Name != w.name || g.Problem != w.problem {
				t.Errorf("ParseAddresses(%q)[%d] = {email %q name %q problem %q}, want {%q %q %q}",
					c.in, i, g.Email, g.Name, g.Problem, w.email, w.name, w.problem)
			}
			if g.Input == "" {
				t.Errorf("ParseAddresses(%q)[%d] has no input text", c.in, i)
			}
		}
	}
}

// FuzzParseAddresses checks the properties the service relies on: no panic, every valid
// address is one plain address the outbox will take, valid addresses are unique whatever their
// case, names are one line, and a list of the valid addresses parses back to the same.
func FuzzParseAddresses(f *testing.F) {
	for _, s := range []string{"a@x.org, b@x.org", `"Lovelace, Ada" <ada@x.org>; Bob <bob@x.org>`, "bad\nA@x.org a@X.ORG",
		"<", `"`, "a@b@c", "Ada <ada@x.org", "é@ü.fr", "a@localhost", "\"\\", "<<a@x.org>>", "a@x.org,,;;\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries := ParseAddresses(s)
		seen := map[string]bool{}
		var valid []string
		for _, e := range entries {
			if e.Valid() != (e.Email != "") {
				t.Fatalf("entry %+v: valid without an address, or the reverse", e)
			}
			if strings.ContainsAny(e.Name, "\r\n") {
				t.Fatalf("name %q is on several lines", e.Name)
			}
			if !e.Valid() {
				if e.Problem == "" {
					t.Fatalf("invalid entry %+v without a reason", e)
				}
				continue
			}
			a, err := mail.ParseAddress(e.Email)
			if err != nil || a.Address != e.Email || a.Name != "" {
				t.Fatalf("%q accepted, but net/mail reads %v, %v", e.Email, a, err)
			}
			if strings.ContainsAny(e.Email, ",; \t\r\n<>") {
				t.Fatalf("%q contains a separator", e.Email)
			}
			k := strings.ToLower(e.Email)
			if seen[k] {
				t.Fatalf("%q twice", e.Email)
			}
			seen[k] = true
			valid = append(valid, e.Email)
		}
		again := ParseAddresses(strings.Join(valid, "\n"))
		if len(again) != len(valid) {
			t.Fatalf("the valid addresses %q parse back as %+v", valid, again)
		}
		for i, e := range again {
			if e.Email != valid[i] {
				t.Fatalf("the valid addresses %q parse back as %+v", valid, again)
			}
		}
	})
}
