package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// senderReportPeriod is how often a playing, non-stalled camera sends an RTCP
// sender report (the first one right after its first access unit).
const senderReportPeriod = 2 * time.Second

// maxLag is how far the pacer may fall behind its schedule before it skips
// frames instead of bursting to catch up.
const maxLag = 500 * time.Millisecond

// camera is one simulated camera: a gortsplib stream plus, for supported
// cameras, a pacer goroutine that writes the clip while someone is playing.
type camera struct {
	path   string
	clip   *Clip // nil for unsupported cameras
	stream *gortsplib.ServerStream
	media  *description.Media
	// audioOnly is what DESCRIBE offers while offerAudioOnly is set: one
	// G.711 track and no video (a camera whose video encoder is off).
	audioOnly *gortsplib.ServerStream

	mu       sync.Mutex
	sessions map[*gortsplib.ServerSession]struct{} // sessions set up on this camera
	active   map[*gortsplib.ServerSession]struct{} // sessions playing
	restart  bool                                  // active went 0 -> 1; pacer restarts the clip
	wake     chan struct{}                         // cap 1; pokes the pacer after a change of active

	stalled        atomic.Bool
	offerAudioOnly atomic.Bool
	tsStep         atomic.Int64  // RTP timestamp advance per frame in ns (0: 1/FPS): a clock running fast or slow
	frozenTS       atomic.Bool   // every access unit gets the timestamp of the one before
	blank          atomic.Bool   // access units carry filler data instead of pictures
	dropThresh     atomic.Uint64 // drop a packet when rng.Uint32() < dropThresh
	corruptThresh  atomic.Uint64 // corrupt an AU when rng.Uint32() < corruptThresh
	sentAUs        atomic.Uint64
	runStart       atomic.Int64 // unix nanoseconds of the current run's clip start
	start          uint64       // the access unit a run starts from (Camera.Start)

	// owned by the pacer goroutine
	pkt         rtp.Packet
	rng         *rand.Rand
	tsOffset    uint32
	frames      uint64 // AUs scheduled since the camera was created: timestamp clock
	tsExtra     uint32 // ticks added by SetTimestampStep beyond the frame clock
	pktCount    uint32 // RTP packets sent, for sender reports
	octetCount  uint32
	corrupter   corrupter
	clockOffset time.Duration // added to the NTP time of packets and reports
}

func newCamera(s *gortsplib.Server, cfg Camera) (*camera, error) {
	c := &camera{
		path:     cfg.Path,
		clip:     cfg.Clip,
		sessions: make(map[*gortsplib.ServerSession]struct{}),
		active:   make(map[*gortsplib.ServerSession]struct{}),
		wake:     make(chan struct{}, 1),
	}
	var forma format.Format
	if cfg.Unsupported {
		// A video media clients cannot use as H.264/H.265.
		forma = &format.MJPEG{}
		c.clip = nil
	} else {
		c.start = uint64(cfg.Start) // a keyframe (Start checks)
		if cfg.Realism.ParamsOutOfBand {
			stripped, err := c.clip.withoutParams()
			if err != nil {
				return nil, err
			}
			c.clip = stripped
		}
		forma = c.clip.newFormat()
		if cfg.Realism.ParamsInBandOnly {
			switch f := forma.(type) {
			case *format.H264:
				f.SPS, f.PPS = nil, nil
			case *format.H265:
				f.VPS, f.SPS, f.PPS = nil, nil, nil
			}
		}
	}
	c.media = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}
	medias := []*description.Media{c.media}
	if cfg.Realism.Audio {
		audio := &description.Media{Type: description.MediaTypeAudio,
			Formats: []format.Format{&format.G711{PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1}}}
		medias = []*description.Media{audio, c.media}
	}
	c.clockOffset = cfg.Realism.ClockOffset
	c.stream = &gortsplib.ServerStream{
		Server: s,
		Desc:   &description.Session{Medias: medias},
	}
	if err := c.stream.Initialize(); err != nil {
		return nil, err
	}
	c.audioOnly = &gortsplib.ServerStream{
		Server: s,
		Desc: &description.Session{Medias: []*description.Media{{Type: description.MediaTypeAudio,
			Formats: []format.Format{&format.G711{PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1}}}}},
	}
	if err := c.audioOnly.Initialize(); err != nil {
		c.stream.Close()
		return nil, err
	}

	h := fnv.New64a()
	h.Write([]byte(cfg.Path))
	seed := h.Sum64()
	c.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c.tsOffset = rand.Uint32()
	if w := cfg.Realism.WrapAfter; w > 0 {
		c.tsOffset = -uint32(w.Seconds() * 90000)
	}
	c.pkt = rtp.Packet{Header: rtp.Header{
		Version:        2,
		PayloadType:    forma.PayloadType(),
		SequenceNumber: uint16(rand.Uint32()),
	}}
	if c.clip != nil {
		c.corrupter.codec = c.clip.Codec
	}
	return c, nil
}

// addSession records that ss has set up this camera.
func (c *camera) addSession(ss *gortsplib.ServerSession) {
	c.mu.Lock()
	c.sessions[ss] = struct{}{}
	c.mu.Unlock()
}

// removeSession forgets ss (closed).
func (c *camera) removeSession(ss *gortsplib.ServerSession) {
	c.mu.Lock()
	delete(c.sessions, ss)
	c.mu.Unlock()
	c.setActive(ss, false)
}

// setActive marks ss as playing or not; the first reader restarts the clip.
func (c *camera) setActive(ss *gortsplib.ServerSession, playing bool) {
	c.mu.Lock()
	_, was := c.active[ss]
	if playing == was {
		c.mu.Unlock()
		return
	}
	if playing {
		c.active[ss] = struct{}{}
		if len(c.active) == 1 {
			c.restart = true
		}
	} else {
		delete(c.active, ss)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// kick closes every session of the camera.
func (c *camera) kick() {
	c.mu.Lock()
	sessions := make([]*gortsplib.ServerSession, 0, len(c.sessions))
	for ss := range c.sessions {
		sessions = append(sessions, ss)
	}
	c.mu.Unlock()
	for _, ss := range sessions {
		ss.Close() // asynchronous; OnSessionClose cleans up
	}
}

// state reports whether someone is playing and consumes the restart flag.
func (c *camera) state() (playing, restart bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	playing, restart = len(c.active) > 0, c.restart
	c.restart = false
	return playing, restart
}

// run is the pacer: while someone plays, it writes AU k of the current run
// at t0 + k/FPS, looping the clip. It returns when done is closed.
func (c *camera) run(done <-chan struct{}) {
	clip := c.clip
	n := uint64(len(clip.AUs))
	frameDur := float64(time.Second) / clip.FPS
	tsPerFrame := 90000 / clip.FPS

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	var (
		t0      time.Time
		k       uint64 // AU index in the run's clip loop (from Camera.Start)
		running bool
		nextSR  time.Time
	)
	for {
		playing, restart := c.state()
		if !playing {
			running = false
			select {
			case <-c.wake:
				continue
			case <-done:
				return
			}
		}
		if restart || !running {
			running = true
			now := time.Now()
			t0, k = now.Add(-time.Duration(float64(c.start)*frameDur)), c.start
			nextSR = now
			c.runStart.Store(t0.UnixNano())
		}

		due := t0.Add(time.Duration(float64(k) * frameDur))
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-c.wake:
				continue // re-check readers; the schedule is kept
			case <-done:
				return
			}
		} else if -wait > maxLag {
			// Far behind (machine overloaded): skip the missed frames
			// like a real camera would, keeping timestamps on the wall clock.
			missed := uint64(float64(-wait) / frameDur)
			k += missed
			c.frames += missed
			continue
		}

		if step := c.tsStep.Load(); step > 0 {
			c.tsExtra += uint32(int64(math.Round(time.Duration(step).Seconds()*90000 - tsPerFrame)))
		}
		ts := c.tsOffset + c.tsExtra + uint32(uint64(math.Round(float64(c.frames)*tsPerFrame)))
		sent := ts // the sender report's: the sending slot's, on the capture clock
		if shown := clip.Shown; shown != nil {
			// The picture's capture time: B-frames are sent after the
			// picture they are shown before.
			i := int(k % n)
			ts += uint32(int32(math.Round(float64(shown[i]-i) * tsPerFrame)))
		}
		if c.frozenTS.Load() {
			ts, sent = c.pkt.Timestamp, c.pkt.Timestamp // a broken encoder or server: time stands still
		}
		if !c.stalled.Load() {
			if !c.writeAU(int(k%n), ts, due.Add(c.clockOffset)) {
				return
			}
			c.sentAUs.Add(1)
			if !due.Before(nextSR) {
				c.writeSenderReport(sent, due.Add(c.clockOffset))
				nextSR = due.Add(senderReportPeriod)
			}
		}
		k++
		c.frames++
	}
}

// writeAU writes access unit i with timestamp ts; it returns false once the
// stream is closed.
func (c *camera) writeAU(i int, ts uint32, ntp time.Time) bool {
	r := &c.clip.rtp
	if c.blank.Load() {
		pkts, err := c.corrupter.blank(c.clip)
		if err != nil {
			return true
		}
		c.pkt.Timestamp = ts
		for _, p := range pkts {
			c.pkt.Marker, c.pkt.Payload = p.Marker, p.Payload
			if !c.writePacket(ntp) {
				return false
			}
		}
		return true
	}
	if t := c.corruptThresh.Load(); t != 0 && uint64(c.rng.Uint32()) < t {
		return c.writeCorruptAU(i, ts, ntp)
	}
	c.pkt.Timestamp = ts
	for p := r.auStart[i]; p < r.auStart[i+1]; p++ {
		c.pkt.Marker = r.markers[p]
		c.pkt.Payload = r.payloads[p]
		if !c.writePacket(ntp) {
			return false
		}
	}
	return true
}

func (c *camera) writeCorruptAU(i int, ts uint32, ntp time.Time) bool {
	pkts, err := c.corrupter.encode(c.clip, c.clip.AUs[i], c.rng)
	if err != nil {
		return true // nothing sensible to send for this AU; keep going
	}
	c.pkt.Timestamp = ts
	for _, p := range pkts {
		c.pkt.Marker = p.Marker
		c.pkt.Payload = p.Payload
		if !c.writePacket(ntp) {
			return false
		}
	}
	return true
}

// writePacket sends c.pkt (with the next sequence number) unless the drop
// switch discards it; it returns false once the stream is closed.
func (c *camera) writePacket(ntp time.Time) bool {
	c.pkt.SequenceNumber++
	if t := c.dropThresh.Load(); t != 0 && uint64(c.rng.Uint32()) < t {
		return true
	}
	if err := c.stream.WritePacketRTPWithNTP(c.media, &c.pkt, ntp); err != nil {
		return false
	}
	c.pktCount++
	c.octetCount += uint32(len(c.pkt.Payload))
	return true
}

// writeSenderReport sends an RTCP sender report mapping ts to ntp. The
// camera sends its own reports (gortsplib's are disabled) so that a stalled
// camera is fully silent.
func (c *camera) writeSenderReport(ts uint32, ntp time.Time) {
	if c.pktCount == 0 {
		return // SSRC not known yet (gortsplib sets it on the first write)
	}
	c.stream.WritePacketRTCP(c.media, &rtcp.SenderReport{ //nolint:errcheck // closed stream is seen by writeAU
		SSRC:        c.pkt.SSRC,
		NTPTime:     ntpTime(ntp),
		RTPTime:     ts,
		PacketCount: c.pktCount,
		OctetCount:  c.octetCount,
	})
}

// ntpTime converts t to the 64-bit NTP format (seconds since 1900, 32.32).
func ntpTime(t time.Time) uint64 {
	ns := uint64(t.UnixNano()) + 2208988800*uint64(time.Second)
	sec, frac := ns/uint64(time.Second), ns%uint64(time.Second)
	return sec<<32 | (frac<<32)/uint64(time.Second)
}

// threshold maps a probability to a rng.Uint32 comparison threshold.
func threshold(p float64) uint64 {
	switch {
	case !(p > 0): // also NaN
		return 0
	case p >= 1:
		return 1 << 32
	default:
		return uint64(p * (1 << 32))
	}
}
