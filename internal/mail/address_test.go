package mail

import "testing"

// One rule for every path: what the outbox refuses, an account refuses too, with the code
// the API has always given.
func TestAccountEmailCode(t *testing.T) {
	for addr, want := range map[string]string{
		"ada@example.org":  "",
		"ada@localhost":    "",
		"ada@acme":         "email_no_dot",
		"ada@-acme.org":    "invalid_email",
		"ada@acme..org":    "invalid_email",
		"Ada <a@acme.org>": "invalid_email",
		"ada":              "invalid_email",
	} {
		if got := AccountEmailCode(addr); got != want {
			t.Errorf("AccountEmailCode(%q) = %q, want %q", addr, got, want)
		}
		_, err := checkAddress(addr)
		if (err == nil) != (want == "") {
			t.Errorf("the outbox and the accounts disagree on %q: outbox err %v", addr, err)
		}
	}
}
