package engine

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/sim"
)

// TestRTSPSAndH265: rtsps with a CA file and with an explicit skip-verify
// streams; without either the certificate is refused and only that camera
// fails. An H.265 camera decodes.
func TestRTSPSAndH265(t *testing.T) {
	cert, caPEM := testkit.SelfSigned(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	secure, err := sim.Start(sim.Config{Address: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{cert}},
		Cameras: []sim.Camera{{Path: "cam", Clip: clip(t, "static")}}})
	if err != nil {
		t.Fatal(err)
	}
	defer secure.Close()
	plain := startSim(t, sim.Camera{Path: "hevc", Clip: clip(t, "motion-h265")})

	trusted := fastCamera("trusted", secure.URL("cam"))
	trusted.CAFile = ca
	skip := fastCamera("skip", secure.URL("cam"))
	skip.TLSSkipVerify = true
	untrusted := fastCamera("untrusted", secure.URL("cam"))
	hevc := fastCamera("hevc", plain.URL("hevc"))
	e, _, _ := startEngine(t, trusted, skip, untrusted, hevc)

	decoded := func(id string) float64 { return testutil.ToFloat64(e.metrics.FramesDecoded.WithLabelValues(id)) }
	await.Until(t, 20*time.Second, "rtsps and h265 cameras decoding", func() bool {
		return decoded("trusted") > 25 && decoded("skip") > 25 && decoded("hevc") > 25
	})
	if s := e.statusOf(t, "hevc"); s.Codec != "h265" {
		t.Errorf("hevc camera codec %q", s.Codec)
	}
	// Refused with reason tls (between attempts: a new attempt clears the
	// reason while it connects, and keeps the last error).
	var s api.CameraStatus
	await.Until(t, 10*time.Second, "the untrusted certificate to be refused", func() bool {
		s = e.statusOf(t, "untrusted")
		return s.Reason == "tls"
	})
	if s.State == "streaming" || e.received("untrusted") != 0 || s.LastError == "" {
		t.Errorf("a camera with an unknown certificate streams: %+v", s)
	} else {
		t.Logf("untrusted camera: %s / %s: %s", s.State, s.Reason, s.LastError)
	}
}
