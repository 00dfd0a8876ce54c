package health

import (
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/pause"
)

// stream models one camera frame by frame (25 fps) on an explicit clock,
// as the engine would report it to Check every second: which units the gate
// queues, what the worker makes of them, and when pictures are analyzed.
type stream struct {
	t0  time.Time
	gop int // frames between keyframes
	// first is the index of the first keyframe: a stream joined mid-GOP
	// starts with P-frames.
	first int
	// mode: "all" decodes every frame; "keyframes" decodes keyframes
	// alone (mode auto idle, the ladder's keyframe steps); sparse skips
	// every other one of those.
	mode   string
	sparse bool
	// idleEvery: keyframes alone, 1 in idleEvery decoded (mode auto
	// idle on a rung that thins them).
	idleEvery int
	// worker decides what a queued unit becomes at frame i: "ok", "stuck"
	// (never processed), "nopic" (processed, no picture), "errors".
	worker func(i int) string

	p           Probe
	haveKey     bool
	skipKey     bool
	keysSkipped int
	lastKey     time.Time
	nextAnaly   time.Time
}

const frame = 40 * time.Millisecond

func (s *stream) at(i int) time.Time { return s.t0.Add(time.Duration(i) * frame) }

// run feeds frames [from, to) and calls Check at every full second.
func (s *stream) run(h *Camera, from, to int) {
	if from == 0 {
		s.p = Probe{Streaming: true, FlowSince: s.t0, FullRate: !s.sparse && s.idleEvery <= 1, Sparse: s.sparse, FrameRate: 25, IdleEvery: s.idleEvery}
	}
	for i := from; i < to; i++ {
		now := s.at(i)
		if i > 0 && i%25 == 0 {
			s.p.DecodingAll = s.mode == "all"
			h.Check(now, s.p)
		}
		key := i >= s.first && (i-s.first)%s.gop == 0
		s.p.Counts.Received++
		if key {
			if !s.lastKey.IsZero() {
				s.p.KeyframeInterval = max(s.p.KeyframeInterval, now.Sub(s.lastKey))
			}
			s.lastKey = now
		}
		queued := s.mode == "all" || key
		if key && s.mode != "all" && s.sparse {
			s.skipKey = !s.skipKey
			queued = !s.skipKey
		}
		if key && s.mode != "all" && s.idleEvery > 1 {
			s.keysSkipped = (s.keysSkipped + 1) % s.idleEvery
			queued = s.keysSkipped == 1
		}
		if !queued {
			continue
		}
		s.p.LastQueued = now
		if key {
			s.p.LastKeyQueued = now
			s.haveKey = true
		}
		what := "ok"
		if s.worker != nil {
			what = s.worker(i)
		}
		if what == "stuck" {
			continue
		}
		s.p.Counts.Processed++
		switch {
		case what == "errors":
			s.p.Counts.DecodeErrors++
			continue
		case what == "nopic" || !s.haveKey:
			continue
		}
		s.p.Counts.Decoded++
		done := now.Add(15 * time.Millisecond) // the worker's latency
		if !done.Before(s.nextAnaly) {
			s.p.Counts.Analyzed++
			s.p.LastAnalyzed = done
			s.nextAnaly = done.Add(200 * time.Millisecond) // 5 fps
		}
	}
}

// TestCheckLongGOPQuiet: a camera that streams normally is never reported,
// whatever its GOP and decode mode: joined mid-GOP (the first keyframe
// 11.6 s after the first frame), a 12 s GOP decoded keyframes only (mode
// auto idle), the sparse rung skipping every other keyframe (24 s without
// a picture), an idle camera in mode auto decoding 1 in 4 keyframes of a
// 10 s GOP (40 s without a picture), decoding everything from a start
// without a keyframe.
func TestCheckLongGOPQuiet(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		s    stream
	}{
		{"keyframes-12s-gop-mid", stream{gop: 300, first: 290, mode: "keyframes"}},
		{"keyframes-10s-gop", stream{gop: 250, mode: "keyframes"}},
		{"sparse-12s-gop", stream{gop: 300, first: 100, mode: "keyframes", sparse: true}},
		{"idle-1-in-4-10s-gop", stream{gop: 250, first: 100, mode: "keyframes", idleEvery: 4}},
		{"all-12s-gop-mid", stream{gop: 300, first: 290, mode: "all"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &record{}
			h := New(Config{Camera: "cam", AnalysisFPS: 5, Out: out})
			s := tc.s
			s.t0 = t0
			s.run(h, 0, 25*180)
			if s.p.Counts.Analyzed < 5 {
				t.Fatalf("the model analyzed %d pictures", s.p.Counts.Analyzed)
			}
			if len(out.events) != 0 {
				t.Errorf("a healthy camera raised %d events, the first %s cause %s at %v",
					len(out.events), out.events[0].Type, out.events[0].Data.Cause, out.events[0].Time.Sub(t0))
			}
		})
	}
}

// TestCheckOwedPicture: a keyframe queued and not turned into a picture is
// reported within the owed bound (5 s and an analysis interval), well
// before the next keyframe of a 12 s GOP, with the cause of the failure;
// a stream that owes nothing (no keyframe ever) is reported once its
// silence passes keyframeWait, not before.
func TestCheckOwedPicture(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		s        stream
		failFrom int // frame from which the worker fails
		cause    string
		within   time.Duration // after failFrom
	}{
		{"stuck-worker", stream{gop: 300, mode: "keyframes"}, 600, CauseNotProcessed, 7 * time.Second},
		{"decode-errors", stream{gop: 300, mode: "keyframes"}, 600, CauseDecodeErrors, 7 * time.Second},
		{"no-pictures-all", stream{gop: 300, mode: "all"}, 600, CauseNoPictures, 7 * time.Second},
		{"no-keyframe-ever", stream{gop: 300, first: 1 << 30, mode: "all"}, 0, CauseNoPictures, keyframeWait + 2*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &record{}
			h := New(Config{Camera: "cam", AnalysisFPS: 5, Out: out})
			s := tc.s
			s.t0 = t0
			s.worker = func(i int) string {
				if i < tc.failFrom {
					return "ok"
				}
				return map[string]string{CauseNotProcessed: "stuck", CauseDecodeErrors: "errors", CauseNoPictures: "nopic"}[tc.cause]
			}
			s.run(h, 0, 25*120)
			if len(out.events) != 1 || out.events[0].Type != incident.TypeStart {
				t.Fatalf("%d events, want one start: %+v", len(out.events), out.events)
			}
			ev := out.events[0]
			if ev.Data.Cause != tc.cause {
				t.Errorf("cause %q, want %q", ev.Data.Cause, tc.cause)
			}
			fail := s.at(tc.failFrom)
			if got := ev.Time.Sub(fail); got > tc.within || (tc.failFrom == 0 && got < keyframeWait) {
				t.Errorf("started %v after the failure, want within %v", got, tc.within)
			}
		})
	}
}

// TestCheckCauseHysteresis: a stalled camera whose failure alternates
// every 8 s between queued units left unprocessed and units decoded into
// no picture (the diagnosis names each for up to 3 s) keeps the cause it
// started with: one start, no update. A change that lasts is one update.
func TestCheckCauseHysteresis(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	out := &record{}
	h := New(Config{Camera: "cam", AnalysisFPS: 5, Out: out})
	s := stream{t0: t0, gop: 50, mode: "all"}
	s.worker = func(i int) string {
		switch {
		case i < 250:
			return "ok"
		case i < 25*70:
			if (i/200)%2 == 1 {
				return "nopic"
			}
			return "stuck"
		}
		return "errors"
	}
	s.run(h, 0, 25*70)
	if len(out.events) != 1 || out.events[0].Type != incident.TypeStart {
		t.Fatalf("alternating causes: %d events, want one start: %+v", len(out.events), out.events)
	}
	s.run(h, 25*70, 25*90)
	if len(out.events) != 2 || out.events[1].Type != incident.TypeUpdate || out.events[1].Data.Cause != CauseDecodeErrors {
		t.Fatalf("a lasting change: %d events, want a start and one update to decode_errors: %+v", len(out.events), out.events)
	}
}

// TestCheckAfterProcessStall: the process stalls 8 s while a camera
// streams; at the resume the check runs before the frames buffered meanwhile
// are analyzed, its last picture 8 s old and a picture owed since. That is
// the process's silence, not the camera's: no analysis_stalled, then or as
// the stream goes on.
func TestCheckAfterProcessStall(t *testing.T) {
	d := pause.New(pause.Config{})
	out := &record{}
	h := New(Config{Camera: "cam", AnalysisFPS: 5, Pause: d, Out: out})
	s := stream{t0: time.Now(), gop: 50, mode: "all"}
	s.run(h, 0, 25*20)
	resume := 25*20 + 25*8 // frames during the stall are not seen yet
	h.Check(s.at(resume), s.p)
	s.run(h, resume, 25*60)
	if s.p.Counts.Analyzed < 100 {
		t.Fatalf("the model analyzed %d pictures", s.p.Counts.Analyzed)
	}
	for _, ev := range out.events {
		t.Errorf("%s cause %s at %v", ev.Type, ev.Data.Cause, ev.Time.Sub(s.t0))
	}
}
