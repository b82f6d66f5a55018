package sis

import (
	"strings"
	"testing"
)

// apply plays a plan onto have, as the database would, for pure tests of re-runs.
func applyPlan(have map[Key]Have, p *MapPlan) {
	next := int64(1000)
	for _, k := range p.Add {
		w := p.Want[k]
		next++
		have[k] = Have{ID: next, Role: w.Role, Starts: w.Starts, Ends: w.Ends}
	}
	for _, c := range p.Change {
		h := have[c.Key]
		h.Role, h.Starts, h.Ends = c.Want.Role, c.Want.Starts, c.Want.Ends
		if h.BySync {
			h.Suspended, h.BySync = false, false
		}
		have[c.Key] = h
	}
	suspended := map[int64]bool{}
	for _, r := range p.Suspend {
		suspended[r.ID] = true
	}
	for k, h := range have {
		if suspended[h.ID] {
			h.Suspended, h.BySync = true, true
			have[k] = h
		}
	}
	for _, r := range p.Unenrol {
		delete(have, r.Key)
	}
}

func TestKeyPacksCourseAndUser(t *testing.T) {
	k := MakeKey(2000, 4_000_000)
	if k.Course() != 2000 || k.User() != 4_000_000 {
		t.Fatalf("got %d %d", k.Course(), k.User())
	}
}

func TestDiffEnrolChangeRemove(t *testing.T) {
	want := map[Key]Want{
		MakeKey(1, 1): {Role: "student"},              // unchanged
		MakeKey(1, 2): {Role: "teacher"},              // role changed
		MakeKey(1, 3): {Role: "student"},              // new
		MakeKey(2, 1): {Role: "student", Ends: 200},   // dates changed
		MakeKey(2, 2): {Role: "student"},              // suspended by the sync: reactivated
		MakeKey(2, 3): {Role: "student", Starts: 100}, // suspended by hand: unchanged
		MakeKey(3, 1): {Role: "student"},              // filler so removals stay under threshold
		MakeKey(3, 2): {Role: "student"}, MakeKey(3, 3): {Role: "student"}, MakeKey(3, 4): {Role: "student"},
		MakeKey(3, 5): {Role: "student"}, MakeKey(3, 6): {Role: "student"}, MakeKey(3, 7): {Role: "student"},
	}
	have := map[Key]Have{
		MakeKey(1, 1): {ID: 1, Role: "student"},
		MakeKey(1, 2): {ID: 2, Role: "student"},
		MakeKey(2, 1): {ID: 3, Role: "student"},
		MakeKey(2, 2): {ID: 4, Role: "student", Suspended: true, BySync: true},
		MakeKey(2, 3): {ID: 5, Role: "student", Starts: 100, Suspended: true},
		MakeKey(9, 9): {ID: 6, Role: "student"}, // no longer listed
	}
	for i := int64(1); i <= 7; i++ {
		have[MakeKey(3, i)] = Have{ID: 10 + i, Role: "student"}
	}
	p := Diff(want, nil, have, Options{})
	if p.Stopped {
		t.Fatal(p.StopReason)
	}
	if len(p.Add) != 1 || p.Add[0] != MakeKey(1, 3) || p.Want[p.Add[0]].Role != "student" {
		t.Errorf("add = %v", p.Add)
	}
	var changed []int64
	for _, c := range p.Change {
		changed = append(changed, c.ID)
	}
	if len(changed) != 3 || changed[0] != 2 || changed[1] != 3 || changed[2] != 4 {
		t.Errorf("changed = %v, want [2 3 4]", changed)
	}
	if len(p.Suspend) != 1 || p.Suspend[0].ID != 6 || len(p.Unenrol) != 0 {
		t.Errorf("suspend = %v unenrol = %v", p.Suspend, p.Unenrol)
	}

	// The other actions.
	if p := Diff(want, nil, have, Options{Action: ActionUnenrol}); len(p.Unenrol) != 1 || p.Unenrol[0].ID != 6 || len(p.Suspend) != 0 {
		t.Errorf("unenrol: %+v", p)
	}
	if p := Diff(want, nil, have, Options{Action: ActionKeep}); p.Removed() != 0 || p.Kept != 1 {
		t.Errorf("keep: %+v", p)
	}
}

func TestDiffRunningTwiceChangesNothing(t *testing.T) {
	have := map[Key]Have{}
	for u := int64(1); u <= 50; u++ {
		have[MakeKey(1, u)] = Have{ID: u, Role: "student"}
	}
	want := map[Key]Want{}
	for u := int64(3); u <= 52; u++ {
		want[MakeKey(1, u)] = Want{Role: "student"}
	}
	want[MakeKey(1, 10)] = Want{Role: "teacher", Starts: 5}
	for _, action := range []string{ActionSuspend, ActionUnenrol, ActionKeep} {
		h := map[Key]Have{}
		for k, v := range have {
			h[k] = v
		}
		p := Diff(want, nil, h, Options{Action: action})
		if p.Stopped || len(p.Add) != 2 || len(p.Change) != 1 {
			t.Fatalf("%s first: add %d change %d stopped %v", action, len(p.Add), len(p.Change), p.Stopped)
		}
		applyPlan(h, p)
		p = Diff(want, nil, h, Options{Action: action})
		if len(p.Add)+len(p.Change)+p.Removed() != 0 {
			t.Errorf("%s second run: add %d change %d removed %d", action, len(p.Add), len(p.Change), p.Removed())
		}
	}
}

func TestDiffThreshold(t *testing.T) {
	have := map[Key]Have{}
	want := map[Key]Want{}
	for u := int64(1); u <= 100; u++ {
		have[MakeKey(1, u)] = Have{ID: u, Role: "student"}
		if u > 10 {
			want[MakeKey(1, u)] = Want{Role: "student"}
		}
	}
	// 10 of 100: exactly the default threshold, allowed.
	if p := Diff(want, nil, have, Options{}); p.Stopped || p.Removed() != 10 {
		t.Fatalf("10 %%: stopped %v removed %d", p.Stopped, p.Removed())
	}
	delete(want, MakeKey(1, 11))
	p := Diff(want, nil, have, Options{})
	if !p.Stopped || !strings.Contains(p.StopReason, "11 of the source's 100") {
		t.Fatalf("11 %%: stopped %v %q", p.Stopped, p.StopReason)
	}
	if p := Diff(want, nil, have, Options{Threshold: 20}); p.Stopped {
		t.Errorf("threshold 20: stopped")
	}
	if p := Diff(want, nil, have, Options{Action: ActionKeep}); p.Stopped {
		t.Errorf("keep never removes, so never stops")
	}
	if p := Diff(want, nil, have, Options{Threshold: 5, Action: ActionUnenrol}); !p.Stopped {
		t.Errorf("unenrol counts too")
	}
}

func TestDiffEmptySourceRemovesNothing(t *testing.T) {
	have := map[Key]Have{MakeKey(1, 1): {ID: 1, Role: "student"}, MakeKey(1, 2): {ID: 2, Role: "student"}}
	for _, action := range []string{ActionSuspend, ActionUnenrol} {
		p := Diff(map[Key]Want{}, nil, have, Options{Action: action, Threshold: 100})
		if p.Removed() != 0 || p.Stopped {
			t.Errorf("%s: removed %d", action, p.Removed())
		}
	}
}

func TestDiffDeltaAndProtected(t *testing.T) {
	have := map[Key]Have{}
	for u := int64(1); u <= 20; u++ {
		have[MakeKey(1, u)] = Have{ID: u, Role: "student"}
	}
	want := map[Key]Want{MakeKey(1, 21): {Role: "student"}}
	deleted := map[Key]bool{MakeKey(1, 2): true}
	p := Diff(want, deleted, have, Options{Delta: true, Action: ActionUnenrol})
	if len(p.Add) != 1 || len(p.Unenrol) != 1 || p.Unenrol[0].ID != 2 {
		t.Errorf("delta: add %v unenrol %v", p.Add, p.Unenrol)
	}
	// Full: a protected key (its row was skipped) is not removed.
	want = map[Key]Want{}
	for u := int64(1); u <= 18; u++ {
		want[MakeKey(1, u)] = Want{Role: "student"}
	}
	p = Diff(want, nil, have, Options{Protected: map[Key]bool{MakeKey(1, 19): true}})
	if len(p.Suspend) != 1 || p.Suspend[0].ID != 20 {
		t.Errorf("protected: suspend %v", p.Suspend)
	}
}
