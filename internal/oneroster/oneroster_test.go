package oneroster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/oneroster"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// world is a small platform: school A with a sub-group A1, school B; people in each; courses
// linked to A by a group sync (of its learners, enrolled as students when the method is
// added), or with participants in A, or only in B.
type world struct {
	t       *testing.T
	db      *store.DB
	h       http.Handler
	sys     context.Context
	acc     *account.Service
	grp     *group.Service
	crs     *course.Service
	ids     map[string]int64
	tokens  map[string]oneroster.Grant
	version string
}

const scope12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"

func newWorld(t *testing.T, db *store.DB) *world {
	w := &world{t: t, db: db, sys: authz.With(context.Background(), authz.System), ids: map[string]int64{},
		acc: account.NewService(db, account.Config{BaseURL: "http://roster.test"}), grp: group.NewService(db),
		crs: course.NewService(db, course.Config{BaseURL: "http://roster.test"})}
	w.ids["gA"] = w.group("School A", 0)
	w.ids["gA1"] = w.group("Class A1", w.ids["gA"])
	w.ids["gB"] = w.group("School B", 0)
	w.ids["teacher"] = w.user("teacher", "Zola", w.ids["gA"], group.Trainer)
	w.ids["s1"] = w.user("s1", "Adams", w.ids["gA1"], group.Learner)
	w.ids["s2"] = w.user("s2", "Brown", w.ids["gA"], group.Learner)
	w.ids["admin"] = w.user("admin", "Curie", w.ids["gA"], group.UserAdmin)
	w.ids["out"] = w.user("out", "Dupont", w.ids["gB"], group.Learner)
	w.ids["cA"] = w.course("ca", w.ids["gA"], map[string]string{"teacher": "teacher", "s1": "student", "s2": "student", "out": "student"})
	w.ids["cP"] = w.course("cp", 0, map[string]string{"s1": "student"})            // in A by a participant
	w.ids["cB"] = w.course("cb", w.ids["gB"], map[string]string{"out": "student"}) // B only
	w.tokens = map[string]oneroster.Grant{
		"tokA":     {ClientID: "moodle-a", GroupID: w.ids["gA"], Scopes: []string{scope12}},
		"tokAll":   {ClientID: "moodle", GroupID: 0, Scopes: []string{"https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly"}},
		"tokNoScp": {ClientID: "other", GroupID: 0, Scopes: []string{"openid"}},
	}
	verify := func(ctx context.Context, bearer string) (oneroster.Grant, error) {
		g, ok := w.tokens[bearer]
		if !ok {
			return oneroster.Grant{}, errors.New("unknown token")
		}
		return g, nil
	}
	mux := http.NewServeMux()
	oneroster.New(db, verify, nil).Routes(mux)
	w.h = mux
	w.version = oneroster.V1p1
	return w
}

func (w *world) group(name string, parent int64) int64 {
	w.t.Helper()
	return w.groupVis(name, parent, group.Public)
}

func (w *world) groupVis(name string, parent int64, visibility string) int64 {
	w.t.Helper()
	g, err := w.grp.Create(w.sys, group.Group{Name: name, ParentID: parent, Visibility: visibility})
	if err != nil {
		w.t.Fatal(err)
	}
	return g.ID
}

func (w *world) user(login, last string, gid int64, role string) int64 {
	w.t.Helper()
	var id int64
	err := w.db.Tx(w.sys, func(tx *store.Tx) error {
		u, err := w.acc.CreateUser(w.sys, tx, account.NewUser{Username: login, Email: login + "@example.org", FirstName: "F" + login, LastName: last})
		if err != nil {
			return err
		}
		id = u.ID
		return group.AddMemberTx(w.sys, tx, gid, u.ID, role, "")
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *world) course(short string, syncGroup int64, people map[string]string) int64 {
	w.t.Helper()
	c, err := w.crs.Create(w.sys, course.Course{Shortname: short, Fullname: "Course " + short, Visible: true})
	if err != nil {
		w.t.Fatal(err)
	}
	if syncGroup != 0 {
		if _, err := w.crs.AddMethod(w.sys, c.ID, course.Method{Type: course.GroupSync, Role: "student", GroupID: syncGroup, Subgroups: true, GroupRole: group.Learner}); err != nil {
			w.t.Fatal(err)
		}
	}
	for who, role := range people {
		if _, err := w.crs.Enrol(w.sys, c.ID, course.EnrolRequest{UserIDs: []int64{w.ids[who]}, Role: role}); err != nil {
			w.t.Fatal(err)
		}
	}
	return c.ID
}

// sid replaces {name} with the ids of the world.
func (w *world) sid(s string) string {
	for k, v := range w.ids {
		s = strings.ReplaceAll(s, "{"+k+"}", strconv.FormatInt(v, 10))
	}
	return s
}

type answer struct {
	code int
	hdr  http.Header
	doc  map[string]any
}

func (w *world) get(token, path string) answer {
	w.t.Helper()
	path = w.sid(path)
	if !strings.HasPrefix(path, "/ims/") {
		path = w.version + path
	}
	r := httptest.NewRequest("GET", path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	a := answer{code: rec.Code, hdr: rec.Header()}
	if err := json.Unmarshal(rec.Body.Bytes(), &a.doc); err != nil {
		w.t.Fatalf("GET %s: %d, not JSON: %q", path, rec.Code, rec.Body.String())
	}
	return a
}

// must is get with a 200 expected.
func (w *world) must(token, path string) answer {
	w.t.Helper()
	a := w.get(token, path)
	if a.code != http.StatusOK {
		w.t.Fatalf("GET %s: %d %v", w.sid(path), a.code, a.doc)
	}
	return a
}

func list(a answer, key string) []map[string]any {
	var out []map[string]any
	for _, x := range a.doc[key].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func sids(docs []map[string]any) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d["sourcedId"].(string))
	}
	return out
}

// required lists the required fields of each entity in the 1.1 and 1.2 information models.
var required = map[string][]string{
	"org":             {"sourcedId", "status", "dateLastModified", "name", "type"},
	"academicSession": {"sourcedId", "status", "dateLastModified", "title", "startDate", "endDate", "type", "schoolYear"},
	"course":          {"sourcedId", "status", "dateLastModified", "title", "org"},
	"class":           {"sourcedId", "status", "dateLastModified", "title", "classType", "course", "school", "terms"},
	"enrollment":      {"sourcedId", "status", "dateLastModified", "user", "class", "school", "role"},
	"user1":           {"sourcedId", "status", "dateLastModified", "username", "enabledUser", "givenName", "familyName", "role", "orgs"},
	"user2":           {"sourcedId", "status", "dateLastModified", "enabledUser", "givenName", "familyName", "roles"},
}

func (w *world) checkRequired(kind string, d map[string]any) {
	w.t.Helper()
	if kind == "user" {
		kind += map[string]string{oneroster.V1p1: "1", oneroster.V1p2: "2"}[w.version]
	}
	for _, f := range required[kind] {
		v, ok := d[f]
		if !ok || v == nil || v == "" {
			w.t.Errorf("%s %v: required field %s missing", kind, d["sourcedId"], f)
		}
		if ref, isRef := v.(map[string]any); isRef {
			for _, rf := range []string{"href", "sourcedId", "type"} {
				if ref[rf] == nil || ref[rf] == "" {
					w.t.Errorf("%s %v: reference %s has no %s", kind, d["sourcedId"], f, rf)
				}
			}
		}
	}
	if s := d["status"]; s != "active" && s != "tobedeleted" {
		w.t.Errorf("%s %v: status %v", kind, d["sourcedId"], s)
	}
}

// TestMoodleSequence asks, for both versions and both databases, the requests Moodle's
// OneRoster enrolment plugin (enrol_oneroster, full_sync task) makes, in its order: the org
// list, the users (filtered on dateLastModified, paged), then per configured school the
// school, its terms, its classes (filtered), its enrollments, and for each enrollment the
// user and the class, for each class its terms, for each org its parent.
func TestMoodleSequence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w0 := newWorld(t, db)
		for _, v := range []string{oneroster.V1p1, oneroster.V1p2} {
			t.Run(v, func(t *testing.T) {
				w := *w0
				w.t, w.version = t, v
				tok := "tokA"
				school := w.sid("group-{gA}")

				// fetch_organisation_list: GET orgs, paged.
				orgs := list(w.must(tok, "/orgs?offset=0&limit=100"), "orgs")
				if got, want := sids(orgs), []string{school, w.sid("group-{gA1}")}; !slices.Equal(got, want) {
					t.Errorf("orgs = %v, want %v", got, want)
				}
				for _, o := range orgs {
					w.checkRequired("org", o)
					if o["type"] != "school" {
						t.Errorf("org %v type %v", o["sourcedId"], o["type"])
					}
				}
				if orgs[1]["parent"].(map[string]any)["sourcedId"] != school {
					t.Errorf("A1's parent: %v", orgs[1]["parent"])
				}
				if ch := orgs[0]["children"].([]any); len(ch) != 1 || ch[0].(map[string]any)["sourcedId"] != w.sid("group-{gA1}") {
					t.Errorf("A's children: %v", ch)
				}

				// sync_users_in_schools: GET users?filter=dateLastModified>'...', pages of 2.
				var users []map[string]any
				for off := 0; ; off += 2 {
					a := w.must(tok, "/users?offset="+strconv.Itoa(off)+"&limit=2&filter="+url.QueryEscape("dateLastModified>'2020-01-01'"))
					page := list(a, "users")
					users = append(users, page...)
					if a.hdr.Get("X-Total-Count") != "4" {
						t.Errorf("X-Total-Count = %q", a.hdr.Get("X-Total-Count"))
					}
					if len(page) < 2 {
						break
					}
				}
				wantUsers := w.sid("user-{teacher} user-{s1} user-{s2} user-{admin}")
				if got := strings.Join(sids(users), " "); got != wantUsers {
					t.Errorf("users = %s, want %s", got, wantUsers)
				}
				roles := map[string]string{}
				for _, u := range users {
					w.checkRequired("user", u)
					if v == oneroster.V1p1 {
						roles[u["username"].(string)] = u["role"].(string)
						// Moodle keeps the users whose orgs include a configured school.
						if len(u["orgs"].([]any)) == 0 {
							t.Errorf("user %v has no orgs", u["sourcedId"])
						}
					} else {
						r := u["roles"].([]any)[0].(map[string]any)
						roles[u["username"].(string)] = r["role"].(string)
						if r["roleType"] != "primary" || r["org"] == nil {
							t.Errorf("user %v roles %v", u["sourcedId"], r)
						}
					}
				}
				if want := map[string]string{"teacher": "teacher", "s1": "student", "s2": "student", "admin": "administrator"}; fmt.Sprint(roles) != fmt.Sprint(want) {
					t.Errorf("roles = %v, want %v", roles, want)
				}
				if a := w.get(tok, "/users?filter="+url.QueryEscape("dateLastModified>'2999-01-01'")); a.code != 200 || len(list(a, "users")) != 0 {
					t.Errorf("users modified in 2999: %d %v", a.code, a.doc)
				}

				// sync_school: the school, its terms, its classes, its enrollments.
				o := w.must(tok, "/orgs/"+school).doc["org"].(map[string]any)
				w.checkRequired("org", o)
				for _, term := range list(w.must(tok, "/schools/"+school+"/terms"), "academicSessions") {
					w.checkRequired("academicSession", term)
					if term["type"] != "term" || term["schoolYear"] != "2027" || term["startDate"] != "2026-09-01" {
						t.Errorf("term %v", term)
					}
				}
				classes := list(w.must(tok, "/schools/"+school+"/classes?filter="+url.QueryEscape("dateLastModified>'2020-01-01'")), "classes")
				if got, want := sids(classes), []string{w.sid("class-{cA}"), w.sid("class-{cP}")}; !slices.Equal(got, want) {
					t.Errorf("school classes = %v, want %v", got, want)
				}
				for _, c := range classes {
					w.checkRequired("class", c)
					term := c["terms"].([]any)[0].(map[string]any)["sourcedId"].(string)
					w.checkRequired("academicSession", w.must(tok, "/academicSessions/"+term).doc["academicSession"].(map[string]any))
					course := c["course"].(map[string]any)["sourcedId"].(string)
					w.checkRequired("course", w.must(tok, "/courses/"+course).doc["course"].(map[string]any))
				}
				enrols := list(w.must(tok, "/schools/"+school+"/enrollments"), "enrollments")
				var got []string
				for _, e := range enrols {
					w.checkRequired("enrollment", e)
					user := e["user"].(map[string]any)["sourcedId"].(string)
					class := e["class"].(map[string]any)["sourcedId"].(string)
					u := w.must(tok, "/users/"+user).doc["user"].(map[string]any)
					w.checkRequired("user", u)
					w.checkRequired("class", w.must(tok, "/classes/"+class).doc["class"].(map[string]any))
					got = append(got, u["username"].(string)+"/"+strings.TrimPrefix(class, "class-")+"/"+e["role"].(string))
				}
				slices.Sort(got)
				want := []string{w.sid("s1/{cA}/student"), w.sid("s1/{cP}/student"), w.sid("s2/{cA}/student"), w.sid("teacher/{cA}/teacher")}
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("enrollments = %v, want %v (the person of B enrolled in cA is not shown)", got, want)
				}
				// update_or_create_category walks up the parents: A1's parent is A.
				w.must(tok, "/orgs/"+w.sid("group-{gA1}"))

				// The class rosters a tool reads.
				if got := sids(list(w.must(tok, "/classes/class-{cA}/students?sort=familyName"), "users")); !slices.Equal(got, []string{w.sid("user-{s1}"), w.sid("user-{s2}")}) {
					t.Errorf("students of cA = %v", got)
				}
				if got := sids(list(w.must(tok, "/classes/class-{cA}/teachers"), "users")); !slices.Equal(got, []string{w.sid("user-{teacher}")}) {
					t.Errorf("teachers of cA = %v", got)
				}
				if got := sids(list(w.must(tok, "/schools/group-{gA}/classes/class-{cA}/enrollments"), "enrollments")); len(got) != 3 {
					t.Errorf("enrollments of cA in A = %v", got)
				}
				if got := sids(list(w.must(tok, "/users/user-{s1}/classes"), "classes")); !slices.Equal(got, []string{w.sid("class-{cA}"), w.sid("class-{cP}")}) {
					t.Errorf("classes of s1 = %v", got)
				}
				if got := sids(list(w.must(tok, "/teachers"), "users")); !slices.Equal(got, []string{w.sid("user-{teacher}")}) {
					t.Errorf("teachers = %v", got)
				}
			})
		}
	})
}

// TestScope: a client of group A reads nothing of B, and 404 hides it; a platform-wide client
// reads everything, with the platform as root org.
func TestScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := newWorld(t, db)
		for _, p := range []string{"/users/user-{out}", "/orgs/group-{gB}", "/orgs/platform", "/classes/class-{cB}", "/courses/course-{cB}",
			"/enrollments/enrollment-{cA}-{out}-student", "/enrollments/enrollment-{cB}-{out}-student", "/schools/group-{gB}/classes",
			"/classes/class-{cB}/students", "/users/user-{out}/classes", "/students/user-{teacher}", "/teachers/user-{s1}"} {
			if a := w.get("tokA", p); a.code != http.StatusNotFound || a.doc["statusInfoSet"] == nil {
				t.Errorf("GET %s as A: %d %v, want 404 with status info", p, a.code, a.doc)
			}
		}
		w.must("tokA", "/enrollments/enrollment-{cA}-{s1}-student")
		for _, c := range []struct{ path, key string }{{"/users", "users"}, {"/classes", "classes"}, {"/courses", "courses"}, {"/enrollments", "enrollments"}} {
			for _, d := range list(w.must("tokA", c.path), c.key) {
				if b, _ := json.Marshal(d); strings.Contains(string(b), w.sid("user-{out}\"")) || strings.Contains(string(b), w.sid("class-{cB}\"")) {
					t.Errorf("%s as A shows B: %s", c.path, b)
				}
			}
		}

		all := w.must("tokAll", "/orgs")
		if got := sids(list(all, "orgs")); !slices.Contains(got, "platform") || !slices.Contains(got, w.sid("group-{gB}")) || len(got) != 4 {
			t.Errorf("orgs for the platform = %v", got)
		}
		root := w.must("tokAll", "/orgs/platform").doc["org"].(map[string]any)
		if root["type"] != "district" || len(root["children"].([]any)) != 2 {
			t.Errorf("platform org = %v", root)
		}
		if n := w.must("tokAll", "/users").hdr.Get("X-Total-Count"); n != "5" {
			t.Errorf("platform users = %s", n)
		}
		w.must("tokAll", "/enrollments/enrollment-{cB}-{out}-student")
		if got := w.must("tokAll", "/classes/class-{cB}").doc["class"].(map[string]any)["school"].(map[string]any)["sourcedId"]; got != w.sid("group-{gB}") {
			t.Errorf("school of cB = %v", got)
		}
		if got := w.must("tokAll", "/classes/class-{cP}").doc["class"].(map[string]any)["school"].(map[string]any)["sourcedId"]; got != "platform" {
			t.Errorf("school of cP for the platform = %v", got)
		}
		if got := w.must("tokA", "/classes/class-{cP}").doc["class"].(map[string]any)["school"].(map[string]any)["sourcedId"]; got != w.sid("group-{gA}") {
			t.Errorf("school of cP for A = %v", got)
		}
	})
}

// TestPagingFilterSortFields: the spec's limit/offset with X-Total-Count and Link, filter
// with each operator and AND/OR, sort and orderBy, fields; and the 400 answers.
func TestPagingFilterSortFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := newWorld(t, db)
		w.version = oneroster.V1p2
		a := w.must("tokAll", "/users?limit=2&offset=2")
		if a.hdr.Get("X-Total-Count") != "5" || len(list(a, "users")) != 2 {
			t.Errorf("page: %v %v", a.hdr, a.doc)
		}
		link := a.hdr.Get("Link")
		for _, want := range []string{`limit=2&offset=4>; rel="next"`, `limit=2&offset=0>; rel="prev"`, `limit=2&offset=4>; rel="last"`, `limit=2&offset=0>; rel="first"`} {
			if !strings.Contains(link, want) {
				t.Errorf("Link %q lacks %q", link, want)
			}
		}
		if l := w.must("tokAll", "/users?limit=2&offset=4").hdr.Get("Link"); strings.Contains(l, `rel="next"`) {
			t.Errorf("last page has a next link: %s", l)
		}
		if n := len(list(w.must("tokAll", "/users"), "users")); n != 5 {
			t.Errorf("default limit: %d users", n)
		}

		names := func(path string) string {
			t.Helper()
			var out []string
			for _, d := range list(w.must("tokAll", path), "users") {
				out = append(out, d["familyName"].(string))
			}
			return strings.Join(out, " ")
		}
		f := func(s string) string { return "filter=" + url.QueryEscape(s) }
		cases := []struct{ path, want string }{
			{"/users?sort=familyName", "Adams Brown Curie Dupont Zola"},
			{"/users?sort=familyName&orderBy=desc", "Zola Dupont Curie Brown Adams"},
			{"/users?sort=familyName&" + f("familyName='Brown'"), "Brown"},
			{"/users?sort=familyName&" + f("familyName!='Brown'"), "Adams Curie Dupont Zola"},
			{"/users?sort=familyName&" + f("familyName>'Curie'"), "Dupont Zola"},
			{"/users?sort=familyName&" + f("familyName>='Curie'"), "Curie Dupont Zola"},
			{"/users?sort=familyName&" + f("familyName<'Curie'"), "Adams Brown"},
			{"/users?sort=familyName&" + f("familyName<='Curie'"), "Adams Brown Curie"},
			{"/users?sort=familyName&" + f("familyName~'ur'"), "Curie"},
			{"/users?sort=familyName&" + f("email~'S1@'"), "Adams"},
			{"/users?sort=familyName&" + f("role='student' AND familyName>'Adams'"), "Brown Dupont"},
			{"/users?sort=familyName&" + f("role='teacher' OR role='administrator'"), "Curie Zola"},
			{"/users?sort=familyName&" + f("status='active'"), "Adams Brown Curie Dupont Zola"},
			{"/users?sort=familyName&" + f("dateLastModified<'2020-01-01'"), ""},
			{"/users?sort=familyName&" + f("dateLastModified='2026-11-23'"), "Adams Brown Curie Dupont Zola"},
			{"/users?sort=familyName&" + f("givenName='Fs2' OR givenName='Fout'"), "Brown Dupont"},
		}
		for _, c := range cases {
			if got := names(c.path); got != c.want {
				t.Errorf("%s: %q, want %q", c.path, got, c.want)
			}
		}
		e := list(w.must("tokAll", "/enrollments?"+f("class='"+w.sid("class-{cA}")+"' AND role='teacher'")), "enrollments")
		if len(e) != 1 || e[0]["user"].(map[string]any)["sourcedId"] != w.sid("user-{teacher}") {
			t.Errorf("teacher enrollments of cA: %v", e)
		}

		d := list(w.must("tokAll", "/users?fields=sourcedId,familyName&limit=1"), "users")[0]
		if len(d) != 2 || d["familyName"] == nil || d["sourcedId"] == nil {
			t.Errorf("fields: %v", d)
		}
		one := w.must("tokAll", "/classes/class-{cA}?fields=title").doc["class"].(map[string]any)
		if len(one) != 1 || one["title"] != "Course ca" {
			t.Errorf("fields on one: %v", one)
		}

		for _, c := range []struct{ path, minor string }{
			{"/users?" + f("password='x'"), "invalid_filter_field"},
			{"/users?" + f("familyName='x"), "invalid_filter_field"},
			{"/users?" + f("familyName"), "invalid_filter_field"},
			{"/users?" + f("dateLastModified>'yesterday'"), "invalid_filter_field"},
			{"/users?sort=password", "invalid_sort_field"},
			{"/users?fields=password", "invalid_selection_field"},
			{"/users?limit=0", "invalid_data"},
			{"/users?offset=-1", "invalid_data"},
		} {
			a := w.get("tokAll", c.path)
			if a.code != http.StatusBadRequest || a.doc["imsx_codeMajor"] != "failure" || a.doc["imsx_severity"] != "error" ||
				!strings.Contains(fmt.Sprint(a.doc["imsx_CodeMinor"]), c.minor) {
				t.Errorf("%s: %d %v, want 400 %s", c.path, a.code, a.doc, c.minor)
			}
		}
	})
}

// TestAuthentication: no token, a bad token, a token without a rostering scope, and no
// verifier at all.
func TestAuthentication(t *testing.T) {
	db, _ := storetest.OpenSQLite(t)
	w := newWorld(t, db)
	for _, c := range []struct {
		token string
		code  int
	}{{"", 401}, {"nope", 401}, {"tokNoScp", 403}, {"tokAll", 200}} {
		for _, v := range []string{oneroster.V1p1, oneroster.V1p2} {
			if a := w.get(c.token, v+"/users"); a.code != c.code {
				t.Errorf("%s with %q: %d, want %d", v, c.token, a.code, c.code)
			}
		}
	}
	a := w.get("", "/users")
	if a.code != 401 || !strings.Contains(fmt.Sprint(a.doc), "unauthorisedrequest") || a.hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("401: %v %v", a.hdr, a.doc)
	}

	if a := w.get("tokAll", "/no-such-thing"); a.code != 404 || a.doc["statusInfoSet"] == nil {
		t.Errorf("unknown endpoint: %d %v", a.code, a.doc)
	}
	if a := w.get("", "/no-such-thing"); a.code != 401 {
		t.Errorf("unknown endpoint without a token: %d", a.code)
	}

	mux := http.NewServeMux()
	oneroster.New(db, nil, nil).Routes(mux)
	for _, p := range append(oneroster.Paths, "/no-such-thing") {
		r := httptest.NewRequest("GET", oneroster.V1p2+strings.NewReplacer("{id}", "x", "{class}", "y").Replace(p), nil)
		r.Header.Set("Authorization", "Bearer tokAll")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		if rec.Code != 401 {
			t.Errorf("no verifier, %s: %d", p, rec.Code)
		}
	}
}

// TestSnapshotPaging: the pages of a list whose keys are kept between pages (large lists) are
// the pages read without; the total stays that of the first page; someone anonymised after
// the first page is left out of the later ones, never shown.
func TestSnapshotPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := newWorld(t, db)
		walk := func(path string) []string {
			var out []string
			for off := 0; off < 10; off += 2 {
				a := w.must("tokAll", path+"&limit=2&offset="+strconv.Itoa(off))
				if a.hdr.Get("X-Total-Count") != "5" {
					t.Errorf("%s at %d: total %s", path, off, a.hdr.Get("X-Total-Count"))
				}
				out = append(out, sids(list(a, "users"))...)
			}
			return out
		}
		plain := walk("/users?sort=familyName&orderBy=desc")
		defer oneroster.SetSnapshotMin(1)()
		if kept := walk("/users?sort=familyName&orderBy=desc"); !slices.Equal(kept, plain) || len(kept) != 5 {
			t.Errorf("pages with kept keys %v, without %v", kept, plain)
		}
		// A new order is a new list; after its first page, s2 (Brown, second of it) is deleted
		// (anonymised).
		first := sids(list(w.must("tokAll", "/users?sort=familyName&limit=2&offset=0"), "users"))
		if err := w.acc.DeleteUser(w.sys, w.ids["s2"]); err != nil {
			t.Fatal(err)
		}
		second := sids(list(w.must("tokAll", "/users?sort=familyName&limit=2&offset=2"), "users"))
		if !slices.Equal(first, []string{w.sid("user-{s1}"), w.sid("user-{s2}")}) || !slices.Equal(second, []string{w.sid("user-{admin}"), w.sid("user-{out}")}) {
			t.Errorf("pages around an anonymisation: %v then %v", first, second)
		}
		if a := w.get("tokAll", "/users/user-{s2}"); a.code != http.StatusNotFound {
			t.Errorf("anonymised account: %d", a.code)
		}
	})
}

// TestSubtreeUsers: the people of a sub-tree, read from its groups' memberships when the list
// has no filter and no sort, are the same, in the same order both ways, as those the general
// query finds (forced here by a filter every account passes).
func TestSubtreeUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := newWorld(t, db)
		// A second membership in the sub-tree (s1 in A as well as A1) is one person.
		if _, err := db.ExecContext(context.Background(), `INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at)
			VALUES ($1, $2, 'trainer', 'manual', 0, 0)`, w.ids["gA"], w.ids["s1"]); err != nil {
			t.Fatal(err)
		}
		ids := []int64{w.ids["teacher"], w.ids["s1"], w.ids["s2"], w.ids["admin"]}
		slices.Sort(ids)
		var want []string
		for _, id := range ids {
			want = append(want, "user-"+strconv.FormatInt(id, 10))
		}
		for _, desc := range []bool{false, true} {
			q := "/users?limit=100"
			if desc {
				q += "&orderBy=desc"
			}
			fast := w.must("tokA", q)
			general := w.must("tokA", q+"&filter="+url.QueryEscape("sourcedId!='none'"))
			got, ref := sids(list(fast, "users")), sids(list(general, "users"))
			exp := slices.Clone(want)
			if desc {
				slices.Reverse(exp)
			}
			if !slices.Equal(got, exp) || !slices.Equal(ref, exp) || fast.hdr.Get("X-Total-Count") != "4" {
				t.Errorf("desc=%v: from memberships %v (total %s), general %v, want %v", desc, got, fast.hdr.Get("X-Total-Count"), ref, exp)
			}
		}
	})
}

// TestSubtreeMembers: a client of a sub-group (A1, under A) reads exactly the people with a
// membership in A1 or below: a learner added to A1, a learner of A1's public sub-group A1a
// (propagated to A1 and A: one person, not two), a trainer of A1a (not propagated: there
// through A1a alone), a learner of A1's private sub-group A1p (not propagated: there through
// A1p alone) and a learner of A1p's public sub-group A1pq (propagated to A1p, not above); not
// the people of A above it (though A holds every learner of A1 through propagation) nor those
// of B. The same for both orders, with the right total, both when the list is read from the
// memberships (the page read from the people's keys, or beside them) and through the general
// query (a filter every account passes), and on every page.
func TestSubtreeMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := newWorld(t, db)
		w.ids["gA1a"] = w.group("Team A1a", w.ids["gA1"])
		w.ids["deep"] = w.user("deep", "Eiffel", w.ids["gA1a"], group.Learner)
		w.ids["coach"] = w.user("coach", "Fermi", w.ids["gA1a"], group.Trainer)
		w.ids["gA1p"] = w.groupVis("Team A1p", w.ids["gA1"], group.Private)
		w.ids["gA1pq"] = w.group("Team A1pq", w.ids["gA1p"])
		w.ids["hidden"] = w.user("hidden", "Gauss", w.ids["gA1p"], group.Learner)
		w.ids["deeper"] = w.user("deeper", "Hilbert", w.ids["gA1pq"], group.Learner)
		w.tokens["tokA1"] = oneroster.Grant{ClientID: "moodle-a1", GroupID: w.ids["gA1"], Scopes: []string{scope12}}
		for _, c := range []struct {
			who  string
			in   []string // the groups of the sub-tree where the person is a propagated learner
			want int
		}{{"deep", []string{"gA1", "gA"}, 2}, {"deeper", []string{"gA1p", "gA1"}, 1}, {"hidden", []string{"gA1", "gA"}, 0}} {
			var propagated int
			if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM group_members
				WHERE user_id = $1 AND source_kind = 'propagated' AND group_id IN ($2, $3)`, w.ids[c.who], w.ids[c.in[0]], w.ids[c.in[1]]).Scan(&propagated); err != nil || propagated != c.want {
				t.Fatalf("%s's propagated memberships in %v: %d %v, want %d", c.who, c.in, propagated, err, c.want)
			}
		}
		ids := []int64{w.ids["s1"], w.ids["deep"], w.ids["coach"], w.ids["hidden"], w.ids["deeper"]}
		slices.Sort(ids)
		var want []string
		for _, id := range ids {
			want = append(want, "user-"+strconv.FormatInt(id, 10))
		}
		total := strconv.Itoa(len(want))
		for _, overlap := range []bool{true, false} {
			oneroster.SetOverlap(overlap)
			for _, desc := range []bool{false, true} {
				exp, order := ordered(want, desc)
				for _, filter := range []string{"", "&filter=" + url.QueryEscape("sourcedId!='none'")} {
					a := w.must("tokA1", "/users?limit=100"+order+filter)
					if got := sids(list(a, "users")); !slices.Equal(got, exp) || a.hdr.Get("X-Total-Count") != total {
						t.Errorf("A1's people (overlap %v, desc %v, filter %q): %v (total %s), want %v", overlap, desc, filter, got, a.hdr.Get("X-Total-Count"), exp)
					}
					var paged []string
					for off := 0; off < len(want); off++ {
						paged = append(paged, sids(list(w.must("tokA1", "/users?limit=1&offset="+strconv.Itoa(off)+order+filter), "users"))...)
					}
					if !slices.Equal(paged, exp) {
						t.Errorf("A1's people page by page (overlap %v, desc %v, filter %q): %v, want %v", overlap, desc, filter, paged, exp)
					}
				}
			}
		}
		oneroster.SetOverlap(true)
		for _, who := range []string{"teacher", "s2", "admin", "out"} {
			if a := w.get("tokA1", "/users/user-{"+who+"}"); a.code != http.StatusNotFound {
				t.Errorf("%s (outside A1) read by A1's client: %d", who, a.code)
			}
		}
	})
}

// TestSubtreeMembersRandom: for random small trees of public and private groups, built and
// changed through the group package (memberships of every role added and removed, visibility
// switched, groups moved: the propagated memberships are what its rule makes), the people a
// client of each group reads are the members of every group of its sub-tree, each once: the
// learners of its public groups below the top found through the memberships propagated to
// their parents. In both orders, the page read from the people's keys and beside them.
func TestSubtreeMembersRandom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		ctx := context.Background()
		w := newWorld(t, db)
		defer oneroster.SetOverlap(true)
		for seed := range uint64(3) {
			r := rand.New(rand.NewPCG(seed, 7))
			vis := func() string { return []string{group.Public, group.Private}[r.IntN(2)] }
			groups := []int64{}
			for i := range 10 {
				parent := int64(0)
				if i > 0 && r.IntN(5) > 0 {
					parent = groups[r.IntN(len(groups))]
				}
				groups = append(groups, w.groupVis(fmt.Sprintf("R%d-%d", seed, i), parent, vis()))
			}
			pick := func() int64 { return groups[r.IntN(len(groups))] }
			var people []int64
			for i := range 30 {
				role := group.Learner // one in two, else any role
				if r.IntN(2) == 0 {
					role = group.Roles[r.IntN(len(group.Roles))]
				}
				people = append(people, w.user(fmt.Sprintf("r%d-%d", seed, i), "R", pick(), role))
			}
			for range 40 {
				if err := w.grp.AddMember(w.sys, pick(), people[r.IntN(len(people))], group.Roles[r.IntN(len(group.Roles))], ""); err != nil {
					t.Fatal(err)
				}
			}
			for range 4 {
				g := pick()
				v := vis()
				if _, err := w.grp.Update(w.sys, g, group.Update{Visibility: &v}); err != nil {
					t.Fatal(err)
				}
				g, parent := pick(), pick()
				var under int
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM group_paths WHERE ancestor_id = $1 AND descendant_id = $2`, g, parent).Scan(&under); err != nil {
					t.Fatal(err)
				}
				if under == 0 {
					if _, err := w.grp.Move(w.sys, g, parent); err != nil {
						t.Fatal(err)
					}
				}
			}
			for range 10 {
				// Every role a person holds in a group by hand (their learner memberships
				// propagated from there go too), if any.
				if err := w.grp.RemoveMember(w.sys, pick(), people[r.IntN(len(people))], "", ""); err != nil && !errs.Is(err, errs.NotFound) {
					t.Fatal(err)
				}
			}
			for _, g := range groups {
				rows, err := db.QueryContext(ctx, `SELECT DISTINCT m.user_id FROM group_members m JOIN group_paths p ON p.descendant_id = m.group_id
					WHERE p.ancestor_id = $1 ORDER BY m.user_id`, g)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						t.Fatal(err)
					}
					want = append(want, "user-"+strconv.FormatInt(id, 10))
				}
				if err := rows.Close(); err != nil {
					t.Fatal(err)
				}
				tok := "tokR" + strconv.FormatInt(g, 10)
				w.tokens[tok] = oneroster.Grant{ClientID: tok, GroupID: g, Scopes: []string{scope12}}
				for _, overlap := range []bool{true, false} {
					oneroster.SetOverlap(overlap)
					for _, desc := range []bool{false, true} {
						exp, order := ordered(want, desc)
						a := w.must(tok, "/users?limit=1000"+order)
						if got := sids(list(a, "users")); !slices.Equal(got, exp) || a.hdr.Get("X-Total-Count") != strconv.Itoa(len(want)) {
							t.Errorf("seed %d, group %d (overlap %v, desc %v): %v (total %s), want the members of its sub-tree %v",
								seed, g, overlap, desc, got, a.hdr.Get("X-Total-Count"), exp)
						}
					}
				}
			}
		}
	})
}

// TestContractCollections: each collection the contract lists answers, under both versions'
// base paths, its list (with X-Total-Count and Link) and each of its members by sourcedId.
func TestContractCollections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w0 := newWorld(t, db)
		for _, v := range []string{oneroster.V1p1, oneroster.V1p2} {
			w := *w0
			w.t, w.version = t, v
			for plural, single := range map[string]string{"orgs": "org", "academicSessions": "academicSession", "courses": "course",
				"classes": "class", "users": "user", "enrollments": "enrollment"} {
				a := w.must("tokAll", "/"+plural)
				docs := list(a, plural)
				if len(docs) == 0 || a.hdr.Get("X-Total-Count") != strconv.Itoa(len(docs)) || a.hdr.Get("Link") == "" {
					t.Errorf("%s %s: %d documents, total %q, link %q", v, plural, len(docs), a.hdr.Get("X-Total-Count"), a.hdr.Get("Link"))
					continue
				}
				for _, d := range docs {
					id, _ := d["sourcedId"].(string)
					one := w.must("tokAll", "/"+plural+"/"+url.PathEscape(id))
					if got, _ := one.doc[single].(map[string]any); got == nil || got["sourcedId"] != id {
						t.Errorf("%s %s/%s: %v", v, plural, id, one.doc)
					}
				}
			}
		}
	})
}

// TestUserRoleRule: the role each person's document gives (computed over the page's
// memberships) is the role the users list filters on (computed in SQL), for a platform-wide
// client and for a client of a sub-tree, with people whose role differs between the two.
func TestUserRoleRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := newWorld(t, db)
		w.ids["padmin"] = w.user("padmin", "Eve", w.ids["gA1"], group.Learner)
		w.ids["net"] = w.user("net", "Fox", w.ids["gA"], group.Learner)
		if _, err := w.crs.Enrol(w.sys, w.ids["cP"], course.EnrolRequest{UserIDs: []int64{w.ids["net"]}, Role: "non_editing_teacher"}); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, q := range []string{
			// out trains in B: a teacher for the platform, unseen by A's client.
			w.sid(`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) VALUES ({gB}, {out}, 'trainer', 'manual', 0, 0)`),
			// s2 administers B: an administrator for the platform, a student for A's client.
			w.sid(`INSERT INTO group_members (group_id, user_id, role, source_kind, source_ref, created_at) VALUES ({gB}, {s2}, 'group_admin', 'manual', 0, 0)`),
			// a platform administrator is one for the platform only.
			w.sid(`UPDATE users SET is_admin = true WHERE id = {padmin}`),
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct{ token, want string }{
			{"tokAll", "admin:administrator net:teacher out:teacher padmin:administrator s1:student s2:administrator teacher:teacher"},
			{"tokA", "admin:administrator net:teacher padmin:student s1:student s2:student teacher:teacher"},
		} {
			byDoc := map[string]string{}
			var got []string
			for _, d := range list(w.must(c.token, "/users?limit=100"), "users") {
				byDoc[d["sourcedId"].(string)] = d["role"].(string)
				got = append(got, d["username"].(string)+":"+d["role"].(string))
			}
			slices.Sort(got)
			if strings.Join(got, " ") != c.want {
				t.Errorf("%s: roles %v, want %s", c.token, got, c.want)
			}
			for _, role := range []string{"administrator", "teacher", "student"} {
				listed := sids(list(w.must(c.token, "/users?limit=100&filter="+url.QueryEscape("role='"+role+"'")), "users"))
				var fromDocs []string
				for sid, r := range byDoc {
					if r == role {
						fromDocs = append(fromDocs, sid)
					}
				}
				slices.Sort(listed)
				slices.Sort(fromDocs)
				if !slices.Equal(listed, fromDocs) {
					t.Errorf("%s, role %s: the filter lists %v, the documents say %v", c.token, role, listed, fromDocs)
				}
			}
		}
	})
}

// TestPagesMakeTheList: for a platform-wide client and a client of a sub-tree, in both orders,
// with and without the list's keys kept between pages, and pages of several sizes, the pages
// put together are the whole list in its order, each once; every page gives the list's total
// and the links to the first, previous, next and last pages; a page past the end is empty,
// with the total.
func TestPagesMakeTheList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, _ *storetest.Clock) {
		w := newWorld(t, db)
		for i := range 7 {
			where := []string{"gA1", "gB", "gA"}[i%3]
			w.ids[fmt.Sprint("p", i)] = w.user(fmt.Sprint("p", i), fmt.Sprint("P", i), w.ids[where], group.Learner)
		}
		// Who each client reads, from the tables themselves.
		want := map[string][]string{}
		for token, q := range map[string]string{
			"tokAll": `SELECT id FROM users WHERE deleted_at IS NULL ORDER BY id`,
			"tokA": w.sid(`SELECT DISTINCT m.user_id FROM group_members m JOIN group_paths p ON p.descendant_id = m.group_id
				WHERE p.ancestor_id = {gA} ORDER BY m.user_id`),
		} {
			rows, err := db.QueryContext(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				want[token] = append(want[token], "user-"+strconv.FormatInt(id, 10))
			}
			rows.Close()
		}
		for _, kept := range []bool{false, true} {
			if kept {
				defer oneroster.SetSnapshotMin(1)()
			}
			for token, all := range want {
				for _, desc := range []bool{false, true} {
					exp, order := ordered(all, desc)
					for _, limit := range []int{1, 2, 3, 100} {
						var got []string
						total := strconv.Itoa(len(exp))
						for off := 0; off <= len(exp); off += limit {
							path := fmt.Sprintf("/users?limit=%d&offset=%d%s", limit, off, order)
							a := w.must(token, path)
							got = append(got, sids(list(a, "users"))...)
							if n := a.hdr.Get("X-Total-Count"); n != total {
								t.Errorf("%s %s (kept %v): total %s, want %s", token, path, kept, n, total)
							}
							link := a.hdr.Get("Link")
							last := (len(exp) - 1) / limit * limit
							if !strings.Contains(link, fmt.Sprintf("limit=%d&offset=%d%s>; rel=\"last\"", limit, last, order)) ||
								!strings.Contains(link, fmt.Sprintf("limit=%d&offset=0%s>; rel=\"first\"", limit, order)) ||
								strings.Contains(link, `rel="next"`) != (off+limit < len(exp)) ||
								strings.Contains(link, `rel="prev"`) != (off > 0) {
								t.Errorf("%s %s (kept %v): Link %s", token, path, kept, link)
							}
						}
						if !slices.Equal(got, exp) {
							t.Errorf("%s limit %d%s (kept %v): pages give %v, want %v", token, limit, order, kept, got, exp)
						}
					}
					a := w.must(token, "/users?limit=2&offset=1000"+order)
					if len(list(a, "users")) != 0 || a.hdr.Get("X-Total-Count") != strconv.Itoa(len(exp)) {
						t.Errorf("%s past the end: %v, total %s", token, a.doc, a.hdr.Get("X-Total-Count"))
					}
				}
			}
		}
	})
}

// ordered is a list in ascending sourcedId order as a client reads it in the direction desc
// asks for, with the query parameter that asks for it.
func ordered(ids []string, desc bool) ([]string, string) {
	if !desc {
		return ids, ""
	}
	exp := slices.Clone(ids)
	slices.Reverse(exp)
	return exp, "&orderBy=desc"
}
