package group

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Link is one group of a chain of ancestors: its id and whether it is public.
type Link struct {
	ID     int64
	Public bool
}

// Propagation applies the rule of the group tree: a learner added to chain[0] is also a
// learner of each ancestor, climbing while the group just left is public, up to and including
// the first private group met. chain is the group itself followed by its parent, grandparent,
// ... up to the root. The result starts with chain[0]; a private chain[0] gives only itself.
//
// Only the learner role propagates: a trainer or an administrator of a team is not thereby a
// trainer or administrator of its region.
//
//	Company (private) > Region (public) > Team (public): Team → Team, Region, Company
//	A (public) > B (private) > C (public):               C → C, B
func Propagation(chain []Link) []int64 {
	var out []int64
	for _, l := range chain {
		out = append(out, l.ID)
		if !l.Public {
			break
		}
	}
	return out
}

// Change is what a recomputation does to the propagated memberships of some origin groups:
// their learners stop being propagated to Remove and start being propagated to Add.
type Change struct {
	Origins []int64 // the groups whose direct learners are concerned, ascending
	Remove  []int64 // groups that lose the rows propagated from Origins, ascending
	Add     []int64 // groups that gain rows propagated from Origins, ascending
}

// Recompute compares the chains of the same groups before and after a change of the tree (a
// visibility switched, a sub-tree moved) and says which propagated memberships must go and
// which must come. Origins that need the same change are merged into one Change, so that the
// service runs a few set-based statements instead of one per group: after a sub-tree moves,
// every group in it that reached the old parent typically gains and loses the same ancestors.
// Changes come out in a stable order (by their first origin).
func Recompute(before, after map[int64][]Link) []Change {
	merged := map[string]*Change{}
	for origin, newChain := range after {
		oldT := targets(before[origin])
		newT := targets(newChain)
		remove := minus(oldT, newT)
		add := minus(newT, oldT)
		if len(remove) == 0 && len(add) == 0 {
			continue
		}
		key := idsKey(remove) + "|" + idsKey(add)
		c := merged[key]
		if c == nil {
			c = &Change{Remove: remove, Add: add}
			merged[key] = c
		}
		c.Origins = append(c.Origins, origin)
	}
	// Groups that disappeared (deleted) lose everything they propagated.
	for origin, oldChain := range before {
		if _, ok := after[origin]; ok {
			continue
		}
		remove := targets(oldChain)
		if len(remove) == 0 {
			continue
		}
		key := idsKey(remove) + "|"
		c := merged[key]
		if c == nil {
			c = &Change{Remove: remove}
			merged[key] = c
		}
		c.Origins = append(c.Origins, origin)
	}
	out := make([]Change, 0, len(merged))
	for _, c := range merged {
		slices.Sort(c.Origins)
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Change) int { return cmp.Compare(a.Origins[0], b.Origins[0]) })
	return out
}

// targets is the set of groups a chain propagates to, without the group itself, ascending.
func targets(chain []Link) []int64 {
	p := Propagation(chain)
	if len(p) <= 1 {
		return nil
	}
	t := slices.Clone(p[1:])
	slices.Sort(t)
	return t
}

// minus returns the ids of a (ascending) that are not in b.
func minus(a, b []int64) []int64 {
	var out []int64
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}

func idsKey(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}
