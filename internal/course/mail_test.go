package course_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/jobs"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

const base = "https://roster.example.org"

// mails counts the outbox messages of a template to a user.
func mails(t testing.TB, db *store.DB, template string, userID int64) int {
	t.Helper()
	return count(t, db, `SELECT count(*) FROM outbox WHERE template = $1 AND user_id = $2`, template, userID)
}

func TestWelcomeEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{BaseURL: base + "/"})
		c := mustCourse(t, s, "OPT1")
		welcome, err := s.AddMethod(admin, c.ID, course.Method{Type: course.Manual, Name: "with welcome", SendWelcome: true})
		if err != nil {
			t.Fatal(err)
		}
		self, err := s.AddMethod(admin, c.ID, course.Method{Type: course.Self, SendWelcome: true})
		if err != nil {
			t.Fatal(err)
		}
		ann := addUser(t, db, "Ann", "Archer")
		bob := addUser(t, db, "Bob", "Baker")
		cat := addUser(t, db, "Cat", "Cole")
		dan := addUser(t, db, "Dan", "Dole")

		// The course's first manual method sends no welcome.
		mustEnrol(t, s, c.ID, course.Student, ann, dan)
		if n := mails(t, db, "course_welcome", ann) + mails(t, db, "course_welcome", dan); n != 0 {
			t.Fatalf("%d welcomes from a method without send_welcome", n)
		}
		// By the welcoming method: bob is new to the course, ann is not.
		if _, err := s.Enrol(admin, c.ID, course.EnrolRequest{UserIDs: []int64{ann, bob}, MethodID: welcome.ID}); err != nil {
			t.Fatal(err)
		}
		if a, b := mails(t, db, "course_welcome", ann), mails(t, db, "course_welcome", bob); a != 0 || b != 1 {
			t.Fatalf("welcomes: ann %d (already a participant, want 0), bob %d (want 1)", a, b)
		}
		// Self-enrolment with a welcome: bob already has his; cat gets one.
		if err := s.SelfEnrol(as(bob), c.ID, self.ID, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.SelfEnrol(as(cat), c.ID, self.ID, ""); err != nil {
			t.Fatal(err)
		}
		if b, k := mails(t, db, "course_welcome", bob), mails(t, db, "course_welcome", cat); b != 1 || k != 1 {
			t.Fatalf("welcomes after self-enrolment: bob %d, cat %d, want 1 and 1", b, k)
		}
		var text string
		if err := db.QueryRowContext(context.Background(), `SELECT text_body FROM outbox WHERE template = 'course_welcome' AND user_id = $1`,
			cat).Scan(&text); err != nil {
			t.Fatal(err)
		}
		link := base + "/courses/" + strconv.FormatInt(c.ID, 10)
		if !strings.Contains(text, "\n"+link+"\n") || !strings.Contains(text, "Cat") || !strings.Contains(text, c.Fullname) {
			t.Fatalf("welcome text lacks the name, course or link %s:\n%s", link, text)
		}

		// A course opening next week holds its welcomes until then.
		next := clock.T.Add(7 * 24 * time.Hour)
		later, err := s.Create(admin, course.Course{Shortname: "OPT2", Fullname: "Optics 2", Visible: true, StartsAt: &next})
		if err != nil {
			t.Fatal(err)
		}
		lw, err := s.AddMethod(admin, later.ID, course.Method{Type: course.Manual, SendWelcome: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Enrol(admin, later.ID, course.EnrolRequest{UserIDs: []int64{ann, dan}, MethodID: lw.ID}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM outbox WHERE template = 'course_welcome'`); n != 2 {
			t.Fatalf("%d welcomes queued, want the 2 of OPT1: OPT2 has not opened", n)
		}
		// dan leaves before the course opens: his welcome is dropped.
		if _, err := s.Unenrol(admin, later.ID, []int64{dan}, 0); err != nil {
			t.Fatal(err)
		}
		tasks := jobs.New(db, nil, jobs.CourseTasks(s, nil)...)
		if _, err := tasks.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := mails(t, db, "course_welcome", ann); n != 0 {
			t.Fatalf("ann has %d welcomes before OPT2 opens", n)
		}
		clock.Advance(7*24*time.Hour + time.Minute)
		ran, err := tasks.RunDue(context.Background())
		if err != nil || len(ran) != 1 {
			t.Fatalf("ran %v, %v", ran, err)
		}
		if a, d := mails(t, db, "course_welcome", ann), mails(t, db, "course_welcome", dan); a != 1 || d != 0 {
			t.Fatalf("after OPT2 opened: ann %d welcomes (want 1), dan %d (unenrolled, want 0)", a, d)
		}
		if n := count(t, db, `SELECT count(*) FROM course_welcome_due`); n != 0 {
			t.Fatalf("%d held welcomes left", n)
		}
		// Run again later: nothing more.
		clock.Advance(time.Hour)
		if _, err := tasks.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := mails(t, db, "course_welcome", ann); n != 1 {
			t.Fatalf("ann has %d welcomes, want 1", n)
		}
	})
}

func TestSendMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{BaseURL: base})
		c := mustCourse(t, s, "MSG1")
		other := mustCourse(t, s, "MSG2")
		teacher := addUser(t, db, "Tess", "Teacher")
		ann := addUser(t, db, "Ann", "Archer")
		bob := addUser(t, db, "Bob", "Baker")
		outsider := addUser(t, db, "Olga", "Outside")
		mustEnrol(t, s, c.ID, course.Teacher, teacher)
		mustEnrol(t, s, c.ID, course.Student, ann, bob)
		mustEnrol(t, s, other.ID, course.Student, outsider)

		res, err := s.SendMessage(as(teacher), c.ID, []int64{ann, ann}, "Room change", "The lab moves to B12.\r\nSee you there.")
		if err != nil {
			t.Fatal(err)
		}
		if res.Queued != 1 || res.NoAddress != 0 {
			t.Fatalf("result %+v, want 1 queued", res)
		}
		if a, b := mails(t, db, "course_message", ann), mails(t, db, "course_message", bob); a != 1 || b != 0 {
			t.Fatalf("messages: ann %d (selected, want 1), bob %d (not selected, want 0)", a, b)
		}
		var subject, text string
		if err := db.QueryRowContext(context.Background(), `SELECT subject, text_body FROM outbox WHERE template = 'course_message'`).
			Scan(&subject, &text); err != nil {
			t.Fatal(err)
		}
		if subject != "[Course MSG1] Room change" || !strings.Contains(text, "The lab moves to B12.\nSee you there.") ||
			!strings.Contains(text, "Tess Teacher") {
			t.Fatalf("subject %q, text:\n%s", subject, text)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'course.message'`); n != 1 {
			t.Fatalf("%d audit events", n)
		}

		before := count(t, db, `SELECT count(*) FROM outbox`)
		_, err = s.SendMessage(as(ann), c.ID, []int64{bob}, "Hi", "Hello")
		wantCode(t, err, errs.Forbidden, "")
		_, err = s.SendMessage(as(teacher), c.ID, []int64{ann, outsider}, "Hi", "Hello")
		wantCode(t, err, errs.NotFound, "user_ids")
		_, err = s.SendMessage(as(teacher), other.ID, []int64{outsider}, "Hi", "Hello")
		wantCode(t, err, errs.Forbidden, "")
		_, err = s.SendMessage(as(teacher), c.ID, []int64{ann}, " ", "Hello")
		wantCode(t, err, errs.Invalid, "subject")
		_, err = s.SendMessage(as(teacher), c.ID, []int64{ann}, "Hi", "")
		wantCode(t, err, errs.Invalid, "body")
		_, err = s.SendMessage(as(teacher), c.ID, nil, "Hi", "Hello")
		wantCode(t, err, errs.Invalid, "user_ids")
		if got := count(t, db, `SELECT count(*) FROM outbox`); got != before {
			t.Fatalf("a refused message queued %d emails", got-before)
		}
	})
}
