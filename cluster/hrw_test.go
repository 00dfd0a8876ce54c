package cluster

import (
	"fmt"
	"math"
	"testing"
)

func cams(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("cam-%05d", i)
	}
	return out
}

func members(n int) []Member {
	out := make([]Member, n)
	for i := range out {
		out[i] = Member{ID: fmt.Sprintf("node-%d", i), Weight: 1}
	}
	return out
}

func counts(a map[string]string) map[string]int {
	out := map[string]int{}
	for _, n := range a {
		out[n]++
	}
	return out
}

// TestOwnerSpreadsEvenly: 10,000 cameras on 40 equal nodes get about 250
// each (binomial spread: within ±25%).
func TestOwnerSpreadsEvenly(t *testing.T) {
	c := counts(Assign(cams(10000), members(40)))
	if len(c) != 40 {
		t.Fatalf("%d nodes own cameras, want 40", len(c))
	}
	for n, k := range c {
		if k < 187 || k > 313 {
			t.Errorf("%s owns %d cameras, want 250 ± 25%%", n, k)
		}
	}
}

// TestLeaveMovesOnlyItsCameras: when a node leaves, exactly its cameras
// move (about 1/N), each to some other node; nothing else moves.
func TestLeaveMovesOnlyItsCameras(t *testing.T) {
	cs, ms := cams(10000), members(10)
	before := Assign(cs, ms)
	after := Assign(cs, ms[1:]) // node-0 leaves
	moved := 0
	for _, c := range cs {
		if before[c] != after[c] {
			moved++
			if before[c] != "node-0" {
				t.Fatalf("%s moved from %s to %s although its node stayed", c, before[c], after[c])
			}
		}
	}
	if moved != counts(before)["node-0"] {
		t.Errorf("%d cameras moved, want node-0's %d", moved, counts(before)["node-0"])
	}
	if f := float64(moved) / float64(len(cs)); math.Abs(f-0.1) > 0.02 {
		t.Errorf("%.3f of the cameras moved, want about 1/10", f)
	}
}

// TestJoinMovesOnlyToNewNode: a node joining takes about 1/(N+1) of the
// cameras, all from the others to it; nothing moves between the others.
func TestJoinMovesOnlyToNewNode(t *testing.T) {
	cs, ms := cams(10000), members(11)
	before := Assign(cs, ms[:10])
	after := Assign(cs, ms) // node-10 joins
	moved := 0
	for _, c := range cs {
		if before[c] != after[c] {
			moved++
			if after[c] != "node-10" {
				t.Fatalf("%s moved from %s to %s, not to the new node", c, before[c], after[c])
			}
		}
	}
	if f := float64(moved) / float64(len(cs)); math.Abs(f-1.0/11) > 0.02 {
		t.Errorf("%.3f of the cameras moved, want about 1/11", f)
	}
}

// TestWeightsRespected: a node of weight 3 among two of weight 1 gets
// about 3/5 of the cameras.
func TestWeightsRespected(t *testing.T) {
	ms := []Member{{"a", 1}, {"b", 3}, {"c", 1}}
	c := counts(Assign(cams(10000), ms))
	for id, want := range map[string]float64{"a": 0.2, "b": 0.6, "c": 0.2} {
		if got := float64(c[id]) / 10000; math.Abs(got-want) > 0.03 {
			t.Errorf("%s owns %.3f of the cameras, want %.2f", id, got, want)
		}
	}
}

// TestOwnerIndependentOfOrder: every node computes the same owner whatever
// the order it lists the members in.
func TestOwnerIndependentOfOrder(t *testing.T) {
	ms := members(7)
	rev := make([]Member, len(ms))
	for i := range ms {
		rev[len(ms)-1-i] = ms[i]
	}
	for _, c := range cams(1000) {
		if a, b := Owner(c, ms), Owner(c, rev); a != b {
			t.Fatalf("%s: owner %s in one order, %s in the other", c, a, b)
		}
	}
	if Owner("x", nil) != "" {
		t.Error("Owner with no members is not empty")
	}
}
