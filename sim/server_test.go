package sim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/format"

	"github.com/vigil-video/vigil/internal/await"
)

// checkStream checks a reader's access units: the first is a keyframe and
// the content and timestamps follow the clip from its start.
func checkStream(t *testing.T, clip *Clip, aus []recvAU) {
	t.Helper()
	if len(aus) == 0 {
		t.Fatal("no access units")
	}
	if !aus[0].key {
		t.Error("first access unit after PLAY is not a keyframe")
	}
	want := uint32(90000 / clip.FPS)
	for i, au := range aus {
		if !equalAU(au.nalus, clip.AUs[i%len(clip.AUs)]) {
			t.Errorf("AU %d differs from clip AU %d", i, i%len(clip.AUs))
		}
		if i > 0 && au.ts-aus[i-1].ts != want {
			t.Errorf("AU %d: timestamp delta %d, want %d", i, au.ts-aus[i-1].ts, want)
		}
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name      string
		clip      string
		transport gortsplib.Transport
	}{
		{"tcp h264", "motion", gortsplib.TransportTCP},
		{"udp h264", "motion", gortsplib.TransportUDP},
		{"tcp h265", "motion-h265", gortsplib.TransportTCP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clip := mustClip(t, tt.clip)
			s := startServer(t, Config{UDP: true, Cameras: []Camera{{Path: "cam1", Clip: clip}}})
			const n = 50 // 2 s at 25 fps
			before := time.Now()
			r := play(t, s.URL("cam1"), tt.transport)
			await.Until(t, 15*time.Second, "50 access units", func() bool { return r.auCount() >= n })
			elapsed := time.Since(before)

			aus, _, srs, lost := r.snapshot()
			checkStream(t, clip, aus)
			// The server paces by schedule: AU k is not sent before k/FPS
			// after PLAY, so the reader cannot get n AUs faster than that.
			if min := time.Duration(n-1) * time.Second / 25; elapsed < min {
				t.Errorf("%d AUs in %v, faster than real time (%v)", len(aus), elapsed, min)
			}
			if srs == 0 {
				t.Error("no RTCP sender report received")
			}
			if lost != 0 {
				t.Errorf("%d packets lost on loopback", lost)
			}
			if got := s.SentAccessUnits("cam1"); got < uint64(len(aus)) {
				t.Errorf("SentAccessUnits = %d, reader got %d", got, len(aus))
			}
		})
	}
}

func TestLoopContinuity(t *testing.T) {
	src := mustClip(t, "motion")
	// 25 AUs at 50 fps: the clip loops every 0.5 s, timestamps step 1800.
	clip, err := ParseClip("loop25", H264, annexB(src.AUs[:25]), 50)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Cameras: []Camera{{Path: "loop", Clip: clip}}})
	r := play(t, s.URL("loop"), gortsplib.TransportTCP)
	await.Until(t, 15*time.Second, "three loops", func() bool { return r.auCount() >= 60 })
	aus, _, _, _ := r.snapshot()
	checkStream(t, clip, aus)
	for i, au := range aus {
		if au.key != (i%25 == 0) {
			t.Errorf("AU %d: keyframe=%v", i, au.key)
		}
	}
}

// TestStartAtKeyframe: a camera started at a later keyframe sends the
// clip from it, then loops to its first access unit; RunStart is when the
// first access unit would have played.
func TestStartAtKeyframe(t *testing.T) {
	// Two GOPs of 25 that differ: the motion clip's first, the static
	// clip's first.
	aus := append(slices.Clone(mustClip(t, "motion").AUs[:25]), mustClip(t, "static").AUs[:25]...)
	clip, err := ParseClip("two", H264, annexB(aus), 50)
	if err != nil {
		t.Fatal(err)
	}
	const start = 25
	if !clip.IsKeyframe(start) || equalAU(clip.AUs[0], clip.AUs[start]) {
		t.Fatalf("AU %d of the test clip is not a keyframe other than AU 0", start)
	}
	s := startServer(t, Config{Cameras: []Camera{{Path: "late", Clip: clip, Start: start}}})
	before := time.Now()
	r := play(t, s.URL("late"), gortsplib.TransportTCP)
	await.Until(t, 15*time.Second, "a loop and more", func() bool { return r.auCount() >= 60 })
	got, _, _, _ := r.snapshot()
	for i, au := range got {
		if want := (start + i) % len(clip.AUs); !equalAU(au.nalus, clip.AUs[want]) {
			t.Fatalf("AU %d differs from clip AU %d", i, want)
		}
	}
	if rs, want := s.RunStart("late"), before.Add(-start*time.Second/50); rs.Before(want.Add(-50*time.Millisecond)) || rs.After(want.Add(time.Second)) {
		t.Errorf("RunStart %v after PLAY, want about %v", rs.Sub(before), want.Sub(before))
	}
}

func TestStall(t *testing.T) {
	s := startServer(t, Config{Cameras: []Camera{{Path: "cam", Clip: mustClip(t, "static")}}})
	r := play(t, s.URL("cam"), gortsplib.TransportTCP)
	await.Until(t, 15*time.Second, "10 access units", func() bool { return r.auCount() >= 10 })

	if !s.SetStalled("cam", true) {
		t.Fatal("SetStalled on a known path returned false")
	}
	// Let packets already queued drain.
	last := -1
	await.Until(t, 15*time.Second, "reader to go quiet", func() bool {
		_, p, _, _ := r.snapshot()
		quiet := p == last
		last = p
		time.Sleep(200 * time.Millisecond)
		return quiet
	})
	ausBefore, pktsBefore, srsBefore, _ := r.snapshot()
	sentBefore := s.SentAccessUnits("cam")
	time.Sleep(time.Second)
	_, pktsStalled, srsStalled, _ := r.snapshot()
	if pktsStalled != pktsBefore || srsStalled != srsBefore {
		t.Errorf("while stalled got %d RTP and %d RTCP SR packets", pktsStalled-pktsBefore, srsStalled-srsBefore)
	}
	if got := s.SentAccessUnits("cam"); got != sentBefore {
		t.Errorf("SentAccessUnits advanced from %d to %d while stalled", sentBefore, got)
	}

	s.SetStalled("cam", false)
	await.Until(t, 15*time.Second, "packets after the stall", func() bool { return r.auCount() >= len(ausBefore)+5 })
	aus, _, _, _ := r.snapshot()
	gap := aus[len(ausBefore)].ts - aus[len(ausBefore)-1].ts
	// The clip kept advancing on the wall clock: at least 1 s of frames
	// were skipped, on the 3600 grid.
	if gap%3600 != 0 || gap < 25*3600 {
		t.Errorf("timestamp gap across the stall = %d, want a multiple of 3600 >= %d", gap, 25*3600)
	}
}

func TestDropRateUDP(t *testing.T) {
	s := startServer(t, Config{UDP: true, Cameras: []Camera{{Path: "cam", Clip: mustClip(t, "static")}}})
	if !s.SetDropRate("cam", 0.2) {
		t.Fatal("SetDropRate on a known path returned false")
	}
	r := play(t, s.URL("cam"), gortsplib.TransportUDP)
	await.Until(t, 15*time.Second, "reported packet losses", func() bool {
		_, _, _, lost := r.snapshot()
		return lost > 0
	})
	await.Until(t, 15*time.Second, "access units despite losses", func() bool { return r.auCount() > 0 })
}

func TestCorruptRate(t *testing.T) {
	data, err := clipFS.ReadFile("clips/motion.h264")
	if err != nil {
		t.Fatal(err)
	}
	clip, err := ParseClip("motion-private", H264, data, 25)
	if err != nil {
		t.Fatal(err)
	}
	pristine, err := ParseClip("motion-copy", H264, data, 25)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Cameras: []Camera{{Path: "cam", Clip: clip}}})
	s.SetCorruptRate("cam", 1)
	r := play(t, s.URL("cam"), gortsplib.TransportTCP)
	await.Until(t, 15*time.Second, "10 access units", func() bool { return r.auCount() >= 10 })
	aus, _, _, _ := r.snapshot()
	for i, au := range aus {
		if equalAU(au.nalus, clip.AUs[i]) {
			t.Errorf("AU %d arrived intact with corrupt rate 1", i)
		}
		if i > 0 && au.ts-aus[i-1].ts != 3600 {
			t.Errorf("AU %d: timestamp delta %d", i, au.ts-aus[i-1].ts)
		}
	}
	for i := range clip.AUs {
		if !equalAU(clip.AUs[i], pristine.AUs[i]) {
			t.Fatalf("shared clip AU %d was modified", i)
		}
	}
	for i := range clip.rtp.payloads {
		if string(clip.rtp.payloads[i]) != string(pristine.rtp.payloads[i]) {
			t.Fatalf("shared RTP payload %d was modified", i)
		}
	}
}

func TestAuth(t *testing.T) {
	s := startServer(t, Config{
		User: "admin", Pass: "s3cret",
		Cameras: []Camera{{Path: "cam", Clip: mustClip(t, "static")}},
	})
	tests := []struct {
		name     string
		userinfo string
		ok       bool
	}{
		{"no credentials", "", false},
		{"wrong password", "admin:nope@", false},
		{"wrong user", "root:s3cret@", false},
		{"right credentials", "admin:s3cret@", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := "rtsp://" + tt.userinfo + s.Addr() + "/cam"
			if !tt.ok {
				if _, _, err := dial(t, url, gortsplib.TransportTCP); err == nil {
					t.Fatal("DESCRIBE succeeded")
				}
				return
			}
			r := play(t, url, gortsplib.TransportTCP)
			await.Until(t, 15*time.Second, "an access unit", func() bool { return r.auCount() > 0 })
		})
	}
}

func TestUnsupportedCamera(t *testing.T) {
	s := startServer(t, Config{Cameras: []Camera{{Path: "mjpeg", Unsupported: true}}})
	_, desc, err := dial(t, s.URL("mjpeg"), gortsplib.TransportTCP)
	if err != nil {
		t.Fatal(err)
	}
	var f264 *format.H264
	var f265 *format.H265
	var mjpeg *format.MJPEG
	if desc.FindFormat(&f264) != nil || desc.FindFormat(&f265) != nil {
		t.Error("unsupported camera offers H.264/H.265")
	}
	if desc.FindFormat(&mjpeg) == nil {
		t.Error("unsupported camera has no MJPEG media")
	}
}

func TestUnknownPath(t *testing.T) {
	s := startServer(t, Config{Cameras: []Camera{{Path: "cam", Clip: mustClip(t, "static")}}})
	if _, _, err := dial(t, s.URL("other"), gortsplib.TransportTCP); err == nil {
		t.Error("DESCRIBE of an unknown path succeeded")
	}
	switches := map[string]func() bool{
		"SetStalled":     func() bool { return s.SetStalled("other", true) },
		"SetDropRate":    func() bool { return s.SetDropRate("other", 0.5) },
		"SetCorruptRate": func() bool { return s.SetCorruptRate("other", 0.5) },
		"KickReaders":    func() bool { return s.KickReaders("other") },
	}
	for name, f := range switches {
		t.Run(name, func(t *testing.T) {
			if f() {
				t.Error("returned true for an unknown path")
			}
		})
	}
	if s.SentAccessUnits("other") != 0 {
		t.Error("SentAccessUnits of an unknown path is not 0")
	}
}

func TestKickReaders(t *testing.T) {
	s := startServer(t, Config{Cameras: []Camera{{Path: "cam", Clip: mustClip(t, "static")}}})
	r := play(t, s.URL("cam"), gortsplib.TransportTCP)
	await.Until(t, 15*time.Second, "an access unit", func() bool { return r.auCount() > 0 })
	waitErr := make(chan error, 1)
	go func() { waitErr <- r.c.Wait() }()

	if !s.KickReaders("cam") {
		t.Fatal("KickReaders on a known path returned false")
	}
	select {
	case err := <-waitErr:
		if err == nil {
			t.Error("client ended without error")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("client session still open after KickReaders")
	}

	// The camera restarts its clip for the next reader, once the kicked
	// session is gone.
	cam := s.cams["cam"]
	await.Until(t, 15*time.Second, "kicked session removal", func() bool {
		cam.mu.Lock()
		defer cam.mu.Unlock()
		return len(cam.active) == 0 && len(cam.sessions) == 0
	})
	r2 := play(t, s.URL("cam"), gortsplib.TransportTCP)
	await.Until(t, 15*time.Second, "an access unit", func() bool { return r2.auCount() > 0 })
	aus, _, _, _ := r2.snapshot()
	if !aus[0].key {
		t.Error("first AU after a reconnect is not a keyframe")
	}
}

func TestStartValidation(t *testing.T) {
	clip := mustClip(t, "static")
	tests := []struct {
		name    string
		cameras []Camera
		errPath string
	}{
		{"duplicate path", []Camera{{Path: "a", Clip: clip}, {Path: "a", Clip: clip}}, `"a"`},
		{"nil clip", []Camera{{Path: "ok", Clip: clip}, {Path: "b"}}, `"b"`},
		{"leading slash", []Camera{{Path: "/c", Clip: clip}}, `"/c"`},
		{"empty path", []Camera{{Clip: clip}}, "camera 0"},
		{"start not a keyframe", []Camera{{Path: "d", Clip: clip, Start: 1}}, `"d"`},
		{"start past the clip", []Camera{{Path: "e", Clip: clip, Start: len(clip.AUs)}}, `"e"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Start(Config{Address: "127.0.0.1:0", Cameras: tt.cameras})
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tt.errPath) {
				t.Errorf("err = %v, want ErrBadConfig naming %s", err, tt.errPath)
			}
		})
	}
	if _, err := Start(Config{Address: "127.0.0.1:bad"}); err == nil {
		t.Error("bad address: no error")
	}
}

func TestServerLifecycle(t *testing.T) {
	clip := mustClip(t, "static")
	cams := make([]Camera, 20)
	for i := range cams {
		cams[i] = Camera{Path: fmt.Sprintf("cam%03d", i), Clip: clip}
	}
	s, err := Start(Config{Address: "127.0.0.1:0", UDP: true, Cameras: cams})
	if err != nil {
		t.Fatal(err)
	}
	if want := "rtsp://" + s.Addr() + "/cam001"; s.URL("cam001") != want {
		t.Errorf("URL = %q, want %q", s.URL("cam001"), want)
	}
	r := play(t, s.URL("cam007"), gortsplib.TransportTCP)
	await.Until(t, 15*time.Second, "an access unit", func() bool { return r.auCount() > 0 })
	for _, c := range cams {
		if c.Path != "cam007" && s.SentAccessUnits(c.Path) != 0 {
			t.Errorf("%s sent access units without readers", c.Path)
		}
	}
	s.Close()
	s.Close() // idempotent
	if err := r.c.Wait(); err == nil {
		t.Error("client still fine after server Close")
	}
}

func TestURLOnAllInterfaces(t *testing.T) {
	s := startServer(t, Config{Address: ":0", Cameras: []Camera{{Path: "cam", Clip: mustClip(t, "static")}}})
	if !strings.HasPrefix(s.URL("cam"), "rtsp://127.0.0.1:") {
		t.Errorf("URL = %q, want a loopback host", s.URL("cam"))
	}
	if _, _, err := dial(t, s.URL("cam"), gortsplib.TransportTCP); err != nil {
		t.Errorf("describe %s: %v", s.URL("cam"), err)
	}
}

// TestReadWholeKeyframes1080p: a 1080p keyframe of real footage (370 KB,
// 265 RTP packets sent at once) reaches a TCP reader whole, as every
// other access unit of the clip.
func TestReadWholeKeyframes1080p(t *testing.T) {
	// testkit.CamClip would import this package: the clip from the
	// directory scripts/test.sh makes ($VIGIL_CAMCLIPS).
	dir := os.Getenv("VIGIL_CAMCLIPS")
	if dir == "" {
		dir = filepath.Join("..", ".cache", "camclips")
	}
	path := filepath.Join(dir, "main-static.h264")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no camera-realistic clips (bash scripts/camclips.sh %s): %v", dir, err)
	}
	clip, err := LoadClip(path, 15)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Cameras: []Camera{{Path: "cam1", Clip: clip}}})
	r := play(t, s.URL("cam1"), gortsplib.TransportTCP)
	await.Until(t, 20*time.Second, "two GOPs", func() bool { return r.auCount() >= 61 })
	aus, _, _, lost := r.snapshot()
	checkStream(t, clip, aus)
	if lost != 0 {
		t.Errorf("%d packets lost on loopback", lost)
	}
}
