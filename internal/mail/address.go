package mail

import (
	netmail "net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxAddressLen is the longest address accepted (RFC 5321's path limit less the brackets).
const MaxAddressLen = 254

// AddressProblem is the one rule every path that takes an email address applies (the
// invitation form, direct creation, imports, profile changes, SCIM, the outbox): it returns
// the code of why addr is not a deliverable address ("addr_domain_no_dot"), or "" when it is
// one. net/mail syntax, a plain address without a display name, at most MaxAddressLen
// characters, and a domain of dotted labels (or localhost), since a dotless domain is nearly
// always a typo that would only bounce later. Checked in an order that gives the most useful
// reason first; the codes are keys of the catalogs ("err."+code).
func AddressProblem(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	switch {
	case addr == "":
		return "addr_empty"
	case at < 0:
		return "addr_missing_at"
	case utf8.RuneCountInString(addr) > MaxAddressLen:
		return "addr_too_long"
	case strings.Count(addr, "@") > 1 && !strings.HasPrefix(addr, `"`):
		return "addr_two_at"
	case at == 0:
		return "addr_nothing_before_at"
	case at == len(addr)-1:
		return "addr_no_domain"
	}
	domain := addr[at+1:]
	if domain != "localhost" {
		if !strings.Contains(domain, ".") {
			return "addr_domain_no_dot"
		}
		for _, label := range strings.Split(domain, ".") {
			if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") ||
				strings.IndexFunc(label, badDomainRune) >= 0 {
				return "addr_bad_domain"
			}
		}
	}
	a, err := netmail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "addr_invalid"
	}
	return ""
}

func badDomainRune(r rune) bool {
	return r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// AccountEmailCode is the code of an account's "email" field for an address AddressProblem
// refuses: "email_no_dot" for a dotless domain, "invalid_email" for everything else (the codes
// the API has always given for an account's address), "" for a good address.
func AccountEmailCode(addr string) string {
	switch AddressProblem(addr) {
	case "":
		return ""
	case "addr_domain_no_dot":
		return "email_no_dot"
	default:
		return "invalid_email"
	}
}
