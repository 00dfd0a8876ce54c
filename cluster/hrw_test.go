package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// leastMoves is the fewest cameras that must change owner from before
// (on members ms) to an assignment on next: the cameras of members that
// left and those of members above their new cap, or the fair share
// (rounded down) of a member that joined.
func leastMoves(before map[string]string, ms, next []Member) int {
	held := counts(before)
	must, joined := 0, 0
	for _, m := range ms {
		if !slices.Contains(next, m) {
			must += held[m.ID]
		}
	}
	total := 0.0
	for _, m := range next {
		total += m.Weight
	}
	for _, m := range next {
		if _, hi := bounds(len(before), next, m); slices.Contains(ms, m) {
			must += max(0, held[m.ID]-hi)
		} else {
			joined += int(float64(len(before)) * m.Weight / total)
		}
	}
	return max(must, joined)
}

// churnCases: equal nodes from 28 cameras on 4 to 10,000 on 40, and
// nodes of unequal weights, each with the most cameras a join or leave may
// move as a multiple of the minimum: 1.1 from 1,000 cameras, more below,
// where a 10% band is a camera or two and rounding moves a few more (28
// cameras on 4 nodes: 36 where 28 must, over the four leaves).
var churnCases = []struct {
	cams  int
	ms    []Member
	limit float64
}{
	{28, members(5), 1.35}, {60, members(4), 1.35}, {200, members(9), 1.25}, {2000, members(11), 1.1}, {10000, members(41), 1.1},
	{1000, []Member{{"a", 1}, {"b", 2}, {"c", 1}, {"d", 4}, {"e", 0.5}, {"f", 2}}, 1.1},
}

// TestLeaveMovesLittle: when a node leaves, all its cameras move and few
// others do: over every node leaving in turn, at most 1.1× the minimum
// from 1,000 cameras (its cameras, and those others must shed to stay
// under their new cap).
// The last member of each case joins in TestJoinMovesLittle instead.
func TestLeaveMovesLittle(t *testing.T) {
	for _, tc := range churnCases {
		cs, ms := cams(tc.cams), tc.ms[:len(tc.ms)-1]
		before := Assign(cs, ms)
		moved, least := 0, 0
		for i, gone := range ms {
			rest := slices.Delete(slices.Clone(ms), i, i+1)
			after := Assign(cs, rest)
			for c, o := range before {
				if o == gone.ID && after[c] == gone.ID {
					t.Fatalf("%s stays on the node that left", c)
				}
			}
			moved += moves(before, after)
			least += leastMoves(before, ms, rest)
		}
		if float64(moved) > tc.limit*float64(least) {
			t.Errorf("%d cameras on %d nodes, each leaving in turn: %d moved in all, want at most %g × %d", tc.cams, len(ms), moved, tc.limit, least)
		}
		t.Logf("%d cameras on %d nodes, each leaving in turn: %d moved in all, at least %d must (%.3f×)", tc.cams, len(ms), moved, least, float64(moved)/float64(least))
	}
}

// TestJoinMovesLittle: a node joining takes its share of the cameras
// within the bounds, and the cameras that move in all are at most 1.1× the
// minimum from 1,000 cameras (its fair share, or what the others must shed
// to stay under their new cap).
func TestJoinMovesLittle(t *testing.T) {
	for _, tc := range churnCases {
		cs, ms := cams(tc.cams), tc.ms
		before := Assign(cs, ms[:len(ms)-1])
		after := Assign(cs, ms) // the last one joins
		m, l := moves(before, after), leastMoves(before, ms[:len(ms)-1], ms)
		got := counts(after)[ms[len(ms)-1].ID]
		if lo, hi := bounds(tc.cams, ms, ms[len(ms)-1]); got < lo || got > hi {
			t.Errorf("%d cameras on %d nodes: the new node takes %d, want %d to %d", tc.cams, len(ms)-1, got, lo, hi)
		}
		if float64(m) > tc.limit*float64(l) {
			t.Errorf("%d cameras on %d nodes: %d moved when a node joined, want at most %g × %d", tc.cams, len(ms)-1, m, tc.limit, l)
		}
		t.Logf("%d cameras on %d nodes, one joins: %d moved (it takes %d), at least %d must (%.3f×)", tc.cams, len(ms)-1, m, got, l, float64(m)/float64(l))
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
// whatever the order it lists the members and cameras in, with equal and
// unequal weights and cameras reserved for the floors.
func TestAssignIndependentOfOrder(t *testing.T) {
	weighted := []Member{{"a", 1}, {"b", 2}, {"c", 1}, {"d", 4}, {"e", 0.5}}
	for _, tc := range []struct {
		cams int
		ms   []Member
	}{{1000, members(7)}, {28, members(4)}, {41, weighted}, {1000, weighted}} {
		ms, cs := slices.Clone(tc.ms), cams(tc.cams)
		a := Assign(cs, ms)
		slices.Reverse(ms)
		slices.Reverse(cs)
		if m := moves(a, Assign(cs, ms)); m != 0 {
			t.Fatalf("%d cameras on %d nodes: %d owners differ with the lists reversed", tc.cams, len(ms), m)
		}
		r := rand.New(rand.NewPCG(1, uint64(tc.cams)))
		r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		if m := moves(a, Assign(cs, ms)); m != 0 {
			t.Fatalf("%d cameras on %d nodes: %d owners differ with the lists shuffled", tc.cams, len(ms), m)
		}
	}
	if len(Assign(cams(10), nil)) != 0 || Owner("x", nil) != "" {
		t.Error("an assignment with no members is not empty")
	}
}

// TestReturnIsGradual: a node that was away (stalled, cut off, restarted)
// gets its share back over several rounds, every other node handing it at
// most HandoverLimit cameras per round, and in the end the holdings are
// the assignment; a camera that left the list is released at once,
// whatever the limit.
func TestReturnIsGradual(t *testing.T) {
	for _, tc := range []struct{ cams, nodes int }{{24, 3}, {30, 3}, {60, 3}, {1000, 10}} {
		all, away := members(tc.nodes), members(tc.nodes)[tc.nodes-1].ID
		list := cams(tc.cams)
		// Everyone but the returning node holds the cameras of the
		// assignment without it.
		held := map[string][]string{}
		for c, o := range Assign(list, all[:tc.nodes-1]) {
			held[o] = append(held[o], c)
		}
		owner := Assign(list, all)
		share := counts(owner)[away]
		accepting := map[string]bool{}
		for _, m := range all {
			accepting[m.ID] = true
		}
		var steps []int
		settled := func() bool {
			for c, o := range owner {
				if !slices.Contains(held[o], c) {
					return false
				}
			}
			return true
		}
		for round := 0; !settled(); round++ {
			if round > 100 {
				t.Fatalf("%d cameras on %d nodes: the returning node holds %d of %d after 100 rounds", tc.cams, tc.nodes, len(held[away]), share)
			}
			gained := 0
			moved := map[string][]string{}
			for _, m := range all[:tc.nodes-1] {
				limit := HandoverLimit(len(list), all, m.ID)
				rel, n := Releases(m.ID, held[m.ID], owner, accepting, limit)
				if n > limit || len(rel) != n {
					t.Fatalf("%s released %v (%d handovers), limit %d", m.ID, rel, n, limit)
				}
				held[m.ID] = slices.DeleteFunc(held[m.ID], func(c string) bool { return slices.Contains(rel, c) })
				for _, c := range rel {
					moved[owner[c]] = append(moved[owner[c]], c)
					if owner[c] == away {
						gained++
					}
				}
			}
			for o, cs := range moved { // taken at the owners' next round
				held[o] = append(held[o], cs...)
			}
			steps = append(steps, gained)
		}
		t.Logf("%d cameras on %d nodes: the returning node's share %d came back as %v per round", tc.cams, tc.nodes, share, steps)
		if len(steps) < 2 {
			t.Errorf("%d cameras on %d nodes: the returning node took its share (%d) back in one round", tc.cams, tc.nodes, share)
		}
		for _, m := range all {
			got := slices.Sorted(slices.Values(held[m.ID]))
			var want []string
			for c, o := range owner {
				if o == m.ID {
					want = append(want, c)
				}
			}
			if slices.Sort(want); !slices.Equal(got, want) {
				t.Errorf("%d cameras on %d nodes: %s holds %d cameras after the return, its assignment %d", tc.cams, tc.nodes, m.ID, len(got), len(want))
			}
		}
	}
	// Cameras that left the list go at once, beside the limited handovers.
	rel, n := Releases("a", []string{"x", "y", "z", "gone1", "gone2"}, map[string]string{"x": "b", "y": "b", "z": "b"}, map[string]bool{"b": true}, 1)
	if !slices.Equal(rel, []string{"gone1", "gone2", "x"}) || n != 1 {
		t.Errorf("Releases = %v, %d handovers; want [gone1 gone2 x], 1", rel, n)
	}
	// Not to a node that does not accept cameras yet.
	if rel, _ := Releases("a", []string{"x"}, map[string]string{"x": "b"}, map[string]bool{"b": false}, 5); len(rel) != 0 {
		t.Errorf("Releases handed %v to a node not accepting", rel)
	}
}
