package account

import (
	"strings"
	"testing"

	"roster/internal/errs"
)

func TestPasswordPolicy(t *testing.T) {
	for _, c := range []struct {
		pw, want string // want: part of the message, "" for accepted
	}{
		{goodPassword, ""},
		{"short", "at least 12"},
		{"ééééééééééé", "at least 12"}, // 11 runes, 22 bytes
		{"éléphantrosé", ""},           // 12 runes
		{"Password1234", "common"},     // lower-cased comparison
		{"QWERTYUIOP123", "common"},
		{"alice.martin", "username"}, // equal to the username
		{"my-alice.martin-pw", "username"},
		{"xx-amartin-2024-xx", "email"}, // contains the email's local part
		{strings.Repeat("a", 300), "at most"},
	} {
		err := CheckPasswordPolicy(c.pw, "Alice.Martin", "AMartin@example.org")
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: %v", c.pw, err)
			}
			continue
		}
		e := errs.As(err)
		if err == nil || e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "password" ||
			!strings.Contains(e.Fields[0].Message, c.want) {
			t.Errorf("%q: want a password error about %q, got %v", c.pw, c.want, err)
		}
	}
	// Very short usernames are refused only as the whole password.
	if err := CheckPasswordPolicy("al-walks-to-the-sea", "al", "al@example.org"); err != nil {
		t.Errorf("short username inside a passphrase: %v", err)
	}
}

func TestCommonPasswordList(t *testing.T) {
	if len(commonPasswords) < 300 {
		t.Fatalf("only %d common passwords", len(commonPasswords))
	}
	long := 0
	for pw := range commonPasswords {
		if pw != strings.ToLower(pw) {
			t.Errorf("%q is not lower case", pw)
		}
		if len([]rune(pw)) >= MinPasswordLength {
			long++
		}
	}
	if long < 50 {
		t.Errorf("only %d entries long enough to matter", long)
	}
}
