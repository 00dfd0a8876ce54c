package health

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/pause"
)

type record struct {
	mu      sync.Mutex
	events  []incident.Event
	stalled []bool
	held    int
}

func (r *record) Publish(ev incident.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}
func (r *record) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *record) last() incident.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[len(r.events)-1]
}

func (r *record) Started(string, string)      {}
func (r *record) UpdateHeld(string)           { r.mu.Lock(); r.held++; r.mu.Unlock() }
func (r *record) CauseChanged(string, string) {}
func (r *record) Stalled(open bool) {
	r.mu.Lock()
	r.stalled = append(r.stalled, open)
	r.mu.Unlock()
}

// TestCheck drives the analysis check with probes on an explicit clock:
// analyzed pictures keep it quiet; pictures decoded but none analyzed for
// more than 5 s raise analysis_stalled (cause timestamps); analysis
// resuming ends it; a camera analyzing at under half its rate raises
// below_rate; video stopping ends the incident (camera_offline speaks).
func TestCheck(t *testing.T) {
	out := &record{}
	h := New(Config{Camera: "cam", AnalysisFPS: 5, Out: out})
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	p := Probe{Streaming: true, FlowSince: t0, LastKeyQueued: t0, DecodingAll: true, FullRate: true, FrameRate: 25}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	step := func(s int, analyzed bool) {
		p.LastQueued = at(s).Add(-10 * time.Millisecond)
		p.Counts.Received += 25
		p.Counts.Processed += 25
		p.Counts.Decoded += 25
		if analyzed {
			p.Counts.Analyzed += 5
			p.LastAnalyzed = at(s)
		}
		h.Check(at(s), p)
	}
	for s := 1; s <= 12; s++ {
		step(s, true)
	}
	if len(out.events) != 0 {
		t.Fatalf("healthy camera: %d events", len(out.events))
	}
	for s := 13; s <= 19; s++ { // timestamps frozen: decoded, never due
		step(s, false)
	}
	if len(out.events) != 1 || out.events[0].Type != incident.TypeStart || out.events[0].Data.Cause != CauseTimestamps {
		t.Fatalf("after 7 s without analysis: %+v", out.events)
	}
	if got := out.events[0].Data.StartedAt; !got.Equal(at(12)) {
		t.Errorf("started_at %v, want the last analysis %v", got, at(12))
	}
	if st := h.Status(); st.Analysis != "stalled" || st.AnalysisCause != CauseTimestamps {
		t.Errorf("status %+v", st)
	}
	step(20, true)
	if len(out.events) != 2 || out.events[1].Type != incident.TypeEnd {
		t.Fatalf("analysis resumed: %+v", out.events)
	}
	// 1 picture per second for 12 s: a fifth of the 5 due.
	for s := 21; s <= 33; s++ {
		p.LastQueued = at(s)
		p.Counts.Decoded += 25
		p.Counts.Analyzed++
		p.LastAnalyzed = at(s)
		h.Check(at(s), p)
	}
	if len(out.events) != 3 || out.events[2].Data.Cause != CauseBelowRate {
		t.Fatalf("at a fifth of the rate: %+v", out.events)
	}
	p.Streaming = false
	h.Check(at(34), p)
	if len(out.events) != 4 || out.events[3].Type != incident.TypeEnd {
		t.Fatalf("video stopped: %+v", out.events)
	}
	if want := []bool{true, false, true, false}; !slices.Equal(out.stalled, want) {
		t.Errorf("stalled reports %v, want %v", out.stalled, want)
	}
}

// TestOffline: camera_offline starts after the grace period with the
// latest reason, ends with the first frame, and End ends it too.
func TestOffline(t *testing.T) {
	out := &record{}
	h := New(Config{Camera: "cam", OfflineGrace: 50 * time.Millisecond, Out: out})
	h.Down(time.Now(), "unreachable")
	h.Down(time.Now(), "auth")
	deadline := time.Now().Add(5 * time.Second)
	for {
		out.mu.Lock()
		n := len(out.events)
		out.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no camera_offline after the grace period")
		}
		time.Sleep(10 * time.Millisecond)
	}
	out.mu.Lock()
	ev := out.events[0]
	out.mu.Unlock()
	if ev.Data.Kind != KindCameraOffline || ev.Data.Cause != "auth" {
		t.Fatalf("start %+v", ev.Data)
	}
	h.Up(time.Now()) // hands the end on from its own goroutine
	h.Down(time.Now(), "stalled")
	h.End(time.Now())
	// Up's goroutine sends the end, on a slow machine later than a while:
	// wait for it, then past the grace: nothing may start after End.
	await.Until(t, 5*time.Second, "the end Up handed on", func() bool {
		out.mu.Lock()
		defer out.mu.Unlock()
		return len(out.events) >= 2
	})
	time.Sleep(100 * time.Millisecond)
	out.mu.Lock()
	defer out.mu.Unlock()
	if len(out.events) != 2 || out.events[1].Type != incident.TypeEnd || out.events[1].Data.IncidentID != out.events[0].Data.IncidentID {
		t.Fatalf("events %+v", out.events)
	}
}

// TestOfflineUpdatesHeld: a reconnect storm changes camera_offline's cause
// at every attempt (every 2 ms here); the incident sends at most one update
// per UpdateInterval, counts the others as held, and the latest cause goes
// out when the interval passes. The end carries it too.
func TestOfflineUpdatesHeld(t *testing.T) {
	out := &record{}
	const every = 200 * time.Millisecond
	h := New(Config{Camera: "cam", OfflineGrace: time.Millisecond, UpdateInterval: every, Out: out})
	h.Down(time.Now(), "unreachable")
	deadline := time.Now().Add(5 * time.Second)
	for out.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no camera_offline after the grace period")
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	causes := []string{"closed", "timeout", "unreachable"}
	n := 0
	for time.Since(start) < time.Second {
		h.Down(time.Now(), causes[n%3])
		n++
		time.Sleep(2 * time.Millisecond)
	}
	h.Down(time.Now(), "auth") // the latest
	storm := time.Since(start)
	time.Sleep(2 * every)
	h.Up(time.Now())
	for out.count() < 2 || out.last().Type != incident.TypeEnd {
		if time.Now().After(deadline) {
			t.Fatal("no end")
		}
		time.Sleep(time.Millisecond)
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	var updates []incident.Event
	for _, ev := range out.events {
		if ev.Type == incident.TypeUpdate {
			updates = append(updates, ev)
		}
	}
	if most := int(storm/every) + 2; len(updates) > most || len(updates) == 0 {
		t.Fatalf("%d cause changes in %v: %d updates, want 1 to %d", n+1, storm, len(updates), most)
	}
	if got := updates[len(updates)-1].Data.Cause; got != "auth" {
		t.Errorf("the last update says %q, want the latest cause auth", got)
	}
	if out.held < n+1-len(updates) {
		t.Errorf("%d changes held, want %d at least", out.held, n+1-len(updates))
	}
	if got := out.events[len(out.events)-1].Data.Cause; got != "auth" {
		t.Errorf("the end says %q, want auth", got)
	}
	t.Logf("%d cause changes in %v: %d updates, %d held", n+1, storm.Round(time.Millisecond), len(updates), out.held)
}

// TestOfflineAfterProcessStall: the process stalls (the stall detector's
// ticker does not run, as nothing runs in a frozen process) for longer
// than the grace, and the camera's session reports its stream down after
// the resume, since its last frame before the stall. The grace restarts
// from the resume: video back within it raises nothing; a camera whose
// video does not come back gets camera_offline one grace after the
// resume, starting at its last frame.
func TestOfflineAfterProcessStall(t *testing.T) {
	const grace = time.Second
	d := pause.New(pause.Config{})
	out, gone := &record{}, &record{}
	back := New(Config{Camera: "back", OfflineGrace: grace, Pause: d, Out: out})
	lost := New(Config{Camera: "lost", OfflineGrace: grace, Pause: d, Out: gone})
	last := time.Now()
	time.Sleep(pause.Threshold + time.Second) // the stall
	resumed := time.Now()
	back.Down(last, "stalled")
	lost.Down(last, "stalled")
	back.Up(time.Now()) // within the grace from the resume
	deadline := time.Now().Add(10 * time.Second)
	for gone.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no camera_offline for the camera whose video did not come back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ev := gone.last()
	if ev.Type != incident.TypeStart || !ev.Data.StartedAt.Equal(last.UTC()) {
		t.Errorf("camera_offline %s started at %v, want a start at the last frame %v", ev.Type, ev.Data.StartedAt, last.UTC())
	}
	if after := ev.Time.Sub(resumed); after < grace {
		t.Errorf("camera_offline %v after the resume, before the grace of %v", after, grace)
	}
	time.Sleep(grace) // past the grace of the camera that came back
	if n := out.count(); n != 0 {
		t.Errorf("the camera whose video came back within the grace after the stall raised %d events: %+v", n, out.events)
	}
	back.End(time.Now())
	lost.End(time.Now())
}

// TestOfflineGraceOverProcessStall: a camera down just before the process
// stalls has its grace timer fire at the resume (here: the first sign of
// life after a gap longer than the detector's threshold); the grace
// restarts from there, so video back soon after the resume raises nothing.
func TestOfflineGraceOverProcessStall(t *testing.T) {
	const grace = pause.Threshold + 500*time.Millisecond
	d := pause.New(pause.Config{}) // its ticker does not run: as in a frozen process
	out := &record{}
	h := New(Config{Camera: "cam", OfflineGrace: grace, Pause: d, Out: out})
	h.Down(time.Now(), "stalled")
	time.Sleep(grace + 500*time.Millisecond) // the timer fires, at the "resume"
	h.Up(time.Now())
	time.Sleep(grace)
	if n := out.count(); n != 0 {
		t.Errorf("a camera back right after the stall raised %d events: %+v", n, out.events)
	}
	h.End(time.Now())
}

// TestOfflineWaitsForThePlayingSession: a camera whose session plays but
// has no video yet (waiting for its first keyframe) raises no
// camera_offline at the grace: the session bounds that wait itself. Its
// end opens the incident at once, with its reason, once the grace has
// passed; a keyframe in time (Up) raises nothing.
func TestOfflineWaitsForThePlayingSession(t *testing.T) {
	out := &record{}
	h := New(Config{Camera: "cam", OfflineGrace: 50 * time.Millisecond, Out: out})
	h.Down(time.Now(), "")
	h.Playing(true)
	time.Sleep(200 * time.Millisecond)
	if n := out.count(); n != 0 {
		t.Fatalf("%d events while the session plays, want none", n)
	}
	h.Down(time.Now(), "no_keyframe")
	h.Playing(false)
	await.Until(t, 5*time.Second, "camera_offline at the session's end", func() bool { return out.count() == 1 })
	if ev := out.last(); ev.Data.Kind != KindCameraOffline || ev.Data.Cause != "no_keyframe" {
		t.Fatalf("start %+v, want camera_offline, cause no_keyframe", ev.Data)
	}
	h.End(time.Now())

	out2 := &record{}
	h2 := New(Config{Camera: "cam2", OfflineGrace: 50 * time.Millisecond, Out: out2})
	h2.Down(time.Now(), "")
	h2.Playing(true)
	time.Sleep(100 * time.Millisecond)
	h2.Up(time.Now()) // the first keyframe, past the grace
	h2.Playing(true)
	time.Sleep(100 * time.Millisecond)
	if n := out2.count(); n != 0 {
		t.Fatalf("%d events for a camera whose keyframe came while its session played", n)
	}
	h2.End(time.Now())
}
