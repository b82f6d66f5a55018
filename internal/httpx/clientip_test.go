package httpx

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, tc := range []struct {
		name, remote, xff, fwd string
		trusted                []netip.Prefix
		want                   string
	}{
		{"no proxy configured: headers ignored", "10.0.0.1:5000", "203.0.113.9", "", nil, "10.0.0.1"},
		{"untrusted peer: its header is a lie", "198.51.100.7:5000", "203.0.113.9", "", proxies, "198.51.100.7"},
		{"trusted proxy", "10.0.0.1:5000", "203.0.113.9", "", proxies, "203.0.113.9"},
		{"client-written hops left of the client are ignored", "10.0.0.1:5000", "1.2.3.4, 203.0.113.9", "", proxies, "203.0.113.9"},
		{"two trusted proxies", "10.0.0.1:5000", "1.2.3.4, 203.0.113.9, 10.0.0.2", "", proxies, "203.0.113.9"},
		{"all hops trusted: the leftmost", "10.0.0.1:5000", "10.0.0.3, 10.0.0.2", "", proxies, "10.0.0.3"},
		{"garbage stops the walk", "10.0.0.1:5000", "203.0.113.9, nonsense", "", proxies, "10.0.0.1"},
		{"port in a hop", "10.0.0.1:5000", "203.0.113.9:1234", "", proxies, "203.0.113.9"},
		{"IPv6 peer and hop", "[2001:db8:ffff::1]:5000", "2001:db8:1::5", "", proxies, "2001:db8:1::5"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:5000", "203.0.113.9", "", proxies, "203.0.113.9"},
		{"Forwarded when no X-Forwarded-For", "10.0.0.1:5000", "", `for=1.2.3.4, for="[2001:db8:1::5]:4711";proto=https`, proxies, "2001:db8:1::5"},
		{"Forwarded: unknown stops", "10.0.0.1:5000", "", `for=1.2.3.4, for=unknown`, proxies, "10.0.0.1"},
		{"X-Forwarded-For wins over Forwarded", "10.0.0.1:5000", "203.0.113.9", `for=1.2.3.4`, proxies, "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if tc.fwd != "" {
			r.Header.Set("Forwarded", tc.fwd)
		}
		var got string
		ResolveClient(tc.trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientIP(r) })).
			ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("%s: client %q, want %q", tc.name, got, tc.want)
		}
	}
}
