package web

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster/internal/account"
	"roster/internal/authz"
	"roster/internal/course"
	"roster/internal/group"
	"roster/internal/invite"
)

// coursePagesRig is a course taught by Tess, with Stu enrolled, and Lou outside it.
type coursePagesRig struct {
	*rig
	tess, stu, lou *account.User
	course         *course.Course
	path           string
}

func newCoursePagesRig(t *testing.T, startsAt *time.Time) *coursePagesRig {
	rg := newRig(t)
	sys := authz.With(rg.ctx, authz.System)
	c := &coursePagesRig{rig: rg}
	c.tess = rg.user(account.NewUser{Email: "tess@example.org", FirstName: "Tess", LastName: "Teacher"})
	c.stu = rg.user(account.NewUser{Email: "stu@example.org", FirstName: "Stu", LastName: "Dent"})
	c.lou = rg.user(account.NewUser{Email: "lou@example.org", FirstName: "Lou", LastName: "Outside"})
	var err error
	c.course, err = rg.courses.Create(sys, course.Course{Shortname: "HIST", Fullname: "History", Visible: true, StartsAt: startsAt})
	if err != nil {
		t.Fatal(err)
	}
	for id, role := range map[int64]string{c.tess.ID: course.Teacher, c.stu.ID: course.Student} {
		if _, err := rg.courses.Enrol(sys, c.course.ID, course.EnrolRequest{UserIDs: []int64{id}, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	c.path = "/courses/" + strconv.FormatInt(c.course.ID, 10)
	return c
}

// TestCoursePageActionsByRole: the course page offers its teacher every action on the course
// (participants, enrol, invite by email, methods), a student none of them.
func TestCoursePageActionsByRole(t *testing.T) {
	c := newCoursePagesRig(t, nil)
	code, body, _ := c.call(c.tess, "GET", c.path, nil)
	c.want(code, body, 200, `id="participants-link"`, `id="enrol-link"`, `id="invite-link"`, `id="methods-link"`)
	code, body, _ = c.call(c.stu, "GET", c.path, nil)
	c.want(code, body, 200, "History")
	for _, id := range []string{"enrol-link", "invite-link", "methods-link"} {
		if strings.Contains(body, id) {
			t.Errorf("the student's course page offers %s", id)
		}
	}
	// Without a self-enrolment method, the course is closed to outsiders.
	if code, _, _ := c.call(c.lou, "GET", c.path, nil); code != 403 {
		t.Errorf("outsider: %d, want 403", code)
	}
}

// TestCourseInvitationsHeldThenSent: a teacher invites addresses from a course that has not
// opened: the page says the invitations are held, lists them held with the opening date and
// no "resend"; cancelling one works. Once the course is open, a new invitation is listed as
// sent and may be re-sent. An empty list of addresses shows its error beside the field.
func TestCourseInvitationsHeldThenSent(t *testing.T) {
	c := newCoursePagesRig(t, nil)
	opens := c.db.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
	if _, err := c.courses.Update(authz.With(c.ctx, authz.System), c.course.ID, course.Update{StartsAt: &opens}); err != nil {
		t.Fatal(err)
	}
	inv := c.path + "/invitations"
	code, body, _ := c.call(c.tess, "POST", inv, url.Values{"emails": {""}})
	c.want(code, body, 422, `class="field-error"`, `id="invite-emails"`)
	code, body, _ = c.call(c.tess, "POST", inv+"?lang=fr", url.Values{"emails": {"ann@example.org, bob@example.org"}})
	c.want(code, body, 200, `id="held-note"`, "ann@example.org", "bob@example.org", "Retenue jusqu’à l’ouverture du cours le")
	if strings.Contains(body, `class="link resend"`) {
		t.Errorf("a held invitation offers resend:\n%s", body)
	}
	// The dialog's "add email addresses" posts to the same place; the course's list and the
	// teacher's /invitations show the held invitations with the course.
	code, body, _ = c.call(c.tess, "GET", "/invitations?lang=en", nil)
	c.want(code, body, 200, "ann@example.org", "Held until the course opens on", "Course: History")
	items, _, err := c.invites.List(authz.With(c.ctx, c.accounts.PrincipalFor(c.tess)), invFilter(c.course.ID))
	if err != nil || len(items) != 2 {
		t.Fatalf("course invitations: %v %v", items, err)
	}
	code, _, loc := c.call(c.tess, "POST", inv+"/"+strconv.FormatInt(items[0].ID, 10)+"/cancel", url.Values{})
	if code != 303 || !strings.Contains(loc, "done=cancelled") {
		t.Fatalf("cancel: %d %s", code, loc)
	}
	// A student may not see them, nor cancel one.
	if code, _, _ := c.call(c.stu, "GET", inv, nil); code != 403 {
		t.Errorf("student GET invitations: %d", code)
	}
	if code, _, _ := c.call(c.stu, "POST", inv+"/"+strconv.FormatInt(items[1].ID, 10)+"/cancel", url.Values{}); code != 403 {
		t.Errorf("student cancel: %d", code)
	}

	// The course opens: invitations are sent at once and may be re-sent.
	open := c.db.Now().Add(-time.Hour)
	if _, err := c.courses.Update(authz.With(c.ctx, authz.System), c.course.ID, course.Update{StartsAt: &open}); err != nil {
		t.Fatal(err)
	}
	code, body, _ = c.call(c.tess, "POST", inv, url.Values{"emails": {"cy@example.org"}})
	c.want(code, body, 200, "cy@example.org", `class="link resend"`)
	if strings.Contains(body, `id="held-note"`) {
		t.Error("an open course says invitations are held")
	}
}

func invFilter(courseID int64) invite.Filter { return invite.Filter{CourseID: courseID, Status: "all"} }

// TestEnrolNobodyShowsTheError: "Enrol" with nobody picked shows the error on the
// participants page, the dialog open, never an empty page.
func TestEnrolNobodyShowsTheError(t *testing.T) {
	c := newCoursePagesRig(t, nil)
	code, body, _ := c.call(c.tess, "POST", c.path+"/enrol?lang=fr", url.Values{"role": {"student"}})
	c.want(code, body, 422, `id="enrol-error"`, "Choisissez au moins une personne ou un groupe.", `id="enrol-dialog" open`, `id="participants"`)
	if strings.Contains(body, "Retour à la page de connexion") {
		t.Error("the error page offers the login page to a logged-in person")
	}
}

// TestEnrolErrorKeepsThePeoplePicked: when the dialog comes back with an error (here a date
// that does not exist), the people ticked are still ticked, with their names, and the role
// chosen is kept; a person the teacher typed an id for who has no active account is not shown.
func TestEnrolErrorKeepsThePeoplePicked(t *testing.T) {
	c := newCoursePagesRig(t, nil)
	lou := strconv.FormatInt(c.lou.ID, 10)
	code, body, _ := c.call(c.tess, "POST", c.path+"/enrol?lang=fr", url.Values{
		"role": {"student"}, "user": {lou, "999999"}, "starts_at": {"31/02/2027"}, "duration_days": {"30"}})
	c.want(code, body, 422, `<p class="field-error">doit être une date, jj/mm/aaaa</p>`, `id="enrol-dialog" open`,
		`<input type="checkbox" name="user" value="`+lou+`" checked> Lou Outside`, `value="31/02/2027"`)
	if !strings.Contains(body, `name="duration_days" type="number" min="0" placeholder="Sans fin" value="30"`) {
		t.Error("the duration typed is not shown again")
	}
	if strings.Contains(body, `value="999999"`) {
		t.Error("an id without an account is shown as picked")
	}
	// Fixed, the same form enrols Lou.
	code, body, _ = c.call(c.tess, "POST", c.path+"/enrol?lang=fr", url.Values{"role": {"student"}, "user": {lou}})
	if code != 303 {
		t.Fatalf("enrol after the fix: %d %s", code, body)
	}
}

// TestEnrolGroupKeepsTrainersOut: enrolling a group enrols its learners; the teacher, who is
// a trainer of the group, stays a teacher only. A plain teacher may pick the groups they
// belong to, and not the others.
func TestEnrolGroupKeepsTrainersOut(t *testing.T) {
	c := newCoursePagesRig(t, nil)
	sys := authz.With(c.ctx, authz.System)
	g, err := c.groups.Create(sys, group.Group{Name: "L1 History", Visibility: group.Private})
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.groups.Create(sys, group.Group{Name: "Staff", Visibility: group.Private})
	if err != nil {
		t.Fatal(err)
	}
	for id, role := range map[int64]string{c.tess.ID: group.Trainer, c.lou.ID: group.Learner} {
		if err := c.groups.AddMember(sys, g.ID, id, role, group.SourceManual); err != nil {
			t.Fatal(err)
		}
	}
	code, body, _ := c.call(c.tess, "GET", c.path+"/participants?enrol=1", nil)
	c.want(code, body, 200, "L1 History (1 learner)")
	if strings.Contains(body, "Staff") {
		t.Error("the teacher may pick a group they do not belong to")
	}
	code, body, loc := c.call(c.tess, "POST", c.path+"/enrol", url.Values{"role": {"student"}, "group": {strconv.FormatInt(g.ID, 10)}})
	if code != 303 || !strings.Contains(loc, "n=1") {
		t.Fatalf("enrol the group: %d %s %s", code, loc, body)
	}
	page, err := c.courses.Participants(sys, c.course.ID, course.ParticipantFilter{Limit: course.All})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range page.Items {
		if p.UserID == c.tess.ID && strings.Join(p.Roles, ",") != course.Teacher {
			t.Errorf("the trainer teacher has roles %v", p.Roles)
		}
	}
	if page.Total != 3 {
		t.Errorf("participants: %d, want 3", page.Total)
	}
	code, body, _ = c.call(c.tess, "POST", c.path+"/enrol", url.Values{"role": {"student"}, "group": {strconv.FormatInt(other.ID, 10)}})
	c.want(code, body, 403, `id="enrol-error"`)
}

// TestCourseMethodsPage: a teacher adds a self-enrolment with a key, renames it, disables and
// enables it, adds a group sync of learners, and removes a method; a student may not.
func TestCourseMethodsPage(t *testing.T) {
	c := newCoursePagesRig(t, nil)
	sys := authz.With(c.ctx, authz.System)
	g, err := c.groups.Create(sys, group.Group{Name: "Cohort", Visibility: group.Private})
	if err != nil {
		t.Fatal(err)
	}
	for id, role := range map[int64]string{c.tess.ID: group.Trainer, c.lou.ID: group.Learner} {
		if err := c.groups.AddMember(sys, g.ID, id, role, group.SourceManual); err != nil {
			t.Fatal(err)
		}
	}
	mp := c.path + "/methods"
	code, body, _ := c.call(c.tess, "GET", mp, nil)
	c.want(code, body, 200, `id="add-group-sync"`, `id="add-self"`, `id="add-guest"`, "Cohort")
	if code, _, _ := c.call(c.stu, "GET", mp, nil); code != 403 {
		t.Errorf("student: %d", code)
	}
	// Errors show beside their field.
	code, body, _ = c.call(c.tess, "POST", mp, url.Values{"type": {"group_sync"}, "role": {"student"}})
	c.want(code, body, 422, `id="add-group-sync" open`, `class="field-error"`)
	code, body, _ = c.call(c.tess, "POST", mp, url.Values{"type": {"self"}, "max_enrolled": {"many"}})
	c.want(code, body, 422, `id="add-self" open`, "must be a whole number")

	code, _, loc := c.call(c.tess, "POST", mp, url.Values{"type": {"self"}, "name": {"Open door"}, "enrol_key": {"sesame"}, "role": {"student"}})
	if code != 303 || !strings.Contains(loc, "done=added") {
		t.Fatalf("add self: %d %s", code, loc)
	}
	code, _, _ = c.call(c.tess, "POST", mp, url.Values{"type": {"group_sync"}, "group_id": {strconv.FormatInt(g.ID, 10)}, "group_role": {"learner"}, "role": {"student"}})
	if code != 303 {
		t.Fatalf("add group sync: %d", code)
	}
	methods, err := c.courses.Methods(sys, c.course.ID)
	if err != nil {
		t.Fatal(err)
	}
	var self, sync course.Method
	for _, m := range methods {
		switch m.Type {
		case course.Self:
			self = m
		case course.GroupSync:
			sync = m
		}
	}
	if self.EnrolKey != "sesame" || sync.Enrolled != 1 {
		t.Fatalf("self %+v, sync %+v", self, sync)
	}
	sp := mp + "/" + strconv.FormatInt(self.ID, 10)
	if code, _, _ := c.call(c.tess, "POST", sp, url.Values{"name": {"Door"}, "enrol_key": {""}, "max_enrolled": {"5"}}); code != 303 {
		t.Fatalf("edit: %d", code)
	}
	if code, _, _ := c.call(c.tess, "POST", sp+"/enable", url.Values{"enabled": {"0"}}); code != 303 {
		t.Fatalf("disable: %d", code)
	}
	code, body, _ = c.call(c.tess, "GET", mp+"?lang=fr", nil)
	c.want(code, body, 200, "Door", "Désactivée", "5 au plus", "sans clé")
	if code, _, _ := c.call(c.stu, "POST", sp+"/delete", url.Values{}); code != 403 {
		t.Errorf("student delete: %d", code)
	}
	if code, _, _ := c.call(c.tess, "POST", sp+"/delete", url.Values{}); code != 303 {
		t.Fatalf("delete: %d", code)
	}
	if methods, _ := c.courses.Methods(sys, c.course.ID); len(methods) != 2 {
		t.Errorf("after delete: %d methods", len(methods))
	}
}

// TestSelfEnrolFromTheCoursePage: a course with a self-enrolment method shows an outsider its
// page with "Enrol me" and the key field; a wrong key shows beside the field; the right one
// enrols. A course open to guests shows its page to an anonymous visitor.
func TestSelfEnrolFromTheCoursePage(t *testing.T) {
	c := newCoursePagesRig(t, nil)
	m, err := c.courses.AddMethod(authz.With(c.ctx, authz.System), c.course.ID, course.Method{Type: course.Self, EnrolKey: "sesame"})
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ := c.call(c.lou, "GET", "/courses?lang=fr", nil)
	c.want(code, body, 200, `id="self-open"`, `href="`+c.path+`"`)
	code, body, _ = c.call(c.lou, "GET", c.path+"?lang=fr", nil)
	c.want(code, body, 200, `id="self-enrol"`, "M’inscrire", `name="key"`)
	form := url.Values{"method": {strconv.FormatInt(m.ID, 10)}, "key": {"wrong"}}
	code, body, _ = c.call(c.lou, "POST", c.path+"/self-enrol?lang=fr", form)
	c.want(code, body, 422, `class="field-error"`, "clé d’inscription incorrecte")
	form.Set("key", "sesame")
	code, _, loc := c.call(c.lou, "POST", c.path+"/self-enrol", form)
	if code != 303 || !strings.Contains(loc, "done=self") {
		t.Fatalf("self-enrol: %d %s", code, loc)
	}
	code, body, _ = c.call(c.lou, "GET", c.path+"?done=self&lang=en", nil)
	c.want(code, body, 200, "You are enrolled in this course.")
	if strings.Contains(body, `id="self-enrol"`) {
		t.Error("an enrolled person is offered to enrol again")
	}
	if _, body, _ := c.call(c.lou, "GET", "/courses", nil); strings.Contains(body, `id="self-open"`) {
		t.Error("the course is still offered for self-enrolment once enrolled")
	}
	// Anonymous: the login page, unless the course is open to guests.
	if code, _, loc := c.call(nil, "GET", c.path, nil); code != 303 || !strings.HasPrefix(loc, "/login") {
		t.Errorf("anonymous: %d %s", code, loc)
	}
	if _, err := c.courses.AddMethod(authz.With(c.ctx, authz.System), c.course.ID, course.Method{Type: course.Guest}); err != nil {
		t.Fatal(err)
	}
	code, body, _ = c.call(nil, "GET", c.path, nil)
	c.want(code, body, 200, `id="guest-note"`, "History")
}

// TestDashboardListsMyCourses: the dashboard lists the person's courses with their role.
func TestDashboardListsMyCourses(t *testing.T) {
	c := newCoursePagesRig(t, nil)
	code, body, _ := c.call(c.tess, "GET", "/?lang=fr", nil)
	c.want(code, body, 200, `id="my-course-list"`, `href="`+c.path+`"`, "History", "Enseignant")
	code, body, _ = c.call(c.lou, "GET", "/?lang=fr", nil)
	c.want(code, body, 200, `id="no-courses"`)
}
