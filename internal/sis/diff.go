// Package sis is the student-information-system sync: it reads a source (a CSV export, a
// OneRoster CSV bundle), computes the difference between the enrolments the source lists and
// the enrolments this source made through its `sis` enrolment methods, and applies it in
// batches, recording each run and its report in sync_runs.
//
// The diff is a pure function (DiffSorted) over compact keys, tested without a database; Run reads
// the database, calls it, and writes the result.
package sis

import (
	"fmt"

	"roster/internal/errs"
)

// Key identifies one enrolment of a source: course and user packed into one word, so that the
// half-million enrolments of a university fit in a few tens of megabytes.
type Key uint64

// MakeKey packs a course id and a user id (each below 2^32).
func MakeKey(course, user int64) Key { return Key(uint64(course)<<32 | uint64(uint32(user))) }

// Course is the key's course id.
func (k Key) Course() int64 { return int64(uint64(k) >> 32) }

// User is the key's user id.
func (k Key) User() int64 { return int64(uint32(uint64(k))) }

// Want is what the source says about one enrolment.
type Want struct {
	Role   string
	Starts int64 // Unix seconds; 0: none
	Ends   int64
	Group  string // course group the source places the person in; "" for none
}

// Have is an enrolment this source made.
type Have struct {
	ID     int64
	Role   string
	Starts int64
	Ends   int64
	Group  string // the course group the source placed the person in
	// Suspended: its status is suspended; BySync: the sync suspended it (so coming back into
	// the source reactivates it; a suspension by hand stays).
	Suspended bool
	BySync    bool
}

// What the sync does to enrolments whose people the source no longer lists.
const (
	ActionSuspend = "suspend" // the default: reversible
	ActionUnenrol = "unenrol"
	ActionKeep    = "keep"
)

// DefaultThreshold is the share (in percent) of a source's enrolments a run may remove or
// suspend before it stops without applying anything.
const DefaultThreshold = 10.0

// Options steer a diff.
type Options struct {
	Action string // ActionSuspend (default), ActionUnenrol or ActionKeep
	// Threshold in percent of the source's current enrolments; 0 means DefaultThreshold,
	// 100 or more disables the check.
	Threshold float64
	// Delta: the source lists only what changed; enrolments it does not list stay, and only
	// those in Deleted are removed.
	Delta bool
	// Protected keys are never removed: rows the source listed but that were skipped as
	// malformed or ambiguous, so a broken row never removes someone.
	Protected map[Key]bool
}

// Change is an enrolment to update: role or dates changed, or reactivated.
type Change struct {
	ID   int64
	Key  Key
	Want Want
	// Regroup: the course group changed (the old placement is removed, the new one made).
	Regroup bool
}

// Plan is the difference between a source and the enrolments it made.
type Plan struct {
	Add        []Key  // to enrol, by course then user
	AddWant    []Want // what Add[i] gets
	Change     []Change
	Suspend    []Removal
	Unenrol    []Removal
	Kept       int // people no longer listed, kept (action keep)
	Unchanged  int
	Stopped    bool   // the threshold stopped the run: apply nothing
	StopReason string // why, in English
	StopParams errs.P // why, as the parameters of err.sync_threshold
}

// Removal is an enrolment to suspend or delete.
type Removal struct {
	ID  int64
	Key Key
}

// Removed is how many enrolments the plan removes or suspends.
func (p *Plan) Removed() int { return len(p.Suspend) + len(p.Unenrol) }

// WantRow is one enrolment a source lists, by key.
type WantRow struct {
	Key  Key
	Want Want
}

// HaveRow is one enrolment the source made, by key.
type HaveRow struct {
	Key  Key
	Have Have
}

// DiffSorted computes what to do so that the source's enrolments (want) equal the ones it made
// (have), both lists in key order, each key at most once: one pass over both, as a merge. The
// plan's lists come out in key order. In delta mode, deleted lists the keys the source marks as
// gone. An empty full source removes nothing (an empty export is far more often a broken export
// than an empty university). When the removals exceed the threshold, the plan is Stopped and
// must not be applied.
func DiffSorted(want []WantRow, deleted map[Key]bool, have []HaveRow, opt Options) *Plan {
	action := opt.Action
	if action == "" {
		action = ActionSuspend
	}
	p := &Plan{}
	removing := opt.Delta || len(want) > 0
	gone := func(k Key, h *Have) {
		if !removing || opt.Protected[k] || (opt.Delta && !deleted[k]) {
			return
		}
		switch action {
		case ActionKeep:
			p.Kept++
		case ActionUnenrol:
			p.Unenrol = append(p.Unenrol, Removal{ID: h.ID, Key: k})
		default:
			if h.Suspended {
				return // already suspended (by the sync or by hand)
			}
			p.Suspend = append(p.Suspend, Removal{ID: h.ID, Key: k})
		}
	}
	i, j := 0, 0
	for i < len(want) || j < len(have) {
		switch {
		case j == len(have) || (i < len(want) && want[i].Key < have[j].Key):
			w := &want[i]
			p.Add = append(p.Add, w.Key)
			p.AddWant = append(p.AddWant, w.Want)
			i++
		case i == len(want) || have[j].Key < want[i].Key:
			gone(have[j].Key, &have[j].Have)
			j++
		default:
			w, h := &want[i].Want, &have[j].Have
			if h.Role != w.Role || h.Starts != w.Starts || h.Ends != w.Ends || h.Group != w.Group || (h.Suspended && h.BySync) {
				p.Change = append(p.Change, Change{ID: h.ID, Key: want[i].Key, Want: *w, Regroup: h.Group != w.Group})
			} else {
				p.Unchanged++
			}
			i++
			j++
		}
	}

	threshold := opt.Threshold
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	if n := p.Removed(); n > 0 && threshold < 100 && float64(n)*100 > threshold*float64(len(have)) {
		p.Stopped = true
		p.StopParams = errs.P{"count": n, "total": len(have), "percent": fmt.Sprintf("%.1f", float64(n)*100/float64(len(have))),
			"threshold": fmt.Sprintf("%g", threshold)}
		p.StopReason = fmt.Sprintf("the run would remove or suspend %d of the source's %d enrolments (%.1f %%), more than the threshold of %g %%: nothing applied",
			n, len(have), float64(n)*100/float64(len(have)), threshold)
	}
	return p
}
