package sim

import (
	"bytes"
	"sync"
	"testing"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// recvAU is an access unit depacketized by a test reader.
type recvAU struct {
	ts    uint32
	key   bool
	nalus [][]byte
}

// reader is a real gortsplib client playing one camera and recording what
// it receives.
type reader struct {
	c *gortsplib.Client

	mu      sync.Mutex
	aus     []recvAU
	packets int
	srs     int
	lost    uint64
}

func (r *reader) snapshot() (aus []recvAU, packets, srs int, lost uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recvAU(nil), r.aus...), r.packets, r.srs, r.lost
}

func (r *reader) auCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.aus)
}

// dial connects to rawURL and DESCRIBEs it; the client is closed at test end.
func dial(t *testing.T, rawURL string, transport gortsplib.Transport) (*gortsplib.Client, *description.Session, error) {
	t.Helper()
	u, err := base.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &transport}
	if err := c.Start2(); err != nil {
		return nil, nil, err
	}
	t.Cleanup(c.Close)
	desc, _, err := c.Describe(u)
	if err != nil {
		return c, nil, err
	}
	return c, desc, nil
}

// play starts a reader on the camera at rawURL; setup runs before PLAY.
func play(t *testing.T, rawURL string, transport gortsplib.Transport) *reader {
	t.Helper()
	c, desc, err := dial(t, rawURL, transport)
	if err != nil {
		t.Fatalf("describe %s: %v", rawURL, err)
	}
	r := &reader{c: c}
	c.OnPacketsLost = func(lost uint64) {
		r.mu.Lock()
		r.lost += lost
		r.mu.Unlock()
	}

	var decode func(*rtp.Packet) ([][]byte, error)
	var isKey func([][]byte) bool
	var medi *description.Media
	var f264 *format.H264
	var f265 *format.H265
	if medi = desc.FindFormat(&f264); medi != nil {
		d, err := f264.CreateDecoder()
		if err != nil {
			t.Fatal(err)
		}
		decode, isKey = d.Decode, h264.IsRandomAccess
	} else if medi = desc.FindFormat(&f265); medi != nil {
		d, err := f265.CreateDecoder()
		if err != nil {
			t.Fatal(err)
		}
		decode, isKey = d.Decode, h265.IsRandomAccess
	} else {
		t.Fatalf("%s: no H.264/H.265 media in %v", rawURL, desc.Medias)
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		t.Fatalf("setup: %v", err)
	}
	c.OnPacketRTPAny(func(_ *description.Media, _ format.Format, pkt *rtp.Packet) {
		au, err := decode(pkt)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.packets++
		if err != nil {
			return
		}
		cp := make([][]byte, len(au))
		for i, n := range au {
			cp[i] = bytes.Clone(n)
		}
		r.aus = append(r.aus, recvAU{ts: pkt.Timestamp, key: isKey(au), nalus: cp})
	})
	c.OnPacketRTCPAny(func(_ *description.Media, pkt rtcp.Packet) {
		if _, ok := pkt.(*rtcp.SenderReport); ok {
			r.mu.Lock()
			r.srs++
			r.mu.Unlock()
		}
	})
	if _, err := c.Play(nil); err != nil {
		t.Fatalf("play: %v", err)
	}
	return r
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline (it guards against hangs, it does not measure speed).
// startServer starts a simulator and closes it at test end.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func mustClip(t testing.TB, name string) *Clip {
	t.Helper()
	c, err := EmbeddedClip(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// annexB joins access units into an Annex-B stream.
func annexB(aus [][][]byte) []byte {
	var b []byte
	for _, au := range aus {
		for _, n := range au {
			b = append(b, 0, 0, 0, 1)
			b = append(b, n...)
		}
	}
	return b
}

func equalAU(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
