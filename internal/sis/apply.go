package sis

import (
	"context"
	"sort"
	"time"

	"roster/internal/course"
	"roster/internal/store"
)

// rowsPerTx bounds one transaction: a run writes some thousands of rows per transaction,
// which keeps both databases fast without holding SQLite's single writer lock for the whole
// run. The course package owns the tables and writes many rows per statement.
const rowsPerTx = 20000

// apply writes a plan through the course package: the missing sis methods, then additions,
// changes and removals, in batches. Each batch is its own transaction; a run interrupted
// half-way is completed by the next one (the diff only sees what is left to do).
func apply(ctx context.Context, db *store.DB, source, action string, runID int64, p *Plan, methods map[int64]int64) error {
	adds := p.Add
	t := time.Now()
	if err := ensureMethods(ctx, db, source, action, adds, methods); err != nil {
		return err
	}
	// Additions.
	var rows []course.EnrolRow
	for start := 0; start < len(adds); start += rowsPerTx {
		end := min(start+rowsPerTx, len(adds))
		rows = rows[:0]
		for i, k := range adds[start:end] {
			w := &p.AddWant[start+i]
			rows = append(rows, course.EnrolRow{CourseID: k.Course(), MethodID: methods[k.Course()], UserID: k.User(), Role: w.Role,
				StartsAt: w.Starts, EndsAt: w.Ends, SyncRunID: runID})
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := course.EnrolManyTx(ctx, tx, rows)
			return err
		}); err != nil {
			return err
		}
	}
	t = tracePhase("apply: additions", t)
	// Then the rest, in order, packed into transactions of about rowsPerTx rows: the old
	// course-group placements of regrouped and unenrolled people, the changes (grouped by
	// what they become, so that one statement updates many enrolments), the suspensions and
	// the unenrolments. The new placements are made last.
	var steps []step
	var unplace []course.MethodUser
	for _, c := range p.Change {
		if c.Regroup {
			unplace = append(unplace, course.MethodUser{MethodID: methods[c.Key.Course()], UserID: c.Key.User()})
		}
	}
	for _, r := range p.Unenrol {
		unplace = append(unplace, course.MethodUser{MethodID: methods[r.Key.Course()], UserID: r.Key.User()})
	}
	steps = addSteps(steps, unplace, func(tx *store.Tx, batch []course.MethodUser) error {
		_, err := course.UnplaceByMethodManyTx(ctx, tx, batch)
		return err
	})
	groups := map[Want][]int64{}
	for _, c := range p.Change {
		w := c.Want
		w.Group = "" // placements are made below
		groups[w] = append(groups[w], c.ID)
	}
	wants := make([]Want, 0, len(groups))
	for w := range groups {
		wants = append(wants, w)
	}
	sort.Slice(wants, func(i, j int) bool {
		a, b := wants[i], wants[j]
		if a.Role != b.Role {
			return a.Role < b.Role
		}
		if a.Starts != b.Starts {
			return a.Starts < b.Starts
		}
		return a.Ends < b.Ends
	})
	for _, w := range wants {
		u := course.SourceUpdate{Role: w.Role, StartsAt: w.Starts, EndsAt: w.Ends, SyncRunID: runID}
		steps = addSteps(steps, groups[w], func(tx *store.Tx, ids []int64) error {
			_, err := course.UpdateFromSourceTx(ctx, tx, ids, u)
			return err
		})
	}
	steps = addSteps(steps, removalIDs(p.Suspend), func(tx *store.Tx, ids []int64) error {
		_, err := course.SyncSuspendManyTx(ctx, tx, ids, runID)
		return err
	})
	steps = addSteps(steps, removalIDs(p.Unenrol), func(tx *store.Tx, ids []int64) error {
		_, err := course.UnenrolIDsTx(ctx, tx, ids)
		return err
	})
	for len(steps) > 0 {
		n, rows := 0, 0
		for n < len(steps) && (n == 0 || rows+steps[n].rows <= rowsPerTx) {
			rows += steps[n].rows
			n++
		}
		batch := steps[:n]
		steps = steps[n:]
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, s := range batch {
				if err := s.run(tx); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	t = tracePhase("apply: changes, removals", t)
	err := placeInGroups(ctx, db, p, adds, methods)
	tracePhase("apply: placements", t)
	return err
}

// step is some rows' worth of writing, run in a transaction shared with other steps.
type step struct {
	rows int
	run  func(tx *store.Tx) error
}

// addSteps appends the steps that write list with fn, stepRows rows each.
func addSteps[T any](steps []step, list []T, fn func(tx *store.Tx, batch []T) error) []step {
	const stepRows = 1000
	for start := 0; start < len(list); start += stepRows {
		batch := list[start:min(start+stepRows, len(list))]
		steps = append(steps, step{len(batch), func(tx *store.Tx) error { return fn(tx, batch) }})
	}
	return steps
}

// placeInGroups puts the people added or regrouped into their course groups, creating the
// groups a course lacks.
func placeInGroups(ctx context.Context, db *store.DB, p *Plan, adds []Key, methods map[int64]int64) error {
	type placement struct {
		key   Key
		group string
	}
	var place []placement
	for i, k := range adds {
		if g := p.AddWant[i].Group; g != "" {
			place = append(place, placement{k, g})
		}
	}
	for _, c := range p.Change {
		if c.Regroup && c.Want.Group != "" {
			place = append(place, placement{c.Key, c.Want.Group})
		}
	}
	if len(place) == 0 {
		return nil
	}
	seen := map[course.GroupName]bool{}
	var names []course.GroupName
	for _, pl := range place {
		g := course.GroupName{CourseID: pl.key.Course(), Name: pl.group}
		if !seen[g] {
			seen[g] = true
			names = append(names, g)
		}
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		ids, err := course.EnsureGroupsTx(ctx, tx, names)
		if err != nil {
			return err
		}
		list := make([]course.Placement, len(place))
		for i, pl := range place {
			list[i] = course.Placement{GroupID: ids[course.GroupName{CourseID: pl.key.Course(), Name: pl.group}], UserID: pl.key.User(),
				MethodID: methods[pl.key.Course()]}
		}
		_, err = course.PlaceManyTx(ctx, tx, list)
		return err
	})
}

// ensureMethods creates the source's sis method in every course it adds people to and lacks
// one, and fills methods (course id → method id).
func ensureMethods(ctx context.Context, db *store.DB, source, action string, adds []Key, methods map[int64]int64) error {
	var missing []int64
	for i, k := range adds {
		c := k.Course()
		if _, ok := methods[c]; !ok && (i == 0 || adds[i-1].Course() != c) {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	removal := course.RemovalSuspend
	if action == ActionUnenrol {
		removal = course.RemovalUnenrol
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		got, err := course.EnsureSISMethodsTx(ctx, tx, source, removal, missing)
		for c, id := range got {
			methods[c] = id
		}
		return err
	})
}

func removalIDs(rs []Removal) []int64 {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}
