package scim

import (
	"encoding/json"
	"strings"
)

// patchOp is one operation of a PATCH request (RFC 7644 §3.5.2). Op is lower-cased here:
// Entra ID sends "Add", "Replace" and "Remove".
type patchOp struct {
	Op    string
	Path  string
	Value any
}

// parsePatch reads a PatchOp message. Member names are matched case-insensitively, as
// clients differ ("Operations", "operations").
func parsePatch(body object) ([]patchOp, error) {
	var ops []any
	seenSchema := false
	for k, v := range body {
		switch strings.ToLower(k) {
		case "schemas":
			list, _ := v.([]any)
			for _, s := range list {
				if str, ok := s.(string); ok && strings.EqualFold(str, PatchSchema) {
					seenSchema = true
				}
			}
			if !seenSchema {
				return nil, invalidSyntax("schemas must be [%q]", PatchSchema)
			}
		case "operations":
			list, ok := v.([]any)
			if !ok {
				return nil, invalidSyntax("Operations must be a list")
			}
			ops = list
		default:
			return nil, invalidSyntax("unknown member %q in a PatchOp message", k)
		}
	}
	if len(ops) == 0 {
		return nil, invalidSyntax("a PATCH request needs Operations")
	}
	if len(ops) > maxOperations {
		return nil, newError(400, "tooMany", "at most %d operations per request", maxOperations)
	}
	out := make([]patchOp, 0, len(ops))
	for i, raw := range ops {
		m, ok := raw.(object)
		if !ok {
			return nil, invalidSyntax("operation %d must be an object", i+1)
		}
		var op patchOp
		for k, v := range m {
			switch strings.ToLower(k) {
			case "op":
				s, _ := v.(string)
				op.Op = strings.ToLower(s)
			case "path":
				s, ok := v.(string)
				if !ok && v != nil {
					return nil, invalidPath("operation %d: path must be a string", i+1)
				}
				op.Path = strings.TrimSpace(s)
			case "value":
				op.Value = v
			default:
				return nil, invalidSyntax("operation %d: unknown member %q", i+1, k)
			}
		}
		switch op.Op {
		case "add", "replace", "remove":
		default:
			return nil, invalidSyntax("operation %d: op must be add, replace or remove", i+1)
		}
		out = append(out, op)
	}
	return out, nil
}

// maxOperations bounds one PATCH request.
const maxOperations = 1000

// patchPath is a parsed PATCH path: attr, attr.sub, attr[filter] or attr[filter].sub, each
// optionally prefixed by a schema URN; or a bare extension URN (Whole).
type patchPath struct {
	Target *target
	Filter Filter // nil without brackets
	Whole  *Schema
}

func (rt *resourceType) parsePath(s string) (*patchPath, error) {
	if ext := rt.extension(s); ext != nil {
		return &patchPath{Whole: ext}, nil
	}
	var (
		pp     patchPath
		before = s
		after  string
	)
	if i := strings.IndexByte(s, '['); i >= 0 {
		j := strings.LastIndexByte(s, ']')
		if j < i {
			return nil, invalidPath("unbalanced [ in path %q", s)
		}
		f, err := parseValueFilter(s[i+1 : j])
		if err != nil {
			return nil, invalidPath("path %q: %s", s, err.(*Error).Detail)
		}
		pp.Filter = f
		before, after = s[:i], s[j+1:]
		if after != "" && (!strings.HasPrefix(after, ".") || strings.Contains(before, ".") && !strings.Contains(before, ":")) {
			return nil, invalidPath("bad path %q", s)
		}
	}
	ap, err := parseAttrPath(before + after)
	if err != nil {
		return nil, invalidPath("bad path %q", s)
	}
	if pp.Target = rt.resolve(ap); pp.Target == nil {
		return nil, invalidPath("no attribute %q in a %s", s, rt.Name)
	}
	if pp.Filter != nil {
		if !pp.Target.Attr.MultiValued {
			return nil, invalidPath("path %q: a value filter needs a multi-valued attribute", s)
		}
		if err := checkValueFilter(pp.Filter, pp.Target.Attr); err != nil {
			return nil, err
		}
	}
	return &pp, nil
}

// parseValueFilter parses the inside of brackets: paths name sub-attributes.
func parseValueFilter(s string) (Filter, error) {
	if len(s) > maxFilterLen {
		return nil, badFilter("too long")
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	f, err := p.or(true)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, badFilter("unexpected %s", t)
	}
	return f, nil
}

func checkValueFilter(f Filter, a *Attr) error {
	switch x := f.(type) {
	case Compare:
		if findAttr(a.SubAttributes, x.Path.Name) == nil {
			return invalidPath("%s has no sub-attribute %q", a.Name, x.Path.Name)
		}
	case Logical:
		if err := checkValueFilter(x.Left, a); err != nil {
			return err
		}
		return checkValueFilter(x.Right, a)
	case Not:
		return checkValueFilter(x.Filter, a)
	}
	return nil
}

// matches evaluates a value filter against one value of a multi-valued attribute.
func matches(f Filter, a *Attr, v object) bool {
	switch x := f.(type) {
	case Logical:
		if x.Op == "and" {
			return matches(x.Left, a, v) && matches(x.Right, a, v)
		}
		return matches(x.Left, a, v) || matches(x.Right, a, v)
	case Not:
		return !matches(x.Filter, a, v)
	case Compare:
		sa := findAttr(a.SubAttributes, x.Path.Name)
		if sa == nil {
			return false
		}
		got, present := v[sa.Name]
		if s, ok := got.(string); ok && s == "" {
			present = false
		}
		switch x.Op {
		case "pr":
			return present
		}
		if x.Value.Kind == NullValue {
			return (x.Op == "eq") != present
		}
		if !present {
			return x.Op == "ne"
		}
		if b, ok := got.(bool); ok {
			want := x.Value.Kind == TrueValue
			if x.Value.Kind != TrueValue && x.Value.Kind != FalseValue {
				return false
			}
			return (x.Op == "eq" && b == want) || (x.Op == "ne" && b != want)
		}
		s, _ := got.(string)
		if x.Value.Kind != StringValue {
			return false
		}
		w := x.Value.Text
		if !sa.CaseExact {
			s, w = strings.ToLower(s), strings.ToLower(w)
		}
		switch x.Op {
		case "eq":
			return s == w
		case "ne":
			return s != w
		case "co":
			return strings.Contains(s, w)
		case "sw":
			return strings.HasPrefix(s, w)
		case "ew":
			return strings.HasSuffix(s, w)
		case "gt":
			return s > w
		case "ge":
			return s >= w
		case "lt":
			return s < w
		case "le":
			return s <= w
		}
	}
	return false
}

// applyPatch applies ops to res in order. All or nothing: the caller stores res only if
// every operation succeeds.
func (rt *resourceType) applyPatch(res object, ops []patchOp) error {
	for _, op := range ops {
		if err := rt.applyOp(res, op); err != nil {
			return err
		}
	}
	return nil
}

func (rt *resourceType) applyOp(res object, op patchOp) error {
	if op.Path == "" {
		if op.Op == "remove" {
			return newError(400, "noTarget", "remove needs a path")
		}
		m, ok := op.Value.(object)
		if !ok {
			return invalidValue("%s without a path needs an object value", op.Op)
		}
		// Each member names an attribute: "displayName", "name.givenName" (Entra ID),
		// "urn:...:enterprise:2.0:User:department", or an extension URN with an object.
		for k, v := range m {
			if strings.EqualFold(k, "schemas") {
				continue
			}
			if a := rt.coreAttr(k); a != nil && a.Mutability == "readOnly" {
				continue // Okta repeats the id in the value
			}
			if err := rt.applyOp(res, patchOp{Op: op.Op, Path: k, Value: v}); err != nil {
				return err
			}
		}
		return nil
	}
	pp, err := rt.parsePath(op.Path)
	if err != nil {
		return err
	}
	if pp.Whole != nil {
		if op.Op == "remove" {
			delete(res, pp.Whole.ID)
			return nil
		}
		m, ok := op.Value.(object)
		if !ok {
			return invalidValue("%s needs an object value", pp.Whole.ID)
		}
		for k, v := range m {
			if strings.EqualFold(k, "schemas") {
				continue // scim2-tester sends the extension with its schemas
			}
			if err := rt.applyOp(res, patchOp{Op: op.Op, Path: pp.Whole.ID + ":" + k, Value: v}); err != nil {
				return err
			}
		}
		return nil
	}
	t := pp.Target
	if t.Attr.Mutability == "readOnly" || (t.Sub != nil && t.Sub.Mutability == "readOnly") {
		return newError(400, "mutability", "%s is read-only", op.Path)
	}
	if t.Attr.Mutability == "writeOnly" {
		return nil // password: not kept (single sign-on accounts)
	}
	c := container(res, t, true)
	before, _ := c[t.Attr.Name].([]any)
	before = append([]any(nil), before...)
	defer func() {
		if t.Attr.MultiValued {
			onePrimary(c, t.Attr.Name, before)
		}
		if t.Ext != nil && len(c) == 0 {
			delete(res, t.Ext.ID)
		}
	}()
	a := t.Attr
	prefix := ""
	if t.Ext != nil {
		prefix = t.Ext.ID + ":"
	}
	switch {
	case pp.Filter != nil:
		return patchSelected(c, a, t.Sub, pp.Filter, op, prefix)
	case t.Sub != nil:
		return patchSub(c, a, t.Sub, op, prefix)
	case op.Op == "remove":
		delete(c, a.Name)
		return nil
	case a.MultiValued:
		v := op.Value
		if _, isList := v.([]any); !isList && v != nil {
			v = []any{v}
		}
		cv, err := canonValue(a, v, prefix)
		if err != nil {
			return err
		}
		list, _ := cv.([]any)
		if op.Op == "add" {
			old, _ := c[a.Name].([]any)
			list = appendNew(old, list)
		}
		setOrDelete(c, a.Name, list)
		return nil
	case a.Type == "complex":
		cv, err := singleValue(a, op.Value, prefix)
		if err != nil {
			return err
		}
		if cv == nil {
			if op.Value != nil {
				return nil
			}
			delete(c, a.Name) // replace with null: unassign
			return nil
		}
		old, _ := c[a.Name].(object)
		merged := object{}
		for k, v := range old {
			merged[k] = v
		}
		for k, v := range cv.(object) {
			merged[k] = v
		}
		c[a.Name] = merged
		return nil
	default:
		cv, err := singleValue(a, op.Value, prefix)
		if err != nil {
			return err
		}
		setOrDelete(c, a.Name, cv)
		return nil
	}
}

func setOrDelete(m object, k string, v any) {
	switch x := v.(type) {
	case nil:
		delete(m, k)
		return
	case []any:
		if len(x) == 0 {
			delete(m, k)
			return
		}
	}
	m[k] = v
}

// appendNew adds the values of add that old does not hold already (adding a value twice is
// not an error, and must not make two).
func appendNew(old, add []any) []any {
	out := append([]any(nil), old...)
	for _, v := range add {
		dup := false
		for _, o := range out {
			if jsonEqual(o, v) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// patchSub handles "attr.sub": a sub-attribute of a complex attribute (of each value, for a
// multi-valued one).
func patchSub(c object, a, sub *Attr, op patchOp, prefix string) error {
	var sv any
	if op.Op != "remove" {
		var err error
		if sv, err = singleValue(sub, op.Value, prefix+a.Name+"."); err != nil {
			return err
		}
	}
	if a.MultiValued {
		list, _ := c[a.Name].([]any)
		for i, e := range list {
			if eo, ok := e.(object); ok {
				list[i] = withSub(eo, sub.Name, sv)
			}
		}
		return nil
	}
	old, _ := c[a.Name].(object)
	if old == nil && sv == nil {
		return nil
	}
	if old == nil {
		old = object{}
	}
	o := withSub(old, sub.Name, sv)
	setOrDelete(c, a.Name, nilIfEmpty(o))
	return nil
}

func withSub(o object, name string, v any) object {
	out := object{}
	for k, x := range o {
		out[k] = x
	}
	if v == nil {
		delete(out, name)
	} else {
		out[name] = v
	}
	return out
}

func nilIfEmpty(o object) any {
	if len(o) == 0 {
		return nil
	}
	return o
}

// patchSelected handles "attr[filter]" and "attr[filter].sub". An add or replace that
// selects nothing, with a filter made of equalities (emails[type eq "work"].value, as Entra
// ID sends for a user who had no work address yet), adds a value carrying those
// equalities; with any other filter it fails with noTarget.
func patchSelected(c object, a, sub *Attr, f Filter, op patchOp, prefix string) error {
	list, _ := c[a.Name].([]any)
	var (
		out     []any
		matched bool
		sv      any
	)
	if op.Op != "remove" {
		var err error
		if sub != nil {
			sv, err = singleValue(sub, op.Value, prefix+a.Name+".")
		} else {
			sv, err = singleValue(a, op.Value, prefix)
		}
		if err != nil {
			return err
		}
	}
	for _, e := range list {
		eo, ok := e.(object)
		if !ok || !matches(f, a, eo) {
			out = append(out, e)
			continue
		}
		matched = true
		switch {
		case op.Op == "remove" && sub == nil:
			// dropped
		case sub != nil:
			out = append(out, withSub(eo, sub.Name, sv))
		default:
			merged := eo
			if m, ok := sv.(object); ok {
				for k, v := range m {
					merged = withSub(merged, k, v)
				}
			}
			out = append(out, merged)
		}
	}
	if !matched && op.Op != "remove" {
		base := object{}
		if !equalities(f, a, base) {
			return newError(400, "noTarget", "no value of %s matches the filter", a.Name)
		}
		switch {
		case sub != nil:
			base = withSub(base, sub.Name, sv)
		default:
			if m, ok := sv.(object); ok {
				for k, v := range m {
					base[k] = v
				}
			}
		}
		out = append(out, base)
	}
	setOrDelete(c, a.Name, out)
	return nil
}

// equalities fills base from a filter made only of "sub eq value" joined by "and", and
// reports whether the filter had that shape.
func equalities(f Filter, a *Attr, base object) bool {
	switch x := f.(type) {
	case Logical:
		return x.Op == "and" && equalities(x.Left, a, base) && equalities(x.Right, a, base)
	case Compare:
		sa := findAttr(a.SubAttributes, x.Path.Name)
		if sa == nil || x.Op != "eq" {
			return false
		}
		switch x.Value.Kind {
		case StringValue:
			base[sa.Name] = x.Value.Text
		case TrueValue:
			base[sa.Name] = true
		case FalseValue:
			base[sa.Name] = false
		default:
			return false
		}
		return true
	}
	return false
}

// onePrimary keeps at most one value marked primary (RFC 7643 §2.4): when an operation marks
// a value primary, the value that was primary before loses the mark.
func onePrimary(c object, name string, before []any) {
	list, _ := c[name].([]any)
	keep := -1
	for i, e := range list {
		eo, _ := e.(object)
		if eo["primary"] != true {
			continue
		}
		wasPrimary := false
		for _, b := range before {
			if bo, _ := b.(object); bo["primary"] == true && jsonEqual(bo, eo) {
				wasPrimary = true
			}
		}
		if keep < 0 || !wasPrimary {
			keep = i
		}
	}
	for i, e := range list {
		if eo, _ := e.(object); i != keep && eo["primary"] == true {
			list[i] = withSub(eo, "primary", false)
		}
	}
}
