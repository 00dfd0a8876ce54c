package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"slices"
	"strings"
)

// Member is a node as ownership sees it: its id and its capacity weight.
type Member struct {
	ID     string
	Weight float64
}

// score is the weighted rendezvous (highest random weight) score of a
// node for a camera: -w/ln(h), h the first 64 bits of SHA-256(node "|"
// camera) mapped into (0, 1). With equal weights the highest h wins; with
// weights, each node wins a share of the cameras proportional to its weight
// (Schindelhauer and Schomaker's logarithmic method), and adding or
// removing a node moves only the cameras it wins or held.
func score(node, camera string, weight float64) float64 {
	h := sha256.Sum256([]byte(node + "|" + camera))
	x := binary.BigEndian.Uint64(h[:8])
	u := (float64(x>>11) + 0.5) / (1 << 53) // in (0, 1), never 0 or 1
	return -weight / math.Log(u)
}

// Owner returns the member that owns camera under rendezvous hashing, or
// "" when there is none. Ties (practically impossible) go to the smaller id,
// so that every node agrees.
func Owner(camera string, members []Member) string {
	best, bestScore := "", math.Inf(-1)
	for _, m := range members {
		s := score(m.ID, camera, m.Weight)
		if s > bestScore || (s == bestScore && m.ID < best) {
			best, bestScore = m.ID, s
		}
	}
	return best
}

// Slack is how far a node's load may stray from its fair share (cameras ×
// its weight / the weights' sum) in Assign: 10% either way. Plain
// rendezvous hashing spreads 60 cameras over 3 nodes as unevenly as
// 25/19/16; with the bounds every node holds between floor(0.9 × its fair
// share) and ceil(1.1 × it).
const Slack = 0.1

// Assign returns the owner of every camera: rendezvous hashing with loads
// bounded from above and below. Cameras are taken in a fixed order (by the
// SHA-256 of their id, whatever the list's order); each goes to the
// highest-scoring member that has not reached its cap, ceil((1+Slack) ×
// fair share), except that once the cameras left are no more than the
// members' shortfalls from their floors, floor((1-Slack) × fair share),
// they go only to members below their floor. (The cap alone left the last
// nodes short: 5 to 9 cameras of 28 on 4 equal nodes.) The cameras so
// reserved are the last in the fixed order, whatever the members, so a
// join or leave moves the cameras of that node plus few others (measured
// in the tests). Every node computes the same assignment from the same
// members and list.
func Assign(cameras []string, members []Member) map[string]string {
	out := make(map[string]string, len(cameras))
	if len(members) == 0 {
		return out
	}
	order := make([]struct {
		h  [32]byte
		id string
	}, len(cameras))
	for i, c := range cameras {
		order[i].h, order[i].id = sha256.Sum256([]byte(c)), c
	}
	slices.SortFunc(order, func(a, b struct {
		h  [32]byte
		id string
	}) int {
		if c := bytes.Compare(a.h[:], b.h[:]); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	total := 0.0
	for _, m := range members {
		total += m.Weight
	}
	caps, floors := make([]int, len(members)), make([]int, len(members))
	for i, m := range members {
		share := float64(len(cameras)) * m.Weight / total
		caps[i] = int(math.Ceil((1 + Slack) * share))
		floors[i] = int(math.Floor((1 - Slack) * share))
	}
	load, short := make([]int, len(members)), 0
	for i := range members {
		short += floors[i]
	}
	for k, o := range order {
		best, bestScore := -1, math.Inf(-1)
		reserved := len(order)-k <= short // the rest must fill the floors
		for i, m := range members {
			if load[i] >= caps[i] || (reserved && load[i] >= floors[i]) {
				continue
			}
			s := score(m.ID, o.id, m.Weight)
			if best < 0 || s > bestScore || (s == bestScore && m.ID < members[best].ID) {
				best, bestScore = i, s
			}
		}
		if load[best] < floors[best] {
			short--
		}
		load[best]++
		out[o.id] = members[best].ID
	}
	return out
}

// HandoverLimit is the most cameras a node hands over to other accepting
// nodes in one round: max(1, ceil(Slack × its fair share)), its fair
// share being cameras × its weight / the members' weights' sum. A node
// that returns (a stall resumed, a partition healed, a restart) or joins
// so takes its share back over several rounds, from every other node at
// once, and never in one step (N nodes of 10 cameras each hand a returning
// one at most N-1 per round): its cameras are not all stopped and started
// at once, should it stall again, nor are all the streams it must open.
// Cameras that left the list are released whatever the limit.
func HandoverLimit(cameras int, members []Member, self string) int {
	total, w := 0.0, 0.0
	for _, m := range members {
		total += m.Weight
		if m.ID == self {
			w = m.Weight
		}
	}
	if total <= 0 {
		return 1
	}
	return max(1, int(math.Ceil(Slack*float64(cameras)*w/total)))
}

// Releases returns the cameras of held that self releases this round
// (sorted): every camera no longer in owner (it left the list), and at most
// limit of those whose owner is another node that accepts cameras (the
// handovers, first by id).
func Releases(self string, held []string, owner map[string]string, accepting map[string]bool, limit int) (release []string, handovers int) {
	held = slices.Sorted(slices.Values(held))
	for _, id := range held {
		switch o, ok := owner[id]; {
		case !ok:
			release = append(release, id)
		case o != self && accepting[o] && handovers < limit:
			release = append(release, id)
			handovers++
		}
	}
	return release, handovers
}
