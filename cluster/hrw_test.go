package cluster

import (
	"fmt"
	"math"
	"slices"
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

// moves counts the cameras whose owner differs between two assignments.
func moves(a, b map[string]string) int {
	n := 0
	for c, o := range a {
		if b[c] != o {
			n++
		}
	}
	return n
}

// TestAssignSpreadsEvenly: no node gets more than ceil(1.1 × its fair
// share), from 60 cameras on 3 nodes (where plain rendezvous gives 25/16)
// to 10,000 on 40; with 60 on 3 the largest share is at most 1.5× the
// smallest.
func TestAssignSpreadsEvenly(t *testing.T) {
	for _, tc := range []struct{ cams, nodes int }{{60, 3}, {60, 2}, {2000, 10}, {10000, 40}} {
		c := counts(Assign(cams(tc.cams), members(tc.nodes)))
		limit := int(math.Ceil(1.1 * float64(tc.cams) / float64(tc.nodes)))
		lo, hi := tc.cams, 0
		for _, k := range c {
			lo, hi = min(lo, k), max(hi, k)
		}
		if len(c) != tc.nodes || hi > limit {
			t.Errorf("%d cameras on %d nodes: %v, want every node at most %d", tc.cams, tc.nodes, c, limit)
		}
		if tc.nodes == 3 && float64(hi) > 1.5*float64(lo) {
			t.Errorf("%d cameras on 3 nodes: largest %d > 1.5 × smallest %d", tc.cams, hi, lo)
		}
	}
	// Plain rendezvous (Owner) on the same 60 cameras is what the bound fixes.
	plain := map[string]string{}
	for _, c := range cams(60) {
		plain[c] = Owner(c, members(3))
	}
	t.Logf("plain rendezvous, 60 cameras on 3 nodes: %v", counts(plain))
}

// bounds returns the least and the most cameras a member may hold in
// Assign: floor and ceil of (1 ∓ Slack) × its weighted share.
func bounds(n int, ms []Member, m Member) (lo, hi int) {
	total := 0.0
	for _, x := range ms {
		total += x.Weight
	}
	share := float64(n) * m.Weight / total
	return int(math.Floor((1 - Slack) * share)), int(math.Ceil((1 + Slack) * share))
}

// TestAssignBoundedBothWays: every node holds between floor(0.9 × its
// weighted share) and ceil(1.1 × it), the least loaded as much as the
// busiest: 28 cameras on 4 equal nodes (6 to 8 each; the cap alone gave
// 5 to 9), 10,000 on 40 (225 to 275; the cap alone gave 212 to 275), and
// nodes of unequal weights.
func TestAssignBoundedBothWays(t *testing.T) {
	weighted := []Member{{"a", 1}, {"b", 2}, {"c", 1}, {"d", 4}, {"e", 0.5}}
	for _, tc := range []struct {
		cams int
		ms   []Member
	}{
		{28, members(4)}, {60, members(3)}, {7, members(3)}, {2000, members(10)}, {10000, members(40)},
		{41, weighted}, {1000, weighted}, {10000, []Member{{"a", 1}, {"b", 3}, {"c", 1}}},
	} {
		c := counts(Assign(cams(tc.cams), tc.ms))
		for _, m := range tc.ms {
			if lo, hi := bounds(tc.cams, tc.ms, m); c[m.ID] < lo || c[m.ID] > hi {
				t.Errorf("%d cameras on %d nodes: %s (weight %g) holds %d, want %d to %d; all: %v", tc.cams, len(tc.ms), m.ID, m.Weight, c[m.ID], lo, hi, c)
			}
		}
		lo, hi := tc.cams, 0
		for _, k := range c {
			lo, hi = min(lo, k), max(hi, k)
		}
		t.Logf("%d cameras on %d nodes: least %d, most %d", tc.cams, len(tc.ms), lo, hi)
	}
}

// TestLeaveMovesLittle: when a node leaves, all its cameras move and few
// others do: at most 1.5× the minimum (its share), about 1/N in all.
func TestLeaveMovesLittle(t *testing.T) {
	for _, tc := range []struct{ cams, nodes int }{{60, 3}, {2000, 10}, {10000, 40}} {
		cs, ms := cams(tc.cams), members(tc.nodes)
		before := Assign(cs, ms)
		after := Assign(cs, ms[1:]) // node-0 leaves
		own := counts(before)["node-0"]
		for c, o := range before {
			if o == "node-0" && after[c] == "node-0" {
				t.Fatalf("%s stays on the node that left", c)
			}
		}
		if m := moves(before, after); float64(m) > 1.5*float64(own) {
			t.Errorf("%d cameras on %d nodes: %d moved when a node of %d left, want at most 1.5×", tc.cams, tc.nodes, m, own)
		} else {
			t.Logf("%d cameras on %d nodes, one leaves: %d moved (its own: %d)", tc.cams, tc.nodes, m, own)
		}
	}
}

// TestJoinMovesLittle: a node joining takes about 1/(N+1) of the cameras;
// the cameras that move in all are at most 1.5× what it takes.
func TestJoinMovesLittle(t *testing.T) {
	for _, tc := range []struct{ cams, nodes int }{{60, 3}, {2000, 10}, {10000, 40}} {
		cs, ms := cams(tc.cams), members(tc.nodes+1)
		before := Assign(cs, ms[:tc.nodes])
		after := Assign(cs, ms) // the last one joins
		got := counts(after)[ms[tc.nodes].ID]
		if f := float64(got) / float64(tc.cams); math.Abs(f-1/float64(tc.nodes+1)) > 0.5/float64(tc.nodes+1) {
			t.Errorf("%d cameras on %d nodes: the new node takes %.3f of them, want about 1/%d", tc.cams, tc.nodes, f, tc.nodes+1)
		}
		if m := moves(before, after); float64(m) > 1.5*float64(got) {
			t.Errorf("%d cameras on %d nodes: %d moved when a node joined and took %d, want at most 1.5×", tc.cams, tc.nodes, m, got)
		} else {
			t.Logf("%d cameras on %d nodes, one joins: %d moved (it takes %d)", tc.cams, tc.nodes, m, got)
		}
	}
}

// TestOwnerMovesOnlyWhatItMust: plain rendezvous moves exactly the
// leaving node's cameras, nothing else.
func TestOwnerMovesOnlyWhatItMust(t *testing.T) {
	ms := members(10)
	for _, c := range cams(10000) {
		if a, b := Owner(c, ms), Owner(c, ms[1:]); a != b && a != "node-0" {
			t.Fatalf("%s moved from %s to %s although its node stayed", c, a, b)
		}
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

// TestAssignIndependentOfOrder: every node computes the same owners
// whatever the order it lists the members and cameras in.
func TestAssignIndependentOfOrder(t *testing.T) {
	ms, cs := members(7), cams(1000)
	a := Assign(cs, ms)
	slices.Reverse(ms)
	slices.Reverse(cs)
	if m := moves(a, Assign(cs, ms)); m != 0 {
		t.Fatalf("%d owners differ with the lists reversed", m)
	}
	if len(Assign(cs, nil)) != 0 || Owner("x", nil) != "" {
		t.Error("an assignment with no members is not empty")
	}
}
