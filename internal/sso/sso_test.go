package sso

import (
	"strings"
	"testing"

	"roster/internal/errs"
)

func TestParseServiceResponse(t *testing.T) {
	id, err := parseServiceResponse([]byte(`<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess><cas:user>jdupont</cas:user><cas:attributes>
    <cas:mail>j@univ.example</cas:mail><cas:affiliation>staff</cas:affiliation><cas:affiliation>member</cas:affiliation>
  </cas:attributes></cas:authenticationSuccess></cas:serviceResponse>`))
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "jdupont" || id.First("mail") != "j@univ.example" || strings.Join(id.Attributes["affiliation"], ",") != "staff,member" {
		t.Errorf("parsed %+v", id)
	}
	for name, body := range map[string]string{
		"truncated":       `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>`,
		"other namespace": `<cas:serviceResponse xmlns:cas="urn:other"><cas:authenticationSuccess><cas:user>x</cas:user></cas:authenticationSuccess></cas:serviceResponse>`,
		"failure":         `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET">not found</cas:authenticationFailure></cas:serviceResponse>`,
		"empty":           ``,
	} {
		if _, err := parseServiceResponse([]byte(body)); err == nil || ReasonOf(err) != ReasonProvider {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseLogoutRequest(t *testing.T) {
	ticket, err := parseLogoutRequest(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0" IssueInstant="2026-11-23T10:00:00Z">
<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"></saml:NameID>
<samlp:SessionIndex>ST-abc</samlp:SessionIndex>
</samlp:LogoutRequest>`)
	if err != nil || ticket != "ST-abc" {
		t.Errorf("got %q, %v", ticket, err)
	}
	for _, bad := range []string{"", "<x/>", `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"></samlp:LogoutRequest>`} {
		if _, err := parseLogoutRequest(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseRules(t *testing.T) {
	rules, err := ParseRules("# staff\neduPersonAffiliation=staff -> STAFF trainer\n\naffiliation = student -> STUDENTS\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0] != (Rule{"eduPersonAffiliation", "staff", "STAFF", "trainer"}) ||
		rules[1] != (Rule{"affiliation", "student", "STUDENTS", "learner"}) {
		t.Errorf("rules %+v", rules)
	}
	if again, _ := ParseRules(FormatRules(rules)); len(again) != 2 || again[0] != rules[0] {
		t.Errorf("FormatRules does not round-trip: %+v", again)
	}
	_, err = ParseRules("ok=1 -> G\nbroken line\n")
	if err == nil || !strings.Contains(err.Error(), "rules") {
		t.Errorf("a broken line: %v", err)
	}
}

func TestProviderValidate(t *testing.T) {
	p := Provider{Kind: "OIDC", Slug: " Partner-1 ", Name: "Partner", Settings: Settings{Issuer: "https://op.example", ClientID: "c",
		Scopes: []string{"email profile"}, Rules: []Rule{{Attribute: "a", Value: "b", Group: "G"}}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Kind != KindOIDC || p.Slug != "partner-1" || strings.Join(p.Settings.Scopes, " ") != "openid email profile" ||
		p.Settings.Mapping.Email != "email" || p.Settings.Rules[0].Role != "learner" {
		t.Errorf("normalized to %+v", p)
	}
	bad := Provider{Kind: "cas", Slug: "a b", Settings: Settings{CASURL: "cas.example.edu",
		Rules: []Rule{{Attribute: "a", Value: "b", Group: "G", Role: "owner"}}}}
	err := bad.Validate()
	for _, field := range []string{"cas_url", "slug", "name", "rules"} {
		if err == nil || !strings.Contains(strings.ToLower(errFields(err)), field) {
			t.Errorf("no error on %s: %v", field, err)
		}
	}
}

func errFields(err error) string {
	var b strings.Builder
	for _, f := range asErr(err).Fields {
		b.WriteString(f.Field + " ")
	}
	return b.String()
}

func TestMapAttributes(t *testing.T) {
	cas := &Provider{Kind: KindCAS, Settings: Settings{Mapping: DefaultMapping(KindCAS)}}
	m := mapAttributes(cas, &Identity{Subject: "JDupont", Attributes: map[string][]string{
		"mail": {"not an email"}, "givenName": {" Jeanne "}, "sn": {"Dupont"}, "preferredLanguage": {"fr-FR"}}})
	if m.Username != "jdupont" || m.Email != "" || m.FirstName != "Jeanne" || m.LastName != "Dupont" || m.Language != "fr" {
		t.Errorf("mapped %+v", m)
	}
	for in, want := range map[string]string{"fr": "fr", "fr_CA": "fr", "EN-gb": "en", "de": "", "": ""} {
		if got := language(in); got != want {
			t.Errorf("language(%q) = %q, want %q", in, got, want)
		}
	}
	oidcID := claimsIdentity("sub-1", map[string]any{"email_verified": true, "groups": []any{"a", "b"}, "age": float64(42)})
	if !oidcID.EmailVerified || strings.Join(oidcID.Attributes["groups"], ",") != "a,b" || oidcID.First("age") != "42" {
		t.Errorf("claims %+v", oidcID)
	}
	if claimsIdentity("s", map[string]any{"email_verified": "false"}).EmailVerified {
		t.Error(`email_verified "false" counted as verified`)
	}
}

func asErr(err error) *errs.Error { return errs.As(err) }
