package sis

import (
	"cmp"
	"slices"
)

// The forms over maps of ResolveSorted and DiffSorted, for tests that write sources and
// enrolments by hand.

// Resolved is ResolvedSorted with the enrolments in a map.
type Resolved struct {
	Want      map[Key]Want
	Deleted   map[Key]bool
	Protected map[Key]bool
	Issues    []Issue
	Rows      int
}

// Resolve is ResolveSorted with the enrolments in a map.
func Resolve(src *Source, dir *Directory) *Resolved {
	s := ResolveSorted(src, dir)
	r := &Resolved{Want: make(map[Key]Want, len(s.Want)), Deleted: s.Deleted, Protected: s.Protected, Issues: s.Issues, Rows: s.Rows}
	for _, w := range s.Want {
		r.Want[w.Key] = w.Want
	}
	return r
}

// MapPlan is a Plan with its additions' wants by key.
type MapPlan struct {
	*Plan
	Want map[Key]Want
}

// Diff is DiffSorted over the maps' entries in key order.
func Diff(want map[Key]Want, deleted map[Key]bool, have map[Key]Have, opt Options) *MapPlan {
	ws := make([]WantRow, 0, len(want))
	for k, w := range want {
		ws = append(ws, WantRow{k, w})
	}
	slices.SortFunc(ws, func(a, b WantRow) int { return cmp.Compare(a.Key, b.Key) })
	hs := make([]HaveRow, 0, len(have))
	for k, h := range have {
		hs = append(hs, HaveRow{k, h})
	}
	slices.SortFunc(hs, func(a, b HaveRow) int { return cmp.Compare(a.Key, b.Key) })
	p := &MapPlan{Plan: DiffSorted(ws, deleted, hs, opt)}
	p.Want = make(map[Key]Want, len(p.Add))
	for i, k := range p.Add {
		p.Want[k] = p.AddWant[i]
	}
	return p
}
