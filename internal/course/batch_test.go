package course_test

import (
	"context"
	"testing"

	"roster/internal/course"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestBatchOperations runs the batch API other packages write course tables through, over
// more rows than one statement takes.
func TestBatchOperations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB, clock *storetest.Clock) {
		ctx := context.Background()
		s := course.NewService(db, course.Config{})
		c := mustCourse(t, s, "BATCH1")
		d := mustCourse(t, s, "BATCH2")
		const n = 1203
		users := make([]int64, n)
		for i := range users {
			users[i] = addUser(t, db, "P", "Batch")
		}
		tx := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := db.Tx(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		var methods map[int64]int64
		tx(func(tx *store.Tx) (err error) {
			methods, err = course.EnsureSISMethodsTx(ctx, tx, "night", course.RemovalSuspend, []int64{c.ID, d.ID, c.ID})
			return err
		})
		again := map[int64]int64{}
		tx(func(tx *store.Tx) (err error) {
			again, err = course.EnsureSISMethodsTx(ctx, tx, "night", course.RemovalSuspend, []int64{c.ID})
			return err
		})
		if len(methods) != 2 || again[c.ID] != methods[c.ID] || methods[c.ID] == methods[d.ID] {
			t.Fatalf("sis methods %v, then %v", methods, again)
		}
		if got := count(t, db, `SELECT count(*) FROM course_methods WHERE type = 'sis' AND removal = 'suspend'`); got != 2 {
			t.Fatalf("sis methods = %d, want 2", got)
		}

		start := clock.T.Unix()
		var rows []course.EnrolRow
		for i, u := range users {
			e := course.EnrolRow{CourseID: c.ID, MethodID: methods[c.ID], UserID: u, Role: course.Student, SyncRunID: 7}
			if i%2 == 0 {
				e.StartsAt, e.EndsAt = start, start+3600
			}
			if i%5 == 0 {
				e.Role, e.Status = course.Teacher, course.Suspended
			}
			rows = append(rows, e)
		}
		var added []course.EnrolRow
		tx(func(tx *store.Tx) (err error) {
			added, err = course.EnrolManyTx(ctx, tx, rows[:700])
			return err
		})
		if len(added) != 700 || added[0].ID == 0 {
			t.Fatalf("added %d (first %+v), want 700", len(added), added[0])
		}
		tx(func(tx *store.Tx) (err error) {
			added, err = course.EnrolManyTx(ctx, tx, rows) // the first 700 exist
			return err
		})
		if len(added) != n-700 {
			t.Fatalf("added %d, want %d", len(added), n-700)
		}
		if got := count(t, db, `SELECT count(*) FROM course_enrolments WHERE method_id = $1 AND role = 'teacher' AND status = 'suspended'
			AND sync_run_id = 7`, methods[c.ID]); got != (n+4)/5 {
			t.Fatalf("suspended teachers = %d, want %d", got, (n+4)/5)
		}
		if got := count(t, db, `SELECT count(*) FROM course_enrolments WHERE method_id = $1 AND starts_at = $2 AND ends_at = $3`,
			methods[c.ID], start, start+3600); got != (n+1)/2 {
			t.Fatalf("dated = %d, want %d", got, (n+1)/2)
		}
		_, err := course.EnrolManyTx(ctx, nil, []course.EnrolRow{{Status: "lost"}})
		wantCode(t, err, "invalid", "status")

		// Course groups: made once, placed, unplaced.
		var gids map[course.GroupName]int64
		names := []course.GroupName{{c.ID, "TD 1"}, {c.ID, "TD 'quoted'"}, {d.ID, "TD 1"}}
		tx(func(tx *store.Tx) (err error) {
			gids, err = course.EnsureGroupsTx(ctx, tx, names)
			return err
		})
		tx(func(tx *store.Tx) (err error) {
			again, err := course.EnsureGroupsTx(ctx, tx, names[:1])
			if again[names[0]] != gids[names[0]] {
				t.Errorf("group made twice: %v, %v", gids, again)
			}
			return err
		})
		if len(gids) != 3 || count(t, db, `SELECT count(*) FROM course_groups`) != 3 {
			t.Fatalf("groups %v", gids)
		}
		var place []course.Placement
		for _, u := range users {
			place = append(place, course.Placement{GroupID: gids[names[0]], UserID: u, MethodID: methods[c.ID]})
		}
		place = append(place, course.Placement{GroupID: gids[names[1]], UserID: users[0]})
		tx(func(tx *store.Tx) error {
			got, err := course.PlaceManyTx(ctx, tx, place)
			if err == nil && len(got) != n+1 {
				t.Errorf("placed %d, want %d", len(got), n+1)
			}
			if got, err = course.PlaceManyTx(ctx, tx, place[:10]); err == nil && len(got) != 0 {
				t.Errorf("placed again %d, want 0", len(got))
			}
			return err
		})
		tx(func(tx *store.Tx) error {
			k, err := course.UnplaceByMethodManyTx(ctx, tx, []course.MethodUser{{methods[c.ID], users[1]}, {methods[c.ID], users[2]}})
			if err == nil && k != 2 {
				t.Errorf("unplaced by method %d, want 2", k)
			}
			k, err = course.UnplaceManyTx(ctx, tx, place[3:5])
			if err == nil && k != 2 {
				t.Errorf("unplaced %d, want 2", k)
			}
			return err
		})

		// The sync's changes: role and dates, a sync suspension, lifted by the next update.
		var ids []int64
		for _, e := range added {
			ids = append(ids, e.ID)
		}
		var k int
		tx(func(tx *store.Tx) (err error) {
			k, err = course.SyncSuspendManyTx(ctx, tx, ids, 8)
			return err
		})
		if k == 0 || k != count(t, db, `SELECT count(*) FROM course_enrolments WHERE sync_suspended`) {
			t.Fatalf("sync-suspended %d", k)
		}
		tx(func(tx *store.Tx) error {
			k, err := course.UpdateFromSourceTx(ctx, tx, ids, course.SourceUpdate{Role: course.Teacher, StartsAt: start, SyncRunID: 9})
			if err == nil && k != len(ids) {
				t.Errorf("updated %d, want %d", k, len(ids))
			}
			return err
		})
		if got := count(t, db, `SELECT count(*) FROM course_enrolments WHERE sync_run_id = 9 AND role = 'teacher' AND starts_at = $1
			AND ends_at IS NULL AND NOT sync_suspended AND status = 'active'`, start); got != len(ids)-len(ids)/5 {
			// those suspended by hand (every fifth, from the rows) stay suspended
			if got2 := count(t, db, `SELECT count(*) FROM course_enrolments WHERE sync_run_id = 9`); got2 != len(ids) {
				t.Fatalf("run 9 = %d, want %d", got2, len(ids))
			}
		}
		if got := count(t, db, `SELECT count(*) FROM course_enrolments WHERE sync_run_id = 9 AND sync_suspended`); got != 0 {
			t.Fatalf("sync suspensions left: %d", got)
		}

		// By hand: suspend and reactivate everyone of the course.
		before := count(t, db, `SELECT count(*) FROM course_enrolments WHERE course_id = $1 AND status = 'active'`, c.ID)
		tx(func(tx *store.Tx) (err error) {
			k, err = course.SetStatusManyTx(ctx, tx, c.ID, users, course.Suspended)
			return err
		})
		if k != before {
			t.Fatalf("suspended %d, want %d", k, before)
		}
		if got := count(t, db, `SELECT count(*) FROM course_enrolments WHERE course_id = $1 AND status = 'active'`, c.ID); got != 0 {
			t.Fatalf("active left: %d", got)
		}
		tx(func(tx *store.Tx) error {
			_, err := course.SetStatusManyTx(ctx, tx, c.ID, users, course.Active)
			return err
		})

		// Dates: changed, the old ones returned, given back.
		redate := []course.EnrolRow{{MethodID: methods[c.ID], UserID: users[0], StartsAt: start + 60, EndsAt: start + 120},
			{MethodID: methods[c.ID], UserID: users[1]}, {MethodID: methods[d.ID], UserID: users[1], StartsAt: start}}
		var old []course.EnrolRow
		tx(func(tx *store.Tx) (err error) {
			old, err = course.RedateManyTx(ctx, tx, redate)
			return err
		})
		if len(old) != 2 || count(t, db, `SELECT count(*) FROM course_enrolments WHERE user_id = $1 AND starts_at = $2 AND ends_at = $3`,
			users[0], start+60, start+120) != 1 || count(t, db, `SELECT count(*) FROM course_enrolments WHERE user_id = $1
			AND starts_at IS NULL AND ends_at IS NULL`, users[1]) != 1 {
			t.Fatalf("redate: old %+v", old)
		}
		for _, e := range old {
			if e.UserID == users[0] && (e.StartsAt != start || e.EndsAt != start+3600) {
				t.Fatalf("old dates of %d: %+v", users[0], e)
			}
		}
		tx(func(tx *store.Tx) error { _, err := course.RedateManyTx(ctx, tx, old); return err })
		if count(t, db, `SELECT count(*) FROM course_enrolments WHERE user_id = $1 AND starts_at = $2 AND ends_at = $3`,
			users[0], start, start+3600) != 1 {
			t.Fatal("dates not given back")
		}

		// Unenrol: by (method, user, role), with the rows as they were, and out of the groups.
		tx(func(tx *store.Tx) error {
			gone, err := course.UnenrolManyTx(ctx, tx, []course.EnrolRow{{MethodID: methods[c.ID], UserID: users[0], Role: course.Teacher},
				{MethodID: methods[c.ID], UserID: users[6], Role: course.Student}, {MethodID: methods[c.ID], UserID: users[7], Role: course.Teacher}})
			if err == nil && (len(gone) != 2 || gone[0].CourseID != c.ID || gone[0].Status == "") {
				t.Errorf("gone %+v", gone)
			}
			return err
		})
		if got := count(t, db, `SELECT count(*) FROM course_group_members WHERE user_id = $1`, users[0]); got != 0 {
			t.Fatalf("unenrolled still in groups: %d", got)
		}
		// users[6] is gone; users[7] was a student, not a teacher: enrolled and placed still.
		if got := count(t, db, `SELECT count(*) FROM course_group_members WHERE user_id IN ($1, $2)`, users[6], users[7]); got != 1 {
			t.Fatalf("placements of users 6 and 7: %d, want 1", got)
		}
		tx(func(tx *store.Tx) error {
			k, err := course.UnenrolIDsTx(ctx, tx, ids[:300])
			if err == nil && k != 300 {
				t.Errorf("unenrolled by id %d, want 300", k)
			}
			return err
		})

		// Manual enrolments of a role in a course, whatever the manual method.
		mustEnrol(t, s, d.ID, course.Student, users[10], users[11])
		mustEnrol(t, s, d.ID, course.Teacher, users[12])
		tx(func(tx *store.Tx) error {
			gone, err := course.UnenrolManualManyTx(ctx, tx, []course.EnrolRow{{CourseID: d.ID, UserID: users[10], Role: course.Student},
				{CourseID: d.ID, UserID: users[12], Role: course.Student}})
			if err == nil && (len(gone) != 1 || gone[0].UserID != users[10]) {
				t.Errorf("gone %+v", gone)
			}
			return err
		})
		if got := count(t, db, `SELECT count(*) FROM course_enrolments WHERE course_id = $1`, d.ID); got != 2 {
			t.Fatalf("course d enrolments = %d, want 2", got)
		}
	})
}
