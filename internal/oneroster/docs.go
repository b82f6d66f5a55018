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
	"academicSessions": {"title", "startDate", "endDate", "type", "parent", "children", "schoolYear"},
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
func (q *req) docs(ctx context.Context, e *entity, rows []row) ([]map[string]any, error) {
	out := make([]map[string]any, len(rows))
	var extra map[int64][]int64
	if len(rows) > 0 && (e == users || e == orgs) {
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i], _ = r.num("k")
		}
		var err error
		if e == users {
			extra, err = userOrgs(ctx, q.s.db, q.sc, ids)
		} else {
			extra, err = orgChildren(ctx, q.s.db, ids)
		}
		if err != nil {
			return nil, err
		}
	}
	for i, r := range rows {
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
		case users:
			q.userDoc(d, r, extra[k])
		}
		out[i] = d
	}
	return out, nil
}

func (q *req) userDoc(d map[string]any, r row, groups []int64) {
	var orgSIDs []string
	for _, g := range groups {
		orgSIDs = append(orgSIDs, groupSID(g))
	}
	if len(orgSIDs) == 0 {
		// A platform-wide client: people in no group belong to the platform.
		orgSIDs = []string{groupSID(q.sc.group)}
	}
	userIDs := []any{map[string]any{"type": "roster", "identifier": r.str("username")}}
	if id := r.str("identifier"); id != "" {
		userIDs = append(userIDs, map[string]any{"type": "idnumber", "identifier": id})
	}
	d["username"] = r.str("username")
	d["userIds"] = userIDs
	d["enabledUser"] = r.str("enabled")
	d["givenName"] = r.str("given_name")
	d["familyName"] = r.str("family_name")
	d["middleName"] = ""
	d["identifier"] = r.str("identifier")
	d["email"] = r.str("email")
	d["sms"] = ""
	d["phone"] = ""
	d["agents"] = []any{}
	d["grades"] = []any{}
	role := r.str("role")
	if q.v == 1 {
		d["role"] = role
		os := make([]any, len(orgSIDs))
		for i, s := range orgSIDs {
			os[i] = q.orgRef(s)
		}
		d["orgs"] = os
		return
	}
	roles := make([]any, len(orgSIDs))
	for i, s := range orgSIDs {
		rt := "primary"
		if i > 0 {
			rt = "secondary"
		}
		roles[i] = map[string]any{"roleType": rt, "role": role, "org": q.orgRef(s)}
	}
	d["roles"] = roles
	d["primaryOrg"] = q.orgRef(orgSIDs[0])
	d["userMasterIdentifier"] = r.str("sid")
	d["preferredFirstName"] = r.str("given_name")
}
