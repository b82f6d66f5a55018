package httpx

import (
	"net/url"
	"testing"
)

func TestLocalPath(t *testing.T) {
	kept := []string{"/", "/courses", "/courses/12/participants?q=a&done=1#x", "/login?next=%2Fcourses",
		"/a/b%20c", "/@evil.example", "/évaluations"}
	for _, p := range kept {
		if got := LocalPath(p); got != p {
			t.Errorf("%q: got %q, want it kept", p, got)
		}
	}
	// As they arrive in ?next=, still encoded; each must fall back to "/".
	bypasses := []string{
		"%2F%09%2Fevil.example%2F", // a tab after the slash: the browser drops it and reads //evil.example/
		"/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "/%0d%0a/evil.example",
		"//evil.example", "///evil.example", "/\\evil.example", "%2F%5Cevil.example", "\\\\evil.example",
		"/%2F/evil.example", "/%252F/evil.example", "%2F%2Fevil.example", "/%5C%5Cevil.example",
		"https://evil.example", "https:/evil.example", "http:evil.example", "javascript:alert(1)",
		"//user:pass@evil.example", "/%2F%2Fuser@evil.example", "evil.example", "", " /x", "%20//evil.example",
		"/%00", "/a%00b", "/%7F", "/%", "/%zz", "%2F%E2%80%A8%2Fevil.example", "/\u0085/evil.example",
		"/\u00a0/evil.example",
	}
	for _, enc := range bypasses {
		v, err := url.QueryUnescape(enc)
		if err != nil {
			v = enc
		}
		if got := LocalPath(v); got != "/" {
			t.Errorf("%q (%q): kept as %q", enc, v, got)
		}
	}
}
