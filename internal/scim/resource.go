package scim

import (
	"strings"
)

// A resource is handled as a JSON object with canonical attribute names: top-level core
// attributes by name, extension attributes under their schema URN. Requests are brought to
// that form by canonical (which rejects unknown attributes and wrong types), PATCH operations
// apply to it, and responses are projected from it.
type object = map[string]any

// canonical validates a POST or PUT body and returns it in canonical form, without the
// attributes a client may not set (id, meta, read-only ones) nor write-only ones Roster does
// not keep (password: accounts provisioned by SCIM log in with single sign-on).
func (rt *resourceType) canonical(body object) (object, error) {
	out := object{}
	for k, v := range body {
		if strings.EqualFold(k, "schemas") {
			if err := rt.checkSchemas(v); err != nil {
				return nil, err
			}
			continue
		}
		if rt.ignored(k) {
			continue
		}
		if ext := rt.extension(k); ext != nil {
			m, ok := v.(object)
			if v != nil && !ok {
				return nil, invalidSyntax("%s must be an object", ext.ID)
			}
			sub := object{}
			for sk, sv := range m {
				a := findAttr(ext.Attributes, sk)
				if a == nil {
					return nil, invalidSyntax("unknown attribute %q in %s", sk, ext.ID)
				}
				if err := setCanonical(sub, a, sv, ext.ID+":"); err != nil {
					return nil, err
				}
			}
			if len(sub) > 0 {
				out[ext.ID] = sub
			}
			continue
		}
		a := rt.coreAttr(k)
		if a == nil {
			return nil, invalidSyntax("unknown attribute %q", k)
		}
		if err := setCanonical(out, a, v, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// setCanonical stores v under a's name in m if a client may write it; null removes it.
func setCanonical(m object, a *Attr, v any, prefix string) error {
	if a.Mutability == "readOnly" || a.Mutability == "writeOnly" {
		return nil
	}
	cv, err := canonValue(a, v, prefix)
	if err != nil {
		return err
	}
	if cv == nil {
		delete(m, a.Name)
	} else {
		m[a.Name] = cv
	}
	return nil
}

func (rt *resourceType) checkSchemas(v any) error {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return invalidSyntax("schemas must be a list of schema URNs")
	}
	for _, s := range list {
		u, ok := s.(string)
		if !ok || (!strings.EqualFold(u, rt.Core.ID) && rt.extension(u) == nil && !rt.ignored(u)) {
			return invalidSyntax("unknown schema %v for a %s", s, rt.Name)
		}
	}
	return nil
}

// canonValue checks v against a and returns it with canonical sub-attribute names; nil for
// null, an empty list or an empty object (all mean "no value", RFC 7643 §2.5).
func canonValue(a *Attr, v any, prefix string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.MultiValued {
		list, ok := v.([]any)
		if !ok {
			return nil, invalidValue("%s%s must be a list", prefix, a.Name)
		}
		out := make([]any, 0, len(list))
		for _, e := range list {
			ce, err := singleValue(a, e, prefix)
			if err != nil {
				return nil, err
			}
			if ce != nil {
				out = append(out, ce)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return singleValue(a, v, prefix)
}

func singleValue(a *Attr, v any, prefix string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case "complex":
		m, ok := v.(object)
		if s, isString := v.(string); isString && findAttr(a.SubAttributes, "value") != nil {
			// Entra ID sends the manager as its id alone.
			m, ok = object{"value": s}, true
		}
		if !ok {
			return nil, invalidValue("%s%s must be an object", prefix, a.Name)
		}
		out := object{}
		for k, sv := range m {
			sa := findAttr(a.SubAttributes, k)
			if sa == nil {
				return nil, invalidSyntax("unknown attribute %q in %s%s", k, prefix, a.Name)
			}
			if sa.Mutability == "readOnly" {
				continue
			}
			cv, err := singleValue(sa, sv, prefix+a.Name+".")
			if err != nil {
				return nil, err
			}
			if cv != nil {
				out[sa.Name] = cv
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case "boolean":
		switch b := v.(type) {
		case bool:
			return b, nil
		case string: // Entra ID sends "True" and "False"
			switch strings.ToLower(b) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, invalidValue("%s%s must be true or false", prefix, a.Name)
	default:
		s, ok := v.(string)
		if !ok {
			return nil, invalidValue("%s%s must be a string", prefix, a.Name)
		}
		if len(s) > maxStringLen {
			return nil, invalidValue("%s%s is longer than %d bytes", prefix, a.Name, maxStringLen)
		}
		return s, nil
	}
}

// maxStringLen bounds any one string value (a certificate is the longest thing expected).
const maxStringLen = 16 << 10

// projection is the attributes/excludedAttributes of a request (RFC 7644 §3.4.2.5), resolved.
type projection struct {
	only, without []*target
	onlyExt       []*Schema // "attributes=urn:...:enterprise:2.0:User" asks for the whole extension
	withoutExt    []*Schema
	// bare keeps id and schemas only: a root .search whose attributes name none of this
	// type's attributes.
	bare bool
}

// parseProjection reads the two comma-separated lists. Unknown names are ignored, as a
// client's wish to see or hide an attribute we do not have needs no answer.
func (rt *resourceType) parseProjection(attributes, excluded string) projection {
	var p projection
	read := func(list string, targets *[]*target, exts *[]*Schema) {
		for _, s := range strings.Split(list, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if ext := rt.extension(s); ext != nil {
				*exts = append(*exts, ext)
				continue
			}
			if path, err := parseAttrPath(s); err == nil {
				if t := rt.resolve(path); t != nil {
					*targets = append(*targets, t)
				}
			}
		}
	}
	read(attributes, &p.only, &p.onlyExt)
	read(excluded, &p.without, &p.withoutExt)
	return p
}

// apply returns the resource as the client asked to see it. id and schemas are always there.
func (p projection) apply(res object) object {
	if len(p.only) > 0 || len(p.onlyExt) > 0 || p.bare {
		out := object{"id": res["id"], "schemas": res["schemas"]}
		for _, ext := range p.onlyExt {
			if v, ok := res[ext.ID]; ok {
				out[ext.ID] = v
			}
		}
		for _, t := range p.only {
			copyTarget(out, res, t)
		}
		res = out
	}
	if len(p.without) > 0 || len(p.withoutExt) > 0 {
		res = shallowCopy(res)
		for _, ext := range p.withoutExt {
			delete(res, ext.ID)
		}
		for _, t := range p.without {
			removeTarget(res, t)
		}
	}
	return res
}

func shallowCopy(m object) object {
	out := make(object, len(m))
	for k, v := range m {
		if sub, ok := v.(object); ok {
			v = shallowCopy(sub)
		}
		out[k] = v
	}
	return out
}

// container returns the object holding t's attribute: the resource, or its extension object
// (created in dst when create is true).
func container(m object, t *target, create bool) object {
	if t.Ext == nil {
		return m
	}
	sub, ok := m[t.Ext.ID].(object)
	if !ok && create {
		sub = object{}
		m[t.Ext.ID] = sub
	}
	return sub
}

func copyTarget(dst, src object, t *target) {
	if t.Attr.Name == "id" {
		return
	}
	from := container(src, t, false)
	v, ok := from[t.Attr.Name]
	if !ok {
		return
	}
	to := container(dst, t, true)
	if t.Sub == nil {
		to[t.Attr.Name] = v
		return
	}
	switch x := v.(type) {
	case object:
		sv, ok := x[t.Sub.Name]
		if !ok {
			return
		}
		o, _ := to[t.Attr.Name].(object)
		if o == nil {
			o = object{}
			to[t.Attr.Name] = o
		}
		o[t.Sub.Name] = sv
	case []any:
		// A sub-attribute of a multi-valued attribute: keep that sub-attribute of each value.
		var out []any
		for _, e := range x {
			if eo, ok := e.(object); ok {
				if sv, ok := eo[t.Sub.Name]; ok {
					out = append(out, object{t.Sub.Name: sv})
				}
			}
		}
		if out != nil {
			to[t.Attr.Name] = out
		}
	}
}

func removeTarget(m object, t *target) {
	if t.Attr.Name == "id" {
		return
	}
	c := container(m, t, false)
	if c == nil {
		return
	}
	if t.Sub == nil {
		delete(c, t.Attr.Name)
		return
	}
	if o, ok := c[t.Attr.Name].(object); ok {
		o = shallowCopy(o)
		delete(o, t.Sub.Name)
		c[t.Attr.Name] = o
	}
}
