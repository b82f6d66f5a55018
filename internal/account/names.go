package account

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"

	"roster/internal/errs"
	"roster/internal/store"
)

// Names and usernames: the one set of rules for every way an account is created or renamed
// (the pages, the API, imports, SCIM, the sync, single sign-on). NewUser.Validate applies
// CheckName and NormalizeUsername; CreateUser and renames add CheckUsernameLookalikes, which
// needs the database.

// MaxNameLength is the longest first name, last name or username, in characters (Moodle's
// limit, so that accounts move between the two).
const MaxNameLength = 100

// CheckName trims a person's name (first or last) and refuses one longer than MaxNameLength
// characters, one holding a control character (NUL, new line, ...) or an invisible formatting
// character (bidirectional overrides, zero-width spaces), or bytes that are not UTF-8.
// field names the field in the error (errs.Invalid). An empty name passes: whether it is
// required is the caller's rule.
func CheckName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(name):
		return "", errs.FieldCode(field, "not_utf8")
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "", errs.FieldCode(field, "too_long", errs.P{"limit": MaxNameLength})
	case strings.IndexFunc(name, hiddenRune) >= 0:
		return "", errs.FieldCode(field, "invisible_characters")
	}
	return name, nil
}

// hiddenRune: control characters, and format characters (Cf: bidirectional overrides and
// isolates, zero-width space and joiners, the byte-order mark, ...).
func hiddenRune(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf) || r == utf8.RuneError
}

// NormalizeUsername returns the stored form of a username: the PRECIS UsernameCaseMapped
// profile of RFC 8265 (full-width letters narrowed, lower case, NFC; no spaces, no control,
// format or unassigned characters, so no bidirectional override or zero-width character),
// at most MaxNameLength characters, and each run of letters written in one script, so that
// "pаypal" with a Cyrillic "а" is refused. errs.Invalid names the field "username".
func NormalizeUsername(username string) (string, error) {
	username = strings.TrimSpace(username)
	if username == "" {
		return "", errs.FieldCode("username", "required")
	}
	if strings.IndexFunc(username, hiddenRune) >= 0 {
		return "", errs.FieldCode("username", "invisible_characters")
	}
	norm, err := precis.UsernameCaseMapped.String(username)
	if err != nil {
		return "", errs.FieldCode("username", "username_characters")
	}
	if utf8.RuneCountInString(norm) > MaxNameLength {
		return "", errs.FieldCode("username", "too_long", errs.P{"limit": MaxNameLength})
	}
	if mixedScripts(norm) {
		return "", errs.FieldCode("username", "mixed_alphabets")
	}
	return norm, nil
}

// mixedScripts reports whether a run of letters (a word between digits and punctuation)
// mixes scripts. Whole words in one script stay allowed ("ivan@почта.рф").
func mixedScripts(s string) bool {
	var script *unicode.RangeTable
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			script = nil // a word ends
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue // combining marks belong to the letter before
		}
		sc := scriptOf(r)
		if script != nil && sc != script {
			return true
		}
		script = sc
	}
	return false
}

// scriptOf is the Unicode script of a letter (a few checked first: they are nearly all).
func scriptOf(r rune) *unicode.RangeTable {
	for _, t := range []*unicode.RangeTable{unicode.Latin, unicode.Cyrillic, unicode.Greek} {
		if unicode.Is(t, r) {
			return t
		}
	}
	for _, t := range unicode.Scripts {
		if unicode.Is(t, r) {
			return t
		}
	}
	return nil
}

// Look-alikes. Since a word is in one script, a confusable username is a whole word spelt
// with another script's letters that look like Latin ones: "аре" in Cyrillic for "ape". The
// table holds the lower-case Cyrillic and Greek letters that are drawn like a Latin letter
// in common fonts (after Unicode's confusables.txt, kept short). Lookalikes spells each
// word in each of the three scripts where every letter has a twin; an account whose
// username is one of those spellings makes the new one refused.
var twins = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'с': 'c', 'ԁ': 'd', 'е': 'e', 'һ': 'h', 'і': 'i', 'ј': 'j', 'к': 'k', 'ӏ': 'l', 'м': 'm',
	'о': 'o', 'р': 'p', 'ԛ': 'q', 'г': 'r', 'ѕ': 's', 'т': 't', 'υ': 'u', 'ν': 'v', 'ԝ': 'w', 'х': 'x', 'у': 'y',
	// Greek
	'α': 'a', 'β': 'b', 'ϲ': 'c', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'χ': 'x',
	'γ': 'y', 'ω': 'w',
}

// latinTwins maps a Latin letter to its look-alikes in Cyrillic and in Greek.
var latinTwins = func() map[rune][2][]rune {
	m := map[rune][2][]rune{}
	for r, l := range twins {
		i := 0
		if unicode.Is(unicode.Greek, r) {
			i = 1
		}
		e := m[l]
		e[i] = append(e[i], r)
		m[l] = e
	}
	return m
}()

// skeleton spells the look-alike letters of s in Latin.
func skeleton(s string) string {
	return strings.Map(func(r rune) rune {
		if l, ok := twins[r]; ok {
			return l
		}
		return r
	}, s)
}

// Lookalikes returns the other spellings of a normalised username that look the same: its
// words written with Latin, Cyrillic or Greek look-alike letters (at most 64 spellings; the
// username itself is left out).
func Lookalikes(username string) []string {
	out := []string{""}
	base := skeleton(username)
	for _, w := range splitWords(base) {
		if !w.letters {
			for i := range out {
				out[i] += w.text
			}
			continue
		}
		spellings := []string{w.text}
		for script := range 2 {
			var b strings.Builder
			ok := true
			for _, r := range w.text {
				t := latinTwins[r][script]
				if len(t) == 0 {
					ok = false
					break
				}
				b.WriteRune(t[0])
			}
			if ok {
				spellings = append(spellings, b.String())
			}
		}
		var next []string
		for _, o := range out {
			for _, s := range spellings {
				if len(next) < 64 {
					next = append(next, o+s)
				}
			}
		}
		out = next
	}
	var res []string
	for _, s := range out {
		if s != username {
			res = append(res, s)
		}
	}
	return res
}

type word struct {
	text    string
	letters bool
}

func splitWords(s string) []word {
	var out []word
	for s != "" {
		r, _ := utf8.DecodeRuneInString(s)
		letters := unicode.IsLetter(r)
		i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) != letters })
		if i < 0 {
			i = len(s)
		}
		out = append(out, word{s[:i], letters})
		s = s[i:]
	}
	return out
}

// CheckUsernameLookalikes refuses a normalised username that looks like the username of
// another account than exceptID (0 for a new account): errs.Conflict naming "username".
func CheckUsernameLookalikes(ctx context.Context, q store.Querier, username string, exceptID int64) error {
	alts := Lookalikes(username)
	if len(alts) == 0 {
		return nil
	}
	args := []any{exceptID}
	for _, a := range alts {
		args = append(args, a)
	}
	var taken string
	err := q.QueryRowContext(ctx, `SELECT username FROM users WHERE id <> $1 AND username IN (`+
		store.Placeholders(2, len(alts))+`) LIMIT 1`, args...).Scan(&taken)
	if store.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return wrap(err, "username look-alikes")
	}
	return errs.FieldCode("username", "username_looks_taken").Class(errs.Conflict)
}
