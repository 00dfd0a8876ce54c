package analyze

import (
	"math"
	"time"
)

// Tracker tuning: objects are matched frame to frame by their nearest
// centroid.
const (
	maxTracks = 16
	// trackReach is the farthest (normalized) a centroid may move between
	// two analyzed frames and stay the same object.
	trackReach = 0.12
	// trackTTL is how long an object not seen is kept: a loiterer who
	// stands still fades into the background for a moment.
	trackTTL = 5 * time.Second
	// trackFresh: only objects seen this recently are in a zone now (a
	// lost track keeps its identity for trackTTL but does not hold a
	// loitering incident open).
	trackFresh = time.Second
)

// track is one object followed across frames.
type track struct {
	box      Box
	lastSeen time.Time
	// entered[i] is when the object entered zone i; zero when outside.
	entered []time.Time
}

// enterZones notes, at now, which zones the foot of the track's box is
// in: the time it entered those it was not in, none for the others.
func (tr *track) enterZones(zones []Zone, now time.Time) {
	foot := boxFoot(tr.box)
	for i, z := range zones {
		switch in := contains(z.Polygon, foot); {
		case in && tr.entered[i].IsZero():
			tr.entered[i] = now
		case !in:
			tr.entered[i] = time.Time{}
		}
	}
}

// tracker is a small centroid tracker over the moving regions (or the
// people found), enough to tell how long one object stays in a zone.
type tracker struct {
	zones  []Zone
	tracks []track
	used   [maxTracks]bool
}

func newTracker(zones []Zone) tracker {
	t := tracker{zones: zones, tracks: make([]track, 0, maxTracks)}
	return t
}

// update matches boxes to tracks at frame time now, greedily by distance.
func (t *tracker) update(now time.Time, boxes []Box) {
	t.used = [maxTracks]bool{}
	for _, b := range boxes {
		c := boxCenter(b)
		best, bestD := -1, trackReach
		for i := range t.tracks {
			if t.used[i] {
				continue
			}
			tc := boxCenter(t.tracks[i].box)
			if d := math.Hypot(c[0]-tc[0], c[1]-tc[1]); d < bestD {
				best, bestD = i, d
			}
		}
		if best < 0 {
			if len(t.tracks) == maxTracks {
				continue
			}
			t.tracks = append(t.tracks, track{entered: make([]time.Time, len(t.zones))})
			best = len(t.tracks) - 1
		}
		t.used[best] = true
		tr := &t.tracks[best]
		tr.box, tr.lastSeen = b, now
		tr.enterZones(t.zones, now)
	}
	// Expire objects not seen for trackTTL (in place, keeping order).
	n := 0
	for i := range t.tracks {
		if now.Sub(t.tracks[i].lastSeen) <= trackTTL {
			t.tracks[n] = t.tracks[i]
			n++
		}
	}
	t.tracks = t.tracks[:n]
}

// dwell returns the longest time one object seen in the last trackFresh
// has been in zone i, with its entry time and box; zero if none is there.
func (t *tracker) dwell(i int, now time.Time) (time.Duration, time.Time, Box) {
	var best time.Duration
	var since time.Time
	var box Box
	for _, tr := range t.tracks {
		if e := tr.entered[i]; !e.IsZero() && now.Sub(e) > best && now.Sub(tr.lastSeen) <= trackFresh {
			best, since, box = now.Sub(e), e, tr.box
		}
	}
	return best, since, box
}

// reset forgets every object (a new stream, a gap).
func (t *tracker) reset() { t.tracks = t.tracks[:0] }
