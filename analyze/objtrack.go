package analyze

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/vigil-video/vigil/config"
)

// Object tracking, in the style of ByteTrack (Zhang et al., 2022) on
// SORT's (Bewley et al., 2016) constant-velocity Kalman filter: each
// person and vehicle the network finds is followed from result to result
// under a stable id. A result's detections are associated with the tracks
// in two passes, greedily by overlap:
//
//  1. confident detections (at or above objects.min_score) with every
//     track, by the overlap (IoU) of the detection and the track's box
//     predicted to the result's frame time, at least trackIoU: first the
//     tracks followed and those lost lately (last seen at most trackStale
//     ago: a person hidden for a moment by another), then those lost
//     longer, which only get the detections the others left (the
//     matching cascade of Deep SORT, Wojke et al., 2017, in two steps):
//     a long-lost track's box, where the Kalman filter left it, must not
//     take a detection from the track following the person it shows;
//  2. weak detections (trackLowScore up to min_score) with the tracks
//     still unmatched and not lost, at least trackLowIoU: a person who
//     stands still, or is half hidden, often scores lower; such a
//     detection continues a track but never starts one.
//
// A confident detection left unmatched starts a track.
//
// People are the exception under personSure. Where people stand close,
// the network also finds boxes astride two of them, or on one person
// shifted by a third of their width, and those score under personSure
// (about 0.5): were they confident, they would start tracks, or move a
// track onto its neighbour, and people would change ids. So a person
// detection from objects.min_score up to personSure is matched as a weak
// one (pass 2), and when left unmatched it starts a track only apart
// from the people followed (overlap at most trackApartIoU): a person
// alone in the view is found at min_score, one among others at
// personSure.
//
// A track ends,
// that is stops being reported, only when objectMisses results in a row
// that looked at it (its centre in the part of the frame they were run
// on) found nothing there; or, when no result looks at it (the budget is
// taken elsewhere, the camera sheds), objectTTL after the last one that
// did. An ended track is kept, lost, for trackLostKeep: a confident
// detection matching it in pass 1 brings it back under its id (a
// person hidden for a moment by another).
const (
	// maxObjTracks bounds the tracks of a camera, lost ones included (a
	// lost one makes room for a new one); a confident detection past it
	// starts none. A result holds at most MaxBoxes of each kind, and the
	// camera reports the MaxBoxes largest objects.
	maxObjTracks  = 32
	trackIoU      = 0.2
	trackLowIoU   = 0.5
	trackLowScore = 0.1
	trackLostKeep = 3 * time.Second
	// trackStale: a lost track last seen longer ago yields to the others
	// in pass 1.
	trackStale = time.Second
	// personSure and trackApartIoU: see above.
	personSure    = 0.5
	trackApartIoU = 0.1
	// trackMaxPredict caps how far ahead a track's box is predicted.
	trackMaxPredict = 2 * time.Second
)

// Kalman filter noise, relative to the object's size (kalmanScales, as
// ByteTrack does: a far, small person moves fewer normalized units): the
// measurement's standard deviation, the initial velocity's, and the
// acceleration's (per second squared).
const (
	kalmanMeasure = 0.05
	kalmanVel0    = 1.0
	kalmanAccel   = 0.5
)

// TrackLowScore is the lowest detection score the tracker uses (pass 2
// above) for a camera keeping minScore: the network must be opened at it.
func TrackLowScore(minScore float64) float64 { return math.Min(trackLowScore, minScore) }

// kalman1 is a constant-velocity Kalman filter on one coordinate: a
// track's motion is two of them (centre x and y), the block-diagonal form
// of SORT's filter (whose size terms are left out: a track's size is its
// last detection's).
type kalman1 struct {
	p, v          float64 // position and velocity (per second)
	p00, p01, p11 float64 // covariance
}

func newKalman1(z, scale float64) kalman1 {
	m, v := kalmanMeasure*scale, kalmanVel0*scale
	return kalman1{p: z, p00: 4 * m * m, p11: v * v}
}

// predict moves the state dt seconds ahead, adding the noise of an
// acceleration of standard deviation kalmanAccel*scale.
func (k *kalman1) predict(dt, scale float64) {
	if dt <= 0 {
		return
	}
	q := kalmanAccel * scale
	q *= q
	k.p += k.v * dt
	p00 := k.p00 + dt*(2*k.p01+dt*k.p11) + q*dt*dt*dt/3
	p01 := k.p01 + dt*k.p11 + q*dt*dt/2
	k.p00, k.p01, k.p11 = p00, p01, k.p11+q*dt
}

// correct takes a measurement z of standard deviation kalmanMeasure*scale.
func (k *kalman1) correct(z, scale float64) {
	r := kalmanMeasure * scale
	s := k.p00 + r*r
	k0, k1 := k.p00/s, k.p01/s
	y := z - k.p
	k.p += k0 * y
	k.v += k1 * y
	p00, p01 := (1-k0)*k.p00, (1-k0)*k.p01
	k.p00, k.p01, k.p11 = p00, p01, k.p11-k1*k.p01
}

// objTrack is one person or vehicle followed across results.
type objTrack struct {
	track // the last box found, when, and the zones entered
	obj   Object
	kf    [2]kalman1 // centre x, centre y
	at    time.Time  // frame time of the filter's state
	// looked is the frame time of the last result that looked at it.
	looked time.Time
	misses int  // results in a row that looked at it and found nothing
	lost   bool // ended, kept for trackLostKeep to be found again
}

// predicted returns the track's box at frame time t: its last
// detection's, moved at the filter's velocity, inside the frame.
func (tr *objTrack) predicted(t time.Time) Box {
	dt := min(t.Sub(tr.at), trackMaxPredict).Seconds()
	b := tr.obj.Box
	if dt <= 0 {
		return b
	}
	b[0] = math.Min(math.Max(b[0]+tr.kf[0].v*dt, 0), 1-b[2])
	b[1] = math.Min(math.Max(b[1]+tr.kf[1].v*dt, 0), 1-b[3])
	return b
}

// observe corrects the track with a detection at frame time t.
func (tr *objTrack) observe(o Object, t time.Time) {
	dt := min(t.Sub(tr.at), trackMaxPredict).Seconds()
	z, prev, now := boxCenter(o.Box), kalmanScales(tr.obj.Box), kalmanScales(o.Box)
	for i := range tr.kf {
		tr.kf[i].predict(dt, prev[i])
		tr.kf[i].correct(z[i], now[i])
	}
	o.ID = tr.obj.ID
	tr.obj, tr.at, tr.box, tr.lastSeen = o, t, o.Box, t
	tr.misses, tr.lost = 0, false
}

// kalmanScales are the sizes the filters' noise is relative to, in each
// coordinate's units: the height for y, twice the width for x (about the
// height for a person; the frame's aspect ratio is unknown here).
func kalmanScales(b Box) [2]float64 { return [2]float64{2 * b[2], b[3]} }

// objectTracker follows the objects of one camera (see above). It is
// used by the camera's worker only.
type objectTracker struct {
	zones  []Zone
	tracks []objTrack
	pairs  []trackPair // scratch
	usedD  []bool      // scratch: detections matched
	usedT  []bool      // scratch: tracks matched
	pred   []Box       // scratch: the tracks' boxes predicted
	sure   []Object    // scratch: the confident detections of pass 1
	weak   []Object    // scratch: the detections of pass 2, unsure first
}

// trackPair is a candidate association: track i, detection j, cost c
// (lower is better).
type trackPair struct {
	i, j int
	c    float64
}

func newObjectTracker(zones []Zone) objectTracker {
	return objectTracker{zones: zones} // tracks grow as objects come (at most maxObjTracks)
}

// update takes a result: the confident and the weak detections the
// network found at frame time at in the part in of the frame.
func (t *objectTracker) update(at time.Time, in Box, high, low []Object) {
	// Unsure people (above) join the weak detections, ahead of them.
	t.sure, t.weak = t.sure[:0], t.weak[:0]
	for _, o := range high {
		if o.Label == config.LabelPerson && o.Score < personSure {
			t.weak = append(t.weak, o)
		} else {
			t.sure = append(t.sure, o)
		}
	}
	unsure := len(t.weak)
	high, low = t.sure, append(t.weak, low...)
	t.weak = low
	t.usedD = slices.Grow(t.usedD[:0], len(high)+len(low))[:len(high)+len(low)]
	clear(t.usedD)
	t.usedT = slices.Grow(t.usedT[:0], len(t.tracks))[:len(t.tracks)]
	clear(t.usedT)
	t.pred = slices.Grow(t.pred[:0], len(t.tracks))[:len(t.tracks)]
	usedT, pred := t.usedT, t.pred
	for i := range t.tracks {
		pred[i] = t.tracks[i].predicted(at)
	}
	// Pass 1: confident detections by overlap, the tracks followed
	// first, then the lost ones with what is left.
	t.associate(at, high, 0, usedT, func(i int, o Object) (float64, bool) {
		v := iou(pred[i], o.Box)
		return -v, !t.tracks[i].stale(at) && v >= trackIoU
	})
	t.associate(at, high, 0, usedT, func(i int, o Object) (float64, bool) {
		v := iou(pred[i], o.Box)
		return -v, v >= trackIoU
	})
	// Pass 2: weak detections, tracks not lost, by a larger overlap.
	t.associate(at, low, len(high), usedT, func(i int, o Object) (float64, bool) {
		v := iou(pred[i], o.Box)
		return -v, !t.tracks[i].lost && v >= trackLowIoU
	})
	for i := range t.tracks {
		tr := &t.tracks[i]
		if usedT[i] {
			tr.looked = at
			tr.enterZones(t.zones, at)
			continue
		}
		if !inRegion(in, pred[i]) {
			continue
		}
		tr.looked = at
		if tr.misses++; tr.misses >= objectMisses {
			tr.lost = true
		}
	}
	for j, o := range high {
		if !t.usedD[j] {
			t.start(o, at)
		}
	}
	for j, o := range low[:unsure] {
		if !t.usedD[len(high)+j] && !slices.ContainsFunc(t.tracks, func(f objTrack) bool {
			return !f.lost && f.obj.Label == o.Label && iou(f.box, o.Box) > trackApartIoU
		}) {
			t.start(o, at)
		}
	}
}

// start starts a track on detection o, at frame time at, if there is
// room.
func (t *objectTracker) start(o Object, at time.Time) {
	if len(t.tracks) == maxObjTracks && !t.evictLost() {
		return
	}
	t.tracks = append(t.tracks, newObjTrack(o, at, len(t.zones)))
	t.tracks[len(t.tracks)-1].enterZones(t.zones, at)
}

// associate matches detections dets (whose index in usedD starts at
// base) with the tracks not yet matched, greedily by cost; cost says
// whether a pair may match at all.
func (t *objectTracker) associate(at time.Time, dets []Object, base int, usedT []bool, cost func(i int, o Object) (float64, bool)) {
	t.pairs = t.pairs[:0]
	for i := range t.tracks {
		if usedT[i] {
			continue
		}
		for j, o := range dets {
			if t.usedD[base+j] || o.Label != t.tracks[i].obj.Label {
				continue
			}
			if c, ok := cost(i, o); ok {
				t.pairs = append(t.pairs, trackPair{i, j, c})
			}
		}
	}
	slices.SortStableFunc(t.pairs, func(a, b trackPair) int { return cmp.Compare(a.c, b.c) })
	for _, p := range t.pairs {
		if usedT[p.i] || t.usedD[base+p.j] {
			continue
		}
		usedT[p.i], t.usedD[base+p.j] = true, true
		t.tracks[p.i].observe(dets[p.j], at)
	}
}

// stale reports whether the track is lost and was last seen more than
// trackStale before at.
func (tr *objTrack) stale(at time.Time) bool { return tr.lost && at.Sub(tr.lastSeen) > trackStale }

func newObjTrack(o Object, at time.Time, zones int) objTrack {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	o.ID = id.String()
	tr := objTrack{obj: o, at: at, looked: at, track: track{box: o.Box, lastSeen: at, entered: make([]time.Time, zones)}}
	z, sc := boxCenter(o.Box), kalmanScales(o.Box)
	for i := range tr.kf {
		tr.kf[i] = newKalman1(z[i], sc[i])
	}
	return tr
}

// evictLost drops the lost track seen longest ago to make room, and
// reports whether there was one.
func (t *objectTracker) evictLost() bool {
	old := -1
	for i := range t.tracks {
		if t.tracks[i].lost && (old < 0 || t.tracks[i].lastSeen.Before(t.tracks[old].lastSeen)) {
			old = i
		}
	}
	if old < 0 {
		return false
	}
	t.tracks = slices.Delete(t.tracks, old, old+1)
	return true
}

// taken dates the tracks the result of frame time at looked at (update)
// at now instead, the frame time the camera took it: objectTTL counts
// from the result's arrival, so that a camera analyzing pictures more
// than objectTTL apart (keyframes alone) keeps what its result found.
func (t *objectTracker) taken(at, now time.Time) {
	if !now.After(at) {
		return
	}
	for i := range t.tracks {
		if t.tracks[i].looked.Equal(at) {
			t.tracks[i].looked = now
		}
	}
}

// expire ends the tracks no result looked at for ttl and forgets the
// lost ones not found again for trackLostKeep, at frame time now. It
// returns how many it ended.
func (t *objectTracker) expire(now time.Time, ttl time.Duration) (ended int) {
	t.tracks = slices.DeleteFunc(t.tracks, func(tr objTrack) bool {
		return tr.lost && now.Sub(tr.lastSeen) > trackLostKeep
	})
	for i := range t.tracks {
		if tr := &t.tracks[i]; !tr.lost && now.Sub(tr.looked) > ttl {
			tr.lost = true
			ended++
		}
	}
	return ended
}

// missed reports whether a result missed an object followed that
// reported accepts (a miss short of objectMisses: the object may have
// left).
func (t *objectTracker) missed(reported func(Object) bool) bool {
	for i := range t.tracks {
		if tr := &t.tracks[i]; !tr.lost && tr.misses > 0 && reported(tr.obj) {
			return true
		}
	}
	return false
}

// objects appends the objects followed (the tracks not lost) to out,
// each where its motion puts it at frame time now, largest first, at most
// MaxBoxes, and returns it.
func (t *objectTracker) objects(out []Object, now time.Time) []Object {
	for i := range t.tracks {
		if tr := &t.tracks[i]; !tr.lost {
			o := tr.obj
			o.Box = tr.predicted(now)
			out = append(out, o)
		}
	}
	return largestFirst(out)
}

// dwell returns the longest time one object labelled label followed has
// been in zone i, with its entry time and box; zero if none is there.
func (t *objectTracker) dwell(i int, label string, now time.Time) (time.Duration, time.Time, Box) {
	var best time.Duration
	var since time.Time
	var box Box
	for j := range t.tracks {
		tr := &t.tracks[j]
		if e := tr.entered[i]; !tr.lost && tr.obj.Label == label && !e.IsZero() && now.Sub(e) > best {
			best, since, box = now.Sub(e), e, tr.box
		}
	}
	return best, since, box
}

// reset forgets every object (a new stream, a gap).
func (t *objectTracker) reset() { t.tracks = t.tracks[:0] }

// inRegion reports whether region holds the centre of b.
func inRegion(region, b Box) bool {
	c := boxCenter(b)
	return c[0] >= region[0] && c[1] >= region[1] && c[0] <= region[0]+region[2] && c[1] <= region[1]+region[3]
}

// FirstTracked returns the detections of one w×h picture, people at
// minScore or more, that a camera following nothing yet reports after
// its first result: every confident one, but an unsure person (under
// personSure) only apart from the people the result also found. `vigil
// bench persons` scores it on labelled pictures beside the network's
// raw detections.
func FirstTracked(dets []Detection, w, h int, minScore float64) []Detection {
	var t objectTracker
	var high []Object
	for _, d := range dets {
		if l := ObjectLabel(d.Label); l == config.LabelPerson && d.Score >= minScore {
			high = append(high, Object{Label: l, Score: d.Score, Box: Box{
				float64(d.Box.Min.X) / float64(w), float64(d.Box.Min.Y) / float64(h),
				float64(d.Box.Dx()) / float64(w), float64(d.Box.Dy()) / float64(h)}})
		}
	}
	t.update(time.Time{}, Box{0, 0, 1, 1}, largestFirst(high), nil)
	var out []Detection
	for _, d := range dets {
		if slices.ContainsFunc(t.tracks, func(tr objTrack) bool {
			b := tr.obj.Box
			return tr.obj.Score == d.Score && b[0] == float64(d.Box.Min.X)/float64(w) && b[1] == float64(d.Box.Min.Y)/float64(h)
		}) {
			out = append(out, d)
		}
	}
	return out
}
