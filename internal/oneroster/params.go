package oneroster

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// kind is how a field compares in a filter.
type kind int

const (
	kText kind = iota // text: = != > >= < <= compare strings, ~ is "contains", case-insensitive
	kTime             // a date or date-time, stored as Unix seconds
	kBool             // "true" or "false", stored as text
)

// field is a filterable and sortable field of an entity: the column of the entity's base
// query that holds it.
type field struct {
	col  string
	kind kind
}

// badRequest is a client error with the spec's code minor.
type badRequest struct {
	minor string // invalid_filter_field, invalid_sort_field, invalid_selection_field, invalid_data
	msg   string
}

func (e *badRequest) Error() string { return e.msg }

// query is one SQL statement under construction: its text and its arguments, numbered $1...
type query struct {
	b    strings.Builder
	args []any
}

// arg adds a value and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) w(parts ...string) {
	for _, p := range parts {
		q.b.WriteString(p)
	}
}

// listParams are the spec's query parameters of a collection read.
type listParams struct {
	limit, offset int
	sort          string // a field name, "" for the default order
	desc          bool
	filter        *cond
	fields        []string
}

const (
	defaultLimit = 100
	maxLimit     = 10000
)

func parseList(v url.Values, fields map[string]field, docFields map[string]bool) (listParams, error) {
	p := listParams{limit: defaultLimit}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, &badRequest{"invalid_data", "limit must be a positive integer"}
		}
		p.limit = min(n, maxLimit)
	}
	if s := v.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, &badRequest{"invalid_data", "offset must be a non-negative integer"}
		}
		p.offset = n
	}
	if s := v.Get("sort"); s != "" {
		if _, ok := fields[s]; !ok {
			return p, &badRequest{"invalid_sort_field", "cannot sort on field " + strconv.Quote(s)}
		}
		p.sort = s
	}
	switch strings.ToLower(v.Get("orderBy")) {
	case "", "asc":
	case "desc":
		p.desc = true
	default:
		return p, &badRequest{"invalid_data", "orderBy must be asc or desc"}
	}
	if s := v.Get("filter"); s != "" {
		c, err := parseFilter(s, fields)
		if err != nil {
			return p, err
		}
		p.filter = c
	}
	var err error
	if p.fields, err = parseFields(v.Get("fields"), docFields); err != nil {
		return p, err
	}
	return p, nil
}

func parseFields(s string, docFields map[string]bool) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !docFields[f] {
			return nil, &badRequest{"invalid_selection_field", "unknown field " + strconv.Quote(f)}
		}
		out = append(out, f)
	}
	return out, nil
}

// cond is a parsed filter: a comparison, or two conditions joined by AND or OR (the spec
// allows one logical operator per filter; chains of the same one are accepted too).
type cond struct {
	// a comparison
	f     field
	name  string
	op    string
	value string
	// or a junction
	join        string // "AND" or "OR"
	left, right *cond
}

var filterOps = []string{"!=", ">=", "<=", "=", ">", "<", "~"}

// parseFilter reads the OneRoster filter grammar: field op 'value', joined by " AND " or
// " OR " (uppercase, with spaces), e.g. status='active' AND dateLastModified>'2026-01-01'.
func parseFilter(s string, fields map[string]field) (*cond, error) {
	s = strings.TrimSpace(s)
	// Split on the first logical operator outside quotes.
	inQuote := false
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			inQuote = !inQuote
			continue
		}
		if inQuote || s[i] != ' ' {
			continue
		}
		for _, j := range []string{" AND ", " OR "} {
			if strings.HasPrefix(s[i:], j) {
				l, err := parseFilter(s[:i], fields)
				if err != nil {
					return nil, err
				}
				r, err := parseFilter(s[i+len(j):], fields)
				if err != nil {
					return nil, err
				}
				return &cond{join: strings.TrimSpace(j), left: l, right: r}, nil
			}
		}
	}
	var name, op string
	for i := 0; i < len(s) && op == ""; i++ {
		for _, o := range filterOps {
			if strings.HasPrefix(s[i:], o) {
				name, op = strings.TrimSpace(s[:i]), o
				s = strings.TrimSpace(s[i+len(o):])
				break
			}
		}
	}
	if op == "" {
		return nil, &badRequest{"invalid_filter_field", "a filter is field, operator, 'value'"}
	}
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return nil, &badRequest{"invalid_filter_field", "the value of a filter is between single quotes"}
	}
	value := s[1 : len(s)-1]
	name = strings.TrimSuffix(name, ".sourcedId") // class.sourcedId='...' means class='...'
	f, ok := fields[name]
	if !ok {
		return nil, &badRequest{"invalid_filter_field", "cannot filter on field " + strconv.Quote(name)}
	}
	c := &cond{f: f, name: name, op: op, value: value}
	if f.kind == kTime {
		if op == "~" {
			return nil, &badRequest{"invalid_filter_field", "~ compares text, not dates"}
		}
		if _, err := parseDate(value); err != nil {
			return nil, &badRequest{"invalid_filter_field", "not a date: " + strconv.Quote(value)}
		}
	}
	return c, nil
}

func parseDate(s string) (int64, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, fmt.Errorf("not a date")
}

// sql writes the condition over the columns of t.
func (c *cond) sql(q *query) {
	if c.join != "" {
		q.w("(")
		c.left.sql(q)
		q.w(" ", c.join, " ")
		c.right.sql(q)
		q.w(")")
		return
	}
	col := "t." + c.f.col
	switch {
	case c.f.kind == kTime:
		sec, _ := parseDate(c.value)
		if c.op == "=" && !strings.Contains(c.value, "T") { // a day: the whole day
			q.w("(", col, " >= ", q.arg(sec), " AND ", col, " < ", q.arg(sec+86400), ")")
			return
		}
		if c.op == "!=" {
			q.w(col, " <> ", q.arg(sec))
			return
		}
		q.w(col, " ", c.op, " ", q.arg(sec))
	case c.op == "~":
		v := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(c.value))
		q.w("LOWER(", col, ") LIKE ", q.arg("%"+v+"%"), ` ESCAPE '\'`)
	case c.op == "!=":
		q.w("(", col, " IS NULL OR ", col, " <> ", q.arg(c.value), ")")
	default:
		q.w(col, " ", c.op, " ", q.arg(c.value))
	}
}
