package api

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"roster/internal/course"
	"roster/internal/errs"
)

// Course is a course as the API shows it.
type Course struct {
	ID           string     `json:"id"`
	Shortname    string     `json:"shortname"`
	Fullname     string     `json:"fullname"`
	Visible      bool       `json:"visible"`
	StartsAt     *time.Time `json:"starts_at"`
	GuestAccess  bool       `json:"guest_access"`
	Participants int        `json:"participants"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func courseJSON(c *course.Course) Course {
	return Course{ID: ID(c.ID), Shortname: c.Shortname, Fullname: c.Fullname, Visible: c.Visible, StartsAt: c.StartsAt,
		GuestAccess: c.GuestAccess, Participants: c.Participants, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// ids converts request ids (flexID, from invitations.go: a string or a number).
func ids(in []flexID) []int64 {
	out := make([]int64, len(in))
	for i, v := range in {
		out[i] = int64(v)
	}
	return out
}

// courseCreate: POST /api/v1/courses {shortname, fullname, starts_at, visible, guest_access}.
func (a *API) courseCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Shortname   string     `json:"shortname"`
		Fullname    string     `json:"fullname"`
		StartsAt    *time.Time `json:"starts_at"`
		Visible     *bool      `json:"visible"`
		GuestAccess bool       `json:"guest_access"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	c := course.Course{Shortname: in.Shortname, Fullname: in.Fullname, StartsAt: in.StartsAt, Visible: true, GuestAccess: in.GuestAccess}
	if in.Visible != nil {
		c.Visible = *in.Visible
	}
	out, err := a.Courses.Create(r.Context(), c)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, courseJSON(out))
}

// courseList: GET /api/v1/courses?q=&limit=&cursor=.
func (a *API) courseList(w http.ResponseWriter, r *http.Request) {
	n, err := limit(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	q := r.URL.Query()
	items, next, err := a.Courses.List(r.Context(), course.Filter{Q: q.Get("q"), Limit: n, Cursor: q.Get("cursor")})
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[Course]{Items: []Course{}, NextCursor: next}
	for i := range items {
		out.Items = append(out.Items, courseJSON(&items[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// courseGet: GET /api/v1/courses/{id}.
func (a *API) courseGet(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	c, err := a.Courses.Get(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, courseJSON(c))
}

// Method is an enrolment method as the API shows it.
type Method struct {
	ID             string     `json:"id"`
	Type           string     `json:"type"`
	Name           string     `json:"name"`
	Role           string     `json:"role"`
	Enabled        bool       `json:"enabled"`
	SendWelcome    bool       `json:"send_welcome"`
	EnrolPeriod    int64      `json:"enrol_period"`
	HasKey         bool       `json:"has_key"`
	MaxEnrolled    int        `json:"max_enrolled"`
	EnrolStartsAt  *time.Time `json:"enrol_starts_at"`
	EnrolEndsAt    *time.Time `json:"enrol_ends_at"`
	GroupID        string     `json:"group_id,omitempty"`
	Subgroups      bool       `json:"subgroups"`
	GroupRole      string     `json:"group_role,omitempty"`
	CourseGroupID  string     `json:"course_group_id,omitempty"`
	LinkedCourseID string     `json:"course_id,omitempty"`
	Roles          []string   `json:"roles,omitempty"`
	Removal        string     `json:"removal"`
	Enrolled       int        `json:"enrolled"`
}

func courseOptID(id int64) string {
	if id == 0 {
		return ""
	}
	return ID(id)
}

func methodJSON(m *course.Method) Method {
	return Method{ID: ID(m.ID), Type: m.Type, Name: m.Name, Role: m.Role, Enabled: m.Enabled, SendWelcome: m.SendWelcome,
		EnrolPeriod: int64(m.EnrolPeriod / time.Second), HasKey: m.EnrolKey != "", MaxEnrolled: m.MaxEnrolled,
		EnrolStartsAt: m.EnrolStartsAt, EnrolEndsAt: m.EnrolEndsAt, GroupID: courseOptID(m.GroupID), Subgroups: m.Subgroups,
		GroupRole: m.GroupRole, CourseGroupID: courseOptID(m.CourseGroupID), LinkedCourseID: courseOptID(m.LinkedCourseID),
		Roles: m.LinkedRoles, Removal: m.Removal, Enrolled: m.Enrolled}
}

// methodCreate: POST /api/v1/courses/{id}/methods {type, ...}.
func (a *API) methodCreate(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in struct {
		Type          string     `json:"type"`
		Name          string     `json:"name"`
		Role          string     `json:"role"`
		SendWelcome   bool       `json:"send_welcome"`
		EnrolPeriod   int64      `json:"enrol_period"` // seconds
		EnrolKey      string     `json:"enrol_key"`
		MaxEnrolled   int        `json:"max_enrolled"`
		EnrolStartsAt *time.Time `json:"enrol_starts_at"`
		EnrolEndsAt   *time.Time `json:"enrol_ends_at"`
		GroupID       flexID     `json:"group_id"`
		Subgroups     bool       `json:"subgroups"`
		GroupRole     string     `json:"group_role"`
		CourseGroupID flexID     `json:"course_group_id"`
		CourseID      flexID     `json:"course_id"`
		Roles         []string   `json:"roles"`
		Removal       string     `json:"removal"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	m, err := a.Courses.AddMethod(r.Context(), id, course.Method{Type: in.Type, Name: in.Name, Role: in.Role,
		SendWelcome: in.SendWelcome, EnrolPeriod: time.Duration(in.EnrolPeriod) * time.Second, EnrolKey: in.EnrolKey,
		MaxEnrolled: in.MaxEnrolled, EnrolStartsAt: in.EnrolStartsAt, EnrolEndsAt: in.EnrolEndsAt, GroupID: int64(in.GroupID),
		Subgroups: in.Subgroups, GroupRole: in.GroupRole, CourseGroupID: int64(in.CourseGroupID),
		LinkedCourseID: int64(in.CourseID), LinkedRoles: in.Roles, Removal: in.Removal})
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, methodJSON(m))
}

// methodList: GET /api/v1/courses/{id}/methods.
func (a *API) methodList(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	ms, err := a.Courses.Methods(r.Context(), id)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := List[Method]{Items: []Method{}}
	for i := range ms {
		out.Items = append(out.Items, methodJSON(&ms[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// enrolCreate: POST /api/v1/courses/{id}/enrolments {user_ids, group_ids, role, starts_at,
// ends_at, method_id}. group_ids enrols the groups' current members, once.
func (a *API) enrolCreate(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in struct {
		UserIDs  []flexID   `json:"user_ids"`
		GroupIDs []flexID   `json:"group_ids"`
		Role     string     `json:"role"`
		StartsAt *time.Time `json:"starts_at"`
		EndsAt   *time.Time `json:"ends_at"`
		MethodID flexID     `json:"method_id"`
	}
	if err := decode(w, r, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	res, err := a.Courses.Enrol(r.Context(), id, course.EnrolRequest{UserIDs: ids(in.UserIDs), GroupIDs: ids(in.GroupIDs),
		Role: in.Role, StartsAt: in.StartsAt, EndsAt: in.EndsAt, MethodID: int64(in.MethodID)})
	if err != nil {
		a.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int{"enrolled": res.Enrolled, "skipped": res.Skipped})
}

// participantList: GET /api/v1/courses/{id}/participants?...&limit=&cursor=.
func (a *API) participantList(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	f, err := course.FilterFromQuery(r.URL.Query())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if f.Limit, err = limit(r); err != nil {
		a.problem(w, r, err)
		return
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		// The cursor is the offset of the next page: the list sorts by any column, so a keyset
		// cursor would need one per column.
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			a.problem(w, r, errs.FieldCode("cursor", "api_bad_cursor"))
			return
		}
		f.Offset = n
	}
	page, err := a.Courses.Participants(r.Context(), id, f)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := struct {
		Items      []course.JSONParticipant `json:"items"`
		NextCursor string                   `json:"next_cursor"`
		Total      int                      `json:"total"`
	}{Items: []course.JSONParticipant{}, Total: page.Total}
	for _, p := range page.Items {
		out.Items = append(out.Items, course.ToJSON(p))
	}
	if f.Offset+len(page.Items) < page.Total {
		out.NextCursor = strconv.Itoa(f.Offset + len(page.Items))
	}
	writeJSON(w, http.StatusOK, out)
}

// participantCSV: GET /api/v1/courses/{id}/participants.csv?... (same filters, every row).
func (a *API) participantCSV(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	f, err := course.FilterFromQuery(r.URL.Query())
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := a.Courses.Export(r.Context(), id, f, nil, course.CSV, &buf); err != nil {
		a.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", course.Formats[course.CSV])
	w.Header().Set("Content-Disposition", `attachment; filename="participants-`+ID(id)+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// methodDelete: DELETE /api/v1/courses/{id}/methods/{method_id}, for those who manage the
// course. It removes the method and every enrolment it made (and the course group
// memberships it gave); the same people's enrolments by other methods stay. 204.
func (a *API) methodDelete(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r, "id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	methodID, err := parseID(r, "method_id")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if err := a.Courses.DeleteMethod(r.Context(), id, methodID); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
