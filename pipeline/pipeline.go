// Package pipeline is one camera's chain from access units to incident
// transitions: decode every access unit the reference chain needs (and
// those the analysis takes: Skip), and scale and analyze pictures at the
// analysis rate.
//
// The engine runs one Pipeline per camera on its worker pool; the offline
// benchmark runs the same code on a file, so the two measure one thing.
package pipeline

import (
	"fmt"
	"time"

	"github.com/vigil-video/vigil/analyze"
	"github.com/vigil-video/vigil/decode"
	"github.com/vigil-video/vigil/sched"
)

// Config configures a Pipeline.
type Config struct {
	// AnalysisWidth is the analysis frame's width; the height keeps the aspect.
	AnalysisWidth int
	// AnalysisFPS is the analysis rate; 0 analyzes every picture.
	AnalysisFPS float64
	// Analysis configures the detectors.
	Analysis analyze.Config
	// Decoders, when set, lends the decoders of keyframes decoded alone
	// (ProcessKeyframe) and of the reference chain, so that a camera that
	// decodes keyframes only holds no decoder between them. Nil: the
	// pipeline opens one decoder of its own and keeps it.
	Decoders *decode.Pool
	// Limits cap what libavcodec allocates for this camera's pictures
	// (defense in depth: ingest refuses streams over the camera's limits
	// before they reach a decoder). Zero: libavcodec's own cap.
	Limits decode.Limits
	// Objects, when set, is the camera's place in the shared object
	// detector (analyze.Inference): the frames the camera asks for (on
	// motion, re-checks, its first look) are sent to it, in color, and
	// people come from its results. The pipeline releases it.
	Objects *analyze.ObjectSlot
	// Overload, when set, is the camera's overload step, which the
	// analysis rate and object inference follow (sched.Overload). Nil:
	// never overloaded.
	Overload *sched.Overload
	// Sparse says that the camera decodes keyframes alone while idle
	// (decode_mode auto or keyframes): its analyzed pictures may come a
	// GOP or keyframe_interval apart, which its analysis takes as the
	// stream's pace (analyze.Camera.SetSparse). The overload ladder's
	// keyframes-only step makes any camera sparse while it lasts.
	Sparse bool
	// DeblockAlone keeps the in-loop filters on keyframes decoded alone
	// (ProcessKeyframe with Decoders). False, the engine's choice: they
	// are skipped (decode.Decoder.SetNoDeblock), which makes an idle
	// camera's keyframe cheaper; no picture refers to it (a wake-up
	// replays its GOP from the keyframe, decoded again with the filters,
	// by the chain's decoder).
	DeblockAlone bool
}

// Result is what one access unit produced.
type Result struct {
	// Decoded is true when the access unit completed a picture.
	Decoded bool
	// Analyzed is true when that picture was analyzed.
	Analyzed bool
	// Err is a decode or scale error (wrapping decode.ErrInvalidData for bad input).
	Err error
	// Transitions are the incident transitions of the analyzed picture;
	// valid until the next call.
	Transitions []analyze.Transition
	// Shots are the evidence snapshots the picture should be kept as (see
	// SnapshotJPEG); valid until the next call.
	Shots []analyze.Shot
	// Now is the analysis clock of the picture (stream start + PTS).
	Now time.Time
	// DecodeTime, ScaleTime and AnalyzeTime are the stages' wall times.
	DecodeTime, ScaleTime, AnalyzeTime time.Duration
}

// Pipeline is not safe for concurrent use.
type Pipeline struct {
	cfg      Config
	fps      float64       // the analysis rate now (Config.Overload)
	interval time.Duration // between analyzed pictures, from fps
	shed     bool          // object inference shed (Config.Overload)

	codec decode.Codec
	dec   *decode.Decoder // the reference chain's decoder
	lent  *decode.Decoder // a keyframe's decoder until Release
	cur   *decode.Decoder // the one that made the last picture (dec, lent or nil)
	w, h  int             // size of the stream's pictures (0 before the first)
	frame *analyze.Frame
	an    *analyze.Camera
	color *analyze.Snapshot // the picture sent for inference, reused

	analyzedOnce bool
	keyPassed    bool          // a keyframe was decoded since the last analyzed picture
	keyPTS       time.Duration // the last keyframe's pts (a replay decodes it again)
	keyOnce      bool          // keyPTS is set
	lastAnalyzed time.Duration
	// keepUntil: no picture is skipped (Skip) before this PTS, set
	// skipHold after a picture earlier than the last analyzed one.
	keepUntil time.Duration
	base      time.Time
	lastNow   time.Time // the analysis clock of the last analyzed picture
}

// New returns a pipeline; Reset must be called with the stream's codec
// before the first Process.
func New(cfg Config) (*Pipeline, error) {
	an, err := analyze.NewCamera(cfg.Analysis)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, an: an}
	if cfg.Objects != nil {
		an.SetObjects(cfg.Objects)
	}
	p.follow()
	return p, nil
}

// follow applies the overload step: the analysis rate, and whether the
// camera sheds object requests (one waiting at a time, never replaced).
func (p *Pipeline) follow() {
	if fps := p.cfg.Overload.AnalysisFPS(p.cfg.AnalysisFPS); fps != p.fps {
		p.fps, p.interval = fps, 0
		if fps > 0 {
			p.interval = time.Duration(float64(time.Second) / fps)
		}
	}
	if shed := p.cfg.Overload.ShedObjects(); shed != p.shed && p.cfg.Objects != nil {
		p.shed = shed
		p.cfg.Objects.SetShed(shed)
	}
}

// Reset starts a new stream: the decoder forgets its references (or is
// replaced when the codec changes) and the analyzer learns the scene again,
// so a reconnect never raises motion by itself.
func (p *Pipeline) Reset(codec decode.Codec) error {
	p.analyzedOnce, p.keyPassed, p.keyOnce = false, false, false
	p.base, p.keepUntil = time.Time{}, 0
	// lastNow is kept: the analyzer's clock runs on across streams.
	p.an.Reset()
	p.Release()
	p.codec, p.w, p.h = codec, 0, 0
	if p.dec != nil && p.dec.Codec() == codec && p.cfg.Decoders == nil {
		p.dec.Reset()
		return nil
	}
	p.dropChain()
	if p.cfg.Decoders != nil {
		return nil // lent on the first access unit
	}
	d, err := decode.New(codec)
	if err != nil {
		return fmt.Errorf("open %s decoder: %w", codec, err)
	}
	d.SetLimits(p.cfg.Limits)
	p.dec = d
	return nil
}

// dropChain gives the reference chain's decoder back (or closes it).
func (p *Pipeline) dropChain() {
	if p.dec == nil {
		return
	}
	if p.cur == p.dec {
		p.cur = nil
	}
	if p.cfg.Decoders != nil {
		p.cfg.Decoders.Put(p.dec)
	} else {
		p.dec.Close()
	}
	p.dec = nil
}

// Release gives back the decoder lent for the last keyframe decoded alone;
// the engine calls it once it is done with the picture (evidence).
func (p *Pipeline) Release() {
	if p.lent == nil {
		return
	}
	if p.cur == p.lent {
		p.cur = nil
	}
	p.cfg.Decoders.Put(p.lent)
	p.lent = nil
}

// ProcessKeyframe is Process for a keyframe decoded alone: no access unit
// after it will be decoded until the next keyframe (the camera decodes
// keyframes only now). With Config.Decoders, the chain's decoder goes back
// to the pool and the keyframe is decoded by a lent one, held until
// Release.
//
// The decoder is drained after the keyframe: in a stream with B-frames it
// holds the keyframe's picture back until the pictures shown before it
// are decoded, which, decoded alone, never comes.
func (p *Pipeline) ProcessKeyframe(au []byte, pts time.Duration, received time.Time) Result {
	if p.cfg.Decoders == nil {
		return p.processChain(au, pts, received, true)
	}
	p.dropChain()
	p.Release()
	d, err := p.open()
	if err != nil {
		return Result{Err: fmt.Errorf("open %s decoder: %w", p.codec, err)}
	}
	p.lent = d
	d.SetNoDeblock(!p.cfg.DeblockAlone)
	return p.process(d, au, pts, received, true)
}

// Process decodes one Annex-B access unit; pts is its presentation time on
// the stream clock and received its arrival (anchoring the analysis clock).
func (p *Pipeline) Process(au []byte, pts time.Duration, received time.Time) Result {
	return p.processChain(au, pts, received, false)
}

// Skip reports whether a picture no picture can refer to
// (unit.AccessUnit.Droppable), at pts, may be left undecoded: the chain
// has a decoder, and the analysis would not take the picture, the last one
// analyzed being less than the analysis interval before it. At 5 pictures
// analyzed a second, a 25 fps stream with two non-reference B-frames in
// three pictures (x264's defaults) decodes about half its pictures; the
// pictures analyzed are the same. A picture earlier than the last analyzed
// is decoded (the analysis takes it as a discontinuity).
func (p *Pipeline) Skip(pts time.Duration) bool {
	p.follow()
	return p.dec != nil && p.interval > 0 && pts >= p.lastAnalyzed && pts >= p.keepUntil && p.early(pts)
}

// skipHold: after a picture came earlier than the last analyzed one,
// Skip decides nothing for this much stream time. A stream stamped in the
// order its pictures are sent, not shown (a broken encoder or server with
// B-frames), does that at every reordered picture, and there a skipped
// picture may be one the analysis would have taken (it anchors its clock
// again on such a picture); a camera that restarts its clock does it once.
const skipHold = 10 * time.Second

// early reports whether a picture at pts comes too soon after the last one
// analyzed to be analyzed (within 7/8 of the interval: a stream whose
// frame times jitter keeps its rate).
func (p *Pipeline) early(pts time.Duration) bool {
	return p.analyzedOnce && pts-p.lastAnalyzed < p.interval-p.interval/8
}

// processChain decodes au with the reference chain's decoder; drain ends
// the chain after it (ProcessKeyframe).
func (p *Pipeline) processChain(au []byte, pts time.Duration, received time.Time, drain bool) Result {
	if p.codec == 0 {
		return Result{Err: fmt.Errorf("pipeline: Process before Reset")}
	}
	p.Release()
	if p.dec == nil {
		d, err := p.open()
		if err != nil {
			return Result{Err: fmt.Errorf("open %s decoder: %w", p.codec, err)}
		}
		p.dec = d
	}
	return p.process(p.dec, au, pts, received, drain)
}

// open lends a decoder from the pool, or opens one without a pool.
func (p *Pipeline) open() (*decode.Decoder, error) {
	var d *decode.Decoder
	var err error
	if p.cfg.Decoders == nil {
		d, err = decode.New(p.codec)
	} else {
		d, err = p.cfg.Decoders.Get(p.codec, p.w, p.h)
	}
	if err != nil {
		return nil, err
	}
	d.SetLimits(p.cfg.Limits)
	return d, nil
}

func (p *Pipeline) process(dec *decode.Decoder, au []byte, pts time.Duration, received time.Time, drain bool) Result {
	var r Result
	p.follow()
	t0 := time.Now()
	ok, err := dec.Decode(au, int64(pts))
	if drain && err == nil && !ok {
		ok, err = dec.Drain()
	}
	t1 := time.Now()
	r.DecodeTime = t1.Sub(t0)
	if err != nil {
		r.Err = err
		return r
	}
	if !ok {
		return r
	}
	r.Decoded = true
	if kp := time.Duration(dec.PicturePTS()); dec.PictureKey() && (!p.keyOnce || kp != p.keyPTS) {
		// A wake-up's replay decodes the keyframe decoded alone again:
		// one keyframe, passed once. A concealed one passed too.
		p.keyPassed, p.keyPTS, p.keyOnce = true, kp, true
	}
	if dec.Corrupt() {
		// A keyframe that lost slices on the way (a UDP burst, a server's
		// full write queue) comes out partly grey from a decoder lent
		// without this camera's last picture to copy from: analyzed, it
		// would be motion, a tamper, or a learned background gone wrong.
		p.cur = nil
		r.Err = fmt.Errorf("decode %v: picture concealed (slices or references missing): %w", p.codec, decode.ErrInvalidData)
		return r
	}
	p.cur = dec
	pts = time.Duration(dec.PicturePTS())
	p.w, p.h = dec.PictureSize()
	// A picture earlier than the last analyzed one is a discontinuity (a
	// camera that restarted its clock): it is analyzed, and the rate is
	// measured from it, so that the gate can never stay shut.
	back := p.analyzedOnce && pts < p.lastAnalyzed
	if !back && p.early(pts) {
		return r
	}
	w, h := decode.AnalysisSize(p.w, p.h, p.cfg.AnalysisWidth)
	if p.frame == nil || p.frame.Width != w || p.frame.Height != h {
		if p.frame != nil {
			p.frame.Close()
			p.frame = nil
		}
		if p.frame, err = analyze.NewFrame(w, h); err != nil {
			r.Err = err
			return r
		}
	}
	if err := dec.ScaleGray(decode.Image{Pix: p.frame.Pix, Width: w, Height: h, Stride: p.frame.Stride}); err != nil {
		r.Err = err
		return r
	}
	t2 := time.Now()
	r.ScaleTime = t2.Sub(t1)
	p.analyzedOnce, p.lastAnalyzed = true, pts
	if p.base.IsZero() || back {
		p.base = received.Add(-pts)
	}
	if back {
		p.keepUntil = pts + skipHold
	}
	r.Now = p.base.Add(pts)
	if !r.Now.After(p.lastNow) && !p.lastNow.IsZero() {
		// The analysis clock never runs backwards, whatever the stream does.
		r.Now = p.lastNow.Add(time.Millisecond)
		p.base = r.Now.Add(-pts)
	}
	p.lastNow = r.Now
	p.an.SetSparse(drain || p.cfg.Sparse || p.cfg.Overload.KeyframesOnly())
	p.an.SetKeyframe(p.keyPassed)
	p.keyPassed = false
	r.Transitions = p.an.Analyze(p.frame, r.Now)
	r.Shots = p.an.Shots()
	if _, ok := p.an.ObjectRegion(); ok {
		p.submitObjects(dec, p.w, p.h)
	}
	r.Analyzed = true
	r.AnalyzeTime = time.Since(t2)
	return r
}

// submitObjects decodes the picture in color at the size the analyzer
// asks and hands it over for inference; a failure skips it, counted as a
// shed request (reason error), and the camera asks for none for a second
// (analyze.Camera.ObjectFailed).
func (p *Pipeline) submitObjects(dec *decode.Decoder, sw, sh int) {
	w, h := p.an.ObjectPictureSize(sw, sh)
	if p.color == nil || p.color.Width != w || p.color.Height != h {
		p.color.Close()
		var err error
		if p.color, err = analyze.NewSnapshot(w, h); err != nil {
			p.color = nil
			p.cfg.Objects.Failed()
			p.an.ObjectFailed()
			return
		}
	}
	if err := dec.ScaleBGR(decode.Image{Pix: p.color.Pix, Width: w, Height: h, Stride: p.color.Stride}); err != nil {
		p.cfg.Objects.Failed()
		p.an.ObjectFailed()
		return
	}
	p.an.SubmitObjects(p.color, time.Now())
}

// SnapshotJPEG encodes the last analyzed frame (the analysis frame: gray,
// analysis width) as a JPEG with boxes drawn.
func (p *Pipeline) SnapshotJPEG(boxes []analyze.Box) ([]byte, error) {
	if p.frame == nil || !p.analyzedOnce {
		return nil, fmt.Errorf("no frame analyzed yet")
	}
	return p.frame.JPEG(boxes)
}

// evidenceMaxWidth caps the width of color evidence snapshots.
const evidenceMaxWidth = 1280

// EvidenceJPEG encodes the last analyzed picture in color, at the source
// size up to 1280 wide, with boxes drawn: the evidence of an incident.
// When the color path fails it falls back to the gray analysis frame.
func (p *Pipeline) EvidenceJPEG(boxes []analyze.Box) ([]byte, error) {
	if p.frame == nil || !p.analyzedOnce {
		return nil, fmt.Errorf("no frame analyzed yet")
	}
	if p.cur == nil {
		return p.frame.JPEG(boxes) // the picture's decoder went back to the pool
	}
	w, h := decode.AnalysisSize(p.w, p.h, min(p.w, evidenceMaxWidth))
	s, err := analyze.NewSnapshot(w, h)
	if err != nil {
		return p.frame.JPEG(boxes)
	}
	defer s.Close()
	if err := p.cur.ScaleBGR(decode.Image{Pix: s.Pix, Width: w, Height: h, Stride: s.Stride}); err != nil {
		return p.frame.JPEG(boxes)
	}
	return s.JPEG(boxes)
}

// PictureSize returns the size of the stream's pictures (0, 0 before the
// first one).
func (p *Pipeline) PictureSize() (width, height int) { return p.w, p.h }

// Active reports whether the analyzer is following motion (a candidate or
// an open incident).
func (p *Pipeline) Active() bool { return p.an.Active() }

// Pending reports whether a tamper cause is suspected and not yet started
// (analyze.Camera.Pending): an idle camera then decodes every picture.
func (p *Pipeline) Pending() bool { return p.an.Pending() }

// Watching reports whether the analyzer wants every keyframe of an idle
// camera (a tamper cause suspected or open).
func (p *Pipeline) Watching() bool { return p.an.Watching() }

// Flush ends open incidents at now.
func (p *Pipeline) Flush(now time.Time) []analyze.Transition { return p.an.Flush(now) }

// Close frees the decoder, the frame and the analyzer; idempotent. With
// Config.Decoders, the pool's free decoders of this camera's picture size
// are closed too: the memory goes with the camera.
func (p *Pipeline) Close() {
	p.Release()
	p.dropChain()
	if p.cfg.Decoders != nil && p.w > 0 {
		p.cfg.Decoders.Forget(p.codec, p.w, p.h)
		p.w, p.h = 0, 0
	}
	if p.frame != nil {
		p.frame.Close()
		p.frame = nil
	}
	p.color.Close()
	p.color = nil
	p.an.Close()
}
