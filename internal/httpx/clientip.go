package httpx

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Who is calling. Behind a reverse proxy every request comes from the proxy's address; the
// client's is in the X-Forwarded-For or Forwarded header the proxy adds. Anyone can send
// those headers, so they are believed only from the proxies named by --trusted-proxies, and
// only as far as trusted hops go: reading the list from the right (the hop nearest to
// Roster), each trusted address passes the question on to the one before it, and the first
// address that is not a trusted proxy is the client. Whatever a client wrote further left is
// ignored. Without --trusted-proxies no header is believed.
//
// X-Forwarded-For is read when present (what nginx, HAProxy, Caddy, Traefik and cloud load
// balancers set); otherwise Forwarded (RFC 7239). A proxy that writes only Forwarded must
// drop an X-Forwarded-For sent by clients.

type clientIPKey struct{}

// ClientIP is the address of the client: the one ResolveClient found, or the peer's.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok {
		return ip
	}
	return peer(r.RemoteAddr)
}

// ResolveClient finds the client address of every request once (see ClientIP), believing the
// forwarding headers of the trusted proxies only.
func ResolveClient(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientAddress(r.RemoteAddr, r.Header, trusted)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ip)))
	})
}

func peer(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

// clientAddress is the rightmost address of the forwarding chain that is not a trusted proxy.
func clientAddress(remote string, h http.Header, trusted []netip.Prefix) string {
	p := peer(remote)
	addr, err := netip.ParseAddr(p)
	if err != nil || !isTrusted(addr.Unmap(), trusted) {
		return p
	}
	addr = addr.Unmap()
	hops := forwardedFor(h)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break // "unknown", an obfuscated name or garbage: nothing left of it is believed
		}
		addr = hop
		if !isTrusted(hop, trusted) {
			break
		}
	}
	return addr.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor lists the hops of X-Forwarded-For, or else the for= values of Forwarded, from
// the client (left) to the last proxy (right), every header line in order.
func forwardedFor(h http.Header) []string {
	var hops []string
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, line := range xff {
			for _, v := range strings.Split(line, ",") {
				hops = append(hops, strings.TrimSpace(v))
			}
		}
		return hops
	}
	for _, line := range h.Values("Forwarded") {
		for _, elem := range strings.Split(line, ",") {
			found := false
			for _, pair := range strings.Split(elem, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					hops = append(hops, strings.Trim(strings.TrimSpace(v), `"`))
					found = true
				}
			}
			if !found {
				hops = append(hops, "") // an element without for=: a hop we cannot see past
			}
		}
	}
	return hops
}

// parseHop reads "192.0.2.1", "192.0.2.1:4711", "2001:db8::1" or "[2001:db8::1]:4711".
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
