package analyze

import (
	"math"
	"time"

	"github.com/vigil-video/vigil/config"
)

// Camera holds one camera's analysis state: background model, tamper
// baseline, tracked objects and the incidents of every kind. It is not
// safe for concurrent use (the engine runs one worker at a time per
// camera). Close frees its C memory.
//
// Frame times drive all durations. A jump in frame times, forwards or
// backwards, larger than max(2*QuietPeriod, 5s) ends open incidents at the
// last frame time seen and relearns the background. A smaller step
// backwards is taken as no time passing (the frame is analyzed as if
// captured at the last frame time).
type Camera struct {
	cfg    Config
	det    detector
	d      detection // scratch for the current frame
	tam    tamper
	tr     tamperReading
	person *personDetector // HOG; nil unless Person.Enabled without objects
	people []Box           // people of the current frame
	// objects: with an object detector (SetObjects), people and vehicles
	// are the objects its results start and the tracker follows.
	slot        *ObjectSlot
	otrk        objectTracker
	objects     []Object  // the objects followed, largest first
	personObj   []Object  // scratch: the people among objects
	vehicles    []Box     // vehicles of the current frame (objects only)
	vehicleObj  []Object  // scratch: the vehicles among objects
	wantObj     bool      // the frame should be sent for inference (SubmitObjects)
	objRecheck  bool      // that request re-checks objects on a still scene
	objAsked    time.Time // frame time of the last request submitted
	objAnswered time.Time // frame time a result was last taken
	objFailed   time.Time // frame time a request could not be built (ObjectFailed): none before objectFailWait after it
	objLooked   bool      // a result of the whole picture came since the camera started or was Reset
	objLook     bool      // the request wanted is a first look
	looks       int       // first looks submitted since the start or Reset (their backoff)
	lookAfter   time.Time // frame time of the Reset: results of frames up to it are not the first look
	objFirst    bool      // that request is the first of a motion that found no object yet
	objFollow   bool      // that request is on motion while the camera follows an object it reports
	objLeave    bool      // that request re-checks objects that may have left (objRequest.leave)
	objMoved    time.Time // frame time of the last motion while the camera held objects it reports
	objSeenAt   time.Time // frame time of the picture the last result taken looked at
	moveFrom    time.Time // frame time the current motion began (zero: still)
	objRegion   Box       // the part of the frame to send
	trk         tracker
	closed      bool

	last       time.Time     // last frame time seen; zero before the first frame
	dtAvg      time.Duration // smoothed frame interval
	relearn    bool          // the next frame opens a learning window
	learnUntil time.Time

	motion lifecycle
	seen   lifecycle // person
	// vehicle: with an object detector only, and only when objects.labels
	// keeps "vehicle" (Inference drops the other labels).
	vehicle lifecycle
	zones   []zoneState
	tamper  [len(tamperCauses)]lifecycle

	boxes []Box    // scratch: motion boxes of the current frame
	objs  []Object // objects of the transitions advance makes
	shots []Shot
	// sparse: the frames may be an idle camera's keyframes, a GOP or more
	// apart (SetSparse).
	sparse bool
}

// zoneState is the incidents of one zone.
type zoneState struct {
	intrusion, crowd, loiter lifecycle
	restricted               int // index into detection.zone, or -1
}

// maxDtSample caps one frame interval's weight in the smoothed interval,
// so a hiccup does not stretch the candidate gap tolerance for long.
const maxDtSample = time.Second

// NewCamera returns a Camera that learns its background from the first
// frames; cfg is complete and valid (package config checked it). The
// caller must Close it.
func NewCamera(cfg Config) (*Camera, error) {
	m := cfg.Motion
	c := &Camera{cfg: cfg, relearn: true, tam: newTamper(cfg.Tamper), trk: newTracker(cfg.Zones),
		otrk: newObjectTracker(cfg.Zones)}
	lc := func(kind, zone, cause string, minDuration time.Duration) lifecycle {
		return lifecycle{kind: kind, zone: zone, cause: cause, minDuration: minDuration, quiet: m.QuietPeriod, update: m.UpdateInterval}
	}
	c.motion = lc(KindMotion, "", "", m.MinDuration)
	c.seen = lc(KindPerson, "", "", m.MinDuration)
	c.vehicle = lc(KindVehicle, "", "", m.MinDuration)
	var restricted []Polygon
	for _, z := range cfg.Zones {
		zs := zoneState{
			intrusion:  lc(KindIntrusion, z.Name, "", m.MinDuration),
			crowd:      lc(KindCrowd, z.Name, "", z.CrowdTime),
			loiter:     lc(KindLoitering, z.Name, "", 0),
			restricted: -1,
		}
		if z.Restricted {
			zs.restricted = len(restricted)
			restricted = append(restricted, z.Polygon)
		}
		c.zones = append(c.zones, zs)
	}
	for i, cause := range tamperCauses {
		c.tamper[i] = lc(KindTamper, "", cause, cfg.Tamper.MinDuration)
		c.tamper[i].quiet = cfg.Tamper.ClearTime
	}
	c.tamper[3].minDuration = cfg.Tamper.FrozenTime
	c.tamper[3].strict = true
	c.det = newDetector(m, cfg.Masks, restricted)
	if cfg.Person.Enabled {
		c.person = newPersonDetector(cfg.Person)
	}
	return c, nil
}

// Analyze runs one frame captured at frameTime and returns the incident
// transitions it causes, usually none (nil). The caller keeps ownership
// of f. In steady state it allocates nothing in Go except the returned
// transitions. A nil or closed frame, or a closed Camera, yields nil.
// Shots then lists the snapshots the frame should be kept as.
func (c *Camera) Analyze(f *Frame, frameTime time.Time) []Transition {
	c.shots = c.shots[:0]
	c.objs = nil
	if c.closed || !f.valid() {
		return nil
	}
	var out []Transition
	var dt time.Duration
	if !c.last.IsZero() {
		dt = frameTime.Sub(c.last)
		if dt < 0 && dt >= -c.gapLimit() {
			// A small step back (out-of-order frame): no time passes.
			frameTime, dt = c.last, 0
		}
		if dt < 0 || dt > c.gapLimit() {
			out = c.endAll(out, c.last, frameTime)
			c.Reset()
			dt = 0
		} else if dt > 0 {
			if s := min(dt, maxDtSample); c.dtAvg == 0 {
				c.dtAvg = s
			} else {
				c.dtAvg += (s - c.dtAvg) / 8
			}
		}
	}
	if f.Width != c.det.width || f.Height != c.det.height {
		c.Reset()
	}
	if c.relearn {
		c.relearn = false
		c.learnUntil = frameTime.Add(c.cfg.Motion.LearnTime)
	}
	t := frameTime
	learning := t.Before(c.learnUntil)
	wk := getWork()
	defer putWork(wk)
	// Tamper first: a covered or defocused picture changes edges all over,
	// which the motion model must take as a global change.
	var tamperOut []Transition
	global := false
	if c.cfg.Tamper.Enabled {
		quiet := true
		for i := range c.tamper {
			quiet = quiet && !c.tamper[i].active()
		}
		// The causes advance on measured frames only: a frame between
		// would stretch the last reading's condition to its own time.
		if c.tam.process(f, wk, t, dt, quiet, &c.tr) {
			tgap := max(c.gapTolerance(), time.Second)
			if c.sparse {
				tgap = max(tgap, maxSparseGap)
			}
			for i := range c.tamper {
				var from time.Time // frozen alone knows when its condition began
				if tamperCauses[i] == CauseFrozen {
					from = c.tr.since
				}
				tamperOut = c.advance(tamperOut, &c.tamper[i], t, from, c.tr.enter[i], c.tr.stay[i], c.tamperScore(i), nil, tgap)
			}
			if m := &c.tamper[1]; m.open && t.Sub(m.startedAt) >= c.cfg.Tamper.AcceptMovedAfter {
				c.tam.acceptView(wk)
			}
		}
		// Covered or defocused, and until that incident ends (the view
		// coming back is as global a change as it going).
		global = c.tr.stay[0] || c.tr.stay[2] || c.tamper[0].active() || c.tamper[2].active()
	}
	c.det.process(f, wk, dt, learning, global, &c.d)
	c.last = t
	moving := !learning && c.d.moving
	strong := !learning && c.d.strong
	gap := c.gapTolerance()

	c.boxes = c.boxes[:0]
	w, h := float64(c.det.width), float64(c.det.height)
	for _, r := range c.d.regions[:c.d.n] {
		c.boxes = append(c.boxes, Box{float64(r.rect.Min.X) / w, float64(r.rect.Min.Y) / h, float64(r.rect.Dx()) / w, float64(r.rect.Dy()) / h})
	}

	c.people = c.people[:0]
	c.personObj = c.personObj[:0]
	c.vehicles = c.vehicles[:0]
	c.vehicleObj = c.vehicleObj[:0]
	if c.slot != nil {
		c.updateObjects(t, moving)
		for _, o := range c.objects {
			switch {
			case o.Label == config.LabelPerson && c.cfg.Person.Enabled:
				c.people = append(c.people, o.Box)
				c.personObj = append(c.personObj, o)
			case o.Label == config.LabelVehicle && c.cfg.Vehicle.Enabled:
				c.vehicles = append(c.vehicles, o.Box)
				c.vehicleObj = append(c.vehicleObj, o)
			}
		}
	} else if c.person != nil && moving {
		c.people = c.person.detect(f, c.d.regions[:c.d.n], c.people)
	}
	c.objs = c.objects
	out = c.advance(out, &c.motion, t, time.Time{}, strong, moving, c.d.score, c.boxes, gap)
	c.objs = c.personObj
	if c.cfg.Person.Enabled {
		n := len(c.people)
		out = c.advance(out, &c.seen, t, time.Time{}, n > 0, n > 0, float64(n), c.people, gap)
	}
	if c.slot != nil && c.cfg.Vehicle.Enabled {
		c.objs = c.vehicleObj
		n := len(c.vehicles)
		out = c.advance(out, &c.vehicle, t, time.Time{}, n > 0, n > 0, float64(n), c.vehicles, gap)
		c.objs = c.personObj // zone incidents carry the people
	}

	if len(c.zones) > 0 {
		objects := c.boxes
		if len(c.people) > 0 {
			objects = c.people
		}
		if !learning {
			c.trk.update(t, objects)
		}
		out = c.advanceZones(out, t, learning, gap)
	}
	c.objs = nil

	return append(out, tamperOut...)
}

// advanceZones runs the zone rules on the current frame.
func (c *Camera) advanceZones(out []Transition, t time.Time, learning bool, gap time.Duration) []Transition {
	minArea := c.cfg.Motion.MinArea
	for i := range c.zones {
		z, zs := &c.cfg.Zones[i], &c.zones[i]
		var inZone []Box
		if zs.restricted >= 0 || z.Crowd > 0 {
			inZone = c.inZone(z.Polygon)
		}
		var people int // with their feet in the zone
		for _, p := range c.people {
			if contains(z.Polygon, boxFoot(p)) {
				people++
			}
		}
		if zs.restricted >= 0 {
			pix := c.d.zone[zs.restricted]
			enter := !learning && (pix >= minArea || people > 0)
			stay := !learning && (pix >= minArea/2 || people > 0)
			out = c.advance(out, &zs.intrusion, t, time.Time{}, enter, stay, pix, inZone, gap)
		}
		if z.Crowd > 0 {
			// Hysteresis: the count may dip by one (a person hidden for a
			// moment) without ending the crowd.
			out = c.advance(out, &zs.crowd, t, time.Time{}, people >= z.Crowd, people >= max(z.Crowd-1, 1), float64(people), inZone, gap)
		}
		if z.Loiter > 0 {
			// People the network finds are followed under their ids;
			// else (no network, or none of them there) moving regions.
			var d time.Duration
			var since time.Time
			var box Box
			if c.cfg.Person.Enabled {
				d, since, box = c.otrk.dwell(i, config.LabelPerson, t)
			}
			if d == 0 {
				d, since, box = c.trk.dwell(i, t)
			}
			var boxes []Box
			if d > 0 {
				boxes = []Box{box}
			}
			out = c.advance(out, &zs.loiter, t, since, d >= z.Loiter, d > 0, d.Seconds(), boxes, max(gap, trackTTL))
		}
	}
	return out
}

// inZone returns the current frame's objects (people when person
// detection found some, else moving regions) whose foot point is in p,
// or all of them when none is.
func (c *Camera) inZone(p Polygon) []Box {
	objects := c.boxes
	if len(c.people) > 0 {
		objects = c.people
	}
	var in []Box
	for _, b := range objects {
		if contains(p, boxFoot(b)) || contains(p, boxCenter(b)) {
			in = append(in, b)
		}
	}
	if len(in) == 0 {
		return objects
	}
	return in
}

// tamperScore is how far cause i's measure is past its start threshold,
// 0..1.
func (c *Camera) tamperScore(i int) float64 {
	cfg, r := &c.cfg.Tamper, &c.tr
	switch tamperCauses[i] {
	case CauseCovered:
		return clamp01(1 - r.contrast/math.Max(cfg.CoveredContrast, 1e-6))
	case CauseMoved:
		return clamp01((cfg.MovedCorrelation - r.correlation) / (1 + cfg.MovedCorrelation))
	case CauseDefocus:
		return clamp01(1 - r.sharpness/math.Max(c.tam.baseSharp*cfg.DefocusRatio, 1e-6))
	}
	if r.identical {
		return 1
	}
	return 0
}

func clamp01(x float64) float64 { return math.Min(math.Max(x, 0), 1) }

// advance steps one incident and appends its transition, if any; it also
// asks for evidence shots.
func (c *Camera) advance(out []Transition, l *lifecycle, t, from time.Time, enter, stay bool, score float64, boxes []Box, gap time.Duration) []Transition {
	p, ok := l.step(t, from, enter, stay, score, gap)
	if !ok {
		if (enter || stay) && l.betterEvidence(t, score) {
			c.shots = append(c.shots, Shot{IncidentID: l.id, Kind: l.kind, Role: "best", Boxes: clone(boxes)})
		}
		return out
	}
	tr := Transition{
		Phase:      p,
		IncidentID: l.id,
		Kind:       l.kind,
		Zone:       l.zone,
		Cause:      l.cause,
		StartedAt:  l.startedAt,
		FrameTime:  t,
		Score:      score,
		Boxes:      clone(boxes),
		Objects:    cloneObjects(c.objs),
	}
	switch p {
	case PhaseStart:
		c.shots = append(c.shots, Shot{IncidentID: l.id, Kind: l.kind, Role: "start", Boxes: tr.Boxes})
	case PhaseEnd:
		tr.EndedAt, tr.Score, tr.Boxes, tr.Objects = l.lastActive, l.maxScore, nil, nil
	}
	return append(out, tr)
}

func cloneObjects(o []Object) []Object {
	if len(o) == 0 {
		return nil
	}
	return append([]Object(nil), o...)
}

func clone(b []Box) []Box {
	if len(b) == 0 {
		return nil
	}
	return append([]Box(nil), b...)
}

// lifecycles lists every incident the camera follows.
func (c *Camera) lifecycles(yield func(*lifecycle)) {
	yield(&c.motion)
	yield(&c.seen)
	yield(&c.vehicle)
	for i := range c.zones {
		yield(&c.zones[i].intrusion)
		yield(&c.zones[i].crowd)
		yield(&c.zones[i].loiter)
	}
	for i := range c.tamper {
		yield(&c.tamper[i])
	}
}

// endAll ends every open incident at endedAt, reported at t.
func (c *Camera) endAll(out []Transition, endedAt, t time.Time) []Transition {
	c.lifecycles(func(l *lifecycle) {
		if l.end() {
			out = append(out, Transition{
				Phase: PhaseEnd, IncidentID: l.id, Kind: l.kind, Zone: l.zone, Cause: l.cause,
				StartedAt: l.startedAt, EndedAt: endedAt, FrameTime: t, Score: l.maxScore,
			})
		}
	})
	return out
}

// Shots lists the evidence snapshots the last analyzed frame should be
// kept as; valid until the next Analyze.
func (c *Camera) Shots() []Shot { return c.shots }

// Reset forgets the background so that it is learned again for LearnTime
// from the next frame (use it after a reconnect); pending candidates and
// tracked objects are dropped. Open incidents stay open and end after
// their quiet period as usual. The tamper baseline is kept.
func (c *Camera) Reset() {
	c.det.forget()
	c.relearn = true
	c.tam.restart()
	c.trk.reset()
	c.otrk.reset()
	c.lifecycles(func(l *lifecycle) { l.cand = false })
	c.objects, c.wantObj, c.objLooked, c.lookAfter, c.looks = c.objects[:0], false, false, c.last, 0
	c.moveFrom, c.objMoved, c.objSeenAt = time.Time{}, time.Time{}, time.Time{}
}

// Flush ends open incidents at now (shutdown) and returns their PhaseEnd
// transitions, or nil if none is open.
func (c *Camera) Flush(now time.Time) []Transition {
	return c.endAll(nil, now, now)
}

// Close frees the Camera's C memory. It is idempotent; Analyze does
// nothing afterwards.
func (c *Camera) Close() {
	if c.closed {
		return
	}
	c.closed = true
	c.det.close()
	c.tam.close()
	if c.person != nil {
		c.person.close()
	}
	if c.slot != nil {
		c.slot.Release()
	}
}

// Active reports whether the last analyzed frame was part of something
// moving: a motion or zone candidate or open incident, or a person or
// vehicle candidate. The engine keeps full decoding on while it is true.
// An open person or vehicle incident does not count: once nothing moves,
// the people or vehicles standing in view are re-checked on the keyframes
// an idle camera decodes (a result taken on a keyframe dates the objects
// it found from that keyframe on: objectTracker.taken), and a camera kept
// awake by someone standing still decoded every picture for as long as
// they stood there (5 to 6 times an idle camera's cost). Whoever moves wakes
// the camera as anything else does. Tamper incidents do not count either:
// their measures need no more than keyframes.
func (c *Camera) Active() bool {
	if c.motion.active() || c.seen.cand || c.vehicle.cand {
		return true
	}
	for i := range c.zones {
		if z := &c.zones[i]; z.intrusion.active() || z.crowd.active() || z.loiter.active() {
			return true
		}
	}
	return false
}

// gapLimit is the jump in frame times that resets the background; on a
// camera whose frames may be keyframes alone (SetSparse), at least
// maxSparseGap.
func (c *Camera) gapLimit() time.Duration {
	l := max(2*c.cfg.Motion.QuietPeriod, 5*time.Second)
	if c.sparse {
		l = max(l, maxSparseGap)
	}
	return l
}

// maxSparseGap is the longest time between two keyframes an idle camera
// decodes alone that its analysis takes as the stream's normal pace:
// activity.keyframe_interval's bound (10 s), a tenth of it and a GOP's
// jitter. Camera's GOPs of 3 to 10 s ("smart" codecs, long GOPs while
// still) are common.
const maxSparseGap = 12 * time.Second

// SetSparse says whether the frames analyzed next may be keyframes decoded
// alone (a camera in mode auto or keyframes, or on the overload ladder's
// keyframes-only step), which may come as far apart as maxSparseGap: the
// background is not reset across such a gap and a tamper candidate
// (covered, defocus, moved) survives it, so that a cause seen on two
// keyframes starts, and an open one is not ended by the pace of the
// stream.
func (c *Camera) SetSparse(on bool) { c.sparse = on }

// SetKeyframe says whether the stream passed a keyframe since the last
// analyzed frame, the next one included; it holds for the next Analyze
// only. A camera never told of one (its stream's keyframes unknown) judges
// frozen on identical pictures alone.
func (c *Camera) SetKeyframe(passed bool) { c.tam.keyNext = passed }

// gapTolerance is the longest pause in motion a candidate survives: about
// three frame intervals.
func (c *Camera) gapTolerance() time.Duration {
	return 3 * c.dtAvg
}
