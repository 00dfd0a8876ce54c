package cluster

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
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

// Assign returns the owner of every camera.
func Assign(cameras []string, members []Member) map[string]string {
	out := make(map[string]string, len(cameras))
	for _, c := range cameras {
		out[c] = Owner(c, members)
	}
	return out
}
