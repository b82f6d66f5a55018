package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"roster/internal/account"
	"roster/internal/errs"
)

// A User resource and Roster's account: what a resource asks of the account (names, address,
// language, status), what SCIM keeps beside it (userRecord), and the resource shown back.

// userRow is an account as SCIM sees it.
type userRow struct {
	ID                   int64
	Email, First, Last   string
	Status               string
	Created, Updated     int64
	UserName, ExternalID string
	Doc                  string
	Version, Scope       int64
}

func (u *userRow) etag() string { return fmt.Sprintf(`W/"%d-%d"`, u.Version, u.Updated) }

// object is the canonical resource without id, meta and groups: what PATCH and PUT start from.
// It is what SCIM last wrote, with the account's status as it is now (an administrator may
// have suspended it since): SCIM shows, filters and changes its own view, and Roster's
// columns follow each change it makes.
func (u *userRow) object() object {
	m := object{}
	if err := json.Unmarshal([]byte(u.Doc), &m); err != nil || m == nil {
		m = object{}
	}
	m["userName"] = u.UserName
	if u.ExternalID != "" {
		m["externalId"] = u.ExternalID
	}
	m["active"] = u.Status == account.StatusActive
	return m
}

// groupRef is one SCIM group an account belongs to.
type groupRef struct {
	ID   int64
	Name string
}

// resource is the full SCIM representation.
func (s *Service) userResource(u *userRow, groups []groupRef) object {
	m := u.object()
	id := strconv.FormatInt(u.ID, 10)
	m["id"] = id
	m["schemas"] = usersType.schemaIDs(m[EnterpriseSchema] != nil)
	if len(groups) > 0 {
		list := make([]any, len(groups))
		for i, g := range groups {
			gid := strconv.FormatInt(g.ID, 10)
			list[i] = object{"value": gid, "display": g.Name, "$ref": s.location("/Groups", gid), "type": "direct"}
		}
		m["groups"] = list
	}
	m["meta"] = object{"resourceType": "User", "created": rfc3339(u.Created), "lastModified": rfc3339(u.Updated),
		"location": s.location("/Users", id), "version": u.etag()}
	return m
}

// userRecord is what a canonical User resource writes: Roster's columns, the filter columns
// and the document.
type userRecord struct {
	UserName, ExternalID, Given, Family, Email, Language string
	Active, ActiveSet                                    bool
	Cols                                                 []any // the scim_users columns of userCols, in order
	Values                                               []valueRow
	Doc                                                  string
}

type valueRow struct {
	Attr, Type, ValueNorm, Display string
	Primary                        bool
}

// userCols are the scim_users columns copied from the document, with their paths.
// They are lower-cased, except the case-exact ones (RFC 7643 caseExact).
var userCols = []struct {
	col, path string
	exact     bool
}{
	{"given_name", "name.givenName", false}, {"family_name", "name.familyName", false},
	{"display_name", "displayName", false}, {"nick_name", "nickName", false}, {"title", "title", false},
	{"user_type", "userType", false}, {"preferred_language", "preferredLanguage", false}, {"locale", "locale", false},
	{"timezone", "timezone", false}, {"employee_number", EnterpriseSchema + ":employeeNumber", false},
	{"cost_center", EnterpriseSchema + ":costCenter", false}, {"organization", EnterpriseSchema + ":organization", false},
	{"division", EnterpriseSchema + ":division", false}, {"department", EnterpriseSchema + ":department", false},
	{"manager_id", EnterpriseSchema + ":manager.value", true},
}

// getString reads a string at a canonical path ("name.givenName", "URN:attr.sub").
func getString(m object, path string) string {
	if strings.HasPrefix(path, EnterpriseSchema+":") {
		m, _ = m[EnterpriseSchema].(object)
		path = strings.TrimPrefix(path, EnterpriseSchema+":")
	}
	name, sub, hasSub := strings.Cut(path, ".")
	v := m[name]
	if hasSub {
		o, _ := v.(object)
		v = o[sub]
	}
	s, _ := v.(string)
	return s
}

// recordOf derives the record of a canonical User. Errors: invalidValue for a missing
// userName.
func recordOf(m object) (*userRecord, error) {
	r := &userRecord{UserName: strings.TrimSpace(getString(m, "userName")), ExternalID: getString(m, "externalId")}
	if r.UserName == "" {
		return nil, invalidValue("userName is required")
	}
	r.Given, r.Family = rosterNames(m, r.UserName)
	if b, ok := m["active"].(bool); ok {
		r.Active, r.ActiveSet = b, true
	}
	for _, lang := range []string{getString(m, "preferredLanguage"), getString(m, "locale")} {
		if l := strings.ToLower(lang); len(l) >= 2 && (l[:2] == "en" || l[:2] == "fr") && (len(l) == 2 || l[2] == '-' || l[2] == '_') {
			r.Language = l[:2]
			break
		}
	}
	for _, c := range userCols {
		v := getString(m, c.path)
		if !c.exact {
			v = strings.ToLower(v)
		}
		r.Cols = append(r.Cols, v)
	}
	// The delivery address: the primary email, else the first work one, else the first.
	emails, _ := m["emails"].([]any)
	bestRank := 0
	for _, e := range emails {
		eo, _ := e.(object)
		v := strings.TrimSpace(getString(eo, "value"))
		rank := 1
		switch {
		case v == "":
			continue
		case eo["primary"] == true:
			rank = 3
		case strings.EqualFold(getString(eo, "type"), "work"):
			rank = 2
		}
		if rank > bestRank {
			r.Email, bestRank = v, rank
		}
	}
	for _, attr := range []string{"emails", "phoneNumbers"} {
		list, _ := m[attr].([]any)
		for _, e := range list {
			eo, _ := e.(object)
			r.Values = append(r.Values, valueRow{Attr: attr, Type: strings.ToLower(getString(eo, "type")),
				ValueNorm: strings.ToLower(getString(eo, "value")), Display: strings.ToLower(getString(eo, "display")),
				Primary: eo["primary"] == true})
		}
	}
	doc := object{}
	for k, v := range m {
		switch k {
		case "id", "meta", "groups", "active", "userName", "externalId", "schemas":
		default:
			doc[k] = v
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, errs.Wrap(err, "scim: user document")
	}
	r.Doc = string(b)
	return r, nil
}

// rosterNames are the first and last names of the Roster account, which requires both (its
// pages, lists and searches show them) while SCIM requires only userName. They come from
// name.givenName and name.familyName; a missing one from a displayName (else name.formatted)
// of two words or more: the first word is the given name, the rest the family name. A single
// word left (Entra's "Printer", a nickName, else the userName before any "@") stands for
// whichever names are missing. The SCIM resource keeps what the provider sent: a name
// derived here is not shown at /Users.
func rosterNames(m object, userName string) (given, family string) {
	given = strings.TrimSpace(getString(m, "name.givenName"))
	family = strings.TrimSpace(getString(m, "name.familyName"))
	if given != "" && family != "" {
		return given, family
	}
	var word string
	for _, src := range []string{getString(m, "displayName"), getString(m, "name.formatted")} {
		full := strings.Fields(src)
		if len(full) > 1 {
			if given == "" {
				given = full[0]
			}
			if family == "" {
				family = strings.Join(full[1:], " ")
			}
			return given, family
		}
		if len(full) == 1 && word == "" {
			word = full[0]
		}
	}
	if word == "" {
		word = strings.TrimSpace(getString(m, "nickName"))
	}
	if word == "" {
		word, _, _ = strings.Cut(userName, "@")
		if word == "" {
			word = userName
		}
	}
	if given == "" {
		given = word
	}
	if family == "" {
		family = word
	}
	return given, family
}

// newUser is the Roster account a record asks for; its Validate checks the fields Roster
// cares about (email syntax, username length).
func (s *Service) newUser(r *userRecord) account.NewUser {
	return account.NewUser{Username: strings.ToLower(r.UserName), Email: r.Email, FirstName: r.Given,
		LastName: r.Family, Language: r.Language, Auth: s.cfg.Auth}
}

// validate normalises in (account.NewUser.Validate: the username's stored form, names
// trimmed) and reports Roster's field errors in SCIM's terms.
func validate(in *account.NewUser) error {
	if err := in.Validate(); err != nil {
		e := errs.As(err)
		names := map[string]string{"email": "emails", "first_name": "name.givenName", "last_name": "name.familyName",
			"username": "userName", "language": "preferredLanguage"}
		var parts []string
		for _, f := range e.Fields {
			n := names[f.Field]
			if n == "" {
				n = f.Field
			}
			parts = append(parts, n+": "+f.Message)
		}
		if len(parts) == 0 {
			parts = []string{e.Message}
		}
		return invalidValue("%s", strings.Join(parts, "; "))
	}
	return nil
}

// changedKeys lists the top-level attributes that differ, for the audit log.
func changedKeys(a, b object) []string {
	var out []string
	for k, v := range b {
		if !jsonEqual(a[k], v) {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}
