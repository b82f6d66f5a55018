package scim_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"roster/internal/store"
	"roster/internal/store/storetest"
)

// The conformance suite: the checks of python-scim's scim2-tester (discovery, create, read,
// attribute selection, replace, delete, PATCH add, remove and replace on every attribute,
// misc), written again in Go so that they run in CI on both databases. Like scim2-tester, it
// learns the resources from /ResourceTypes and /Schemas and makes its values from the
// attribute definitions there, so what /Schemas says is tested, not what this file assumes.
// Where a check of scim2-tester is wrong, the test says why and checks what the RFC says.

// schemaAttr is an attribute as /Schemas serves it.
type schemaAttr struct {
	Name            string        `json:"name"`
	Type            string        `json:"type"`
	MultiValued     bool          `json:"multiValued"`
	Required        bool          `json:"required"`
	Mutability      string        `json:"mutability"`
	Returned        string        `json:"returned"`
	CanonicalValues []string      `json:"canonicalValues"`
	ReferenceTypes  []string      `json:"referenceTypes"`
	SubAttributes   []*schemaAttr `json:"subAttributes"`
}

func (a *schemaAttr) writable() bool {
	return a.Mutability == "readWrite" || a.Mutability == "writeOnly" || a.Mutability == "immutable"
}

func (a *schemaAttr) sub(name string) *schemaAttr {
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// field is a top-level attribute of a resource type: a core one (Ext empty) or one of an
// extension, whose values live under the extension's URN; or, Whole, an extension itself
// (its Attr named by the URN, its attributes as sub-attributes), which scim2-tester also
// PATCHes as one.
type field struct {
	Ext   string
	Attr  *schemaAttr
	Whole bool
}

// path is the attribute's PATCH path and attributes= name.
func (f field) path() string {
	if f.Ext != "" {
		return f.Ext + ":" + f.Attr.Name
	}
	return f.Attr.Name
}

func (f field) get(res map[string]any) any {
	if f.Ext != "" {
		ext, _ := res[f.Ext].(map[string]any)
		return ext[f.Attr.Name]
	}
	return res[f.Attr.Name]
}

func (f field) set(res map[string]any, v any) {
	if f.Ext == "" {
		res[f.Attr.Name] = v
		return
	}
	ext, _ := res[f.Ext].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
		res[f.Ext] = ext
	}
	ext[f.Attr.Name] = v
}

// kind is a resource type as discovery describes it.
type kind struct {
	Name, Endpoint, Schema string
	Extensions             []string
	Fields                 []field
}

// common are the attributes of every resource (RFC 7643 §3.1), which /Schemas does not list:
// scim2-tester's models have them (its externalId is readWrite), so its checks cover them.
var commonAttrs = []*schemaAttr{{Name: "externalId", Type: "string", Mutability: "readWrite", Returned: "default"}}

// discover reads /ResourceTypes and /Schemas as scim2-tester does before its resource checks.
func discover(t *testing.T, r *rig) map[string]*kind {
	t.Helper()
	var schemas struct {
		Resources []struct {
			ID         string        `json:"id"`
			Attributes []*schemaAttr `json:"attributes"`
		}
	}
	if err := json.Unmarshal([]byte(r.do("GET", "/scim/v2/Schemas", nil).want(t, 200).Raw), &schemas); err != nil {
		t.Fatal(err)
	}
	attrs := map[string][]*schemaAttr{}
	for _, s := range schemas.Resources {
		attrs[s.ID] = s.Attributes
	}
	var types struct {
		Resources []struct {
			Name, Endpoint, Schema string
			SchemaExtensions       []struct{ Schema string }
		}
	}
	if err := json.Unmarshal([]byte(r.do("GET", "/scim/v2/ResourceTypes", nil).want(t, 200).Raw), &types); err != nil {
		t.Fatal(err)
	}
	out := map[string]*kind{}
	for _, rt := range types.Resources {
		k := &kind{Name: rt.Name, Endpoint: rt.Endpoint, Schema: rt.Schema}
		for _, a := range append(slices.Clone(commonAttrs), attrs[rt.Schema]...) {
			k.Fields = append(k.Fields, field{Attr: a})
		}
		for _, e := range rt.SchemaExtensions {
			k.Extensions = append(k.Extensions, e.Schema)
			k.Fields = append(k.Fields, field{Whole: true, Attr: &schemaAttr{Name: e.Schema, Type: "complex",
				Mutability: "readWrite", Returned: "default", SubAttributes: attrs[e.Schema]}})
			for _, a := range attrs[e.Schema] {
				k.Fields = append(k.Fields, field{Ext: e.Schema, Attr: a})
			}
		}
		out[rt.Name] = k
	}
	if out["User"] == nil || out["Group"] == nil {
		t.Fatalf("resource types: %v", out)
	}
	return out
}

// gen makes values from attribute definitions, as scim2-tester's filling module does.
type gen struct {
	t     *testing.T
	r     *rig
	rnd   *rand.Rand
	kinds map[string]*kind
}

func (g *gen) uuid() string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(g.rnd.IntN(256))
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// value is a value for attribute a at path (multi-valued: a list of one).
func (g *gen) value(a *schemaAttr, path string) any {
	v := g.single(a, path)
	if a.MultiValued {
		return []any{v}
	}
	return v
}

func (g *gen) single(a *schemaAttr, path string) any {
	switch a.Type {
	case "complex":
		m := map[string]any{}
		for _, s := range a.SubAttributes {
			if s.writable() {
				m[s.Name] = g.value(s, path+"."+s.Name)
			}
		}
		// As scim2-tester does: a value that goes with a $ref is the id the $ref ends with.
		if ref, ok := m["$ref"].(string); ok {
			if _, ok := m["value"]; ok {
				m["value"] = ref[strings.LastIndex(ref, "/")+1:]
			}
		}
		return m
	case "boolean":
		return g.rnd.IntN(2) == 0
	case "reference":
		if len(a.ReferenceTypes) == 0 || slices.Contains(a.ReferenceTypes, "external") || slices.Contains(a.ReferenceTypes, "uri") {
			return "https://" + g.uuid() + ".test"
		}
		// A reference to a resource: make one, and point at it.
		k := g.kinds[a.ReferenceTypes[0]]
		if k == nil {
			g.t.Fatalf("%s: referenceTypes %v name no resource type", path, a.ReferenceTypes)
		}
		return g.create(k, false).str("meta.location")
	case "binary":
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(g.rnd.IntN(256))
		}
		return base64.StdEncoding.EncodeToString(b)
	case "dateTime":
		return "2026-01-02T03:04:05Z"
	case "integer":
		return float64(g.rnd.IntN(1 << 31))
	case "decimal":
		return g.rnd.Float64()
	}
	switch {
	// scim2-tester draws a type from the canonical values when its model has them; a client
	// following /Schemas does the same.
	case len(a.CanonicalValues) > 0:
		return a.CanonicalValues[g.rnd.IntN(len(a.CanonicalValues))]
	case strings.HasSuffix(path, "emails.value"):
		return g.uuid() + "@" + g.uuid() + ".com"
	case strings.HasSuffix(path, "phoneNumbers.value"):
		return fmt.Sprintf("%010d", g.rnd.IntN(1e10))
	}
	return g.uuid()
}

// body is a resource of kind k: its required attributes only, or every writable one.
func (g *gen) body(k *kind, all bool) map[string]any {
	res := map[string]any{"schemas": []any{k.Schema}}
	for _, f := range k.Fields {
		if !f.Attr.writable() || (!all && !f.Attr.Required) || f.Whole {
			continue
		}
		v := g.value(f.Attr, k.Name+"."+f.path())
		if list, ok := v.([]any); ok && f.Attr.sub("primary") != nil {
			list[0].(map[string]any)["primary"] = true // scim2-tester's fix_primary_attributes
		}
		f.set(res, v)
	}
	for _, e := range k.Extensions {
		if res[e] != nil {
			res["schemas"] = append(res["schemas"].([]any), e)
		}
	}
	return res
}

func (g *gen) create(k *kind, all bool) *resp {
	g.t.Helper()
	return g.r.do("POST", "/scim/v2"+k.Endpoint, g.body(k, all)).want(g.t, 201)
}

// same reports whether a written value reads back: every sub-attribute written is there with
// its value, and the server added only read-only ones. scim2-tester compares whole values
// (fields_equality) and so fails a server that fills a read-only sub-attribute, such as a
// member's display: RFC 7643 §4.2 makes display readOnly, the server's to give, so that
// check is wrong and the read-only sub-attributes are not compared here.
func same(a *schemaAttr, want, got any) bool {
	if a.MultiValued {
		w, _ := want.([]any)
		g, _ := got.([]any)
		if len(w) != len(g) {
			return false
		}
		one := *a
		one.MultiValued = false
		for i := range w {
			if !same(&one, w[i], g[i]) {
				return false
			}
		}
		return true
	}
	if a.Type == "complex" {
		w, _ := want.(map[string]any)
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			s := a.sub(k)
			if s == nil || (s.Mutability != "writeOnly" && !same(s, v, g[k])) {
				return false
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok && (a.sub(k) == nil || a.sub(k).Mutability != "readOnly") {
				return false
			}
		}
		return true
	}
	if s, ok := want.(string); ok && a.Type == "string" && len(a.CanonicalValues) == 0 {
		g, _ := got.(string)
		return s == g
	}
	return fmt.Sprint(want) == fmt.Sprint(got)
}

func TestConformanceDiscovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		kinds := discover(t, r)
		// service_provider_config_endpoint, query_all_resource_types, query_resource_type_by_id,
		// resource_types_schema_validation, query_all_schemas, access_schema_by_id.
		r.do("GET", "/scim/v2/ServiceProviderConfig", nil).want(t, 200)
		for _, k := range kinds {
			if got := r.do("GET", "/scim/v2/ResourceTypes/"+k.Name, nil).want(t, 200); got.str("schema") != k.Schema {
				t.Errorf("ResourceTypes/%s: %s", k.Name, got.Raw)
			}
			for _, s := range append([]string{k.Schema}, k.Extensions...) {
				if got := r.do("GET", "/scim/v2/Schemas/"+s, nil).want(t, 200); got.str("id") != s {
					t.Errorf("Schemas/%s: %s", s, got.Raw)
				}
			}
		}
		// access_invalid_schema, access_invalid_resource_type, random_url: 404 in SCIM's form.
		for _, p := range []string{"/scim/v2/Schemas/" + "0b3a2c1e-58c4-4ab0-9d0b-2b0e9e4c7b11", "/scim/v2/ResourceTypes/0b3a2c1e",
			"/scim/v2/0b3a2c1e-58c4-4ab0-9d0b-2b0e9e4c7b11", "/scim/v2/Users/0b3a2c1e", "/scim/v2/Groups/0b3a2c1e"} {
			r.do("GET", p, nil).wantError(t, 404, "")
		}
		// *_endpoint_methods: discovery endpoints answer only GET.
		for _, p := range []string{"/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/Schemas"} {
			for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				r.do(m, p, nil).wantError(t, 405, "")
			}
		}
		// core_schemas_validation (not run by scim2-tester's check_server) wants the schemas of
		// ServiceProviderConfig, ResourceType and Schema listed at /Schemas. RFC 7644 §4 has
		// /Schemas describe "resource schemas", and RFC 7643 §8.7.2 prints those three as a
		// representation, not as something to serve: Roster serves its resource schemas only.
		if got := r.do("GET", "/scim/v2/Schemas", nil); got.total() != 3 {
			t.Errorf("Schemas: %d", got.total())
		}
	})
}

// TestSchemasSelfConsistent checks the whole /Schemas document against RFC 7643 §7 and
// §2.3: every attribute has each characteristic the RFC requires, with an allowed value, a
// reference says what it references, a complex attribute has sub-attributes and they have
// none; and ResourceTypes name schemas that are served.
func TestSchemasSelfConsistent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		doc := r.do("GET", "/scim/v2/Schemas", nil).want(t, 200)
		list, _ := doc.get("Resources").([]any)
		if len(list) == 0 || doc.total() != len(list) {
			t.Fatalf("Schemas: %s", doc.Raw)
		}
		types := map[string]bool{}
		for _, rt := range r.do("GET", "/scim/v2/ResourceTypes", nil).want(t, 200).get("Resources").([]any) {
			types[rt.(map[string]any)["name"].(string)] = true
		}
		nameRE := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
		oneOf := func(v any, allowed ...string) bool { s, ok := v.(string); return ok && slices.Contains(allowed, s) }
		var check func(where string, attrs []any, depth int)
		check = func(where string, attrs []any, depth int) {
			seen := map[string]bool{}
			for _, x := range attrs {
				a, ok := x.(map[string]any)
				if !ok {
					t.Errorf("%s: attribute is not an object: %v", where, x)
					continue
				}
				name, _ := a["name"].(string)
				at := where + "." + name
				if !nameRE.MatchString(name) && name != "$ref" {
					t.Errorf("%s: bad name", at)
				}
				if seen[strings.ToLower(name)] {
					t.Errorf("%s: defined twice", at)
				}
				seen[strings.ToLower(name)] = true
				for _, k := range []string{"multiValued", "required", "caseExact"} {
					if _, ok := a[k].(bool); !ok {
						t.Errorf("%s: %s must be a boolean, is %#v", at, k, a[k])
					}
				}
				typ := a["type"]
				if !oneOf(typ, "string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex") {
					t.Errorf("%s: type %#v", at, typ)
				}
				if !oneOf(a["mutability"], "readOnly", "readWrite", "immutable", "writeOnly") {
					t.Errorf("%s: mutability %#v", at, a["mutability"])
				}
				if !oneOf(a["returned"], "always", "never", "default", "request") {
					t.Errorf("%s: returned %#v", at, a["returned"])
				}
				if !oneOf(a["uniqueness"], "none", "server", "global") {
					t.Errorf("%s: uniqueness %#v", at, a["uniqueness"])
				}
				if a["mutability"] == "writeOnly" && a["returned"] != "never" {
					t.Errorf("%s: a writeOnly attribute must be returned never", at)
				}
				if a["required"] == true && a["mutability"] == "readOnly" {
					t.Errorf("%s: required and readOnly", at)
				}
				refs, _ := a["referenceTypes"].([]any)
				if typ == "reference" {
					// RFC 7643 §7: referenceTypes is required of a reference: a resource type
					// name, "external" or "uri" (this is what stopped scim2-tester: photos.value).
					if len(refs) == 0 {
						t.Errorf("%s: a reference without referenceTypes", at)
					}
					for _, rt := range refs {
						if s, _ := rt.(string); !types[s] && s != "external" && s != "uri" {
							t.Errorf("%s: referenceTypes %v names no resource type", at, rt)
						}
					}
				} else if refs != nil {
					t.Errorf("%s: referenceTypes on a %v", at, typ)
				}
				if cv, ok := a["canonicalValues"]; ok && (typ != "string" || len(cv.([]any)) == 0) {
					t.Errorf("%s: canonicalValues %v on a %v", at, cv, typ)
				}
				subs, _ := a["subAttributes"].([]any)
				switch {
				case typ == "complex" && depth > 0:
					t.Errorf("%s: a complex sub-attribute (RFC 7643 §2.3.8)", at)
				case typ == "complex" && len(subs) == 0:
					t.Errorf("%s: a complex attribute without subAttributes", at)
				case typ != "complex" && a["subAttributes"] != nil:
					t.Errorf("%s: subAttributes on a %v", at, typ)
				}
				check(at, subs, depth+1)
			}
		}
		ids := map[string]bool{}
		for _, x := range list {
			s := x.(map[string]any)
			id, _ := s["id"].(string)
			ids[id] = true
			if !strings.HasPrefix(id, "urn:") || s["name"] == "" || s["name"] == nil {
				t.Errorf("schema %q: id and name", id)
			}
			if meta, _ := s["meta"].(map[string]any); meta["resourceType"] != "Schema" || meta["location"] == nil {
				t.Errorf("schema %s: meta %v", id, s["meta"])
			}
			attrs, _ := s["attributes"].([]any)
			if len(attrs) == 0 {
				t.Errorf("schema %s has no attributes", id)
			}
			check(id, attrs, 0)
		}
		for _, k := range discover(t, r) {
			for _, s := range append([]string{k.Schema}, k.Extensions...) {
				if !ids[s] {
					t.Errorf("resource type %s names schema %s, not served", k.Name, s)
				}
			}
		}

		// What /Schemas says is true: a resource with its required attributes only is
		// created (a User with a userName alone), and each required one is needed.
		g := &gen{t: t, r: r, rnd: rand.New(rand.NewPCG(1, 2)), kinds: discover(t, r)}
		for _, k := range g.kinds {
			full := g.create(k, false)
			for _, f := range k.Fields {
				if f.Attr.Required {
					if f.get(full.Body) == nil {
						t.Errorf("%s: required %s not returned", k.Name, f.path())
					}
					b := g.body(k, false)
					delete(b, f.Attr.Name)
					r.do("POST", "/scim/v2"+k.Endpoint, b).wantError(t, 400, "invalidValue")
				}
				if f.Attr.Returned == "never" && f.get(full.Body) != nil {
					t.Errorf("%s: %s is returned", k.Name, f.path())
				}
			}
		}
	})
}

// TestConformanceCRUD: object_creation, object_query, object_query_without_id,
// object_query_with_attributes, object_list_with_attributes, search_with_attributes,
// object_replacement and object_deletion, for each resource type.
func TestConformanceCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		g := &gen{t: t, r: r, rnd: rand.New(rand.NewPCG(3, 4)), kinds: discover(t, r)}
		for _, name := range []string{"User", "Group"} {
			k := g.kinds[name]
			base := "/scim/v2" + k.Endpoint
			// Create with the required attributes, read it back, find it in the list.
			id := g.create(k, false).str("id")
			if got := r.do("GET", base+"/"+id, nil).want(t, 200); got.str("id") != id || got.str("meta.resourceType") != name {
				t.Errorf("%s: GET: %s", name, got.Raw)
			}
			found := false
			for _, x := range r.do("GET", base, nil).want(t, 200).get("Resources").([]any) {
				found = found || x.(map[string]any)["id"] == id
			}
			if !found {
				t.Errorf("%s: not in the list", name)
			}

			// Attribute selection, on every attribute scim2-tester may pick (it takes the
			// first two that are returned by default, writable and not required).
			created := g.create(k, true)
			full := created.Body
			id = created.str("id")
			for _, f := range k.Fields {
				if f.Attr.Returned != "default" || f.Attr.Mutability == "readOnly" || f.Attr.Required {
					continue
				}
				if f.get(full) == nil {
					t.Errorf("%s: %s written at creation, not returned: %s", name, f.path(), created.Raw)
					continue
				}
				q := url.QueryEscape(f.path())
				views := map[string]func(param string) map[string]any{
					"GET /" + name + "/id": func(p string) map[string]any {
						return r.do("GET", base+"/"+id+"?"+p, nil).want(t, 200).Body
					},
					"GET /" + name: func(p string) map[string]any {
						return findID(r.do("GET", base+"?"+p, nil).want(t, 200), id)
					},
					"POST /.search": func(p string) map[string]any {
						k, v, _ := strings.Cut(p, "=")
						v, _ = url.QueryUnescape(v)
						return findID(r.do("POST", "/scim/v2/.search", map[string]any{
							"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, k: []any{v}}).want(t, 200), id)
					},
				}
				for view, get := range views {
					if res := get("attributes=" + q); res == nil || f.get(res) == nil || res["id"] != id {
						t.Errorf("%s attributes=%s: %v", view, f.path(), res)
					} else if len(res) > 3 {
						t.Errorf("%s attributes=%s: more than asked: %v", view, f.path(), res)
					}
					if res := get("excludedAttributes=" + q); res == nil || f.get(res) != nil || res["id"] != id {
						t.Errorf("%s excludedAttributes=%s: %v", view, f.path(), res)
					}
				}
			}

			// Replace: every writable attribute new (userName and displayName too).
			base2 := g.create(k, false)
			put := g.body(k, true)
			put["id"] = base2.str("id")
			got := r.do("PUT", base+"/"+base2.str("id"), put).want(t, 200)
			for _, f := range k.Fields {
				if w := f.get(put); w != nil && f.Attr.writable() && f.Attr.Mutability != "writeOnly" && !same(f.Attr, w, f.get(got.Body)) {
					t.Errorf("%s PUT %s: sent %v, got %v", name, f.path(), w, f.get(got.Body))
				}
			}

			// Delete, then it is gone.
			r.do("DELETE", base+"/"+id, nil).want(t, 204)
			r.do("GET", base+"/"+id, nil).wantError(t, 404, "")
		}
	})
}

func findID(p *resp, id string) map[string]any {
	list, _ := p.get("Resources").([]any)
	for _, x := range list {
		if m := x.(map[string]any); m["id"] == id {
			return m
		}
	}
	return nil
}

// TestConformancePatch: check_add_attribute, check_replace_attribute and
// check_remove_attribute, on every top-level attribute that is not required (core, common and
// extension), as scim2-tester does them: add and replace on a resource made with its required
// attributes, remove on one made with every attribute.
func TestConformancePatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		r := newRig(t, db)
		g := &gen{t: t, r: r, rnd: rand.New(rand.NewPCG(5, 6)), kinds: discover(t, r)}
		for _, name := range []string{"User", "Group"} {
			k := g.kinds[name]
			base := "/scim/v2" + k.Endpoint
			// after runs a PATCH and returns the resource as the response gives it (users: 200
			// with the resource) and as a GET then reads it (groups answer 204).
			after := func(id string, o map[string]any) []map[string]any {
				t.Helper()
				p := r.do("PATCH", base+"/"+id, patch(o))
				if p.Status != 200 && p.Status != 204 {
					t.Fatalf("%s PATCH %v: %d %s", name, o, p.Status, p.Raw)
				}
				out := []map[string]any{r.do("GET", base+"/"+id, nil).want(t, 200).Body}
				if p.Status == 200 {
					out = append(out, p.Body)
				}
				return out
			}
			for _, o := range []string{"add", "replace"} {
				id := g.create(k, false).str("id")
				for _, f := range k.Fields {
					if f.Attr.Required || !f.Attr.writable() {
						continue
					}
					v := g.value(f.Attr, name+"."+f.path())
					sent := v
					if f.Whole {
						// scim2-tester sends an extension with its schemas inside.
						sent = maps.Clone(v.(map[string]any))
						sent.(map[string]any)["schemas"] = []any{f.path()}
					}
					for _, res := range after(id, op(o, f.path(), sent)) {
						got := f.get(res)
						if f.Attr.Mutability == "writeOnly" {
							if got != nil {
								t.Errorf("%s %s %s: a writeOnly attribute is returned: %v", name, o, f.path(), got)
							}
						} else if !same(f.Attr, v, got) {
							t.Errorf("%s %s %s: sent %v, got %v", name, o, f.path(), v, got)
						}
					}
				}
			}
			full := g.create(k, true)
			for _, f := range k.Fields {
				if f.Attr.Required || (f.Attr.Mutability != "readWrite" && f.Attr.Mutability != "writeOnly") || f.get(full.Body) == nil {
					continue
				}
				for _, res := range after(full.str("id"), op("remove", f.path(), nil)) {
					got := f.get(res)
					if f.path() == "active" {
						// scim2-tester wants every removed attribute gone. An account is active
						// or suspended, and SCIM shows which: removing active leaves the status
						// as it is (as a PUT without active does), and active is still shown.
						if got == nil {
							t.Errorf("%s remove active: active is no longer shown", name)
						}
						continue
					}
					if got != nil {
						t.Errorf("%s remove %s: still %v", name, f.path(), got)
					}
				}
			}
		}
	})
}
