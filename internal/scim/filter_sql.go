package scim

import (
	"strconv"
	"strings"
	"time"

	"roster/internal/store"
)

// Filters run in the database: each attribute a filter may name maps, through the tables
// below (the whitelist), to a column or expression; values are always bind parameters. A
// multi-valued attribute maps to a sub-query over its own rows ("u.id IN (SELECT ...)"), so
// an equality on an indexed column stays an index lookup even among 100,000 accounts.

// colKind says how a column compares.
type colKind int

const (
	kText   colKind = iota // case-insensitive text: lower(col) against lower($n)
	kNorm                  // text stored lower-cased by Go (indexed): col against the Go-lowered value
	kExact                 // case-exact text
	kID                    // an integer id that SCIM shows as a string
	kBool                  // a BOOLEAN column
	kActive                // users.status: active or not
	kTime                  // Unix seconds, compared with RFC 3339 values
)

type column struct {
	expr string
	kind colKind
}

// multiColumn is a multi-valued attribute: in is "outer IN (SELECT key FROM ... WHERE fixed
// AND (%s))"; subs are its sub-attributes; a path without sub-attribute means "value".
type multiColumn struct {
	in   string
	subs map[string]column
}

// sqlMap is the whitelist of one resource type, keyed by lower-cased canonical path.
type sqlMap struct {
	cols  map[string]column
	multi map[string]multiColumn
}

var userSQL = sqlMap{
	cols: map[string]column{
		"id":                   {"u.id", kID},
		"username":             {"u.username", kNorm},
		"externalid":           {"s.external_id", kExact},
		"name.givenname":       {"s.given_name", kNorm},
		"name.familyname":      {"s.family_name", kNorm},
		"displayname":          {"s.display_name", kNorm},
		"nickname":             {"s.nick_name", kNorm},
		"title":                {"s.title", kNorm},
		"usertype":             {"s.user_type", kNorm},
		"preferredlanguage":    {"s.preferred_language", kNorm},
		"locale":               {"s.locale", kNorm},
		"timezone":             {"s.timezone", kNorm},
		"active":               {"u.status", kActive},
		"meta.created":         {"u.created_at", kTime},
		"meta.lastmodified":    {"u.updated_at", kTime},
		ent + "employeenumber": {"s.employee_number", kNorm},
		ent + "costcenter":     {"s.cost_center", kNorm},
		ent + "organization":   {"s.organization", kNorm},
		ent + "division":       {"s.division", kNorm},
		ent + "department":     {"s.department", kNorm},
		ent + "manager.value":  {"s.manager_id", kExact},
		"emails.sort":          {"u.email_norm", kNorm},  // sortBy=emails: the delivery address
		"name.sort":            {"s.family_name", kNorm}, // sortBy=name: the family name
	},
	multi: map[string]multiColumn{
		"emails":       valuesTable("emails"),
		"phonenumbers": valuesTable("phoneNumbers"),
		"groups": {in: "u.id IN (SELECT m.user_id FROM group_members m WHERE m.source_kind = 'scim' AND (%s))",
			subs: map[string]column{"value": {"m.group_id", kID}}},
	},
}

// ent is the lower-cased prefix of enterprise extension paths.
var ent = strings.ToLower(EnterpriseSchema) + ":"

func valuesTable(attr string) multiColumn {
	return multiColumn{
		in: "u.id IN (SELECT v.user_id FROM scim_user_values v WHERE v.attr = '" + attr + "' AND (%s))",
		subs: map[string]column{"value": {"v.value_norm", kNorm}, "type": {"v.type", kNorm},
			"display": {"v.display", kNorm}, "primary": {"v.is_primary", kBool}},
	}
}

var groupSQL = sqlMap{
	cols: map[string]column{
		"id":                {"g.id", kID},
		"displayname":       {"g.name", kText},
		"externalid":        {"g.idnumber", kExact},
		"meta.created":      {"g.created_at", kTime},
		"meta.lastmodified": {"g.updated_at", kTime},
	},
	multi: map[string]multiColumn{
		"members": {in: "g.id IN (SELECT m.group_id FROM group_members m WHERE m.source_kind = 'scim' AND (%s))",
			subs: map[string]column{"value": {"m.user_id", kID}}},
	},
}

// sqlFilter builds a WHERE clause; args continue those of the surrounding query.
type sqlFilter struct {
	rt      *resourceType
	m       *sqlMap
	dialect store.Dialect
	args    []any
	aliases map[string]bool // the table aliases the clause names ("u.", "s.")
}

// note records the table alias of a column expression.
func (b *sqlFilter) note(expr string) {
	if b.aliases == nil {
		b.aliases = map[string]bool{}
	}
	if i := strings.IndexByte(expr, '.'); i > 0 && i <= 2 {
		b.aliases[expr[:i]] = true
	}
}

func (b *sqlFilter) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// where translates f. Errors: invalidFilter for attributes that are unknown or cannot be
// filtered on, and for values of the wrong type.
func (b *sqlFilter) where(f Filter) (string, error) {
	switch x := f.(type) {
	case Logical:
		l, err := b.where(x.Left)
		if err != nil {
			return "", err
		}
		r, err := b.where(x.Right)
		if err != nil {
			return "", err
		}
		return "(" + l + " " + strings.ToUpper(x.Op) + " " + r + ")", nil
	case Not:
		in, err := b.where(x.Filter)
		if err != nil {
			return "", err
		}
		return "NOT (" + in + ")", nil
	case ValuePath:
		mc, err := b.multi(x.Path)
		if err != nil {
			return "", err
		}
		in, err := b.valueWhere(x.Filter, mc)
		if err != nil {
			return "", err
		}
		b.note(mc.in)
		return sprintf(mc.in, in), nil
	case Compare:
		t := b.rt.resolve(x.Path)
		if t == nil {
			return "", badFilter("unknown attribute %q", x.Path)
		}
		if t.Attr.MultiValued {
			mc, ok := b.m.multi[strings.ToLower(t.Attr.Name)]
			if !ok {
				return "", badFilter("cannot filter on %q", x.Path)
			}
			sub := "value"
			if t.Sub != nil {
				sub = strings.ToLower(t.Sub.Name)
			}
			col, ok := mc.subs[sub]
			if !ok {
				return "", badFilter("cannot filter on %q", x.Path)
			}
			cond, err := b.compare(col, x)
			if err != nil {
				return "", err
			}
			b.note(mc.in)
			return sprintf(mc.in, cond), nil
		}
		col, ok := b.m.cols[strings.ToLower(t.key())]
		if !ok || col.expr == "" {
			return "", badFilter("cannot filter on %q", x.Path)
		}
		return b.compare(col, x)
	}
	return "", badFilter("unsupported expression")
}

func sprintf(format, s string) string { return strings.Replace(format, "%s", s, 1) }

func (b *sqlFilter) multi(p AttrPath) (multiColumn, error) {
	t := b.rt.resolve(p)
	if t == nil {
		return multiColumn{}, badFilter("unknown attribute %q", p)
	}
	mc, ok := b.m.multi[strings.ToLower(t.Attr.Name)]
	if !ok || t.Ext != nil {
		return multiColumn{}, badFilter("cannot filter on values of %q", p)
	}
	return mc, nil
}

// valueWhere translates the inside of brackets against the sub-attributes of mc.
func (b *sqlFilter) valueWhere(f Filter, mc multiColumn) (string, error) {
	switch x := f.(type) {
	case Logical:
		l, err := b.valueWhere(x.Left, mc)
		if err != nil {
			return "", err
		}
		r, err := b.valueWhere(x.Right, mc)
		if err != nil {
			return "", err
		}
		return "(" + l + " " + strings.ToUpper(x.Op) + " " + r + ")", nil
	case Not:
		in, err := b.valueWhere(x.Filter, mc)
		if err != nil {
			return "", err
		}
		return "NOT (" + in + ")", nil
	case Compare:
		col, ok := mc.subs[strings.ToLower(x.Path.Name)]
		if !ok {
			return "", badFilter("cannot filter on sub-attribute %q", x.Path.Name)
		}
		return b.compare(col, x)
	}
	return "", badFilter("unsupported expression in a value filter")
}

// compare translates one comparison on a column.
func (b *sqlFilter) compare(col column, c Compare) (string, error) {
	e := col.expr
	b.note(e)
	if c.Op == "pr" {
		switch col.kind {
		case kText, kNorm, kExact:
			return e + " <> ''", nil
		case kBool:
			return e + " = " + b.arg(true), nil
		}
		return "1 = 1", nil
	}
	v := c.Value
	if v.Kind == NullValue {
		switch c.Op {
		case "ne": // present
			return b.compare(col, Compare{Path: c.Path, Op: "pr"})
		case "eq": // absent
			in, err := b.compare(col, Compare{Path: c.Path, Op: "pr"})
			return "NOT (" + in + ")", err
		}
		return "", badFilter("null compares only with eq and ne")
	}
	switch col.kind {
	case kBool, kActive:
		if v.Kind != TrueValue && v.Kind != FalseValue {
			return "", badFilter("%s takes true or false", c.Path)
		}
		if c.Op != "eq" && c.Op != "ne" {
			return "", badFilter("%s compares only with eq and ne", c.Path)
		}
		want := (v.Kind == TrueValue) == (c.Op == "eq")
		if col.kind == kActive {
			if want {
				return e + " = 'active'", nil
			}
			return e + " <> 'active'", nil
		}
		return e + " = " + b.arg(want), nil
	}
	if v.Kind != StringValue {
		return "", badFilter("%s takes a string", c.Path)
	}
	s := v.Text
	switch col.kind {
	case kTime:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return "", badFilter("%s takes an RFC 3339 date-time", c.Path)
		}
		op, ok := sqlOps[c.Op]
		if !ok || c.Op == "co" || c.Op == "sw" || c.Op == "ew" {
			return "", badFilter("%s compares with eq, ne, gt, ge, lt and le", c.Path)
		}
		return e + " " + op + " " + b.arg(t.Unix()), nil
	case kID:
		if c.Op == "eq" || c.Op == "ne" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || strconv.FormatInt(n, 10) != s {
				if c.Op == "eq" {
					return "1 = 0", nil
				}
				return "1 = 1", nil
			}
			return e + " " + sqlOps[c.Op] + " " + b.arg(n), nil
		}
		col = column{"CAST(" + e + " AS TEXT)", kExact}
		e = col.expr
	}
	switch col.kind {
	case kText:
		e = "lower(" + e + ")"
		switch c.Op {
		case "co", "sw", "ew":
			op, pattern, escape := b.dialect.Pattern(matchOf[c.Op], s, false)
			return e + " " + op + " lower(" + b.arg(pattern) + ")" + escape, nil
		case "eq", "ne":
			return e + " " + sqlOps[c.Op] + " lower(" + b.arg(s) + ")", nil
		}
		return "(" + col.expr + " <> '' AND " + e + " " + sqlOps[c.Op] + " lower(" + b.arg(s) + "))", nil
	case kNorm:
		s = strings.ToLower(s)
		switch c.Op {
		case "co", "sw", "ew":
			op, pattern, escape := b.dialect.Pattern(matchOf[c.Op], s, false)
			like := e + " " + op + " " + b.arg(pattern) + escape
			if c.Op == "sw" {
				if r := b.dialect.PrefixRange(e, s, b.arg); r != "" { // a range the index can seek
					return "(" + r + " AND " + like + ")", nil
				}
			}
			return like, nil
		case "eq", "ne":
			return e + " " + sqlOps[c.Op] + " " + b.arg(s), nil
		}
		return "(" + e + " <> '' AND " + e + " " + sqlOps[c.Op] + " " + b.arg(s) + ")", nil
	default: // kExact
		switch c.Op {
		case "co", "sw", "ew":
			op, pattern, escape := b.dialect.Pattern(matchOf[c.Op], s, true)
			return e + " " + op + " " + b.arg(pattern) + escape, nil
		case "eq", "ne":
			return e + " " + sqlOps[c.Op] + " " + b.arg(s), nil
		}
		return "(" + e + " <> '' AND " + e + " " + sqlOps[c.Op] + " " + b.arg(s) + ")", nil
	}
}

var sqlOps = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<=",
	"co": "", "sw": "", "ew": ""}

// matchOf are the substring operators of filters.
var matchOf = map[string]store.Match{"co": store.Contains, "sw": store.Prefix, "ew": store.Suffix}

// orderBy translates sortBy (RFC 7644 §3.4.2.3) to an ORDER BY expression. Sorting by a
// multi-valued attribute is allowed for emails (the delivery address); others are refused.
func (b *sqlFilter) orderBy(sortBy string) (string, error) {
	p, err := parseAttrPath(sortBy)
	if err != nil {
		return "", invalidValue("sortBy: bad attribute %q", sortBy)
	}
	t := b.rt.resolve(p)
	if t == nil {
		return "", invalidValue("sortBy: unknown attribute %q", sortBy)
	}
	key := strings.ToLower(t.key())
	if t.Attr.MultiValued || t.Attr.Type == "complex" && t.Sub == nil {
		key += ".sort"
	}
	col, ok := b.m.cols[key]
	if !ok || col.expr == "" {
		return "", invalidValue("sortBy: cannot sort by %q", sortBy)
	}
	b.note(col.expr)
	if col.kind == kText {
		return "lower(" + col.expr + ")", nil
	}
	return col.expr, nil
}
