package invite

import (
	"strings"

	"roster/internal/errs"
	"roster/internal/mail"
	"unicode"
	"unicode/utf8"
)

// Entry is one address of a pasted list, as ParseAddresses understood it. Input is the text
// it came from (for reporting); Email is set when the address is usable, Problem when it is
// not ("missing @", "no domain", ...).
type Entry struct {
	Input   string
	Name    string // the display name of "Name <addr>", "" if none
	Email   string // the address as typed (the first spelling of duplicates)
	Problem string // why the entry is not an address, in English; "" if it is
	Code    string // Problem's stable code ("addr_missing_at"); pages show it in their language
}

// reject marks the entry invalid with a coded reason.
func (e *Entry) reject(code string) {
	e.Code, e.Problem = code, errs.English(code, nil)
}

// Valid reports whether the entry is a usable address.
func (e Entry) Valid() bool { return e.Problem == "" }

// MaxAddressLen is the longest address accepted.
const MaxAddressLen = mail.MaxAddressLen

// ParseAddresses reads one string of addresses separated by commas, semicolons, spaces or new
// lines, as people paste them from a spreadsheet, a mail client or a chat. It accepts bare
// addresses, `Name <addr>` and `"Name, Quoted" <addr>`, folds duplicates case-insensitively
// (the first spelling is kept, the later ones dropped) and returns the entries in the order
// they came, invalid ones included with the reason.
//
// Words without an @ that are not followed by <addr> are entries of their own and invalid
// ("missing @"): the separators the list promises include the space, so "Ada ada@x.org" is two
// entries, not a name and an address. Quote a name that contains a comma.
//
// It is a pure function: the invitation service applies its result.
func ParseAddresses(s string) []Entry {
	var (
		out  []Entry
		seen = map[string]bool{}
	)
	add := func(e Entry) {
		key := strings.ToLower(e.Email)
		if !e.Valid() {
			key = "\x00" + e.Input
		}
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, e)
	}
	for _, seg := range segments(s) {
		var pending []word // name words waiting for their <addr>
		flush := func() {
			for _, w := range pending {
				add(bare(w))
			}
			pending = nil
		}
		for _, w := range seg {
			switch {
			case w.kind == wordAngle:
				name := make([]string, 0, len(pending))
				input := make([]string, 0, len(pending)+1)
				for _, p := range pending {
					name = append(name, p.text)
					input = append(input, p.raw)
				}
				pending = nil
				input = append(input, w.raw)
				e := Entry{Input: strings.Join(input, " "), Name: cleanName(strings.Join(name, " ")), Email: w.text}
				if w.unclosed {
					e.reject("addr_missing_gt")
				} else if code := checkAddress(w.text); code != "" {
					// errkeys: addr_empty addr_missing_at addr_too_long addr_two_at addr_nothing_before_at addr_no_domain addr_domain_no_dot addr_bad_domain addr_invalid
					e.reject(code)
				}
				if e.Problem != "" {
					e.Email = ""
				}
				add(e)
			case w.kind == wordQuoted:
				pending = append(pending, w)
			case strings.Contains(w.text, "@"):
				flush()
				add(bare(w))
			default:
				pending = append(pending, w)
			}
		}
		flush()
	}
	return out
}

// bare is the entry of a word standing alone.
func bare(w word) Entry {
	e := Entry{Input: w.raw}
	switch {
	case w.unclosed:
		e.reject("addr_missing_quote")
	case w.kind == wordQuoted:
		e.reject("addr_name_only")
	default:
		e.Email = w.text
		if code := checkAddress(w.text); code != "" {
			// errkeys: addr_empty addr_missing_at addr_too_long addr_two_at addr_nothing_before_at addr_no_domain addr_domain_no_dot addr_bad_domain addr_invalid
			e.reject(code)
			e.Email = ""
		}
	}
	return e
}

// checkAddress returns the code of why addr is not a deliverable address, or "": the one
// rule of every path (mail.AddressProblem).
func checkAddress(addr string) string { return mail.AddressProblem(addr) }

// cleanName makes a display name safe for a mail header and a page: one line, single spaces.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

type wordKind int

const (
	wordPlain  wordKind = iota
	wordQuoted          // "..." (text is unquoted)
	wordAngle           // <...> (text is inside the brackets)
)

// word is one lexical unit: raw as typed, text as meant.
type word struct {
	kind     wordKind
	raw      string
	text     string
	unclosed bool
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }

// segments splits s at commas and semicolons (outside quotes and angle brackets) into
// segments, each a list of words split at white space.
func segments(s string) [][]word {
	var (
		segs [][]word
		cur  []word
	)
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == ',' || r == ';':
			if len(cur) > 0 {
				segs = append(segs, cur)
				cur = nil
			}
			i += size
		case isSpace(r):
			i += size
		case r == '"':
			w, n := quoted(s[i:])
			cur = append(cur, w)
			i += n
		case r == '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				// Unclosed: the rest of the segment is its content.
				end := i + 1
				for end < len(s) && s[end] != ',' && s[end] != ';' && s[end] != '\n' {
					end++
				}
				cur = append(cur, word{kind: wordAngle, raw: s[i:end], text: strings.TrimSpace(s[i+1 : end]), unclosed: true})
				i = end
				continue
			}
			cur = append(cur, word{kind: wordAngle, raw: s[i : i+j+1], text: strings.TrimSpace(s[i+1 : i+j])})
			i += j + 1
		default:
			start := i
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if r == ',' || r == ';' || r == '"' || r == '<' || isSpace(r) {
					break
				}
				i += size
			}
			w := s[start:i]
			cur = append(cur, word{kind: wordPlain, raw: w, text: w})
		}
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	return segs
}

// quoted reads a quoted string at the start of s (s[0] == '"'), with backslash escapes, and
// returns it with the number of bytes read. An unclosed quote ends at the end of its line.
func quoted(s string) (word, int) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return word{kind: wordQuoted, raw: s[:i+1], text: b.String()}, i + 1
		case '\n':
			// A name does not span lines: the quote was never closed.
			return word{kind: wordQuoted, raw: strings.TrimRight(s[:i], "\r"), text: b.String(), unclosed: true}, i
		default:
			b.WriteByte(s[i])
		}
	}
	return word{kind: wordQuoted, raw: s, text: b.String(), unclosed: true}, len(s)
}
