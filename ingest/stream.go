package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/vigil-video/vigil/redact"
)

// depacketizer is what rtph264.Decoder and rtph265.Decoder have in common.
type depacketizer interface {
	Decode(pkt *rtp.Packet) ([][]byte, error)
}

// stream runs one connection until it ends. streamed reports whether video
// flowed.
func (s *Session) stream() (streamed bool, err error) {
	tr := gortsplib.TransportTCP
	if s.cfg.Transport == "udp" {
		tr = gortsplib.TransportUDP
	}
	var decodeLogged atomic.Bool
	// Every step has a deadline: the dial and each request ReadTimeout
	// (gortsplib's), and everything from the dial to the first access
	// unit (the TLS handshake included) ConnectTimeout, enforced by closing
	// the socket, as is Close.
	guard := &connGuard{}
	step := "connect, tls and describe"
	// videoSeen: a video packet came in this stream.
	var videoSeen atomic.Bool
	// noKey.said: the status says that no packet was a keyframe yet. Its
	// mutex makes saying so and the first access unit (which unsays it)
	// happen in one order, whatever the goroutines.
	var noKey struct {
		sync.Mutex
		said bool
	}
	defer func() {
		switch {
		case err == nil || !guard.hasExpired():
		case step == "first frame" && videoSeen.Load():
			err = &noKeyframeError{timeout: s.cfg.ConnectTimeout, err: err}
		default:
			err = &setupTimeoutError{step: step, timeout: s.cfg.ConnectTimeout, err: err}
		}
	}()
	// Over TCP, a change of RTP source within the connection is followed
	// (pinConn); switchSeen is the switch the RTP reader has acted on.
	dial := guard.dial
	var pinned atomic.Pointer[pinConn]
	var switchSeen uint64
	changesSeen := s.sourceChanges.Load()
	if tr == gortsplib.TransportTCP && s.u.Scheme == "rtsp" {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := guard.dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			pc := newPinConn(conn, &s.sourceChanges)
			pinned.Store(pc)
			return pc, nil
		}
	}
	c := &gortsplib.Client{
		DialContext:  dial,
		Scheme:       s.u.Scheme,
		Host:         s.u.Host,
		ReadTimeout:  s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.ReadTimeout,
		TLSConfig:    s.tls,
		Transport:    &tr,
		// A keyframe arrives in one burst: room for several.
		UDPReadBufferSize: s.cfg.UDPReadBuffer,
		OnPacketsLost: func(n uint64) {
			s.packetsLost.Add(n)
		},
		// Undecodable RTP/RTCP packets (a server's bug, a hostile peer):
		// counted, and logged once per stream, never silent.
		OnDecodeError: func(err error) {
			s.decodeErrors.Add(1)
			if !decodeLogged.Swap(true) {
				s.log.Warn("undecodable packet", "error", redact.Error(err, nil, s.secrets...))
			}
		},
	}
	if err := c.Start2(); err != nil {
		return false, err
	}
	defer c.Close()
	defer guard.close(false)
	stop := context.AfterFunc(s.ctx, func() {
		guard.close(false)
		c.Close()
	})
	defer stop()
	var firstAU atomic.Bool
	setupTimer := time.AfterFunc(s.cfg.ConnectTimeout, func() {
		if !firstAU.Load() {
			guard.close(true)
		}
	})
	defer setupTimer.Stop()

	desc, _, err := c.Describe(s.u)
	if err != nil {
		return false, fmt.Errorf("describe: %w", err)
	}
	medi, forma, codec, dec, prm, err := pickVideo(desc)
	if err != nil {
		return false, err
	}
	dp := newDepacketizer(dec, prm)
	// No access unit is handed on before its stream's shape is admitted:
	// the SDP's parameter sets now, in-band ones as they come.
	dp.admit = &admission{id: s.cfg.ID, codec: codec, limits: s.cfg.Limits, budget: s.cfg.Budget, bytes: &s.memoryBytes}
	if prm.sps != nil {
		if err := dp.admit.check([][]byte{prm.sps}); err != nil {
			s.releaseMemory()
			return false, err
		}
	}
	step = "setup"
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		var status liberrors.ErrClientBadStatusCode
		if s.cfg.Transport == "udp" && errors.As(err, &status) && status.Code == base.StatusUnsupportedTransport {
			// go2rtc's server, among others, serves RTP over TCP
			// only: say what to change.
			return false, fmt.Errorf("setup: the server refuses RTP over UDP (set transport: tcp): %w", err)
		}
		return false, fmt.Errorf("setup: %w", err)
	}

	// Capture times come from sender reports, decoded here rather than by
	// c.PacketNTP (see ntpToTime).
	clock := &srClock{clockRate: int64(forma.ClockRate())}
	c.OnPacketRTCP(medi, func(pkt rtcp.Packet) {
		if sr, ok := pkt.(*rtcp.SenderReport); ok {
			clock.senderReport(sr)
		}
	})

	// Until the first keyframe (a stream joined mid-GOP waits up to a whole
	// GOP for it: 10 s and more on long-GOP cameras) the stall check
	// follows the packets, and the connect timeout bounds the wait; then it
	// follows the access units.
	var lastAU, lastPacket atomic.Int64
	lastAU.Store(time.Now().UnixNano())
	lastPacket.Store(time.Now().UnixNano())
	s.jitterNano.Store(0)
	s.bitrateBits.Store(0)
	s.fpsBits.Store(0)
	st := &streamStats{clockRate: float64(forma.ClockRate()), jitterOut: &s.jitterNano, rateOut: &s.bitrateBits, keyOut: &s.keyIntervalNano, fpsOut: &s.fpsBits}
	tl := &timeline{clockRate: int64(forma.ClockRate())}
	var skew skewGuard
	var discSeen, clampSeen uint64
	var fastLogged, sourceLogged bool
	s.clockOffsetNano.Store(0)
	refused := make(chan error, 1)
	refusedSent := false // on the RTP reader
	// Reads over TCP are batched from the first access unit on (batch.go):
	// not before, when small RTSP answers must not wait for more bytes.
	var batch atomic.Pointer[readBatch]
	defer func() { batch.Load().unwatch() }()
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		if n := s.sourceChanges.Load(); n != changesSeen && pinned.Load() != nil {
			// A switch of some format's source: at this format's first
			// packet from its new source, the old one's sender report no
			// longer maps the timestamps (the timeline sees the jump).
			gen, from := pinned.Load().switched(pkt.SSRC)
			if gen != switchSeen && int16(pkt.SequenceNumber-from) >= 0 {
				switchSeen = gen
				clock.forget()
				if !sourceLogged {
					sourceLogged = true // logged once per stream, all counted
					s.log.Warn("rtp source changed within the connection, followed as one stream")
				}
			}
			if gen == switchSeen {
				changesSeen = n
			}
		}
		arrived := time.Now()
		st.packet(pkt, arrived)
		batch.Load().packet(arrived)
		if !firstAU.Load() {
			lastPacket.Store(arrived.UnixNano())
			if !videoSeen.Load() {
				videoSeen.Store(true)
			}
		}
		errs := dp.Errors
		au, ok := dp.Packet(pkt)
		if dp.Errors != errs {
			s.decodeErrors.Add(1)
		}
		if !ok {
			if dp.Refused != nil && !refusedSent {
				refusedSent = true
				refused <- dp.Refused
			}
			return // more packets needed, a broken packet, no keyframe yet, or refused
		}
		now := time.Now()
		// Every packet of an access unit carries its timestamp: the last
		// one's is as good as the first's, however the picture was cut.
		pts := tl.pts(pkt.Timestamp, now)
		if n := tl.discontinuities; n != discSeen {
			discSeen = n
			if s.discontinuities.Add(1); n == 1 { // logged once per stream, all counted
				s.log.Warn("rtp timestamp discontinuity", "timestamp", pkt.Timestamp)
			}
		}
		if n := tl.clamped; n != clampSeen {
			clampSeen = n
			s.clamped.Add(1)
		}
		if tl.runningFast() {
			au.ClockAhead = true
			if !fastLogged { // logged once per stream, every clamped step counted
				fastLogged = true
				s.log.Warn("rtp clock runs ahead of arrival, frame times follow arrival", "pts", pts, "max_ahead", maxAhead)
			}
		}
		st.accessUnit(now)
		if au.Key {
			st.keyframe(pts)
		}
		au.PTS, au.Received = pts, now
		if ntp, ok := clock.captureTime(pkt.SSRC, pkt.Timestamp); ok {
			off, trusted, changed := skew.check(ntp, now)
			s.clockOffsetNano.Store(int64(off))
			if changed && !trusted {
				s.log.Warn("camera clock is off, frame times from receipt", "offset", off.Round(time.Millisecond))
			} else if changed {
				s.log.Info("camera clock is back in step", "offset", off.Round(time.Millisecond))
			}
			if trusted {
				au.CaptureTime = ntp
			}
		}
		lastAU.Store(now.UnixNano())
		if !firstAU.Load() {
			noKey.Lock()
			firstAU.Store(true)
			if noKey.said {
				s.setState(StateStreaming, "", nil) // a keyframe at last
			}
			noKey.Unlock()
			setupTimer.Stop()
			if s.cfg.Transport != "udp" {
				if b := newReadBatch(s.cfg.ReadBatch, guard.lowatSetter()); b != nil {
					batch.Store(b)
					b.watch()
				}
			}
		}
		batch.Load().accessUnit(now, len(au.Data), au.Key)
		s.h.AccessUnit(au)
	})
	// The handler learns of the new stream before its first access unit,
	// which may arrive as soon as PLAY is answered.
	s.mu.Lock()
	s.status.Codec, s.status.Transport = codec, s.cfg.Transport
	s.mu.Unlock()
	s.h.StreamStarted(StreamInfo{Codec: codec, Transport: s.cfg.Transport})
	step = "play"
	if _, err := c.Play(nil); err != nil {
		return false, fmt.Errorf("play: %w", err)
	}
	s.setState(StateStreaming, "", nil)
	step = "first frame"
	played := time.Now()
	// A stream joined mid-GOP waits up to a GOP for its first keyframe: the
	// status says no_keyframe after stall_timeout, or after 3/2 of the
	// keyframe interval this camera had before, when longer.
	noKeyAfter := max(s.cfg.StallTimeout, time.Duration(s.keyIntervalNano.Load())*3/2)

	wait := make(chan error, 1)
	go func() { wait <- c.Wait() }()
	tick := time.NewTicker(s.cfg.StallTimeout / 4)
	defer tick.Stop()
	for {
		select {
		case err := <-wait:
			return true, err
		case err := <-refused:
			c.Close()
			<-wait
			s.releaseMemory()
			return false, err
		case <-tick.C:
			last := &lastAU
			if !firstAU.Load() {
				last = &lastPacket
				if videoSeen.Load() && s.cfg.Pause.Since(time.Now(), played) > noKeyAfter {
					// Video flows and nothing can be decoded yet: the
					// camera's status and its camera_offline incident say
					// so, not "unreachable", while the connect timeout
					// runs (a long GOP joined mid-GOP ends it well).
					noKey.Lock()
					if !noKey.said && !firstAU.Load() {
						noKey.said = true
						s.setState(StateStreaming, ReasonNoKeyframe, nil)
					}
					noKey.Unlock()
				}
			}
			// A process stall is not the stream's: the timeout counts
			// from its end at the earliest.
			if s.cfg.Pause.Since(time.Now(), time.Unix(0, last.Load())) > s.cfg.StallTimeout {
				c.Close()
				<-wait
				return true, errStalled
			}
		}
	}
}

// pickVideo finds the first H.264 or H.265 video format of the stream.
func pickVideo(desc *description.Session) (*description.Media, format.Format, Codec, depacketizer, *params, error) {
	var found []string
	for _, m := range desc.Medias {
		for _, f := range m.Formats {
			if f, codec, dec, prm, err := pickVideoFormat(f); err == nil || !errors.Is(err, ErrUnsupported) {
				return m, f, codec, dec, prm, err
			}
			found = append(found, string(m.Type)+"/"+f.Codec())
		}
	}
	return nil, nil, "", nil, nil, fmt.Errorf("%w (found %s)", ErrUnsupported, strings.Join(found, ", "))
}

// pickVideoFormat returns the depacketizer and parameter-set tracker of an
// H.264 or H.265 format, or ErrUnsupported.
func pickVideoFormat(f format.Format) (format.Format, Codec, depacketizer, *params, error) {
	switch f := f.(type) {
	case *format.H264:
		d, err := f.CreateDecoder()
		if err != nil {
			return nil, "", nil, nil, fmt.Errorf("h264 depacketizer: %w", err)
		}
		sps, pps := f.SafeParams()
		return f, H264, d, &params{codec: H264, sps: sps, pps: pps}, nil
	case *format.H265:
		d, err := f.CreateDecoder()
		if err != nil {
			return nil, "", nil, nil, fmt.Errorf("h265 depacketizer: %w", err)
		}
		vps, sps, pps := f.SafeParams()
		return f, H265, d, &params{codec: H265, vps: vps, sps: sps, pps: pps}, nil
	}
	return nil, "", nil, nil, ErrUnsupported
}

var (
	_ depacketizer = (*rtph264.Decoder)(nil)
	_ depacketizer = (*rtph265.Decoder)(nil)
)

// classify maps a stream's end to a reason.
func classify(err error) string {
	var status liberrors.ErrClientBadStatusCode
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	switch {
	case err == nil:
		return ReasonClosed
	case errors.Is(err, ErrUnsupported):
		return ReasonUnsupported
	case errors.Is(err, ErrOverLimit):
		return ReasonOverLimit
	case errors.Is(err, errStalled):
		return ReasonStalled
	case errors.Is(err, errNoKeyframe):
		return ReasonNoKeyframe
	case errors.Is(err, errSetupTimeout), errors.As(err, new(liberrors.ErrClientRequestTimedOut)):
		return ReasonTimeout
	case errors.As(err, &status):
		if status.Code == base.StatusUnauthorized || status.Code == base.StatusForbidden {
			return ReasonAuth
		}
		return ReasonBadStream
	case errors.As(err, &certErr):
		return ReasonTLS
	case errors.As(err, &dnsErr):
		return ReasonUnreachable
	case errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	case errors.As(err, &opErr):
		return ReasonUnreachable
	case errors.As(err, new(liberrors.ErrClientTerminated)), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return ReasonClosed
	}
	return ReasonBadStream
}
