package scim

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// Filter is a parsed SCIM filter (RFC 7644 §3.4.2.2): a Compare, a Logical, a Not or a
// ValuePath. Its String form is canonical: parsing it again gives an equal Filter.
type Filter interface {
	String() string
	filter()
}

// AttrPath names an attribute: an optional schema URN, the attribute and an optional
// sub-attribute ("urn:...:enterprise:2.0:User:manager.value"). Names keep the client's case;
// they are matched case-insensitively when resolved.
type AttrPath struct {
	URN, Name, Sub string
}

func (p AttrPath) String() string {
	s := p.Name
	if p.Sub != "" {
		s += "." + p.Sub
	}
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	return s
}

// Value is a comparison value: a string (Text holds it decoded), a number (Text holds the
// JSON literal), true, false or null.
type Value struct {
	Kind ValueKind
	Text string
}

// ValueKind is the JSON type of a Value.
type ValueKind byte

// The kinds of Value.
const (
	StringValue ValueKind = 's'
	NumberValue ValueKind = 'n'
	TrueValue   ValueKind = 't'
	FalseValue  ValueKind = 'f'
	NullValue   ValueKind = 'z'
)

func (v Value) String() string {
	switch v.Kind {
	case StringValue:
		b, _ := json.Marshal(v.Text)
		return string(b)
	case NumberValue:
		return v.Text
	case TrueValue:
		return "true"
	case FalseValue:
		return "false"
	}
	return "null"
}

// Compare is "path op value", or "path pr" (Op "pr", Value unused). Op is lower case.
type Compare struct {
	Path  AttrPath
	Op    string
	Value Value
}

// Logical is "left and right" or "left or right".
type Logical struct {
	Op          string // "and" or "or"
	Left, Right Filter
}

// Not is "not (filter)".
type Not struct{ Filter Filter }

// ValuePath is "attr[filter]": some value of the multi-valued attribute matches the filter,
// whose paths name sub-attributes. "emails[type eq "work"].value eq "x"" is read as
// "emails[type eq "work" and value eq "x"]".
type ValuePath struct {
	Path   AttrPath
	Filter Filter
}

func (Compare) filter()   {}
func (Logical) filter()   {}
func (Not) filter()       {}
func (ValuePath) filter() {}

func (c Compare) String() string {
	if c.Op == "pr" {
		return c.Path.String() + " pr"
	}
	return c.Path.String() + " " + c.Op + " " + c.Value.String()
}

func (l Logical) String() string {
	return parenthesize(l.Left) + " " + l.Op + " " + parenthesize(l.Right)
}

func (n Not) String() string { return "not (" + n.Filter.String() + ")" }

func (v ValuePath) String() string { return v.Path.String() + "[" + v.Filter.String() + "]" }

// parenthesize wraps a logical operand, so that precedence never depends on the reader.
func parenthesize(f Filter) string {
	if _, ok := f.(Logical); ok {
		return "(" + f.String() + ")"
	}
	return f.String()
}

// Limits that keep a hostile filter cheap to reject.
const (
	maxFilterLen   = 8 << 10
	maxFilterDepth = 32
)

var compareOps = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true,
	"gt": true, "ge": true, "lt": true, "le": true}

// ParseFilter parses a filter. Keywords and operators are case-insensitive. Errors are
// *Error with scimType invalidFilter.
func ParseFilter(s string) (Filter, error) {
	if len(s) > maxFilterLen {
		return nil, badFilter("the filter is longer than %d bytes", maxFilterLen)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	f, err := p.or(false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, badFilter("unexpected %s", t)
	}
	return f, nil
}

func badFilter(format string, args ...any) *Error {
	return &Error{Status: 400, Type: "invalidFilter", Detail: "invalid filter: " + fmt.Sprintf(format, args...)}
}

type tokKind byte

const (
	tEOF tokKind = iota
	tWord
	tString
	tLParen
	tRParen
	tLBrack
	tRBrack
)

type token struct {
	kind tokKind
	text string // the word, or the decoded string
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of filter"
	case tString:
		b, _ := json.Marshal(t.text)
		return fmt.Sprintf("string %s at %d", b, t.pos)
	}
	return fmt.Sprintf("%q at %d", t.text, t.pos)
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']':
			out = append(out, token{kind: map[byte]tokKind{'(': tLParen, ')': tRParen, '[': tLBrack, ']': tRBrack}[c], text: string(c), pos: i})
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, badFilter("unterminated string at %d", i)
			}
			var text string
			if err := json.Unmarshal([]byte(s[i:j+1]), &text); err != nil {
				return nil, badFilter("bad string at %d", i)
			}
			out = append(out, token{kind: tString, text: text, pos: i})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()[]\"", rune(s[j])) {
				j++
			}
			out = append(out, token{kind: tWord, text: s[i:j], pos: i})
			i = j
		}
	}
	return append(out, token{kind: tEOF, pos: len(s)}), nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tWord && strings.EqualFold(t.text, w)
}

// or parses "and" groups separated by "or"; inValue is true inside brackets.
func (p *parser) or(inValue bool) (Filter, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxFilterDepth {
		return nil, badFilter("nested more than %d levels", maxFilterDepth)
	}
	left, err := p.and(inValue)
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		p.next()
		right, err := p.and(inValue)
		if err != nil {
			return nil, err
		}
		left = Logical{Op: "or", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) and(inValue bool) (Filter, error) {
	left, err := p.unary(inValue)
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		p.next()
		right, err := p.unary(inValue)
		if err != nil {
			return nil, err
		}
		left = Logical{Op: "and", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) unary(inValue bool) (Filter, error) {
	if p.isWord("not") && p.toks[p.i+1].kind == tLParen {
		p.next()
		f, err := p.paren(inValue)
		if err != nil {
			return nil, err
		}
		return Not{Filter: f}, nil
	}
	if p.peek().kind == tLParen {
		return p.paren(inValue)
	}
	return p.attrExp(inValue)
}

func (p *parser) paren(inValue bool) (Filter, error) {
	p.next() // (
	f, err := p.or(inValue)
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tRParen {
		return nil, badFilter("expected ) but found %s", t)
	}
	return f, nil
}

func (p *parser) attrExp(inValue bool) (Filter, error) {
	t := p.next()
	if t.kind != tWord {
		return nil, badFilter("expected an attribute but found %s", t)
	}
	path, err := parseAttrPath(t.text)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tLBrack {
		if inValue {
			return nil, badFilter("nested value filter at %d", p.peek().pos)
		}
		if path.Sub != "" {
			return nil, badFilter("a value filter applies to an attribute, not a sub-attribute (%s)", path)
		}
		p.next()
		inner, err := p.or(true)
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tRBrack {
			return nil, badFilter("expected ] but found %s", t)
		}
		vp := ValuePath{Path: path, Filter: inner}
		// emails[type eq "work"].value eq "x": the sub-attribute follows the bracket.
		if t := p.peek(); t.kind == tWord && strings.HasPrefix(t.text, ".") {
			p.next()
			sub := t.text[1:]
			if !validName(sub) {
				return nil, badFilter("bad sub-attribute %q", t.text)
			}
			c, err := p.comparison(AttrPath{Name: sub})
			if err != nil {
				return nil, err
			}
			vp.Filter = Logical{Op: "and", Left: inner, Right: c}
		}
		return vp, nil
	}
	if inValue && (path.URN != "" || path.Sub != "") {
		return nil, badFilter("inside a value filter, name a sub-attribute (%s)", path)
	}
	return p.comparison(path)
}

func (p *parser) comparison(path AttrPath) (Filter, error) {
	t := p.next()
	op := strings.ToLower(t.text)
	if t.kind != tWord || (op != "pr" && !compareOps[op]) {
		return nil, badFilter("expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) but found %s", t)
	}
	if op == "pr" {
		return Compare{Path: path, Op: op}, nil
	}
	v := p.next()
	switch {
	case v.kind == tString:
		return Compare{Path: path, Op: op, Value: Value{Kind: StringValue, Text: v.text}}, nil
	case v.kind != tWord:
		return nil, badFilter("expected a value but found %s", v)
	case v.text == "true":
		return Compare{Path: path, Op: op, Value: Value{Kind: TrueValue}}, nil
	case v.text == "false":
		return Compare{Path: path, Op: op, Value: Value{Kind: FalseValue}}, nil
	case v.text == "null":
		return Compare{Path: path, Op: op, Value: Value{Kind: NullValue}}, nil
	case isNumber(v.text):
		return Compare{Path: path, Op: op, Value: Value{Kind: NumberValue, Text: v.text}}, nil
	}
	return nil, badFilter("expected a value (a \"string\", a number, true, false or null) but found %s", v)
}

func isNumber(s string) bool {
	if s == "" || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// parseAttrPath reads "[urn:...:]name[.sub]".
func parseAttrPath(s string) (AttrPath, error) {
	var p AttrPath
	rest := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		p.URN, rest = s[:i], s[i+1:]
		if !validURN(p.URN) {
			return p, badFilter("bad schema URN in %q", s)
		}
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if !validName(name) || (hasSub && !validName(sub)) {
		return p, badFilter("bad attribute name %q", s)
	}
	p.Name, p.Sub = name, sub
	return p, nil
}

func validURN(s string) bool {
	if len(s) < 5 || !strings.EqualFold(s[:4], "urn:") {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || r <= ' ' {
			return false
		}
	}
	return true
}

// validName is RFC 7643 ATTRNAME (ALPHA *(nameChar)), plus "$ref".
func validName(s string) bool {
	if s == "$ref" {
		return true
	}
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
