package group

import (
	"reflect"
	"testing"
)

func TestPropagation(t *testing.T) {
	const (
		company, region, team = 1, 2, 3
		a, b, c               = 10, 11, 12
	)
	tests := []struct {
		name  string
		chain []Link
		want  []int64
	}{
		{"Company (private) > Region (public) > Team (public): Team",
			[]Link{{team, true}, {region, true}, {company, false}}, []int64{team, region, company}},
		{"Company (private) > Region (public) > Team (public): Region",
			[]Link{{region, true}, {company, false}}, []int64{region, company}},
		{"Company (private): Company",
			[]Link{{company, false}}, []int64{company}},
		{"A (public) > B (private) > C (public): C",
			[]Link{{c, true}, {b, false}, {a, true}}, []int64{c, b}},
		{"A (public) > B (private) > C (public): B",
			[]Link{{b, false}, {a, true}}, []int64{b}},
		{"A (public) > B (private) > C (public): A",
			[]Link{{a, true}}, []int64{a}},
		{"a private group keeps its learners even under public parents",
			[]Link{{c, false}, {b, true}, {a, true}}, []int64{c}},
		{"all public: up to the root",
			[]Link{{c, true}, {b, true}, {a, true}}, []int64{c, b, a}},
		{"empty chain", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Propagation(tt.chain); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Propagation = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecompute(t *testing.T) {
	// Company (1, private) > Region (2, public) > Team (3, public) > Squad (4, public), and
	// Other (5, private). Team moves from Region to Other.
	before := map[int64][]Link{
		3: {{3, true}, {2, true}, {1, false}},
		4: {{4, true}, {3, true}, {2, true}, {1, false}},
	}
	after := map[int64][]Link{
		3: {{3, true}, {5, false}},
		4: {{4, true}, {3, true}, {5, false}},
	}
	got := Recompute(before, after)
	want := []Change{{Origins: []int64{3, 4}, Remove: []int64{1, 2}, Add: []int64{5}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("move: got %+v, want %+v", got, want)
	}

	// Region becomes private: Team and Squad stop at Region, Region's own learners too.
	before = map[int64][]Link{
		2: {{2, true}, {1, false}},
		3: {{3, true}, {2, true}, {1, false}},
		4: {{4, true}, {3, true}, {2, true}, {1, false}},
	}
	after = map[int64][]Link{
		2: {{2, false}, {1, false}},
		3: {{3, true}, {2, false}, {1, false}},
		4: {{4, true}, {3, true}, {2, false}, {1, false}},
	}
	got = Recompute(before, after)
	want = []Change{{Origins: []int64{2, 3, 4}, Remove: []int64{1}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("private: got %+v, want %+v", got, want)
	}

	// And back to public: the reverse.
	got = Recompute(after, before)
	want = []Change{{Origins: []int64{2, 3, 4}, Add: []int64{1}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("public: got %+v, want %+v", got, want)
	}

	// Nothing changes: no work.
	if got := Recompute(before, before); len(got) != 0 {
		t.Fatalf("no change: got %+v", got)
	}

	// A private group moved: nothing above it was reached, nothing to do.
	before = map[int64][]Link{7: {{7, false}, {2, true}, {1, false}}, 8: {{8, true}, {7, false}, {2, true}, {1, false}}}
	after = map[int64][]Link{7: {{7, false}, {5, false}}, 8: {{8, true}, {7, false}, {5, false}}}
	if got := Recompute(before, after); len(got) != 0 {
		t.Fatalf("private sub-tree moved: got %+v", got)
	}

	// Deleted groups lose everything they propagated.
	got = Recompute(map[int64][]Link{3: {{3, true}, {2, true}, {1, false}}}, map[int64][]Link{})
	want = []Change{{Origins: []int64{3}, Remove: []int64{1, 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("delete: got %+v, want %+v", got, want)
	}
}
