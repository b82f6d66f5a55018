package sis

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"roster/internal/errs"
)

// The previous forms of Resolve and Diff, over maps, as references for the sorted ones.

func referenceResolve(src *Source, dir *Directory) *Resolved {
	r := &Resolved{Want: make(map[Key]Want, len(src.Rows)), Deleted: map[Key]bool{}, Protected: map[Key]bool{},
		Issues: append([]Issue(nil), src.Issues...), Rows: len(src.Rows)}
	first := make(map[Key]int, len(src.Rows))
	for i := range src.Rows {
		row := &src.Rows[i]
		skip := func(key string, p errs.P) { r.Issues = append(r.Issues, newIssue(row.File, row.Line, key, p)) }
		course, ok := dir.Courses[strings.ToLower(strings.TrimSpace(row.Course))]
		if !ok {
			skip("sync_unknown_course", errs.P{"course": row.Course})
			continue
		}
		user := dir.user(row.User)
		for _, alt := range row.UserAlt {
			if user != 0 {
				break
			}
			user = dir.user(alt)
		}
		switch user {
		case 0:
			skip("sync_unknown_user", errs.P{"user": row.User})
			continue
		case -1:
			skip("sync_ambiguous_user", errs.P{"user": row.User})
			continue
		}
		k := MakeKey(course, user)
		role := strings.ToLower(strings.TrimSpace(row.Role))
		if a, ok := dir.RoleAlias[role]; ok {
			role = a
		} else if !dir.Roles[role] && dir.Roles[strings.TrimSpace(row.Role)] {
			role = strings.TrimSpace(row.Role) // a custom role spelt with capitals
		}
		if !row.Deleted && !dir.Roles[role] {
			skip("sync_unknown_role", errs.P{"role": row.Role})
			r.Protected[k] = true
			continue
		}
		if line, dup := first[k]; dup {
			skip("sync_duplicate", errs.P{"line": line, "course": row.Course, "user": row.User})
			continue
		}
		first[k] = row.Line
		if row.Deleted {
			r.Deleted[k] = true
			continue
		}
		r.Want[k] = Want{Role: role, Starts: row.Starts, Ends: row.Ends, Group: row.Group}
	}
	return r
}

func referenceDiff(want map[Key]Want, deleted map[Key]bool, have map[Key]Have, opt Options) *MapPlan {
	action := opt.Action
	if action == "" {
		action = ActionSuspend
	}
	p := &MapPlan{Plan: &Plan{}, Want: want}
	for k, w := range want {
		h, ok := have[k]
		if !ok {
			p.Add = append(p.Add, k)
			continue
		}
		if h.Role != w.Role || h.Starts != w.Starts || h.Ends != w.Ends || h.Group != w.Group || (h.Suspended && h.BySync) {
			p.Change = append(p.Change, Change{ID: h.ID, Key: k, Want: w, Regroup: h.Group != w.Group})
			continue
		}
		p.Unchanged++
	}
	sort.Slice(p.Add, func(i, j int) bool { return p.Add[i] < p.Add[j] })
	sort.Slice(p.Change, func(i, j int) bool { return p.Change[i].Key < p.Change[j].Key })

	gone := func(k Key) bool {
		if opt.Protected[k] {
			return false
		}
		if opt.Delta {
			_, listed := want[k]
			return deleted[k] && !listed
		}
		_, listed := want[k]
		return !listed
	}
	if opt.Delta || len(want) > 0 {
		for k, h := range have {
			if !gone(k) {
				continue
			}
			switch action {
			case ActionKeep:
				p.Kept++
			case ActionUnenrol:
				p.Unenrol = append(p.Unenrol, Removal{ID: h.ID, Key: k})
			default:
				if h.Suspended {
					continue // already suspended (by the sync or by hand)
				}
				p.Suspend = append(p.Suspend, Removal{ID: h.ID, Key: k})
			}
		}
	}
	sort.Slice(p.Suspend, func(i, j int) bool { return p.Suspend[i].Key < p.Suspend[j].Key })
	sort.Slice(p.Unenrol, func(i, j int) bool { return p.Unenrol[i].Key < p.Unenrol[j].Key })

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

// TestResolveAndDiffMatchReference holds ResolveSorted and DiffSorted (through Resolve and
// Diff) equal to the map-based forms they replaced, on random sources and enrolments:
// duplicates, deleted rows, unknown names, protected keys, delta sources, every action.
func TestResolveAndDiffMatchReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	dir := testDirectory()
	dir.Courses["chem"] = 3
	dir.RoleAlias = map[string]string{"prof": "teacher"}
	for u := 20; u < 40; u++ {
		dir.AddUser(int64(u), fmt.Sprintf("p%d", u), fmt.Sprintf("p%d@example.org", u), fmt.Sprintf("N%d", u))
	}
	courses := []string{"math101", "BIO", "chem", "nope", " chem "}
	roles := []string{"student", "Teacher", "prof", "wizard", "guest"}
	groups := []string{"", "", "A", "B"}
	for iter := 0; iter < 300; iter++ {
		src := &Source{Delta: iter%3 == 0, Issues: []Issue{{File: "x", Reason: "reader"}}}
		if iter%5 == 0 {
			src.Issues = nil
		}
		for i := 0; i < rnd.IntN(60); i++ {
			user := fmt.Sprintf("p%d", 18+rnd.IntN(24))
			if rnd.IntN(10) == 0 {
				user = "shared@example.org"
			}
			src.Rows = append(src.Rows, Row{File: "f.csv", Line: i + 2, Course: courses[rnd.IntN(len(courses))], User: user,
				Role: roles[rnd.IntN(len(roles))], Group: groups[rnd.IntN(len(groups))], Starts: int64(rnd.IntN(2)) * 100,
				Deleted: src.Delta && rnd.IntN(4) == 0})
		}
		want, got := referenceResolve(src, dir), Resolve(src, dir)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("iteration %d: Resolve\n got %+v\nwant %+v", iter, got, want)
		}
		have := map[Key]Have{}
		for i := 0; i < rnd.IntN(40); i++ {
			k := MakeKey(int64(1+rnd.IntN(3)), int64(18+rnd.IntN(24)))
			have[k] = Have{ID: int64(100 + i), Role: []string{"student", "teacher"}[rnd.IntN(2)], Starts: int64(rnd.IntN(2)) * 100,
				Group: groups[rnd.IntN(len(groups))], Suspended: rnd.IntN(4) == 0, BySync: rnd.IntN(2) == 0}
		}
		for _, action := range []string{"", ActionSuspend, ActionUnenrol, ActionKeep} {
			opt := Options{Action: action, Delta: src.Delta, Protected: got.Protected, Threshold: float64(rnd.IntN(3) * 50)}
			wp, gp := referenceDiff(got.Want, got.Deleted, have, opt), Diff(got.Want, got.Deleted, have, opt)
			// The reference's plan shared every want; the plan keeps those it adds.
			adds := map[Key]Want{}
			for _, k := range wp.Add {
				adds[k] = wp.Want[k]
			}
			if !reflect.DeepEqual(adds, gp.Want) || len(gp.AddWant) != len(gp.Add) {
				t.Fatalf("iteration %d, action %q: wants of the additions %v, want %v", iter, action, gp.Want, adds)
			}
			for i, k := range gp.Add {
				if gp.AddWant[i] != adds[k] {
					t.Fatalf("iteration %d: AddWant[%d] = %+v, want %+v", iter, i, gp.AddWant[i], adds[k])
				}
			}
			gp.AddWant = nil
			if !reflect.DeepEqual(wp.Plan, gp.Plan) {
				t.Fatalf("iteration %d, action %q: Diff\n got %+v\nwant %+v", iter, action, gp, wp)
			}
		}
	}
}
