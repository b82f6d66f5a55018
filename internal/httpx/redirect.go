package httpx

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LocalPath returns target if it is a path on this site, and "/" otherwise. It is the one
// check for every redirect target that comes from outside (the "next" of the login page and
// of single sign-on, kept across the identity provider's round trip).
//
// It judges the target as a browser would read it in a Location header: browsers drop tabs
// and new lines anywhere in a URL and read a backslash as a slash, so "/\t/evil.example",
// "/\\evil.example" and "\\\\evil.example" all lead to another site. So a target is kept only
// when it starts with one "/" and not "//", holds no control character, odd space or backslash,
// decodes (percent escapes, up to three times, as chains of servers may) to something that
// still passes those tests, and parses as a URL without scheme, host or user.
func LocalPath(target string) string {
	const home = "/"
	if !localShape(target) {
		return home
	}
	dec := target
	for range 3 {
		d, err := url.PathUnescape(dec)
		if err != nil {
			return home
		}
		if d == dec {
			break
		}
		if !localShape(d) {
			return home
		}
		dec = d
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	return target
}

// localShape: one leading slash, then no slash or backslash right after it, and no backslash,
// control character, invisible format character or space other than the plain space
// anywhere (the browser drops some of them, and none belongs in a link of Roster's).
func localShape(s string) bool {
	if len(s) == 0 || s[0] != '/' || (len(s) > 1 && (s[1] == '/' || s[1] == '\\')) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r == '\\' || r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Cf) ||
			(r != ' ' && unicode.IsSpace(r))
	})
}
