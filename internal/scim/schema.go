package scim

import "strings"

// The schema URNs Roster speaks (RFC 7643 §8.7, RFC 7644 §3).
const (
	UserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListSchema       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchSchema     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	ErrorSchema      = "urn:ietf:params:scim:api:messages:2.0:Error"
	// EntraGroupSchema is a schema older Microsoft Entra ID provisioning jobs add to the
	// groups they create; it defines nothing Roster keeps, and is accepted and ignored.
	EntraGroupSchema = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
	spcSchema        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	rtSchema         = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Attr describes one attribute (RFC 7643 §7). The same definitions validate requests,
// canonicalise attribute names (which are case-insensitive) and are served at /Schemas.
type Attr struct {
	Name            string   `json:"name"`
	Type            string   `json:"type"` // string, boolean, complex, reference, dateTime, binary
	MultiValued     bool     `json:"multiValued"`
	Description     string   `json:"description,omitempty"`
	Required        bool     `json:"required"`
	CaseExact       bool     `json:"caseExact"`
	Mutability      string   `json:"mutability"` // readWrite, readOnly, immutable, writeOnly
	Returned        string   `json:"returned"`   // default, always, never, request
	Uniqueness      string   `json:"uniqueness"` // none, server, global
	CanonicalValues []string `json:"canonicalValues,omitempty"`
	ReferenceTypes  []string `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attr  `json:"subAttributes,omitempty"`
}

// Schema is a set of attributes under one URN.
type Schema struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Attributes  []*Attr `json:"attributes"`
}

func attr(name, typ string, opts ...func(*Attr)) *Attr {
	a := &Attr{Name: name, Type: typ, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
	for _, o := range opts {
		o(a)
	}
	return a
}

func str(name string, opts ...func(*Attr)) *Attr { return attr(name, "string", opts...) }

func complexAttr(name string, subs []*Attr, opts ...func(*Attr)) *Attr {
	a := attr(name, "complex", opts...)
	a.SubAttributes = subs
	return a
}

func multi(a *Attr)                     { a.MultiValued = true }
func required(a *Attr)                  { a.Required = true }
func caseExact(a *Attr)                 { a.CaseExact = true }
func readOnly(a *Attr)                  { a.Mutability = "readOnly" }
func immutable(a *Attr)                 { a.Mutability = "immutable" }
func writeOnly(a *Attr)                 { a.Mutability = "writeOnly"; a.Returned = "never" }
func serverUnique(a *Attr)              { a.Uniqueness = "server" }
func ref(types ...string) func(*Attr)   { return func(a *Attr) { a.ReferenceTypes = types } }
func canonical(v ...string) func(*Attr) { return func(a *Attr) { a.CanonicalValues = v } }

// multiValue is the usual value/display/type/primary shape of a multi-valued attribute.
// A value of type reference is a URI (RFC 7643 §8.7.1 gives photos the referenceTypes
// "external"), as every reference carries its referenceTypes.
func multiValue(name, valueType string, types ...string) *Attr {
	value := attr("value", valueType)
	if valueType == "reference" {
		value.ReferenceTypes = []string{"external"}
	}
	return complexAttr(name, []*Attr{value, str("display"), str("type", canonical(types...)),
		attr("primary", "boolean")}, multi)
}

var userCore = &Schema{ID: UserSchema, Name: "User", Description: "User Account", Attributes: []*Attr{
	str("userName", required, serverUnique),
	complexAttr("name", []*Attr{str("formatted"), str("familyName"), str("givenName"), str("middleName"),
		str("honorificPrefix"), str("honorificSuffix")}),
	str("displayName"), str("nickName"), attr("profileUrl", "reference", ref("external")), str("title"),
	str("userType"), str("preferredLanguage"), str("locale"), str("timezone"),
	attr("active", "boolean"),
	str("password", writeOnly),
	multiValue("emails", "string", "work", "home", "other"),
	multiValue("phoneNumbers", "string", "work", "home", "mobile", "fax", "pager", "other"),
	multiValue("ims", "string", "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
	multiValue("photos", "reference", "photo", "thumbnail"),
	complexAttr("addresses", []*Attr{str("formatted"), str("streetAddress"), str("locality"), str("region"),
		str("postalCode"), str("country"), str("type", canonical("work", "home", "other")), attr("primary", "boolean")}, multi),
	complexAttr("groups", []*Attr{str("value", readOnly), attr("$ref", "reference", ref("Group"), readOnly),
		str("display", readOnly), str("type", readOnly, canonical("direct", "indirect"))}, multi, readOnly),
	multiValue("entitlements", "string"), multiValue("roles", "string"),
	multiValue("x509Certificates", "binary"),
}}

var enterprise = &Schema{ID: EnterpriseSchema, Name: "EnterpriseUser", Description: "Enterprise User", Attributes: []*Attr{
	str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
	complexAttr("manager", []*Attr{str("value"), attr("$ref", "reference", ref("User")), str("displayName", readOnly)}),
}}

// Members are users only: RFC 7643 lets a group hold groups, but Roster's groups form a tree
// whose private groups (SCIM's) pass no members up, so a group inside a group would change
// nothing there; and neither Entra ID (which does not provision nested groups) nor Okta
// (whose Group Push sends users) sends one. A member of type Group is refused.
var groupCore = &Schema{ID: GroupSchema, Name: "Group", Description: "Group", Attributes: []*Attr{
	str("displayName", required),
	complexAttr("members", []*Attr{str("value", immutable), attr("$ref", "reference", ref("User"), immutable),
		str("display", readOnly), str("type", immutable, canonical("User"))}, multi),
}}

// common are the attributes every resource has (RFC 7643 §3.1); they are not listed in the
// schemas served at /Schemas.
var common = []*Attr{
	str("id", readOnly, caseExact, func(a *Attr) { a.Returned = "always"; a.Uniqueness = "server" }),
	str("externalId", caseExact),
	complexAttr("meta", []*Attr{str("resourceType", readOnly), attr("created", "dateTime", readOnly),
		attr("lastModified", "dateTime", readOnly), attr("location", "reference", ref("uri"), readOnly), str("version", readOnly)}, readOnly),
}

// resourceType ties an endpoint to its schema and extensions.
type resourceType struct {
	Name, Endpoint string
	Core           *Schema
	Extensions     []*Schema
	// Ignored are schema URNs a request may declare (and use as an attribute key) that are
	// accepted and dropped.
	Ignored []string
}

var (
	usersType  = &resourceType{Name: "User", Endpoint: "/Users", Core: userCore, Extensions: []*Schema{enterprise}}
	groupsType = &resourceType{Name: "Group", Endpoint: "/Groups", Core: groupCore, Ignored: []string{EntraGroupSchema}}
)

func findAttr(list []*Attr, name string) *Attr {
	for _, a := range list {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// coreAttr finds a top-level attribute of the core schema or a common one.
func (rt *resourceType) coreAttr(name string) *Attr {
	if a := findAttr(common, name); a != nil {
		return a
	}
	return findAttr(rt.Core.Attributes, name)
}

// extension finds an extension schema by URN, case-insensitively.
func (rt *resourceType) extension(urn string) *Schema {
	for _, s := range rt.Extensions {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}

// ignored reports whether urn is a schema requests may declare and Roster drops.
func (rt *resourceType) ignored(urn string) bool {
	for _, s := range rt.Ignored {
		if strings.EqualFold(s, urn) {
			return true
		}
	}
	return false
}

// schemaIDs lists the URNs a resource of this type declares.
func (rt *resourceType) schemaIDs(withExt bool) []any {
	out := []any{rt.Core.ID}
	if withExt {
		for _, s := range rt.Extensions {
			out = append(out, s.ID)
		}
	}
	return out
}

// target is an attribute path resolved against a resource type: the top-level key of the
// canonical resource (an attribute name, or an extension URN), the attribute, and the
// sub-attribute if any. For an extension attribute, Ext is its schema and Attr lives inside
// resource[Ext.ID].
type target struct {
	Ext  *Schema
	Attr *Attr
	Sub  *Attr
}

// resolve finds what an AttrPath names. A URN may be the core schema's (ignored) or an
// extension's; unknown names give nil.
func (rt *resourceType) resolve(p AttrPath) *target {
	var t target
	switch {
	case p.URN == "" || strings.EqualFold(p.URN, rt.Core.ID):
		t.Attr = rt.coreAttr(p.Name)
	default:
		if t.Ext = rt.extension(p.URN); t.Ext == nil {
			return nil
		}
		t.Attr = findAttr(t.Ext.Attributes, p.Name)
	}
	if t.Attr == nil {
		return nil
	}
	if p.Sub != "" {
		if t.Sub = findAttr(t.Attr.SubAttributes, p.Sub); t.Sub == nil {
			return nil
		}
	}
	return &t
}

// key is the canonical dotted name of a target, as used by the SQL column tables.
func (t *target) key() string {
	s := t.Attr.Name
	if t.Ext != nil {
		s = t.Ext.ID + ":" + s
	}
	if t.Sub != nil {
		s += "." + t.Sub.Name
	}
	return s
}
