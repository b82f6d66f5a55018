package course_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"roster/internal/course"
	"roster/internal/errs"
	"roster/internal/group"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func drain(t testing.TB, f *course.Follower) {
	t.Helper()
	if _, err := f.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func participantNames(t testing.TB, s *course.Service, courseID int64, f course.ParticipantFilter) string {
	t.Helper()
	f.Limit = course.All
	p, err := s.Participants(admin, courseID, f)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(names(p))
}

func TestGroupSyncAndMeta(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		s := course.NewService(db, course.Config{})
		gs := group.NewService(db)
		follower := course.NewFollower(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		year, err := gs.Create(admin, group.Group{Name: "Year 1", Visibility: group.Private})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := gs.Create(admin, group.Group{Name: "Year 1 A", ParentID: year.ID, Visibility: group.Private})
		if err != nil {
			t.Fatal(err)
		}
		ann := addUser(t, db, "Ann", "Archer")
		bob := addUser(t, db, "Bob", "Baker")
		cid := addUser(t, db, "Cid", "Cole")
		add := func(g, u int64) {
			t.Helper()
			if err := gs.AddMember(admin, g, u, group.Learner, ""); err != nil {
				t.Fatal(err)
			}
		}
		add(year.ID, ann)
		add(sub.ID, cid)

		c := mustCourse(t, s, "MATH")
		mustEnrol(t, s, c.ID, course.Student, bob)
		cg, err := s.CreateGroup(admin, c.ID, "Synced")
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.AddMethod(admin, c.ID, course.Method{Type: course.GroupSync, GroupID: year.ID, Subgroups: true, CourseGroupID: cg.ID})
		if err != nil {
			t.Fatal(err)
		}
		// Enrolled at once, in the transaction that added the method.
		if got := participantNames(t, s, c.ID, course.ParticipantFilter{GroupID: cg.ID}); got != "[Archer Ann Cole Cid]" {
			t.Fatalf("after adding the method: %s", got)
		}
		// People added to the group (or a sub-group) follow once the follower runs.
		add(sub.ID, bob)
		drain(t, follower)
		if got := participantNames(t, s, c.ID, course.ParticipantFilter{Method: course.GroupSync}); got != "[Archer Ann Baker Bob Cole Cid]" {
			t.Fatalf("after adding Bob to the sub-group: %s", got)
		}
		// Removed from the group: unenrolled by the sync, and Bob's manual enrolment stays.
		if err := gs.RemoveMember(admin, sub.ID, bob, "", ""); err != nil {
			t.Fatal(err)
		}
		if err := gs.RemoveMember(admin, year.ID, ann, "", ""); err != nil {
			t.Fatal(err)
		}
		drain(t, follower)
		if got := participantNames(t, s, c.ID, course.ParticipantFilter{}); got != "[Baker Bob Cole Cid]" {
			t.Fatalf("after removals: %s", got)
		}
		if got := participantNames(t, s, c.ID, course.ParticipantFilter{GroupID: cg.ID}); got != "[Cole Cid]" {
			t.Fatalf("course group after removals: %s", got)
		}
		// A synced enrolment is not unenrolled by hand.
		_, err = s.Unenrol(admin, c.ID, []int64{cid}, m.ID)
		wantCode(t, err, errs.Conflict, "")

		// Suspend instead of unenrol, and come back.
		c2 := mustCourse(t, s, "MATH2")
		if _, err := s.AddMethod(admin, c2.ID, course.Method{Type: course.GroupSync, GroupID: sub.ID, Removal: course.RemovalSuspend}); err != nil {
			t.Fatal(err)
		}
		if err := gs.RemoveMember(admin, sub.ID, cid, "", ""); err != nil {
			t.Fatal(err)
		}
		drain(t, follower)
		if got := participantNames(t, s, c2.ID, course.ParticipantFilter{Status: course.Suspended}); got != "[Cole Cid]" {
			t.Fatalf("suspended by the sync: %s", got)
		}
		add(sub.ID, cid)
		drain(t, follower)
		if got := participantNames(t, s, c2.ID, course.ParticipantFilter{Status: course.Active}); got != "[Cole Cid]" {
			t.Fatalf("back in the group: %s", got)
		}

		// Meta: MATH-ALL follows MATH's students; a loop is refused.
		meta := mustCourse(t, s, "MATH-ALL")
		if _, err := s.AddMethod(admin, meta.ID, course.Method{Type: course.Meta, LinkedCourseID: c.ID, LinkedRoles: []string{course.Student}}); err != nil {
			t.Fatal(err)
		}
		_, err = s.AddMethod(admin, c.ID, course.Method{Type: course.Meta, LinkedCourseID: meta.ID})
		wantCode(t, err, errs.Conflict, "")
		if got := participantNames(t, s, meta.ID, course.ParticipantFilter{}); got != "[Baker Bob Cole Cid]" {
			t.Fatalf("meta: %s", got)
		}
		add(year.ID, ann) // Ann → MATH by group sync → MATH-ALL by the meta link
		drain(t, follower)
		if got := participantNames(t, s, meta.ID, course.ParticipantFilter{}); got != "[Archer Ann Baker Bob Cole Cid]" {
			t.Fatalf("meta after a group change: %s", got)
		}
		if _, err := s.Unenrol(admin, c.ID, []int64{bob}, 0); err != nil {
			t.Fatal(err)
		}
		drain(t, follower)
		if got := participantNames(t, s, meta.ID, course.ParticipantFilter{}); got != "[Archer Ann Cole Cid]" {
			t.Fatalf("meta after unenrolling Bob from MATH: %s", got)
		}

		// Deleting the followed group empties the method (the trigger on course_methods queues it).
		if _, err := db.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = $1`, sub.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM groups WHERE id = $1`, sub.ID); err != nil {
			t.Fatal(err)
		}
		drain(t, follower)
		if got := participantNames(t, s, c2.ID, course.ParticipantFilter{Status: course.Active}); got != "[]" {
			t.Fatalf("after deleting the group: %s", got)
		}
		if n := count(t, db, `SELECT count(*) FROM course_sync_queue`); n != 0 {
			t.Fatalf("queue left with %d rows", n)
		}
	})
}

func TestInvitationHookAndCourseOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		s := course.NewService(db, course.Config{})
		opens := clock.T.Add(7 * 24 * time.Hour)
		c, err := s.Create(admin, course.Course{Shortname: "LATER", Fullname: "Later", Visible: true, StartsAt: &opens})
		if err != nil {
			t.Fatal(err)
		}
		open, at, err := course.CourseOpen(ctx, db, c.ID, clock.T)
		if err != nil || open || !at.Equal(opens) {
			t.Fatalf("CourseOpen before = %v %v %v", open, at, err)
		}
		if open, _, _ := course.CourseOpen(ctx, db, c.ID, opens); !open {
			t.Fatal("the course must be open at its start")
		}
		if _, _, err := course.CourseOpen(ctx, db, 999, clock.T); !errs.Is(err, errs.NotFound) {
			t.Fatalf("CourseOpen of no course: %v", err)
		}
		ann := addUser(t, db, "Ann", "Archer")
		for i := 0; i < 2; i++ { // idempotent
			if err := db.Tx(ctx, func(tx *store.Tx) error { return s.EnrolInvited(ctx, tx, c.ID, ann) }); err != nil {
				t.Fatal(err)
			}
		}
		p, err := s.Participants(admin, c.ID, course.ParticipantFilter{Method: course.Invitation})
		if err != nil || p.Total != 1 || p.Items[0].Status != course.NotCurrent || !p.Items[0].Enrolments[0].StartsAt.Equal(opens) {
			t.Fatalf("invited: %+v %v", p, err)
		}
		err = db.Tx(ctx, func(tx *store.Tx) error { return s.EnrolInvited(ctx, tx, c.ID, 424242) })
		wantCode(t, err, errs.NotFound, "user_ids")
	})
}

// TestGroupSyncFollowsPropagationMoves: moving a public sub-group moves the memberships it
// propagated from the old parent to the new one (an UPDATE of group_members); courses synced
// with either parent follow.
func TestGroupSyncFollowsPropagationMoves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		s := course.NewService(db, course.Config{})
		gs := group.NewService(db)
		follower := course.NewFollower(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		mk := func(name string, parent int64, vis string) int64 {
			t.Helper()
			g, err := gs.Create(admin, group.Group{Name: name, ParentID: parent, Visibility: vis})
			if err != nil {
				t.Fatal(err)
			}
			return g.ID
		}
		north := mk("North", 0, group.Private)
		south := mk("South", 0, group.Private)
		team := mk("Team", north, group.Public)
		ann := addUser(t, db, "Ann", "Archer")
		if err := gs.AddMember(admin, team, ann, group.Learner, ""); err != nil {
			t.Fatal(err)
		}
		cn, cs := mustCourse(t, s, "NORTH"), mustCourse(t, s, "SOUTH")
		for c, g := range map[int64]int64{cn.ID: north, cs.ID: south} {
			if _, err := s.AddMethod(admin, c, course.Method{Type: course.GroupSync, GroupID: g}); err != nil {
				t.Fatal(err)
			}
		}
		drain(t, follower)
		if got := participantNames(t, s, cn.ID, course.ParticipantFilter{}); got != "[Archer Ann]" {
			t.Fatalf("north course before the move: %s", got)
		}
		if _, err := gs.Move(admin, team, south); err != nil {
			t.Fatal(err)
		}
		drain(t, follower)
		if got := participantNames(t, s, cn.ID, course.ParticipantFilter{Status: course.Active}); got != "[]" {
			t.Errorf("north course after the move: %s, want nobody active", got)
		}
		if got := participantNames(t, s, cs.ID, course.ParticipantFilter{}); got != "[Archer Ann]" {
			t.Errorf("south course after the move: %s", got)
		}
	})
}
