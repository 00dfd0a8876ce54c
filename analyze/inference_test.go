package analyze

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/metrics"
)

// countingObserver records what Inference reports.
type countingObserver struct {
	mu       sync.Mutex
	starts   []time.Time // when each inference started
	byCamera map[string]int
	sheds    map[string]int
	shedBy   map[string]int // by camera/reason
	maxQueue int
	served   []served
}

func newCountingObserver() *countingObserver {
	return &countingObserver{byCamera: map[string]int{}, sheds: map[string]int{}, shedBy: map[string]int{}}
}

func (o *countingObserver) Inferred(camera, kind string, start time.Time, wait, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.starts = append(o.starts, start)
	o.byCamera[camera]++
	o.served = append(o.served, served{camera, kind, wait})
}

// served is one inference as the observer saw it.
type served struct {
	camera, kind string
	wait         time.Duration
}

func (o *countingObserver) Shed(camera, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sheds[reason]++
	o.shedBy[camera+"/"+reason]++
}

// shedsOf returns how many of camera's requests were shed for reason.
func (o *countingObserver) shedsOf(camera, reason string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.shedBy[camera+"/"+reason]
}

func (o *countingObserver) Queued(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.maxQueue = max(o.maxQueue, n)
}

func (o *countingObserver) snapshot() (starts []time.Time, byCamera, sheds map[string]int, maxQueue int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	byCamera, sheds = map[string]int{}, map[string]int{}
	for k, v := range o.byCamera {
		byCamera[k] = v
	}
	for k, v := range o.sheds {
		sheds[k] = v
	}
	return append([]time.Time(nil), o.starts...), byCamera, sheds, o.maxQueue
}

// wantsRequest is ObjectSlot.wants for a request that is not a first look.
func wantsRequest(s *ObjectSlot, now time.Time, recheck bool) bool {
	want, _ := s.wants(now, recheck, false, false)
	return want
}

// request submits a black 64x128 picture (one HOG window: a real search,
// about a millisecond) for the slot.
func request(s *ObjectSlot, now time.Time) { requestAs(s, now, nil) }

// requestAs is request with set applied to the request before it is
// submitted.
func requestAs(s *ObjectSlot, now time.Time, set func(*objRequest)) {
	r := s.buffer()
	m := gocv.NewMatWithSize(128, 64, gocv.MatTypeCV8UC3)
	m.CopyTo(&r.bgr)
	m.Close()
	r.region, r.frameTime = Box{0, 0, 1, 1}, now
	if set != nil {
		set(r)
	}
	s.submit(r, now)
}

// awaitServed waits up to 5 s for obs to have seen n inferences and
// returns them.
func awaitServed(t *testing.T, obs *countingObserver, n int) []served {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		obs.mu.Lock()
		got := slices.Clone(obs.served)
		obs.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("served %+v in 5s, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestInferenceReportsWaits: each inference is reported with its request's
// kind and how long the camera waited for it, counted from the request it
// replaced (its place in the queue) unless the new one moved up a rank,
// so that a camera kept waiting by the budget shows in
// vigil_objects_wait_seconds.
func TestInferenceReportsWaits(t *testing.T) {
	if len(RequestKinds) != len(metrics.RequestKinds) || !slices.Equal(RequestKinds[:], metrics.RequestKinds) {
		t.Fatalf("metrics.RequestKinds %v, want analyze.RequestKinds %v", metrics.RequestKinds, RequestKinds)
	}
	in, obs := hogInference(t, InferenceConfig{MaxPerSecond: 100})
	first, up, kept, down, still := in.Slot("first"), in.Slot("up"), in.Slot("kept"), in.Slot("down"), in.Slot("still")
	now := time.Now()
	before := now.Add(-1500 * time.Millisecond)
	// Each replaces a request queued 1.5 s before: the first result
	// (after a follow) waits from now, among first results; the motion
	// after a follow (up a rank, queued a little earlier: served before
	// kept), the motion after a motion and the follow after a motion
	// (down a rank) keep their places.
	requestAs(first, before, func(r *objRequest) { r.follow = true })
	requestAs(first, now, func(r *objRequest) { r.first = true })
	requestAs(up, before.Add(-100*time.Millisecond), func(r *objRequest) { r.follow = true })
	request(up, now)
	request(kept, before)
	request(kept, now)
	request(down, before)
	requestAs(down, now, func(r *objRequest) { r.follow = true })
	requestAs(still, now, func(r *objRequest) { r.recheck = true })
	in.Start()
	got := awaitServed(t, obs, 5)
	if g := got[1]; g.camera != "up" || g.kind != "motion" || g.wait < 1600*time.Millisecond || g.wait > 4*time.Second {
		t.Errorf("then %+v, want camera up, kind motion, 1.6s or more (since the follow it replaced)", g)
	}
	got = slices.Delete(got, 1, 2)
	if g := got[0]; g.camera != "first" || g.kind != "first" || g.wait < 0 || g.wait >= 1500*time.Millisecond {
		t.Errorf("first served %+v, want camera and kind first, under 1.5s (from its own request)", g)
	}
	if g := got[1]; g.camera != "kept" || g.kind != "motion" || g.wait < 1500*time.Millisecond || g.wait > 4*time.Second {
		t.Errorf("then %+v, want camera kept, kind motion, 1.5s or more (since the request it replaced)", g)
	}
	if g := got[2]; g.camera != "down" || g.kind != "follow" || g.wait < 1500*time.Millisecond || g.wait > 4*time.Second {
		t.Errorf("then %+v, want camera down, kind follow, 1.5s or more (since the request it replaced)", g)
	}
	if g := got[3]; g.camera != "still" || g.kind != "recheck" || g.wait < 0 || g.wait >= 1500*time.Millisecond {
		t.Errorf("then %+v, want camera still, kind recheck, under 1.5s", g)
	}
}

// TestFollowAfterMotion: on motion, a camera that follows what it reports
// (its incident open, its objects held while it waits) is served after a
// camera that follows nothing, unless it has waited followAge (it then
// ranks with motion, the oldest first: a camera always following parked
// cars is not starved), counted across a request shed as stale and asked
// again at once (a camera whose ladder sheds never replaces its request:
// each goes stale; it asks again at the pictures its step keeps, so it
// keeps its wait longer); one asked again later, or for another kind,
// waits from then; all before a re-check.
func TestFollowAfterMotion(t *testing.T) {
	in, obs := hogInference(t, InferenceConfig{MaxPerSecond: 100})
	now := time.Now()
	follow := func(r *objRequest) { r.follow = true }
	recheck := func(r *objRequest) { r.recheck = true }
	// Shed as stale (nothing is served yet: next only sheds), then asked
	// again: at once, or after more than staleAfter.
	waits, late, shedding, changed := in.Slot("waits"), in.Slot("late"), in.Slot("shedding"), in.Slot("changed")
	shedding.SetShed(true)
	requestAs(changed, now.Add(-followAge-2*time.Second), recheck) // then asks as follow: its own wait
	requestAs(waits, now.Add(-followAge-2*time.Second), follow)
	requestAs(late, now.Add(-followAge-3*time.Second), follow)
	requestAs(shedding, now.Add(-followAge-3*time.Second), follow)
	if s, _ := in.next(); s != nil {
		t.Fatalf("%s served, want every request shed as stale", s.camera)
	}
	late.in.mu.Lock()
	late.staleAt = now.Add(-staleAfter - time.Second) // the test's clock: asked again 3s after
	// A camera whose ladder sheds asks at the pictures its step keeps:
	// 3s later still keeps its wait.
	shedding.staleAt = now.Add(-staleAfter - time.Second)

	late.in.mu.Unlock()
	requestAs(waits, now, follow)
	requestAs(late, now, follow)
	requestAs(shedding, now, follow)
	requestAs(changed, now.Add(time.Millisecond), follow)
	requestAs(in.Slot("still"), now.Add(-900*time.Millisecond), recheck)
	requestAs(in.Slot("follows"), now.Add(-600*time.Millisecond), follow)
	aged := in.Slot("aged")
	requestAs(aged, now.Add(-followAge-time.Second), follow)
	requestAs(aged, now, follow) // keeps its place, not stale
	request(in.Slot("new"), now)
	in.Start()
	var order []string
	got := awaitServed(t, obs, 8)
	for _, g := range got {
		order = append(order, g.camera+"/"+g.kind)
	}
	if want := []string{"shedding/follow", "waits/follow", "aged/follow", "new/motion", "follows/follow", "late/follow", "changed/follow", "still/recheck"}; !slices.Equal(order, want) {
		t.Errorf("served %v, want %v", order, want)
	}
	if g := got[1]; g.wait < followAge+2*time.Second {
		t.Errorf("%s waited %v, want at least %v (across its stale request)", g.camera, g.wait, followAge+2*time.Second)
	}
}

// TestInferenceBudget: cameras that all have motion all the time never
// get more than max_per_second inferences between them, each gets its
// turn, the queue never holds more than one request per camera, a newer
// request replaces a pending one (counted), and a camera whose ladder
// sheds keeps its place but never replaces its waiting picture (counted).
func TestInferenceBudget(t *testing.T) {
	const cameras, rate = 6, 10.0 // a turn every 600 ms: pending requests get replaced
	in, obs := hogInference(t, InferenceConfig{MaxPerSecond: rate})
	in.Start()
	var slots []*ObjectSlot
	for i := range cameras {
		slots = append(slots, in.Slot(fmt.Sprintf("cam%d", i)))
	}
	shed := in.Slot("shed")
	shed.SetShed(true)
	run := 1500 * time.Millisecond
	start := time.Now()
	for time.Since(start) < run {
		now := time.Now()
		for _, s := range slots {
			if wantsRequest(s, now, false) {
				request(s, now)
			}
		}
		if wantsRequest(shed, now, false) {
			shed.in.mu.Lock()
			waiting := shed.pending != nil // only this loop sets it
			shed.in.mu.Unlock()
			if waiting {
				t.Fatal("a shedding camera replaces its waiting request")
			}
			request(shed, now)
		}
		time.Sleep(5 * time.Millisecond)
	}
	starts, byCamera, sheds, maxQueue := obs.snapshot()
	// By construction one inference starts no sooner than 1/rate after the
	// previous one: in any window of d there are at most d*rate+1.
	interval := time.Duration(float64(time.Second) / rate)
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < interval {
			t.Errorf("inferences %d and %d started %v apart, under the budget's %v", i-1, i, gap, interval)
		}
	}
	if limit := int(time.Since(start).Seconds()*rate) + 1; len(starts) > limit {
		t.Errorf("%d inferences in %v at %g/s (at most %d)", len(starts), time.Since(start), rate, limit)
	}
	if len(starts) < 3 {
		t.Errorf("only %d inferences ran", len(starts))
	}
	for _, s := range slots {
		if byCamera[s.camera] == 0 {
			t.Errorf("%s never had an inference (%v)", s.camera, byCamera)
		}
	}
	if maxQueue > cameras+1 {
		t.Errorf("queue reached %d, more than one request per camera (%d)", maxQueue, cameras+1)
	}
	if sheds[ShedReplaced] == 0 {
		t.Errorf("no request was replaced by a newer one (sheds %v)", sheds)
	}
	if n := obs.shedsOf("shed", ShedOverload); n == 0 {
		t.Errorf("the shedding camera's replacements not made were not counted (sheds %v)", sheds)
	}
	if n := obs.shedsOf("shed", ShedReplaced); n != 0 {
		t.Errorf("the shedding camera's waiting request was replaced %d times", n)
	}
	if byCamera["shed"] == 0 {
		t.Errorf("the shedding camera never had its turn (%v)", byCamera)
	}
}

// TestInferenceShedsStaleRequests: a request that waits longer than
// staleAfter for the budget is dropped and counted, not run late.
func TestInferenceShedsStaleRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the stale limit")
	}
	// One inference every 5 s: the second camera's request goes stale
	// behind the first one's turn.
	in, obs := hogInference(t, InferenceConfig{MaxPerSecond: 0.2})
	in.Start()
	a, b := in.Slot("a"), in.Slot("b")
	request(a, time.Now())
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, by, _, _ := obs.snapshot(); by["a"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first request never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
	request(b, time.Now())
	deadline = time.Now().Add(8 * time.Second)
	for {
		_, by, sheds, _ := obs.snapshot()
		if sheds[ShedStale] == 1 {
			if by["b"] != 0 {
				t.Error("the stale request ran")
			}
			break
		}
		if by["b"] != 0 {
			t.Fatalf("a request that waited over %v ran", staleAfter)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stale request was not shed (sheds %v)", sheds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCameraAsksOnlyOnMotion: a camera with an object detector asks for
// no inference on a still scene, and on motion asks for the square around
// the moving object (not the whole frame); what it submits is run.
func TestCameraAsksOnlyOnMotion(t *testing.T) {
	hog := NewHOGObjects(0, 48)
	defer hog.Close()
	obs := newCountingObserver()
	in := NewInference(hog, InferenceConfig{MaxPerSecond: 50}, obs)
	in.Start()
	defer in.Close()
	cfg := config.DefaultAnalysis()
	cfg.Person.Enabled = true
	c, f := newCameraT(t, cfg)
	c.SetObjects(in.Slot("cam"))
	color, err := NewSnapshot(f.Width, f.Height)
	if err != nil {
		t.Fatal(err)
	}
	defer color.Close()
	const fps = 10
	step := time.Second / fps
	asked, whole := 0, 0
	scene := movingRect(f.Width, 6*time.Second, 12*time.Second)
	rng := newNoise(1)
	for at := time.Duration(0); at < 12*time.Second; at += step {
		s := scene(at)
		s.draw(f, rng)
		c.Analyze(f, t0.Add(at))
		region, ok := c.ObjectRegion()
		if !ok {
			continue
		}
		if at < 6*time.Second {
			t.Fatalf("asked for inference at %v, on a still scene", at)
		}
		asked++
		if region == (Box{0, 0, 1, 1}) {
			whole++
		} else if !overlaps(region, s.rect, f.Width, f.Height) {
			t.Errorf("at %v: region %v misses the moving object %v", at, region, s.rect)
		}
		gocv.CvtColor(f.mat, &color.mat, gocv.ColorGrayToBGR)
		c.SubmitObjects(color, time.Now())
		if _, ok := c.ObjectRegion(); ok {
			t.Fatal("the request is still wanted after it was submitted")
		}
		time.Sleep(30 * time.Millisecond) // let it run: the budget allows 50/s
	}
	if asked == 0 {
		t.Fatal("never asked for inference on motion")
	}
	if whole == asked {
		t.Errorf("all %d requests were the whole frame, none around the 40x30 object", asked)
	}
	if _, by, _, _ := obs.snapshot(); by["cam"] == 0 {
		t.Error("no submitted request was run")
	}
}

// hogInference returns an Inference on HOG (about a millisecond an
// inference), not started, with cfg and an observer; both are closed with
// the test.
func hogInference(t *testing.T, cfg InferenceConfig) (*Inference, *countingObserver) {
	t.Helper()
	hog := NewHOGObjects(0, 128)
	obs := newCountingObserver()
	in := NewInference(hog, cfg, obs)
	t.Cleanup(func() { in.Close(); hog.Close() })
	return in, obs
}

// loadedInference returns a started Inference on HOG (about a millisecond
// an inference) whose budget follows a machine 95% busy: at its floor,
// 2 a second. Both are closed with the test.
func loadedInference(t *testing.T) (*Inference, *countingObserver) {
	t.Helper()
	in, obs := hogInference(t, InferenceConfig{Load: func() float64 { return 0.95 }})
	in.Start()
	return in, obs
}

// TestFirstOncePerMotion: a camera whose first result was just served
// (its motion found no one yet) and asks again within firstSpacing asks
// as motion, not as a first result: it does not take the surge's rate
// for itself, and waits for the budget's interval (at the floor, 0.5 s).
func TestFirstOncePerMotion(t *testing.T) {
	in, obs := loadedInference(t)
	first := func(r *objRequest) { r.first = true }
	a := in.Slot("a")
	requestAs(a, time.Now(), first)
	awaitServed(t, obs, 1)
	requestAs(a, time.Now(), first)
	got := awaitServed(t, obs, 2)
	if g := got[0]; g.kind != "first" {
		t.Errorf("served %s first, want its first result", g.kind)
	}
	if g := got[1]; g.kind != "motion" || g.wait < 300*time.Millisecond {
		t.Errorf("then %s after %v, want motion after the budget's interval (%v)", g.kind, g.wait, time.Second/budgetFloor)
	}
}

// TestLooksGetTheirShare: while first looks wait, one inference in
// lookEvery (first results apart) serves the one waiting longest, even
// with requests driven by motion waiting; a first result still comes
// before all, and is not counted.
func TestLooksGetTheirShare(t *testing.T) {
	in, obs := hogInference(t, InferenceConfig{MaxPerSecond: 100})
	now := time.Now()
	look := func(r *objRequest) { r.recheck, r.look = true, true }
	for i, c := range []string{"a", "b", "c", "d", "e"} {
		request(in.Slot(c), now.Add(time.Duration(i)*time.Millisecond))
	}
	requestAs(in.Slot("look1"), now.Add(-time.Second), look)
	requestAs(in.Slot("look2"), now.Add(-500*time.Millisecond), look)
	requestAs(in.Slot("first"), now.Add(10*time.Millisecond), func(r *objRequest) { r.first = true })
	in.Start()
	var order []string
	for _, g := range awaitServed(t, obs, 8) {
		order = append(order, g.camera)
	}
	if want := []string{"first", "a", "b", "look1", "c", "d", "look2", "e"}; !slices.Equal(order, want) {
		t.Errorf("served %v, want %v", order, want)
	}
}

// TestCrowdedRequestsNotBuilt: a re-check that would go stale before its
// turn is not built (counted as crowded): it waits behind every request,
// so the budget must serve them all within staleAfter. Requests driven by
// motion and first looks are always built.
func TestCrowdedRequestsNotBuilt(t *testing.T) {
	obs := newCountingObserver()
	in := NewInference(nil, InferenceConfig{MaxPerSecond: 1}, obs) // 2 served in staleAfter
	defer in.Close()
	now := time.Now()
	a, b, still := in.Slot("a"), in.Slot("b"), in.Slot("still")
	request(a, now)
	if want, crowded := still.wants(now, true, false, false); !want || crowded {
		t.Errorf("re-check behind 1 request, 2 served in time: want %v, crowded %v", want, crowded)
	}
	request(b, now)
	if want, crowded := still.wants(now, true, false, false); want || !crowded {
		t.Errorf("re-check behind 2 requests: want %v, crowded %v", want, crowded)
	}
	if n := obs.shedsOf("still", ShedCrowded); n != 1 {
		t.Errorf("%d re-checks counted crowded, want 1", n)
	}
	if want, crowded := still.wants(now, false, false, false); !want || crowded {
		t.Errorf("motion behind 2 requests: want %v, crowded %v", want, crowded)
	}
	if want, crowded := still.wants(now, true, true, false); !want || crowded {
		t.Errorf("first look behind 2 requests: want %v, crowded %v", want, crowded)
	}
	// A leave check counts only the requests that go before it: motion
	// does, first looks and re-checks do not.
	if want, crowded := still.wants(now, true, false, true); want || !crowded {
		t.Errorf("leave check behind 2 requests driven by motion: want %v, crowded %v", want, crowded)
	}
	lin := NewInference(nil, InferenceConfig{MaxPerSecond: 1}, nil)
	defer lin.Close()
	requestAs(lin.Slot("looker"), now, func(r *objRequest) { r.recheck, r.look = true, true })
	requestAs(lin.Slot("rechecker"), now, func(r *objRequest) { r.recheck = true })
	requestAs(lin.Slot("follower"), now, func(r *objRequest) { r.follow = true })
	if want, crowded := lin.Slot("leaver").wants(now, true, false, true); !want || crowded {
		t.Errorf("leave check behind a first look, a re-check and a follow request: want %v, crowded %v", want, crowded)
	}
}

// TestCrowdedRecheckAtItsCadence: a camera holding a person on a still
// scene, whose re-check is not built as the queue is crowded, asks again
// a second later (its cadence), not on every frame.
func TestCrowdedRecheckAtItsCadence(t *testing.T) {
	obs := newCountingObserver()
	// 0.5 a second: 1 served in staleAfter. Never started: requests stay
	// pending until the test takes them.
	in := NewInference(nil, InferenceConfig{MaxPerSecond: 0.5, FirstLook: true}, obs)
	defer in.Close()
	c, f, slot, color := newObjectCameraT(t, in)
	rng := newNoise(3)
	still := movingRect(f.Width, time.Hour, time.Hour)
	person := []Object{{Label: config.LabelPerson, Score: 0.9, Box: Box{0.4, 0.3, 0.1, 0.4}}}
	looked := false
	for at := time.Duration(0); at < 5*time.Second; at += 100 * time.Millisecond {
		still(at).draw(f, rng)
		c.Analyze(f, t0.Add(at))
		if _, ok := c.ObjectRegion(); !ok {
			continue
		}
		if looked {
			t.Fatalf("at %v: a re-check built behind a crowded queue", at)
		}
		// The first look, answered: a person standing there.
		looked = true
		c.SubmitObjects(color, time.Now())
		s, r := in.next()
		if s != slot {
			t.Fatal("the first look is not pending")
		}
		s.in.mu.Lock()
		s.result, s.resultAt, s.resultIn, s.fresh = person, r.frameTime, r.region, true
		s.recycle(r)
		s.in.mu.Unlock()
		request(in.Slot("busy"), time.Now()) // the queue is full from now
	}
	if !looked {
		t.Fatal("no first look")
	}
	if !c.holdsReported() {
		t.Fatal("the person was not held")
	}
	// At 1, 2, 3 and 4 s after the look at 0.
	if n := obs.shedsOf("cam", ShedCrowded); n < 3 || n > 5 {
		t.Errorf("%d re-checks counted crowded in 5 s, want about 4 (one a second)", n)
	}
}

// TestCameraWaitsAfterFailedRequest: a request the caller could not build
// (its picture not decoded in color) is not asked again on every frame:
// the camera asks for none for objectFailWait of frame time, then asks
// again while the motion goes on.
func TestCameraWaitsAfterFailedRequest(t *testing.T) {
	in := NewInference(nil, InferenceConfig{MaxPerSecond: 50}, nil)
	defer in.Close()
	cfg := config.DefaultAnalysis()
	cfg.Person.Enabled = true
	c, f := newCameraT(t, cfg)
	c.SetObjects(in.Slot("cam"))
	const fps = 10
	step := time.Second / fps
	scene := movingRect(f.Width, 2*time.Second, 10*time.Second)
	rng := newNoise(1)
	var failedAt, again time.Duration = -1, -1
	for at := time.Duration(0); at < 10*time.Second && again < 0; at += step {
		scene(at).draw(f, rng)
		c.Analyze(f, t0.Add(at))
		if _, ok := c.ObjectRegion(); !ok {
			continue
		}
		if failedAt < 0 {
			failedAt = at
			c.ObjectFailed()
			if _, ok := c.ObjectRegion(); ok {
				t.Fatal("the request is still wanted after it failed")
			}
			continue
		}
		again = at
	}
	if failedAt < 0 {
		t.Fatal("never asked for inference on motion")
	}
	if again < 0 {
		t.Fatalf("never asked again after the failure at %v, the motion going on", failedAt)
	}
	if d := again - failedAt; d < objectFailWait || d > objectFailWait+2*step {
		t.Errorf("asked again %v after the failure, want %v (to the next frame)", d, objectFailWait)
	}
}

// TestRecheckAfterMotion: a re-check of a still scene waits behind a
// request driven by motion, a leave check, motion on a camera following
// someone and a first look, even ones queued later (in that order), and
// replaces no pending request; among re-checks the oldest goes first.
func TestRecheckAfterMotion(t *testing.T) {
	in := NewInference(nil, InferenceConfig{MaxPerSecond: 1}, nil)
	defer in.Close()
	still, still2, busy := in.Slot("still"), in.Slot("still2"), in.Slot("busy")
	now := time.Now()
	recheck := func(s *ObjectSlot, at time.Time) {
		r := s.buffer()
		r.region, r.frameTime, r.recheck = Box{0, 0, 1, 1}, at, true
		s.submit(r, at)
	}
	recheck(still, now)
	recheck(still2, now.Add(time.Millisecond))
	if wantsRequest(still, now.Add(time.Second), true) {
		t.Error("a re-check would replace the pending request")
	}
	if !wantsRequest(still, now.Add(time.Second), false) {
		t.Error("motion may not replace a pending re-check")
	}
	// At once, and from a shedding camera too: a person walking in is
	// not kept waiting behind a re-check or a first look.
	still.SetShed(true)
	if !wantsRequest(still, now, false) {
		t.Error("motion may not replace a pending re-check at once, the camera shedding")
	}
	still.SetShed(false)
	request(busy, now.Add(2*time.Millisecond))
	// A first look, queued last, goes before the re-checks of objects
	// held (its camera has not seen its picture yet), after motion.
	looker := in.Slot("looker")
	r := looker.buffer()
	r.region, r.frameTime, r.recheck, r.look = Box{0, 0, 1, 1}, now, true, true
	looker.submit(r, now.Add(3*time.Millisecond))
	// Motion on a camera that follows a person, then a leave check,
	// queued after it, go before it: the leave check first.
	follower := in.Slot("follower")
	r = follower.buffer()
	r.region, r.frameTime, r.follow = Box{0, 0, 1, 1}, now, true
	follower.submit(r, now.Add(3*time.Millisecond))
	leaver := in.Slot("leaver")
	r = leaver.buffer()
	r.region, r.frameTime, r.recheck, r.leave = Box{0, 0, 1, 1}, now, true, true
	leaver.submit(r, now.Add(4*time.Millisecond))
	// The third inference serves the look (lookEvery).
	expectServed(t, in, busy, leaver, looker, follower, still, still2)
}

// expectServed takes in's pending requests one by one (Inference.next, as
// if each were served) and checks they come from want, in order.
func expectServed(t *testing.T, in *Inference, want ...*ObjectSlot) {
	t.Helper()
	for _, w := range want {
		s, r := in.next()
		if s != w {
			name := "nothing"
			if s != nil {
				name = s.camera
			}
			t.Fatalf("served %s, want %s", name, w.camera)
		}
		in.mu.Lock()
		s.recycle(r)
		in.mu.Unlock()
	}
}

// TestCameraFirstLook: with InferenceConfig.FirstLook a camera asks for
// its whole picture on a still scene, at a re-check's priority, until a
// result of it comes (a request lost is asked again 1 s later, then 2,
// 4...), not again while it follows nothing, and once more after a Reset
// (a reconnect), where a result of a frame before the Reset does not
// count.
func TestCameraFirstLook(t *testing.T) {
	in := NewInference(nil, InferenceConfig{MaxPerSecond: 50, FirstLook: true}, nil)
	defer in.Close() // never started: the requests stay pending, none is run
	c, f, slot, color := newObjectCameraT(t, in)
	rng := newNoise(2)
	still := movingRect(f.Width, time.Hour, time.Hour)
	var asked []time.Duration
	answer := false
	answerAt := func(frame time.Time) time.Time { return frame }
	run := func(from, to time.Duration) {
		for at := from; at < to; at += 100 * time.Millisecond {
			still(at).draw(f, rng)
			c.Analyze(f, t0.Add(at))
			region, ok := c.ObjectRegion()
			if !ok {
				continue
			}
			if region != (Box{0, 0, 1, 1}) || !c.objRecheck {
				t.Fatalf("at %v: asked for %v (re-check %v), want the whole picture at a re-check's priority", at, region, c.objRecheck)
			}
			asked = append(asked, at)
			c.SubmitObjects(color, time.Now())
			// Served (lost, when answer is false): the slot is free for
			// the next request.
			s, r := in.next()
			if s != slot {
				t.Fatalf("at %v: the request is not pending", at)
			}
			s.in.mu.Lock()
			if answer {
				s.result, s.resultAt, s.resultIn, s.fresh = nil, answerAt(r.frameTime), r.region, true
			}
			s.recycle(r)
			s.in.mu.Unlock()
		}
	}
	// Lost twice, then answered.
	run(0, 2500*time.Millisecond)
	answer = true
	run(2500*time.Millisecond, 6*time.Second)
	if want := []time.Duration{0, time.Second, 3 * time.Second}; !slices.Equal(asked, want) {
		t.Fatalf("asked at %v on a still scene, want %v (two requests lost, 1 s then 2 s apart, the third answered)", asked, want)
	}
	// After a Reset, an answer about a frame from before it is not the
	// look; the next one is.
	asked = asked[:0]
	c.Reset()
	answerAt = func(time.Time) time.Time { return t0.Add(5 * time.Second) }
	run(6*time.Second, 7500*time.Millisecond)
	answerAt = func(frame time.Time) time.Time { return frame }
	run(7500*time.Millisecond, 10*time.Second)
	if want := []time.Duration{6 * time.Second, 7 * time.Second, 9 * time.Second}; !slices.Equal(asked, want) {
		t.Fatalf("asked at %v after the Reset, want %v", asked, want)
	}

	off := NewInference(nil, InferenceConfig{MaxPerSecond: 50}, nil)
	defer off.Close()
	c2, f2, _, _ := newObjectCameraT(t, off)
	for at := time.Duration(0); at < 3*time.Second; at += 100 * time.Millisecond {
		still(at).draw(f2, rng)
		c2.Analyze(f2, t0.Add(at))
		if _, ok := c2.ObjectRegion(); ok {
			t.Fatalf("without FirstLook: asked at %v on a still scene", at)
		}
	}
}

// TestFirstResultsAtSurgeRate: on a loaded machine the budget is at its
// floor (2 a second); an inference has just started when three cameras'
// motion begins at once. Their first results start back to back (the
// surge's burst), all within firstWait, not one budget interval apart
// (0.5, 1.0, 1.5 s), the first of them without waiting out the interval
// the goroutine was sleeping when they came (0.5 s), and a request driven
// by motion on a camera that follows nothing still waits for the
// budget's interval.
func TestFirstResultsAtSurgeRate(t *testing.T) {
	in, obs := loadedInference(t)
	request(in.Slot("busy"), time.Now())
	awaitServed(t, obs, 1)
	if r := in.Rate(); r != budgetFloor {
		t.Fatalf("budget %g at load 0.95, want the floor %g", r, budgetFloor)
	}
	now := time.Now()
	for _, c := range []string{"a", "b", "c"} {
		requestAs(in.Slot(c), now, func(r *objRequest) { r.first = true })
	}
	request(in.Slot("later"), now)
	got := awaitServed(t, obs, 5)
	if g := got[1]; g.wait > 350*time.Millisecond {
		t.Errorf("%s: the first of them after %v, want within 350ms (the surge's burst)", g.camera, g.wait)
	}
	for _, g := range got[1:4] {
		if g.kind != "first" || g.wait > 700*time.Millisecond {
			t.Errorf("%s: %s after %v, want first within 700ms (the surge's burst)", g.camera, g.kind, g.wait)
		}
	}
	if g := got[4]; g.camera != "later" || g.wait < 400*time.Millisecond {
		t.Errorf("then %s after %v, want later after a budget interval (%v)", g.camera, g.wait, time.Second/budgetFloor)
	}
}

// TestLeaveAfterMotion: a camera holding a person re-checks its still
// scene right after motion as a leave check (ranked before follow
// requests, built however many re-checks wait), and again after a result that missed
// the person, until two results in a row end it; a person found by the
// leave check, standing with no motion since, is re-checked at the
// re-check's rank, which a crowded queue does not build.
func TestLeaveAfterMotion(t *testing.T) {
	person := []Object{{Label: config.LabelPerson, Score: 0.9, Box: Box{0.4, 0.3, 0.1, 0.4}}}
	for _, tc := range []struct {
		name   string
		after  []Object // what results after the motion find
		kinds  []string // the requests built after the motion, in order
		people bool     // the person is held at the end
	}{
		{"left", nil, []string{"leave", "leave"}, false},
		{"stays", person, []string{"leave"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 0.5 a second: 1 served in staleAfter. Never started: the
			// test takes the requests.
			in := NewInference(nil, InferenceConfig{MaxPerSecond: 0.5}, nil)
			defer in.Close()
			c, f, slot, color := newObjectCameraT(t, in)
			rng := newNoise(4)
			scene := movingRect(f.Width, 2*time.Second, 5*time.Second)
			var during, after []string
			var moved time.Duration
			for at := time.Duration(0); at < 12*time.Second; at += 100 * time.Millisecond {
				scene(at).draw(f, rng)
				c.Analyze(f, t0.Add(at))
				if c.d.n > 0 {
					moved = at
				}
				if at == 5*time.Second {
					// The queue is crowded from the motion's end, by
					// requests that go after a leave check.
					recheck := func(r *objRequest) { r.recheck = true }
					requestAs(in.Slot("busy"), time.Now(), recheck)
					requestAs(in.Slot("busy2"), time.Now(), recheck)
				}
				answerRequest(t, c, in, slot, color, at, func(r *objRequest) ([]Object, Box) {
					if at < 5*time.Second {
						during = append(during, RequestKinds[r.rank()])
						return person, r.region
					}
					after = append(after, RequestKinds[r.rank()])
					return tc.after, r.region
				})
			}
			if len(during) == 0 || during[0] != "first" || !slices.Contains(during, "follow") {
				t.Fatalf("requests during the motion %v, want a first result, then follow requests", during)
			}
			if moved >= 5*time.Second+time.Second {
				t.Fatalf("motion seen until %v, after the scene's", moved)
			}
			if !slices.Equal(after, tc.kinds) {
				t.Errorf("requests after the motion %v, want %v", after, tc.kinds)
			}
			if got := c.holdsReported(); got != tc.people {
				t.Errorf("person held at the end: %v, want %v", got, tc.people)
			}
		})
	}
}

// answerRequest sends the picture the camera just analyzed when it wants
// it sent (ObjectRegion), takes the request it queued from its slot as the
// inference goroutine would, and gives it the result answer returns (the
// objects, and the part of the frame they were looked for in), for the
// camera's next frame to take. The test plays the network.
func answerRequest(t *testing.T, c *Camera, in *Inference, slot *ObjectSlot, color *Snapshot, at time.Duration, answer func(r *objRequest) ([]Object, Box)) {
	t.Helper()
	if _, ok := c.ObjectRegion(); !ok {
		return
	}
	c.SubmitObjects(color, time.Now())
	in.mu.Lock()
	defer in.mu.Unlock()
	r := slot.pending
	if r == nil {
		t.Fatalf("at %v: the request wanted was not queued", at)
	}
	slot.pending = nil
	in.pending--
	objs, region := answer(r)
	slot.result, slot.resultAt, slot.resultIn, slot.fresh = objs, r.frameTime, region, true
	slot.recycle(r)
}

// TestFirstPastWhatIsHeld: a person camera holding a car parked in its
// view (a kind it does not report), or a person standing at the far end
// (one it does), asks for first results on motion that begins away from
// them, for firstWithin of the motion's frame time, where it asked as
// motion or follow after the first; motion on the person it follows is
// a follow request.
func TestFirstPastWhatIsHeld(t *testing.T) {
	parked := Object{Label: config.LabelVehicle, Score: 0.9, Box: Box{0.75, 0.75, 0.2, 0.2}}
	standing := Object{Label: config.LabelPerson, Score: 0.9, Box: Box{0.88, 0.3, 0.08, 0.4}}
	for _, tc := range []struct {
		name  string
		held  Object
		onIt  bool   // the held object's box is the moving rectangle's
		after string // the kind of the requests after the first
	}{
		{"parked car", parked, false, "first"},
		{"person standing apart", standing, false, "first"},
		{"the walker followed", Object{}, true, "follow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := NewInference(nil, InferenceConfig{MaxPerSecond: 0.5}, nil) // never started: the test takes the requests
			defer in.Close()
			c, f, slot, color := newObjectCameraT(t, in)
			rng := newNoise(5)
			scene := movingRect(f.Width, 2*time.Second, 6*time.Second)
			var kinds []string
			for at := time.Duration(0); at < 6*time.Second; at += 100 * time.Millisecond {
				sc := scene(at)
				sc.draw(f, rng)
				c.Analyze(f, t0.Add(at))
				answerRequest(t, c, in, slot, color, at, func(r *objRequest) ([]Object, Box) {
					if !c.moveFrom.IsZero() && r.frameTime.Sub(c.moveFrom) < firstWithin {
						kinds = append(kinds, RequestKinds[r.rank()])
					}
					held := tc.held
					if tc.onIt {
						// The walker, where the scene draws it.
						rect := sc.rect
						held = Object{Label: config.LabelPerson, Score: 0.9, Box: Box{float64(rect.Min.X) / float64(f.Width), float64(rect.Min.Y) / float64(f.Height), float64(rect.Dx()) / float64(f.Width), float64(rect.Dy()) / float64(f.Height)}}
					}
					return []Object{held}, Box{0, 0, 1, 1}
				})
			}
			if len(kinds) < 3 || kinds[0] != "first" {
				t.Fatalf("requests in the motion's first %v: %v, want a first result and more", firstWithin, kinds)
			}
			for i, k := range kinds[1:] {
				if k != tc.after {
					t.Errorf("request %d in the motion's first %v: %s, want %s (all: %v)", i+2, firstWithin, k, tc.after, kinds)
				}
			}
		})
	}
}

// TestLeaveDoesNotAge: a leave check that has waited past followAge
// still goes after motion on a camera that follows no one, where a
// follow request that has waited as long goes before both.
func TestLeaveDoesNotAge(t *testing.T) {
	in := NewInference(nil, InferenceConfig{MaxPerSecond: 1}, nil) // never started
	defer in.Close()
	now := time.Now()
	leaver, mover, follower := in.Slot("leaver"), in.Slot("mover"), in.Slot("follower")
	requestAs(leaver, now, func(r *objRequest) { r.recheck, r.leave = true, true })
	requestAs(mover, now, nil)
	requestAs(follower, now, func(r *objRequest) { r.follow = true })
	in.mu.Lock()
	leaver.pending.since = now.Add(-2 * followAge)
	follower.pending.since = now.Add(-followAge - time.Second)
	in.mu.Unlock()
	expectServed(t, in, follower, mover, leaver)
}
