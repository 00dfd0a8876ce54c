package analyze

import (
	"cmp"
	"image"
	"slices"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
)

// Reasons an inference request is shed (InferenceObserver.Shed).
const (
	ShedReplaced = "replaced" // a newer request of the same camera took its place
	ShedStale    = "stale"    // it waited longer than staleAfter for the budget
	ShedOverload = "overload" // the camera's overload ladder is past full rate: a newer picture did not replace its waiting one
	ShedError    = "error"    // the detector failed on it, or its picture could not be made
	ShedCrowded  = "crowded"  // a re-check not built: more requests wait ahead of it than the budget serves before it would go stale
)

// staleAfter is how long a request may wait for the budget before its
// picture is too old to be worth a result.
const staleAfter = 2 * time.Second

// shedKeepsWait is how soon a camera whose ladder sheds (SetShed) must ask
// again after its request went stale to keep its wait: it builds a
// request only from the pictures its step keeps, down to every other
// keyframe (8 s with 4 s GOPs), so the window of a camera at full rate,
// staleAfter, would restart its wait at every shed and its follow
// requests would never age (followAge).
const shedKeepsWait = 20 * time.Second

// firstSpacing: a camera's first results are at least this far apart
// (twice the surge's interval). In the first firstWithin of its motion a
// camera whose person is not in view yet (the motion at the edge of the
// picture, the person half in) looks again up to 4 times a second, the
// person found a fraction of a second after coming in, and never takes
// more than half the surge. Measured with people wiped into an empty view
// (BENCHMARKS.md, "First results at the surge's rate"): spaced by
// firstWait (one a second), the slowest person incident came 6.6-6.8 s
// after its motion; at 250 ms 1.0, 1.0 and 4.4 s; without a spacing 1.0
// and 1.4 s.
const firstSpacing = 250 * time.Millisecond

// replaceAfter is how old a pending request must be before a camera
// replaces it with a newer picture (the newest wins, but a picture is not
// scaled at every analyzed frame for a request that may wait).
const replaceAfter = 400 * time.Millisecond

// InferenceConfig configures Inference.
type InferenceConfig struct {
	// MaxPerSecond is the budget's ceiling: inferences per second, all
	// cameras together; 0 is no ceiling (budgetMax). Without Load the
	// budget is this rate, fixed (then > 0).
	MaxPerSecond float64
	// Load, when set, makes the budget follow the machine (budget.go): it
	// returns how busy the machine is, 0..1, and is called from the
	// inference goroutine every budgetTick.
	Load func() float64
	// MinScore drops detections scoring less (0..1), except those of
	// TrackLowScore(MinScore) and up, which the result keeps apart: they
	// continue a tracked object but never start one. The detector must
	// keep them (OpenNetwork at TrackLowScore(MinScore)).
	MinScore float64
	// VehicleMinScore is MinScore for vehicles (the network scores them
	// lower); 0 is MinScore. The weak ones start at
	// TrackLowScore(min(MinScore, VehicleMinScore)).
	VehicleMinScore float64
	// FirstLook: each camera asks once for its whole picture when it
	// starts and after a Reset, motion or not (config.ObjectsConfig).
	FirstLook bool
	// Labels are the labels kept (config.LabelPerson, config.LabelVehicle); empty keeps
	// both.
	Labels []string
}

// minScore is the threshold that finds an object of label l.
func (c InferenceConfig) minScore(l string) float64 {
	if l == config.LabelVehicle && c.VehicleMinScore > 0 {
		return c.VehicleMinScore
	}
	return c.MinScore
}

// InferenceObserver receives what Inference does, for metrics. Its methods
// are called from the inference goroutine and from camera workers; they
// must be cheap and safe for concurrent use.
type InferenceObserver interface {
	// Inferred: an inference of camera's request of kind (RequestKinds)
	// started at start, after the camera had waited wait for it, and took d.
	Inferred(camera, kind string, start time.Time, wait, d time.Duration)
	Shed(camera, reason string)
	Queued(n int)
}

// Inference runs one ObjectDetector for every camera under one budget
// that follows the machine (budget.go) under MaxPerSecond, one goroutine,
// at most one pending request per camera (the newest picture wins but
// keeps the camera's place), in this order: cameras whose motion has just
// begun and that follow no object yet (their first result), then the
// other requests driven by motion (cameras that follow nothing before
// those that follow what they report), then first looks and re-checks of
// still scenes; the camera waiting longest first within each, and while
// first looks wait, every lookEvery-th inference other than a first
// result is one of them. Cameras never wait for it: they submit and pick
// up results at a later frame.
// Start starts its goroutine; Close stops it.
type Inference struct {
	det    ObjectDetector
	cfg    InferenceConfig
	obs    InferenceObserver
	budget *budget
	// maxSide caps the long side of the pictures sent: objectMaxSide, or
	// the network's input side if larger.
	maxSide float64

	mu      sync.Mutex
	slots   []*ObjectSlot
	pending int
	unlook  int // inferences other than first results since a first look was served (lookEvery)
	wake    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	started bool
	closed  bool
}

// NewInference returns the inference around det (which it does not
// close); nothing runs until Start. obs may be nil.
func NewInference(det ObjectDetector, cfg InferenceConfig, obs InferenceObserver) *Inference {
	side := objectMaxSide
	if n, ok := det.(interface{ InputSide() int }); ok {
		side = max(side, n.InputSide())
	}
	return &Inference{det: det, cfg: cfg, obs: obs, budget: newBudget(cfg.MaxPerSecond, cfg.Load), maxSide: float64(side),
		wake: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
}

// Start starts the inference goroutine; requests submitted before wait
// for it. Calls after the first, or after Close, do nothing.
func (in *Inference) Start() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.started || in.closed {
		return
	}
	in.started = true
	go in.run()
}

// ObjectSlot is one camera's place in Inference: its pending request and
// its latest result. Its methods are for the camera's worker (one at a
// time).
type ObjectSlot struct {
	in     *Inference
	camera string

	// guarded by in.mu
	pending  *objRequest
	free     []*objRequest // pictures to reuse, at most 2
	result   []Object
	weak     []Object  // the result's detections under MinScore (InferenceConfig)
	resultAt time.Time // frame time of the result
	resultIn Box       // the part of the frame the result looked at
	fresh    bool      // result not yet taken
	shed     bool      // the camera's ladder asks to shed: one picture at a time, never replaced
	// The wait of the camera's last request shed as stale: a request of
	// the same kind submitted within staleAfter of that shed
	// (shedKeepsWait while the camera sheds) keeps it (the camera is
	// still waiting for its turn); another kind (a first result, or new
	// motion after a still while) waits from its own request.
	staleAt    time.Time
	staleSince time.Time
	staleRank  int
	// servedAt is when the camera's last inference started: a request
	// within firstSpacing of it is not a first result (submit).
	servedAt time.Time
	// found is called when a first look's result finds objects of a
	// label reports says the camera reports (OnFound).
	found   func()
	reports func(label string) bool
}

// OnFound sets f, called from the inference goroutine when the result of
// the camera's first look finds objects: an idle camera in mode auto then
// decodes its pictures from its last keyframe (gate.Gate.Take) and its
// analysis takes the result at once, not on its next keyframe decoded
// (2 s later or more), so that people or vehicles standing in view when
// it starts are reported as soon as in mode all. Only first looks (a
// re-check of what the camera already holds must not wake it), and only
// for objects of a label reports says the camera raises incidents for (a
// person camera does not wake for the car parked in its view).
func (s *ObjectSlot) OnFound(reports func(label string) bool, f func()) {
	s.in.mu.Lock()
	s.found, s.reports = f, reports
	s.in.mu.Unlock()
}

// objRequest is a picture waiting for or under inference.
type objRequest struct {
	bgr       gocv.Mat
	region    Box // the part of the frame the picture shows, normalized
	frameTime time.Time
	queued    time.Time // when this picture was submitted
	since     time.Time // when the camera began waiting (kept by a replacement or a request just after a stale one, unless it becomes a first result): its place in the queue
	recheck   bool      // a re-check of objects present on a still scene: served after requests driven by motion
	first     bool      // motion just began away from the objects the camera reports (Camera.movesReported): served first
	follow    bool      // motion while the camera follows an object it reports: after motion on cameras that follow none
	leave     bool      // a re-check (also recheck) of objects held, after motion around them or a result that missed one: before follow requests
	look      bool      // a first look (also recheck): served before the re-checks of objects held
}

// RequestKinds name the ranks of requests (objRequest.rank), in order:
// the first result of a camera's motion, the others driven by motion on
// a camera that follows no object, a re-check of objects held that may
// have left a still scene (after motion around them, or a result that
// missed one), motion on a camera that follows an object it
// reports, a first look at a still picture, a re-check of the objects
// held on a still scene.
var RequestKinds = [...]string{"first", "motion", "leave", "follow", "look", "recheck"}

// rank orders requests: first results, then motion on cameras that follow
// nothing (someone may have come into view, not reported yet), then the
// re-checks of what may have left (a person walked out of view: until two
// results find nothing there, the incident stays open; as plain re-checks,
// served last, on a budget at its floor most walks of a city's busy
// cameras began with the last walk's incident still open, so the person
// walking in raised no new incident), then motion on cameras that follow
// what they report (their incident is open: the objects are held while
// the request waits, objectHold; leave checks come after a motion, or a
// miss, where these come on every picture that moves), then first
// looks (a camera that has not seen its still picture yet), then
// re-checks of the objects held. It is also the request's kind
// (RequestKinds).
func (r *objRequest) rank() int {
	switch {
	case r.first:
		return 0
	case !r.recheck && !r.follow:
		return 1
	case r.leave:
		return leaveRank
	case !r.recheck:
		return 3
	case r.look:
		return 4
	}
	return 5
}

// leaveRank is the rank of a leave check (objRequest.rank).
const leaveRank = 2

// followAge: a follow request that has waited this long ranks with the
// other requests driven by motion, so that a camera always following
// something (vehicles parked in view) is not starved while other cameras
// keep moving, and a person walking into its view is found. The wait
// counts across a request shed as stale when the camera asks again at
// once (ObjectSlot.staleSince; shedKeepsWait): a camera whose ladder sheds
// never replaces its request, so each goes stale, and without it would
// never age. Leave checks, first looks and re-checks do not age: they
// refresh what the camera holds, and in a city of still cameras holding
// people they would otherwise come before someone new in a moving view
// (leave checks aged too were tried: as many incidents ended in time,
// and the slowest new person incidents came no sooner: BENCHMARKS.md).
const followAge = 5 * time.Second

// lookEvery: while first looks wait, at least one inference in this many
// (first results apart) serves the one waiting longest. Under a budget
// that cannot serve every camera, follow requests age to motion's rank
// (followAge) and came before every first look: on a city's machine at
// its floor, 300 cameras started and the people standing in their still
// views were not looked for at all (no first look served in 45 s), while
// a third of the inferences refreshed boxes of people already reported.
const lookEvery = 3

// rankAt is rank at now, a follow request aged by followAge.
func (r *objRequest) rankAt(now time.Time) int {
	k := r.rank()
	if k == 3 && now.Sub(r.since) >= followAge {
		return 1
	}
	return k
}

// Rate returns the budget now, inferences a second. Safe for concurrent
// use.
func (in *Inference) Rate() float64 { return in.budget.Rate() }

// Slot registers a camera and returns its slot. Release gives it back.
func (in *Inference) Slot(camera string) *ObjectSlot {
	s := &ObjectSlot{in: in, camera: camera}
	in.mu.Lock()
	in.slots = append(in.slots, s)
	in.mu.Unlock()
	return s
}

// Release unregisters the slot and frees its pictures (a request under
// inference is freed when it ends).
func (s *ObjectSlot) Release() {
	in := s.in
	in.mu.Lock()
	defer in.mu.Unlock()
	in.slots = slices.DeleteFunc(in.slots, func(o *ObjectSlot) bool { return o == s })
	if s.pending != nil {
		s.pending.bgr.Close()
		s.pending = nil
		in.pending--
		in.queued()
	}
	for _, r := range s.free {
		r.bgr.Close()
	}
	s.free = nil
}

// SetShed tells the slot that its camera sheds load (overload ladder past
// full rate): until cleared, a waiting request is never replaced by a
// newer picture, so the camera builds at most one picture per request
// served or gone stale. It still asks: what runs is the budget's choice,
// which follows the machine and serves first results first. A camera
// that asked for nothing at all would lose its people for as long as it
// stayed stepped down, which on a machine full of idle cameras was the
// whole run (the busy cameras' lag sat between the ladder's bounds).
func (s *ObjectSlot) SetShed(shed bool) {
	s.in.mu.Lock()
	s.shed = shed
	s.in.mu.Unlock()
}

// wants reports whether the camera should build a request now: no
// pending request (a re-check only when the queue is not crowded: a
// first look always, a leave check when the requests ahead of it are
// not too many; crowded then tells the camera to ask again at its
// cadence); a pending re-check (or first look) when this one is driven
// by motion, at once, shedding or not; or, unless the camera sheds
// (SetShed), a pending request older than replaceAfter (a re-check
// replaces nothing: it waits for no request at all). A replacement the
// shedding camera does not make, and a re-check not built, are counted.
func (s *ObjectSlot) wants(now time.Time, recheck, look, leave bool) (want, crowded bool) {
	in := s.in
	in.mu.Lock()
	shed, p := s.shed, s.pending
	var pendingRecheck bool
	switch {
	case p != nil:
		pendingRecheck = p.recheck
	case leave:
		crowded = in.crowdedAhead(now, leaveRank)
	case recheck && !look:
		crowded = in.crowded()
	}
	in.mu.Unlock()
	switch {
	case crowded:
		in.shedCount(s.camera, ShedCrowded)
		return false, true
	case p == nil:
		return true, false
	case pendingRecheck && !recheck:
		return true, false
	case recheck || now.Sub(p.queued) < replaceAfter:
		return false, false
	case shed:
		in.shedCount(s.camera, ShedOverload)
		return false, false
	}
	return true, false
}

// crowded reports whether a re-check asked now would go stale before its
// turn (in.mu held): it comes after every request waiting, and they are
// as many as the budget serves in staleAfter. Building it would decode
// and scale a picture for nothing (with 300 cameras on a budget at its
// floor, about 1,500 requests a run were built and shed as stale). A
// first look is always built: one in lookEvery inferences serves them,
// the longest waiting first, and a look not built would back off.
func (in *Inference) crowded() bool {
	return float64(in.pending) >= in.budget.Rate()*staleAfter.Seconds()
}

// crowdedAhead is crowded for a request of rank: it counts the requests
// waiting that would go before it (rankAt at most rank; in.mu held). A
// leave check goes before follow requests that have not aged, first
// looks and re-checks: counting them would keep it from being built on
// a busy machine where it would be served; on a budget at its floor,
// where first results, motion and aged follow requests take every
// inference, it would be built every 2 s and shed as stale.
func (in *Inference) crowdedAhead(now time.Time, rank int) bool {
	limit := in.budget.Rate() * staleAfter.Seconds()
	n := 0
	for _, s := range in.slots {
		if p := s.pending; p != nil && now.Sub(p.queued) <= staleAfter && p.rankAt(now) <= rank {
			if n++; float64(n) >= limit {
				return true
			}
		}
	}
	return false
}

// buffer returns a picture to fill for a request (from the slot's spares).
func (s *ObjectSlot) buffer() *objRequest {
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	if n := len(s.free); n > 0 {
		r := s.free[n-1]
		s.free = s.free[:n-1]
		*r = objRequest{bgr: r.bgr} // the picture kept, nothing else of its last use
		return r
	}
	return &objRequest{bgr: gocv.NewMat()}
}

// submit queues r, replacing the pending request if any.
func (s *ObjectSlot) submit(r *objRequest, now time.Time) {
	in := s.in
	r.queued = now
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		r.bgr.Close()
		return
	}
	// A camera's first results are firstSpacing apart: one asked sooner
	// after its last inference is motion, at the budget's pace (a camera
	// whose motion found no one yet would otherwise take the surge's rate
	// for itself).
	if r.first && !s.servedAt.IsZero() && now.Sub(s.servedAt) < firstSpacing {
		r.first = false
	}
	replaced := s.pending != nil
	r.since = now
	if replaced {
		// The camera keeps its place, unless the request becomes a
		// first result: it then waits among the first results from now
		// (a camera whose held objects just ended is not, by the time it
		// waited to refresh them, ahead of cameras whose motion has just
		// begun).
		if !r.first || s.pending.first {
			r.since = s.pending.since
		}
		s.recycle(s.pending)
	} else {
		in.pending++
		// Asked again at once after a request went stale (a shedding
		// camera: at its next picture kept, up to a GOP or two later),
		// for the same kind: still waiting for its turn.
		window := staleAfter
		if s.shed {
			window = shedKeepsWait
		}
		if !s.staleAt.IsZero() && now.Sub(s.staleAt) <= window && r.rank() == s.staleRank {
			r.since = s.staleSince
		}
	}
	s.staleAt = time.Time{}
	s.pending = r
	in.queued()
	in.mu.Unlock()
	if replaced {
		in.shedCount(s.camera, ShedReplaced)
	}
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// recycle keeps r's picture for reuse, or frees it (in.mu held).
func (s *ObjectSlot) recycle(r *objRequest) {
	if len(s.free) < 2 && slices.Contains(s.in.slots, s) {
		s.free = append(s.free, r)
		return
	}
	r.bgr.Close()
}

// Failed counts a request the camera could not build (its picture could
// not be decoded in color).
func (s *ObjectSlot) Failed() { s.in.shedCount(s.camera, ShedError) }

// objResult is an inference result as a camera takes it.
type objResult struct {
	objects []Object  // detections at or above MinScore
	weak    []Object  // detections from TrackLowScore(MinScore) to MinScore
	at      time.Time // frame time
	in      Box       // the part of the frame looked at
}

// take returns the latest result, if it was not taken yet.
func (s *ObjectSlot) take() (objResult, bool) {
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	if !s.fresh {
		return objResult{}, false
	}
	s.fresh = false
	return objResult{s.result, s.weak, s.resultAt, s.resultIn}, true
}

// Close stops the goroutine after the inference under way and frees the
// pending pictures; the slots' results stay readable.
func (in *Inference) Close() {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.closed = true
	started := in.started
	in.mu.Unlock()
	close(in.done)
	if started {
		<-in.stopped
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, s := range in.slots {
		if s.pending != nil {
			s.pending.bgr.Close()
			s.pending = nil
		}
		for _, r := range s.free {
			r.bgr.Close()
		}
		s.free = nil
	}
	in.pending = 0
	in.queued()
}

// queued reports the queue length (in.mu held).
func (in *Inference) queued() {
	if in.obs != nil {
		in.obs.Queued(in.pending)
	}
}

func (in *Inference) shedCount(camera, reason string) {
	if in.obs != nil {
		in.obs.Shed(camera, reason)
	}
}

// run is the inference goroutine: one request at a time, no sooner than
// one budget interval after the previous one started, or, for a first
// result, as soon as the surge allows (budget.firstWaitAt).
func (in *Inference) run() {
	defer close(in.stopped)
	var last time.Time
	for {
		select {
		case <-in.done:
			return
		case <-in.wake:
		}
		for {
			now := time.Now()
			in.budget.update(now, in.firsts)
			wait := in.budget.interval() - now.Sub(last)
			if last.IsZero() {
				wait = 0
			}
			if in.firsts() > 0 {
				// next serves a first result: at the surge's pace.
				wait = min(wait, in.budget.firstWaitAt(now))
			}
			if wait > 0 {
				in.budget.held()
				t := time.NewTimer(wait)
				select {
				case <-in.done:
					t.Stop()
					return
				case <-in.wake:
					// A new request (maybe a first result): the
					// interval again.
					t.Stop()
					continue
				case <-t.C:
				}
			}
			s, r := in.next()
			if r == nil {
				break
			}
			last = time.Now()
			if r.first {
				in.budget.startedFirst(last)
			}
			in.infer(s, r, last)
		}
	}
}

// firsts returns how many first results wait (objRequest.first).
func (in *Inference) firsts() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	now := time.Now()
	n := 0
	for _, s := range in.slots {
		if p := s.pending; p != nil && p.first && now.Sub(p.queued) <= staleAfter {
			n++
		}
	}
	return n
}

// next takes the oldest pending request of the best rank
// (objRequest.rankAt), shedding the stale ones.
func (in *Inference) next() (*ObjectSlot, *objRequest) {
	in.mu.Lock()
	defer in.mu.Unlock()
	now := time.Now()
	var best, look *ObjectSlot
	for _, s := range in.slots {
		p := s.pending
		if p == nil {
			continue
		}
		if now.Sub(p.queued) > staleAfter {
			s.staleAt, s.staleSince, s.staleRank = now, p.since, p.rank()
			s.pending = nil
			in.pending--
			s.recycle(p)
			if in.obs != nil {
				in.obs.Shed(s.camera, ShedStale)
			}
			continue
		}
		if p.look && (look == nil || p.since.Before(look.pending.since)) {
			look = s
		}
		if best == nil {
			best = s
			continue
		}
		if pr, br := p.rankAt(now), best.pending.rankAt(now); pr < br || pr == br && p.since.Before(best.pending.since) {
			best = s
		}
	}
	if best == nil {
		in.queued()
		return nil, nil
	}
	switch {
	case best.pending.first:
	case best.pending.look || look != nil && in.unlook >= lookEvery-1:
		best, in.unlook = look, 0
	default:
		in.unlook++
	}
	r := best.pending
	best.pending, best.servedAt = nil, now
	in.pending--
	in.queued()
	return best, r
}

// infer runs the detector on r, started at start (the budget's clock),
// and stores the result in s.
func (in *Inference) infer(s *ObjectSlot, r *objRequest, start time.Time) {
	dets, err := in.det.Detect(r.bgr)
	d := time.Since(start)
	var objs, weak []Object
	if err == nil {
		objs, weak = in.objects(dets, r)
	}
	kind, wait := RequestKinds[r.rank()], start.Sub(r.since) // r is reused once recycled
	in.mu.Lock()
	var found func()
	if err == nil {
		s.result, s.weak, s.resultAt, s.resultIn, s.fresh = objs, weak, r.frameTime, r.region, true
		if r.look && s.found != nil && slices.ContainsFunc(objs, func(o Object) bool { return s.reports(o.Label) }) {
			found = s.found
		}
	}
	s.recycle(r)
	in.mu.Unlock()
	if found != nil {
		found()
	}
	if in.obs != nil {
		if err != nil {
			in.obs.Shed(s.camera, ShedError)
		} else {
			in.obs.Inferred(s.camera, kind, start, wait, d)
		}
	}
}

// objects maps detections in r's picture to normalized frame objects,
// keeping the labels asked for, one vehicle per vehicle (mergeVehicles,
// over all scores), largest first, at most MaxBoxes: those scoring
// MinScore or more, and apart the weak ones, from TrackLowScore(MinScore).
func (in *Inference) objects(dets []Detection, r *objRequest) (objs, weak []Object) {
	w, h := float64(r.bgr.Cols()), float64(r.bgr.Rows())
	if w == 0 || h == 0 {
		return nil, nil
	}
	low := TrackLowScore(min(in.cfg.MinScore, in.cfg.minScore(config.LabelVehicle)))
	var out []Object
	for _, d := range dets {
		l := ObjectLabel(d.Label)
		if l == "" || d.Score < low || (len(in.cfg.Labels) > 0 && !slices.Contains(in.cfg.Labels, l)) {
			continue
		}
		b := d.Box.Intersect(image.Rect(0, 0, int(w), int(h)))
		if b.Empty() {
			continue
		}
		reg := r.region
		out = append(out, Object{Label: l, Score: d.Score, Box: Box{
			reg[0] + float64(b.Min.X)/w*reg[2],
			reg[1] + float64(b.Min.Y)/h*reg[3],
			float64(b.Dx()) / w * reg[2],
			float64(b.Dy()) / h * reg[3],
		}})
	}
	out = mergeVehicles(out)
	for _, o := range out {
		if o.Score >= in.cfg.minScore(o.Label) {
			objs = append(objs, o)
		} else {
			weak = append(weak, o)
		}
	}
	return largestFirst(objs), largestFirst(weak)
}

// largestFirst sorts objs by area, largest first, and keeps MaxBoxes.
func largestFirst(objs []Object) []Object {
	slices.SortStableFunc(objs, func(a, b Object) int { return cmp.Compare(b.Box[2]*b.Box[3], a.Box[2]*a.Box[3]) })
	if len(objs) > MaxBoxes {
		objs = objs[:MaxBoxes]
	}
	return objs
}

// vehicleMerge is the overlap (IoU) above which two vehicle boxes are one
// vehicle: the network suppresses overlaps per class only, and below its
// default min_score one car comes back as car, truck and bus.
const vehicleMerge = 0.5

// mergeVehicles keeps, of vehicle objects overlapping more than
// vehicleMerge, the best scoring one (in place; the order changes to best
// first).
func mergeVehicles(objs []Object) []Object {
	slices.SortStableFunc(objs, func(a, b Object) int { return cmp.Compare(b.Score, a.Score) })
	kept := objs[:0]
	for _, o := range objs {
		if o.Label != config.LabelVehicle || !slices.ContainsFunc(kept, func(k Object) bool {
			return k.Label == config.LabelVehicle && iou(k.Box, o.Box) > vehicleMerge
		}) {
			kept = append(kept, o)
		}
	}
	return kept
}
