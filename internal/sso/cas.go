package sso

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"roster/internal/errs"
)

// CAS 3.0, written with the standard library: the person is sent to CAS/login?service=S,
// comes back to S?ticket=T, and Roster asks CAS/p3/serviceValidate?service=S&ticket=T who
// that is. A ticket validates once; the CAS server refuses a replay.

// maxCASAnswer bounds what Roster reads of a CAS server's answer.
const maxCASAnswer = 1 << 20

// casServiceResponse is the XML of /p3/serviceValidate.
type casServiceResponse struct {
	XMLName xml.Name `xml:"http://www.yale.edu/tp/cas serviceResponse"`
	Success *struct {
		User       string `xml:"user"`
		Attributes struct {
			Values []casValue `xml:",any"`
		} `xml:"attributes"`
	} `xml:"authenticationSuccess"`
	Failure *struct {
		Code    string `xml:"code,attr"`
		Message string `xml:",chardata"`
	} `xml:"authenticationFailure"`
}

type casValue struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

// Identity is a person as a provider vouched for them.
type Identity struct {
	Subject       string              // CAS user, OIDC sub: stable for this provider
	Attributes    map[string][]string // CAS attributes, OIDC claims (strings, lists of strings)
	EmailVerified bool                // the provider vouches for the email
}

// First returns the first value of an attribute, trimmed, or "".
func (id *Identity) First(name string) string {
	if v := id.Attributes[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// casRefused is the CAS server's refusal; detail is technical (English), for the logs and
// the English page.
func casRefused(format string, args ...any) error {
	return refuse(errs.Unauthorized, ReasonProvider, "sso_cas_refused", errs.P{"detail": fmt.Sprintf(format, args...)})
}

// validateTicket asks the CAS server who ticket belongs to. Errors: Unauthorized (reason
// provider) for a refused ticket or an answer that cannot be read, Unavailable when the
// server cannot be reached.
func (s *Service) validateTicket(ctx context.Context, p *Provider, ticket string) (*Identity, error) {
	if ticket == "" || len(ticket) > 256 || strings.ContainsAny(ticket, " \t\r\n") {
		return nil, casRefused("no valid ticket came back.")
	}
	q := url.Values{"service": {s.ServiceURL(p)}, "ticket": {ticket}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Settings.CASURL+"/p3/serviceValidate?"+q.Encode(), nil)
	if err != nil {
		return nil, wrap(err, "cas request")
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		s.log.Warn("sso: CAS server unreachable", "provider", p.Slug, "err", err)
		return nil, refuse(errs.Unavailable, ReasonProvider, "sso_cas_unreachable")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCASAnswer))
	if err != nil {
		return nil, refuse(errs.Unavailable, ReasonProvider, "sso_cas_cut_short")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, casRefused("it answered HTTP %d.", resp.StatusCode)
	}
	return parseServiceResponse(body)
}

// parseServiceResponse reads a /p3/serviceValidate answer. Errors: Unauthorized (reason
// provider), saying whether the XML was malformed or the server refused the ticket.
func parseServiceResponse(body []byte) (*Identity, error) {
	var r casServiceResponse
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, casRefused("its answer is not a CAS serviceResponse (malformed XML: %v).", err)
	}
	switch {
	case r.Failure != nil:
		code := strings.TrimSpace(r.Failure.Code)
		msg := strings.TrimSpace(r.Failure.Message)
		if code == "" {
			code = "UNKNOWN"
		}
		return nil, casRefused("it refused the ticket (%s: %s).", code, msg)
	case r.Success == nil:
		return nil, casRefused("its answer has neither authenticationSuccess nor authenticationFailure.")
	}
	user := strings.TrimSpace(r.Success.User)
	if user == "" {
		return nil, casRefused("its answer names no user.")
	}
	id := &Identity{Subject: user, Attributes: map[string][]string{}}
	for _, v := range r.Success.Attributes.Values {
		name := v.XMLName.Local
		id.Attributes[name] = append(id.Attributes[name], strings.TrimSpace(v.Value))
	}
	return id, nil
}

// samlLogoutRequest is what a CAS server posts (as the form field logoutRequest) to end the
// session its ticket opened.
type samlLogoutRequest struct {
	XMLName      xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:protocol LogoutRequest"`
	SessionIndex string   `xml:"urn:oasis:names:tc:SAML:2.0:protocol SessionIndex"`
}

// parseLogoutRequest returns the ticket of a single-logout request. Errors: Invalid.
func parseLogoutRequest(body string) (string, error) {
	var r samlLogoutRequest
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		return "", errs.Coded(errs.Invalid, "sso_logout_malformed", errs.P{"detail": err.Error()})
	}
	ticket := strings.TrimSpace(r.SessionIndex)
	if ticket == "" {
		return "", errs.Coded(errs.Invalid, "sso_logout_no_session")
	}
	return ticket, nil
}

// casLoginURL is where Begin sends a person for provider p.
func (s *Service) casLoginURL(p *Provider) string {
	return fmt.Sprintf("%s/login?service=%s", p.Settings.CASURL, url.QueryEscape(s.ServiceURL(p)))
}
