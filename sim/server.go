package sim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
)

// Camera describes one simulated camera.
type Camera struct {
	Path string // RTSP path without leading slash, e.g. "cam001"
	Clip *Clip  // looped clip; nil only with Unsupported
	// Unsupported serves a single MJPEG video media (and no packets) instead
	// of the clip, so clients can test "codec not supported".
	Unsupported bool
	// Realism switches camera-like behaviour on (see CameraLike).
	Realism Realism
	// Start is the access unit each run starts from, a keyframe of Clip
	// (0: the first): cameras on one clip started at different keyframes
	// show its events at different times, as a city's cameras do.
	Start int
}

// Config configures Start.
type Config struct {
	// Address is the RTSP TCP listen address, e.g. "127.0.0.1:8554"; port 0
	// picks a free port (see Server.Addr). Empty means "127.0.0.1:0".
	Address string
	// UDP also serves the UDP transport, on a free even/odd RTP/RTCP port
	// pair of the Address host.
	UDP bool
	// User and Pass, when User is set, require RTSP authentication (basic or
	// digest MD5) for DESCRIBE and SETUP.
	User, Pass string
	// TLS, when set, serves RTSPS (TCP only) with this configuration.
	TLS     *tls.Config
	Cameras []Camera
	Logger  *slog.Logger // nil: discard
}

// ErrBadConfig is wrapped by Start errors caused by an invalid Config.
var ErrBadConfig = errors.New("bad simulator config")

// Server serves simulated cameras over RTSP. Its methods are safe for
// concurrent use.
type Server struct {
	log  *slog.Logger
	user string
	pass string
	tls  bool
	addr string
	cams map[string]*camera // filled under mu in Start, then read-only
	rtsp *gortsplib.Server

	mu      sync.Mutex
	setups  map[*gortsplib.ServerSession]*camera // sessions that set up a camera
	pending map[*gortsplib.ServerConn]pendingPlay

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// pendingPlay is a PLAY accepted by OnPlay whose response is not sent yet.
type pendingPlay struct {
	cam *camera
	ss  *gortsplib.ServerSession
}

// Start validates cfg, listens and starts serving. Cameras cost nothing until
// a client plays them. Close must be called to release the server.
func Start(cfg Config) (*Server, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	s := &Server{
		log:     cfg.Logger,
		user:    cfg.User,
		pass:    cfg.Pass,
		tls:     cfg.TLS != nil,
		cams:    make(map[string]*camera, len(cfg.Cameras)),
		setups:  make(map[*gortsplib.ServerSession]*camera),
		pending: make(map[*gortsplib.ServerConn]pendingPlay),
		done:    make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}

	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("listen rtsp: %w", err)
	}
	s.addr = ln.Addr().String()
	s.rtsp = &gortsplib.Server{
		Handler:     &handler{s: s},
		RTSPAddress: s.addr,
		// Cameras send their own sender reports, so that SetStalled
		// silences RTCP too.
		DisableRTCPSenderReports: true,
		// A 1080p keyframe of real footage is 370 KB, 265 RTP packets sent
		// at once; gortsplib's default queue of 256 dropped its tail, and
		// cameras received keyframes without their last slices.
		WriteQueueSize: 2048,
		Listen: func(string, string) (net.Listener, error) {
			return ln, nil
		},
		TLSConfig: cfg.TLS,
	}
	if cfg.UDP {
		rtpConn, rtcpConn, err := listenUDPPair(ln.Addr().(*net.TCPAddr).IP)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen udp: %w", err)
		}
		s.rtsp.UDPRTPAddress = rtpConn.LocalAddr().String()
		s.rtsp.UDPRTCPAddress = rtcpConn.LocalAddr().String()
		s.rtsp.ListenPacket = func(network, address string) (net.PacketConn, error) {
			switch address {
			case s.rtsp.UDPRTPAddress:
				return rtpConn, nil
			case s.rtsp.UDPRTCPAddress:
				return rtcpConn, nil
			}
			return net.ListenPacket(network, address)
		}
		if err := s.rtsp.Start(); err != nil {
			ln.Close()
			rtpConn.Close() // double Close after gortsplib's is harmless
			rtcpConn.Close()
			return nil, fmt.Errorf("start rtsp server: %w", err)
		}
	} else if err := s.rtsp.Start(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("start rtsp server: %w", err)
	}

	// Clients may connect already: the handler reads cams under mu.
	s.mu.Lock()
	for _, cc := range cfg.Cameras {
		cam, cerr := newCamera(s.rtsp, cc)
		if cerr != nil {
			s.mu.Unlock()
			s.Close()
			return nil, fmt.Errorf("camera %q: %w", cc.Path, cerr)
		}
		s.cams[cc.Path] = cam
	}
	s.mu.Unlock()
	for _, cam := range s.cams {
		if cam.clip != nil {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				cam.run(s.done)
			}()
		}
	}
	s.log.Info("sim_started", "addr", s.addr, "udp", cfg.UDP, "cameras", len(s.cams))
	return s, nil
}

func validate(cfg Config) error {
	seen := make(map[string]bool, len(cfg.Cameras))
	for i, c := range cfg.Cameras {
		switch {
		case c.Path == "":
			return fmt.Errorf("camera %d: empty path: %w", i, ErrBadConfig)
		case strings.HasPrefix(c.Path, "/"):
			return fmt.Errorf("camera %q: path must not start with '/': %w", c.Path, ErrBadConfig)
		case seen[c.Path]:
			return fmt.Errorf("camera %q: duplicate path: %w", c.Path, ErrBadConfig)
		case c.Clip == nil && !c.Unsupported:
			return fmt.Errorf("camera %q: nil clip: %w", c.Path, ErrBadConfig)
		case c.Clip != nil && len(c.Clip.AUs) == 0:
			return fmt.Errorf("camera %q: clip %q has no access units: %w", c.Path, c.Clip.Name, ErrBadConfig)
		case c.Start != 0 && (c.Clip == nil || c.Start < 0 || c.Start >= len(c.Clip.AUs) || !c.Clip.IsKeyframe(c.Start)):
			return fmt.Errorf("camera %q: start %d is not a keyframe of its clip: %w", c.Path, c.Start, ErrBadConfig)
		}
		seen[c.Path] = true
	}
	return nil
}

// listenUDPPair opens two UDP sockets on ip with consecutive even/odd ports.
func listenUDPPair(ip net.IP) (*net.UDPConn, *net.UDPConn, error) {
	var lastErr error
	for range 100 {
		rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err != nil {
			return nil, nil, err
		}
		port := rtpConn.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 {
			rtpConn.Close()
			continue
		}
		rtcpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port + 1})
		if err != nil {
			rtpConn.Close()
			lastErr = err
			continue
		}
		return rtpConn, rtcpConn, nil
	}
	return nil, nil, fmt.Errorf("no free even/odd port pair: %v", lastErr)
}

// Addr returns the actual RTSP host:port.
func (s *Server) Addr() string { return s.addr }

// URL returns "rtsp://host:port/path" (without credentials). When listening
// on all interfaces, host is 127.0.0.1.
func (s *Server) URL(path string) string {
	host := s.addr
	if ap, err := netip.ParseAddrPort(host); err == nil && ap.Addr().IsUnspecified() {
		host = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), ap.Port()).String()
	}
	scheme := "rtsp://"
	if s.tls {
		scheme = "rtsps://"
	}
	return scheme + host + "/" + strings.TrimPrefix(path, "/")
}

// Close disconnects every client, stops all cameras and waits for the
// server's goroutines. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.wg.Wait()
		for _, cam := range s.cams {
			cam.stream.Close()
			cam.audioOnly.Close()
		}
		s.rtsp.Close()
		s.log.Info("sim_closed", "addr", s.addr)
	})
}

// SetStalled stops (or resumes) sending RTP and RTCP for the camera while
// keeping its sessions and connections open. The clip keeps advancing in
// time while stalled. It returns false for an unknown path.
func (s *Server) SetStalled(path string, stalled bool) bool {
	cam := s.cams[path]
	if cam == nil {
		return false
	}
	cam.stalled.Store(stalled)
	return true
}

// SetAudioOnly makes DESCRIBE offer an audio-only stream (one G.711
// track, no video), as a camera whose video encoder is off does, or the
// camera's video again. It returns false for an unknown path.
func (s *Server) SetAudioOnly(path string, on bool) bool {
	cam := s.cams[path]
	if cam == nil {
		return false
	}
	cam.offerAudioOnly.Store(on)
	return true
}

// SetTimestampStep makes the camera's RTP timestamps advance by step per
// frame, whatever its frame rate (a camera whose RTP clock runs fast when
// step is above 1/FPS), or by 1/FPS again when step is 0. Frames are still
// sent at the clip's rate. It returns false for an unknown path.
func (s *Server) SetTimestampStep(path string, step time.Duration) bool {
	cam := s.cams[path]
	if cam == nil {
		return false
	}
	cam.tsStep.Store(int64(step))
	return true
}

// SetFrozenTimestamps makes the camera send every access unit with the
// RTP timestamp of the one before (a broken encoder or relay), or resume
// advancing them. It returns false for an unknown path.
func (s *Server) SetFrozenTimestamps(path string, frozen bool) bool {
	cam := s.cams[path]
	if cam == nil {
		return false
	}
	cam.frozenTS.Store(frozen)
	return true
}

// SetBlank makes the camera send access units of filler data instead of
// pictures (an encoder that lost its input), or resume sending its clip.
// It returns false for an unknown path.
func (s *Server) SetBlank(path string, blank bool) bool {
	cam := s.cams[path]
	if cam == nil {
		return false
	}
	cam.blank.Store(blank)
	return true
}

// RunStart returns when the camera's current run started playing the
// clip from its first frame (Camera.Start before the run's first frame):
// the NTP time of the sender reports maps clip offset d to RunStart+d
// (during the first loop, d from Camera.Start's offset). With Start over
// 0 it is before the run's PLAY: what plays at RunStart+d for d under
// Start's offset is never sent in the first loop (bench accuracy, which
// times events from RunStart, starts its cameras at 0). It is zero before
// anyone played the camera, or for an unknown path.
func (s *Server) RunStart(path string) time.Time {
	cam := s.cams[path]
	if cam == nil || cam.runStart.Load() == 0 {
		return time.Time{}
	}
	return time.Unix(0, cam.runStart.Load())
}

// SetDropRate makes the camera drop share p (0..1) of its RTP packets before
// sending them (sequence numbers still advance), chosen by a PRNG seeded from
// the path. It returns false for an unknown path.
func (s *Server) SetDropRate(path string, p float64) bool {
	cam := s.cams[path]
	if cam == nil {
		return false
	}
	cam.dropThresh.Store(threshold(p))
	return true
}

// SetCorruptRate makes share p (0..1) of the camera's access units arrive
// damaged: random bytes of their slices flipped, or their last slice
// truncated. Damage is done on a copy; the shared clip is never modified.
// It returns false for an unknown path.
func (s *Server) SetCorruptRate(path string, p float64) bool {
	cam := s.cams[path]
	if cam == nil {
		return false
	}
	cam.corruptThresh.Store(threshold(p))
	return true
}

// KickReaders closes the current sessions (and their connections) of the
// camera, as a camera reboot would. It does not wait for them to be gone.
// It returns false for an unknown path.
func (s *Server) KickReaders(path string) bool {
	cam := s.cams[path]
	if cam == nil {
		return false
	}
	cam.kick()
	return true
}

// SentAccessUnits returns how many access units the camera has written so
// far (to all its readers at once; stalled time does not count). Unknown
// paths return 0.
func (s *Server) SentAccessUnits(path string) uint64 {
	cam := s.cams[path]
	if cam == nil {
		return 0
	}
	return cam.sentAUs.Load()
}
