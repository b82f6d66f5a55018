package account

import (
	_ "embed"
	"strings"
	"unicode/utf8"

	"roster/internal/errs"
)

// The password policy of the issue: long enough to resist guessing, not one of the passwords
// every attacker tries first, and not built from what an attacker already knows (the username
// and the email address). No composition rules ("one digit, one symbol"): they push people to
// predictable patterns without adding strength (NIST SP 800-63B).
const (
	MinPasswordLength = 12  // in characters (runes), not bytes
	MaxPasswordLength = 256 // a bound on input, far above any real passphrase
	// minContained is the shortest username or email local part we refuse inside a password;
	// refusing "al" or "jo" anywhere in it would reject good passphrases for no gain.
	minContained = 3
)

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords holds well-known passwords, lower-cased, one a line in common_passwords.txt.
// Those shorter than MinPasswordLength are already refused by length; they stay in the list
// because a later, lower minimum must not let them through.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// CheckPasswordPolicy returns an errs.Invalid error naming the field "password" when password
// may not be used by the account with this username and email, or nil.
func CheckPasswordPolicy(password, username, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return errs.FieldCode("password", "password_too_short", errs.P{"limit": MinPasswordLength})
	case n > MaxPasswordLength:
		return errs.FieldCode("password", "password_too_long", errs.P{"limit": MaxPasswordLength})
	}
	lower := strings.ToLower(password)
	if commonPasswords[lower] || commonPasswords[strings.TrimSpace(lower)] {
		return errs.FieldCode("password", "password_common")
	}
	if u := strings.ToLower(strings.TrimSpace(username)); u != "" &&
		(lower == u || (utf8.RuneCountInString(u) >= minContained && strings.Contains(lower, u))) {
		return errs.FieldCode("password", "password_has_username")
	}
	local, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if local != "" && (lower == local || (utf8.RuneCountInString(local) >= minContained && strings.Contains(lower, local))) {
		return errs.FieldCode("password", "password_has_email")
	}
	return nil
}
