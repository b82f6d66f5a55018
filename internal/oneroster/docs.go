package oneroster

import (
	"context"
	"strconv"
	"time"
)

// The documents of each entity, per version: the required fields of the OneRoster 1.1 and
// 1.2 rostering information models, and the optional ones Roster has.

func stamp(r row, col string) any {
	n, ok := r.num(col)
	if !ok {
		return nil
	}
	return time.Unix(n, 0).UTC().Format("2006-01-02T15:04:05.000Z")
}

func day(r row, col string) any {
	n, ok := r.num(col)
	if !ok {
		return nil
	}
	return time.Unix(n, 0).UTC().Format("2006-01-02")
}

// ref is a GUIDRef: where to read the object, its sourcedId and its type.
func (q *req) ref(collection, typ, sid string) map[string]any {
	return map[string]any{"href": q.base + "/" + collection + "/" + sid, "sourcedId": sid, "type": typ}
}

func (q *req) orgRef(sid string) map[string]any { return q.ref("orgs", "org", sid) }

func groupSID(id int64) string {
	if id == 0 {
		return rootOrg
	}
	return "group-" + strconv.FormatInt(id, 10)
}

var docFieldSets = map[string][]string{
	"orgs":             {"name", "type", "identifier", "parent", "children"},
	"academicSessions": {"title", "startDate", "endDate", "type", "parent", "children", "schoolYear", "org"},
	"courses":          {"title", "schoolYear", "courseCode", "grades", "subjects", "org", "subjectCodes"},
	"classes":          {"title", "classCode", "classType", "location", "grades", "subjects", "course", "school", "terms", "subjectCodes", "periods"},
	"enrollments":      {"user", "class", "school", "role", "primary", "beginDate", "endDate"},
	"users1":           {"username", "userIds", "enabledUser", "givenName", "familyName", "middleName", "role", "identifier", "email", "sms", "phone", "agents", "orgs", "grades"},
	"users2":           {"userMasterIdentifier", "username", "userIds", "enabledUser", "givenName", "familyName", "middleName", "preferredFirstName", "roles", "primaryOrg", "identifier", "email", "sms", "phone", "agents", "grades"},
}

// docFields are the fields a document of e has, for the fields parameter.
func (q *req) docFields(e *entity) map[string]bool {
	key := e.plural
	if e == users {
		key += strconv.Itoa(q.v)
	}
	out := map[string]bool{"sourcedId": true, "status": true, "dateLastModified": true, "metadata": true}
	for _, f := range docFieldSets[key] {
		out[f] = true
	}
	return out
}

// docs builds the documents of rows of e.
func (q *req) docs(ctx context.Context, e *entity, rows []row) ([]any, error) {
	out := make([]any, len(rows))
	var extra map[int64][]int64
	if len(rows) > 0 && e == orgs {
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i], _ = r.num("k")
		}
		var err error
		if extra, err = orgChildren(ctx, q.s.db, ids); err != nil {
			return nil, err
		}
	}
	for i, r := range rows {
		if e == users {
			orgs, _ := r["orgs"].([]int64) // read with the row (userRows)
			out[i] = q.userDoc(r, orgs)
			continue
		}
		d := map[string]any{"sourcedId": r.str("sid"), "status": r.str("status"), "dateLastModified": stamp(r, "dlm")}
		k, _ := r.num("k")
		switch e {
		case orgs:
			d["name"] = r.str("name")
			d["type"] = r.str("type")
			d["identifier"] = r.str("identifier")
			if p := r.str("parent"); p != "" {
				d["parent"] = q.orgRef(p)
			}
			children := []any{}
			for _, c := range extra[k] {
				children = append(children, q.orgRef(groupSID(c)))
			}
			d["children"] = children
		case q.s.sessions:
			d["title"] = r.str("title")
			d["type"] = r.str("type")
			d["startDate"] = day(r, "start_at")
			d["endDate"] = day(r, "end_at")
			d["schoolYear"] = r.str("school_year")
			d["children"] = []any{}
			if q.v == 2 { // 1.2 names the org whose calendar it is
				d["org"] = q.orgRef(groupSID(q.sc.group))
			}
		case courses:
			d["title"] = r.str("title")
			d["courseCode"] = r.str("code")
			d["org"] = q.orgRef(r.str("school"))
			d["grades"] = []any{}
			d["subjects"] = []any{}
		case classes:
			d["title"] = r.str("title")
			d["classCode"] = r.str("code")
			d["classType"] = r.str("class_type")
			d["course"] = q.ref("courses", "course", r.str("course"))
			d["school"] = q.orgRef(r.str("school"))
			d["terms"] = []any{q.ref("academicSessions", "academicSession", r.str("term"))}
			d["grades"] = []any{}
			d["subjects"] = []any{}
			d["periods"] = []any{}
		case enrollments:
			d["user"] = q.ref("users", "user", r.str("usr"))
			d["class"] = q.ref("classes", "class", r.str("class"))
			d["school"] = q.orgRef(r.str("school"))
			d["role"] = r.str("role")
			d["primary"] = r.str("is_primary")
			if b := day(r, "begin_at"); b != nil {
				d["beginDate"] = b
			}
			if b := day(r, "end_at"); b != nil {
				d["endDate"] = b
			}
		}
		out[i] = d
	}
	return out, nil
}

// userJSON is a user document (users are the big collection: a struct encodes several times
// faster than a map). Fields of one version only are empty in the other and left out.
type userJSON struct {
	SourcedID            string     `json:"sourcedId"`
	Status               string     `json:"status"`
	DateLastModified     any        `json:"dateLastModified"`
	UserMasterIdentifier string     `json:"userMasterIdentifier,omitempty"` // 1.2
	Username             string     `json:"username"`
	UserIDs              []idJSON   `json:"userIds"`
	EnabledUser          string     `json:"enabledUser"`
	GivenName            string     `json:"givenName"`
	FamilyName           string     `json:"familyName"`
	MiddleName           string     `json:"middleName"`
	PreferredFirstName   string     `json:"preferredFirstName,omitempty"` // 1.2
	Role                 string     `json:"role,omitempty"`               // 1.1
	Roles                []roleJSON `json:"roles,omitempty"`              // 1.2
	PrimaryOrg           *refJSON   `json:"primaryOrg,omitempty"`         // 1.2
	Identifier           string     `json:"identifier"`
	Email                string     `json:"email"`
	SMS                  string     `json:"sms"`
	Phone                string     `json:"phone"`
	Agents               []refJSON  `json:"agents"`
	Orgs                 []refJSON  `json:"orgs,omitempty"` // 1.1
	Grades               []string   `json:"grades"`
}

type refJSON struct {
	Href      string `json:"href"`
	SourcedID string `json:"sourcedId"`
	Type      string `json:"type"`
}

type idJSON struct {
	Type       string `json:"type"`
	Identifier string `json:"identifier"`
}

type roleJSON struct {
	RoleType string  `json:"roleType"`
	Role     string  `json:"role"`
	Org      refJSON `json:"org"`
}

func (q *req) orgRefJSON(sid string) refJSON {
	return refJSON{Href: q.base + "/orgs/" + sid, SourcedID: sid, Type: "org"}
}

func (q *req) userDoc(r row, groups []int64) *userJSON {
	var orgSIDs []string
	for _, g := range groups {
		orgSIDs = append(orgSIDs, groupSID(g))
	}
	if len(orgSIDs) == 0 {
		// A platform-wide client: people in no group belong to the platform.
		orgSIDs = []string{groupSID(q.sc.group)}
	}
	d := &userJSON{SourcedID: r.str("sid"), Status: r.str("status"), DateLastModified: stamp(r, "dlm"),
		Username: r.str("username"), UserIDs: []idJSON{{"roster", r.str("username")}}, EnabledUser: r.str("enabled"),
		GivenName: r.str("given_name"), FamilyName: r.str("family_name"), Identifier: r.str("identifier"), Email: r.str("email"),
		Agents: []refJSON{}, Grades: []string{}}
	if d.Identifier != "" {
		d.UserIDs = append(d.UserIDs, idJSON{"idnumber", d.Identifier})
	}
	role := r.str("role")
	if q.v == 1 {
		d.Role = role
		for _, s := range orgSIDs {
			d.Orgs = append(d.Orgs, q.orgRefJSON(s))
		}
		return d
	}
	for i, s := range orgSIDs {
		rt := "primary"
		if i > 0 {
			rt = "secondary"
		}
		d.Roles = append(d.Roles, roleJSON{RoleType: rt, Role: role, Org: q.orgRefJSON(s)})
	}
	p := q.orgRefJSON(orgSIDs[0])
	d.PrimaryOrg = &p
	d.UserMasterIdentifier = d.SourcedID
	d.PreferredFirstName = d.GivenName
	return d
}
