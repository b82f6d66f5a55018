package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"roster/internal/authz"
	"roster/internal/config"
	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/invite"
	"roster/internal/jobs"
	"roster/internal/mail"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// wireRig is one database with the services as `roster serve` wires them.
type wireRig struct {
	t     *testing.T
	db    *store.DB
	clock *storetest.Clock
	svc   *services
	admin context.Context
	tasks *jobs.Runner
}

func newWireRig(t *testing.T, db *store.DB, clock *storetest.Clock) *wireRig {
	r := &wireRig{t: t, db: db, clock: clock, svc: newServices(db, &config.Config{BaseURL: "https://roster.test"}, nil)}
	r.admin = authz.With(context.Background(), &authz.Principal{UserID: r.user("grace"), PlatformAdmin: true})
	r.tasks = jobs.New(db, nil, jobs.InvitationTasks(r.svc.invites, nil)...)
	return r
}

func (r *wireRig) user(name string) int64 {
	r.t.Helper()
	var id int64
	err := r.db.QueryRowContext(context.Background(), `INSERT INTO users (username, email, email_norm, first_name, last_name,
		created_at, updated_at, activated_at) VALUES ($1, $2, $2, $1, 'Test', 0, 0, 0) RETURNING id`,
		name, name+"@example.org").Scan(&id)
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

func (r *wireRig) course(short string, startsAt *time.Time) int64 {
	r.t.Helper()
	c, err := r.svc.courses.Create(r.admin, course.Course{Shortname: short, Fullname: "Course " + short, Visible: true,
		StartsAt: startsAt})
	if err != nil {
		r.t.Fatal(err)
	}
	return c.ID
}

func (r *wireRig) count(q string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// mails returns the text of the invitation emails to addr, oldest first.
func (r *wireRig) mails(addr string) []string {
	r.t.Helper()
	rows, err := r.db.QueryContext(context.Background(), `SELECT text_body FROM outbox
		WHERE template = 'invitation' AND to_addr = $1 ORDER BY id`, addr)
	if err != nil {
		r.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			r.t.Fatal(err)
		}
		if s, err = mail.OpenLinks(r.db.Key, s); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

var wireTokenRE = regexp.MustCompile(`https://roster\.test/invitation/([A-Za-z0-9_-]{43})\b`)

// enrolled is the role of the user's enrolments in the course by the invitation method ("" for none).
func (r *wireRig) enrolled(courseID, userID int64) string {
	r.t.Helper()
	var role string
	err := r.db.QueryRowContext(context.Background(), `SELECT e.role FROM course_enrolments e
		JOIN course_methods m ON m.id = e.method_id WHERE e.course_id = $1 AND e.user_id = $2 AND m.type = 'invitation'`,
		courseID, userID).Scan(&role)
	if store.IsNoRows(err) {
		return ""
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return role
}

func (r *wireRig) invite(ctx context.Context, emails string, courseID int64) invite.Result {
	r.t.Helper()
	res, err := r.svc.invites.Invite(ctx, invite.Request{Emails: emails, CourseID: courseID})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(res) != 1 {
		r.t.Fatalf("want one result, got %+v", res)
	}
	return res[0]
}

func (r *wireRig) runTask() {
	r.t.Helper()
	if _, err := r.tasks.RunDue(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

func TestInvitationToOpenCourseIsSentAndEnrolsOnAccept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newWireRig(t, db, clock)
		cid := r.course("ALG1", nil)
		res := r.invite(r.admin, "ada@uni.test", cid)
		if res.Outcome != invite.Invited {
			t.Fatalf("outcome %+v", res)
		}
		mails := r.mails("ada@uni.test")
		if len(mails) != 1 || !strings.Contains(mails[0], "Course ALG1") {
			t.Fatalf("want one email naming the course, got %q", mails)
		}
		m := wireTokenRE.FindStringSubmatch(mails[0])
		if m == nil {
			t.Fatalf("no link in %q", mails[0])
		}
		u, err := r.svc.invites.Accept(context.Background(), invite.Acceptance{Token: m[1], FirstName: "Ada",
			LastName: "Lovelace", Password: "correct-lantern-orbit-42"})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.enrolled(cid, u.ID); got != course.Student {
			t.Fatalf("enrolled as %q, want student", got)
		}
		// The task has nothing to send.
		r.runTask()
		if n := len(r.mails("ada@uni.test")); n != 1 {
			t.Fatalf("%d emails after the task, want 1", n)
		}
	})
}

func TestInvitationToCourseNotOpenIsHeldUntilItOpens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newWireRig(t, db, clock)
		opens := clock.Now().Add(7 * 24 * time.Hour).Truncate(time.Second)
		cid := r.course("GEO2", &opens)
		res := r.invite(r.admin, "bob@uni.test", cid)
		if res.Outcome != invite.Invited {
			t.Fatalf("outcome %+v", res)
		}
		if n := r.count(`SELECT COUNT(*) FROM outbox`); n != 0 {
			t.Fatalf("%d emails queued for a course that has not opened", n)
		}
		inv, err := r.svc.invites.Get(r.admin, res.InvitationID)
		if err != nil {
			t.Fatal(err)
		}
		if inv.DueAt == nil || !inv.DueAt.Equal(opens) || inv.SentCount != 0 || inv.LastSentAt != nil {
			t.Fatalf("held invitation: due %v, sent %d, last %v", inv.DueAt, inv.SentCount, inv.LastSentAt)
		}
		// Re-sending by hand does not send it early.
		if err := r.svc.invites.Resend(r.admin, inv.ID); !errs.Is(err, errs.Conflict) {
			t.Fatalf("resend of a held invitation: %v", err)
		}

		r.runTask()
		clock.Advance(6 * 24 * time.Hour)
		r.runTask()
		if n := len(r.mails("bob@uni.test")); n != 0 {
			t.Fatalf("%d emails before the course opens", n)
		}

		clock.Advance(24*time.Hour + time.Minute)
		r.runTask()
		mails := r.mails("bob@uni.test")
		if len(mails) != 1 || !strings.Contains(mails[0], "Course GEO2") {
			t.Fatalf("want one email naming the course once it opened, got %q", mails)
		}
		inv, err = r.svc.invites.Get(r.admin, res.InvitationID)
		if err != nil {
			t.Fatal(err)
		}
		if inv.DueAt != nil || inv.SentCount != 1 || inv.LastSentAt == nil || inv.Status != invite.StatusPending {
			t.Fatalf("sent invitation: due %v, sent %d, last %v, status %s", inv.DueAt, inv.SentCount, inv.LastSentAt, inv.Status)
		}
		// Idempotent: later runs send nothing more.
		clock.Advance(2 * time.Minute)
		r.runTask()
		if n, err := r.svc.invites.SendDue(context.Background()); err != nil || n != 0 {
			t.Fatalf("SendDue again: %d, %v", n, err)
		}
		if n := len(r.mails("bob@uni.test")); n != 1 {
			t.Fatalf("%d emails after more runs, want 1", n)
		}
		m := wireTokenRE.FindStringSubmatch(mails[0])
		u, err := r.svc.invites.Accept(context.Background(), invite.Acceptance{Token: m[1], FirstName: "Bob",
			LastName: "Builder", Password: "correct-lantern-orbit-42"})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.enrolled(cid, u.ID); got != course.Student {
			t.Fatalf("enrolled as %q, want student", got)
		}
	})
}

func TestHeldInvitationFollowsTheCourseStartDate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newWireRig(t, db, clock)
		opens := clock.Now().Add(7 * 24 * time.Hour).Truncate(time.Second)
		cid := r.course("HIS3", &opens)
		r.invite(r.admin, "cy@uni.test", cid)
		// The course now opens tomorrow: the invitation is sent then, not a week later.
		if _, err := db.ExecContext(context.Background(), `UPDATE courses SET starts_at = $1 WHERE id = $2`,
			clock.Now().Add(24*time.Hour).Unix(), cid); err != nil {
			t.Fatal(err)
		}
		clock.Advance(24*time.Hour + time.Second)
		if n, err := r.svc.invites.SendDue(context.Background()); err != nil || n != 1 {
			t.Fatalf("SendDue: %d, %v", n, err)
		}
		if n := len(r.mails("cy@uni.test")); n != 1 {
			t.Fatalf("%d emails, want 1", n)
		}
	})
}

func TestExistingAccountInvitedIntoCourseIsEnrolledDirectly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newWireRig(t, db, clock)
		cid := r.course("PHY1", nil)
		dana := r.user("dana")
		res := r.invite(r.admin, "dana@example.org", cid)
		if res.Outcome != invite.AlreadyActive || res.UserID != dana || !strings.Contains(res.Message, "enrolled") {
			t.Fatalf("result %+v", res)
		}
		if got := r.enrolled(cid, dana); got != course.Student {
			t.Fatalf("enrolled as %q, want student", got)
		}
		if n := r.count(`SELECT COUNT(*) FROM invitations`); n != 0 {
			t.Fatalf("%d invitations written for an existing account", n)
		}
		if n := r.count(`SELECT COUNT(*) FROM outbox`); n != 0 {
			t.Fatalf("%d emails for an existing account", n)
		}
		// Again: still one enrolment, no error.
		r.invite(r.admin, "dana@example.org", cid)
		if n := r.count(`SELECT COUNT(*) FROM course_enrolments WHERE course_id = $1 AND user_id = $2`, cid, dana); n != 1 {
			t.Fatalf("%d enrolments", n)
		}
	})
}

func TestTeacherInvitesIntoTheirCourseOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newWireRig(t, db, clock)
		mine, other := r.course("MINE", nil), r.course("OTHER", nil)
		teacher, student := r.user("tess"), r.user("stu")
		if _, err := r.svc.courses.Enrol(r.admin, mine, course.EnrolRequest{UserIDs: []int64{teacher}, Role: course.Teacher}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.courses.Enrol(r.admin, other, course.EnrolRequest{UserIDs: []int64{student}, Role: course.Student}); err != nil {
			t.Fatal(err)
		}
		tess := authz.With(context.Background(), &authz.Principal{UserID: teacher})
		res := r.invite(tess, "eve@uni.test", mine)
		if res.Outcome != invite.Invited {
			t.Fatalf("outcome %+v", res)
		}
		if got := r.mails("eve@uni.test"); len(got) != 1 {
			t.Fatalf("want one email, got %q", got)
		}
		// The teacher manages the invitation they sent.
		if err := r.svc.invites.Resend(tess, res.InvitationID); err != nil {
			t.Fatal(err)
		}
		_, err := r.svc.invites.Invite(tess, invite.Request{Emails: "fay@uni.test", CourseID: other})
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("invite into another course: %v", err)
		}
		stu := authz.With(context.Background(), &authz.Principal{UserID: student})
		if _, err := r.svc.invites.Invite(stu, invite.Request{Emails: "gus@uni.test", CourseID: other}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a student invites into their course: %v", err)
		}
		if err := r.svc.invites.Cancel(stu, res.InvitationID); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a student cancels the teacher's invitation: %v", err)
		}
		if _, err := r.svc.invites.Invite(r.admin, invite.Request{Emails: "hal@uni.test", CourseID: 999999}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("invite into an unknown course: %v", err)
		}
		if n := r.count(`SELECT COUNT(*) FROM invitations`); n != 1 {
			t.Fatalf("%d invitations, want 1", n)
		}
	})
}

// The dashboard's "External users" for a teacher: the new account is enrolled in the
// teacher's course in the same transaction; another course, or a student, is refused.
func TestTeacherCreatesExternalUserInTheirCourse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newWireRig(t, db, clock)
		mine, other := r.course("MINE", nil), r.course("OTHER", nil)
		teacher, student := r.user("tess"), r.user("stu")
		if _, err := r.svc.courses.Enrol(r.admin, mine, course.EnrolRequest{UserIDs: []int64{teacher}, Role: course.Teacher}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.courses.Enrol(r.admin, other, course.EnrolRequest{UserIDs: []int64{student}, Role: course.Student}); err != nil {
			t.Fatal(err)
		}
		tess := authz.With(context.Background(), &authz.Principal{UserID: teacher})
		c, err := r.svc.invites.CreateExternal(tess, invite.ExternalRequest{FirstName: "Ext", LastName: "Speaker",
			Email: "ext@uni.test", CourseID: mine})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.enrolled(mine, c.User.ID); got != course.Student {
			t.Fatalf("enrolled as %q", got)
		}
		if n := r.count(`SELECT COUNT(*) FROM outbox WHERE template = 'account_setup' AND to_addr = 'ext@uni.test'`); n != 1 {
			t.Fatalf("%d account_setup emails", n)
		}
		users := r.count(`SELECT COUNT(*) FROM users`)
		_, err = r.svc.invites.CreateExternal(tess, invite.ExternalRequest{FirstName: "No", LastName: "Way",
			Email: "no@uni.test", CourseID: other})
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("into a course they do not teach: %v", err)
		}
		stu := authz.With(context.Background(), &authz.Principal{UserID: student})
		_, err = r.svc.invites.CreateExternal(stu, invite.ExternalRequest{FirstName: "No", LastName: "Way", Email: "no2@uni.test"})
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a student creates an account: %v", err)
		}
		_, err = r.svc.invites.CreateExternal(stu, invite.ExternalRequest{FirstName: "No", LastName: "Way",
			Email: "no3@uni.test", CourseID: other})
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a student enrols into their course: %v", err)
		}
		if n := r.count(`SELECT COUNT(*) FROM users`); n != users {
			t.Fatalf("refused requests created %d accounts", n-users)
		}
	})
}

// TestTeacherListsTheCourseInvitations: a teacher lists the invitations of their course
// (held ones with their due date and the course's name) and, with no filter, the ones they
// sent; another course's list is refused, and a student may list none.
func TestTeacherListsTheCourseInvitations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		r := newWireRig(t, db, clock)
		opens := clock.T.Add(72 * time.Hour)
		mine, other := r.course("MINE", &opens), r.course("OTHER", nil)
		teacher, student := r.user("tess"), r.user("stu")
		if _, err := r.svc.courses.Enrol(r.admin, mine, course.EnrolRequest{UserIDs: []int64{teacher}, Role: course.Teacher}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.courses.Enrol(r.admin, other, course.EnrolRequest{UserIDs: []int64{student}, Role: course.Student}); err != nil {
			t.Fatal(err)
		}
		tess := authz.With(context.Background(), &authz.Principal{UserID: teacher})
		r.invite(tess, "eve@uni.test", mine)
		r.invite(r.admin, "zed@uni.test", other)
		items, _, err := r.svc.invites.List(tess, invite.Filter{CourseID: mine})
		if err != nil || len(items) != 1 || items[0].Email != "eve@uni.test" || items[0].DueAt == nil ||
			!items[0].DueAt.Equal(opens) || items[0].CourseName != "Course MINE" {
			t.Fatalf("the course's invitations: %+v %v", items, err)
		}
		if items, _, err := r.svc.invites.List(tess, invite.Filter{}); err != nil || len(items) != 1 || items[0].CourseID != mine {
			t.Fatalf("the teacher's own invitations: %+v %v", items, err)
		}
		if _, _, err := r.svc.invites.List(tess, invite.Filter{CourseID: other}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("another course's invitations: %v", err)
		}
		stu := authz.With(context.Background(), &authz.Principal{UserID: student})
		if _, _, err := r.svc.invites.List(stu, invite.Filter{}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a student lists invitations: %v", err)
		}
	})
}
