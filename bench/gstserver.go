package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-video/vigil/internal/sleep"
	"github.com/vigil-video/vigil/sim"
)

// Servers name what serves the cameras of `bench live`: vigil's own
// simulator, or GStreamer's RTSP server (an independent implementation
// of RTSP and of the H.264/H.265 payloaders).
const (
	ServerSim = "sim"
	ServerGst = "gst"
)

// gstScriptEnv names the GStreamer RTSP server script when the bench does
// not run from the repository.
const gstScriptEnv = "VIGIL_GST_RTSP_SERVER"

// gstChild is a running scripts/gst-rtsp-server.py: one mount per clip of
// the mix, each a looped Matroska copy long enough for the run (the
// server starts every client's pipeline at the clip's start and ends the
// stream with the clip).
type gstChild struct {
	*child
	urls  []string
	clips []string // the clip of each camera, by index
	dir   string
}

// gstScript finds scripts/gst-rtsp-server.py: $VIGIL_GST_RTSP_SERVER, or
// the working directory and its parents.
func gstScript() (string, error) {
	if p := os.Getenv(gstScriptEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", gstScriptEnv, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "gst-rtsp-server.py")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("scripts/gst-rtsp-server.py not found from the working directory: run from vigil's repository or set %s", gstScriptEnv)
		}
		dir = up
	}
}

// startGstChild serves the clips spec assigns to n cameras with GStreamer's
// RTSP server, each clip looped to last at least length.
func startGstChild(ctx context.Context, spec string, n int, length time.Duration, udp bool, logs io.Writer) (*gstChild, error) {
	script, err := gstScript()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("--server gst loops the clips with ffmpeg: %w", err)
	}
	assign, files, err := assignClipFiles(spec, n, 0)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vigil-bench-gst-")
	if err != nil {
		return nil, err
	}
	g := &gstChild{dir: dir}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	mounts := map[string]string{} // the clip as the spec names it -> mount
	var args []string
	for i, c := range assign {
		if _, done := mounts[files[i]]; done {
			continue
		}
		m := fmt.Sprintf("clip%d", len(mounts)+1)
		looped, err := loopedMKV(ctx, filepath.Join(dir, m), c, files[i], length)
		if err != nil {
			return nil, fmt.Errorf("clip %s: %w", files[i], err)
		}
		mounts[files[i]] = m
		args = append(args, "--clip", m+"="+looped)
	}
	protocols := "tcp"
	if udp {
		protocols = "udp"
	}
	args = append([]string{script, "--port", "0", "--protocols", protocols}, args...)
	c, out, err := startChild(ctx, "/usr/bin/python3", args, nil, logs, true)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", script, err)
	}
	g.child = c
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, found := strings.CutPrefix(sc.Text(), "ready "); found {
				port <- p
			}
		}
		close(port)
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(30 * time.Second):
	}
	if p == "" {
		c.stop(time.Second)
		return nil, fmt.Errorf("%s did not say ready (Debian: gir1.2-gst-rtsp-server-1.0, python3-gi; scripts/setup.sh installs them)", script)
	}
	for i, a := range assign {
		g.urls = append(g.urls, "rtsp://127.0.0.1:"+p+"/"+mounts[files[i]])
		g.clips = append(g.clips, a.Name)
	}
	ok = true
	return g, nil
}

func (g *gstChild) close() {
	g.stop(5 * time.Second)
	os.RemoveAll(g.dir)
}

// loopedMKV writes clip c (file as the spec names it: a file, or an
// embedded clip's name) looped to last at least length, as
// DIR/NAME.h264.mkv or .h265.mkv (DIR made here): what the GStreamer
// server script reads. A raw stream is muxed at the clip's frame rate, a
// container's video copied; the loops are copied, not re-encoded.
func loopedMKV(ctx context.Context, dir string, c *sim.Clip, file string, length time.Duration) (string, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	codec, format := ".h264", "h264"
	if c.Codec == sim.H265 {
		codec, format = ".h265", "hevc"
	}
	ffmpeg := func(args ...string) error {
		args = append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)
		if b, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ffmpeg %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(b)))
		}
		return nil
	}
	// ffmpeg loops a container, not a raw stream (-stream_loop plays a raw
	// stream once): a raw clip is muxed first.
	src := file
	if data, ext, err := sim.EmbeddedClipData(file); err == nil {
		src = filepath.Join(dir, "embedded"+ext)
		if err := os.WriteFile(src, data, 0o600); err != nil {
			return "", err
		}
	} else if _, err := os.Stat(file + ".mkv"); err == nil && isRawStream(file) {
		src = file + ".mkv" // scripts/camclips.sh's Matroska copy
	}
	if !strings.EqualFold(filepath.Ext(src), ".mkv") {
		in := []string{"-i", src}
		if isRawStream(src) {
			in = []string{"-r", fmtFloat(c.FPS), "-f", format, "-i", src}
		}
		muxed := filepath.Join(dir, "once.mkv")
		if err := ffmpeg(append(in, "-map", "0:v:0", "-c", "copy", muxed)...); err != nil {
			return "", err
		}
		src = muxed
	}
	loops := 1
	if d := c.Duration(); d > 0 {
		loops = int(math.Ceil(float64(length) / float64(d)))
	}
	out := filepath.Join(dir, strings.TrimSuffix(c.Name, codec)+codec+".mkv")
	if err := ffmpeg("-stream_loop", strconv.Itoa(max(loops-1, 0)), "-i", src, "-map", "0:v:0", "-c", "copy", out); err != nil {
		return "", err
	}
	return out, nil
}

// isRawStream tells an Annex-B elementary stream by its name, as
// sim.LoadClip does.
func isRawStream(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".h264", ".264", ".h265", ".265", ".hevc":
		return true
	}
	return false
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// ffmpegThrough measures one `ffmpeg -threads 1 -i URL -f null -` per URL
// (decoding only, over RTSP from the same server as the engine): the CPU
// per camera over the window after warmup, and the frames a second each
// decoded (to tell whether it kept up), from its -progress reports
// bracketing the window and their arrival times; and when the window
// started.
func ffmpegThrough(ctx context.Context, urls []string, udp bool, warmup, window time.Duration, logs io.Writer) (coresPerCamera, fps float64, start time.Time, err error) {
	transport := "tcp"
	if udp {
		transport = "udp"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type report struct {
		frames float64
		at     time.Time
	}
	var mu sync.Mutex
	last := make([]report, len(urls))
	var procs []*child
	var wg sync.WaitGroup
	defer func() {
		var sw sync.WaitGroup
		for _, p := range procs {
			sw.Add(1)
			go func() { defer sw.Done(); p.stop(5 * time.Second) }()
		}
		sw.Wait()
		wg.Wait()
	}()
	pids := make([]int, 0, len(urls))
	for i, u := range urls {
		args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "1",
			"-rtsp_transport", transport, "-i", u, "-an", "-fps_mode", "passthrough", "-f", "null", "-progress", "pipe:1", "-"}
		c, out, err := startChild(ctx, "ffmpeg", args, nil, logs, true)
		if err != nil {
			return 0, 0, time.Time{}, err
		}
		procs = append(procs, c)
		pids = append(pids, c.pid())
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if v, found := strings.CutPrefix(sc.Text(), "frame="); found {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
						mu.Lock()
						last[i] = report{f, time.Now()}
						mu.Unlock()
					}
				}
			}
		}()
	}
	exited := func(when string) error {
		for _, p := range procs {
			select {
			case err := <-p.wait:
				p.wait <- err
				return fmt.Errorf("an ffmpeg reading through the server exited %s (run with -v for its errors)", when)
			default:
			}
		}
		return nil
	}
	snapshot := func() []report {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(last)
	}
	if !sleep.For(ctx, warmup) {
		return 0, 0, time.Time{}, ctx.Err()
	}
	if err := exited("during its warm-up"); err != nil {
		return 0, 0, time.Time{}, err
	}
	r0 := snapshot()
	m := startMeter(pids)
	start = time.Now()
	if !sleep.For(ctx, window) {
		return 0, 0, time.Time{}, ctx.Err()
	}
	st := m.end(len(urls))
	// -progress reports every 0.5 s: wait for one after the window.
	if !sleep.For(ctx, 600*time.Millisecond) {
		return 0, 0, time.Time{}, ctx.Err()
	}
	if err := exited("during its window"); err != nil {
		return 0, 0, time.Time{}, err
	}
	r1 := snapshot()
	n := 0
	for i := range r1 {
		if dt := r1[i].at.Sub(r0[i].at).Seconds(); dt > 0 && !r0[i].at.IsZero() {
			fps += (r1[i].frames - r0[i].frames) / dt
			n++
		}
	}
	if n > 0 {
		fps /= float64(n)
	}
	return st.CoresPerCamera, fps, start, nil
}

// ffmpegThroughWarmup is waited after the ffmpeg processes start reading
// through the server, before their window: ffmpeg probes an RTSP input
// for up to 5 s (analyzeduration) before it decodes, then catches up, and
// that catching up must not fall in the window.
const ffmpegThroughWarmup = 12 * time.Second

// cameraSource is what serves a live run's cameras.
type cameraSource struct {
	server string // ServerSim or ServerGst
	urls   []string
	clips  []string // the clip of each camera, by index
	pid    int
	once   sync.Once
	end    func() float64
	sent   float64
}

// stop stops the server (once) and returns the access units it says it
// sent (0 when it cannot say).
func (s *cameraSource) stop() float64 {
	s.once.Do(func() { s.sent = s.end() })
	return s.sent
}

// startSource starts what serves n cameras of the clips spec: server is
// ServerSim ("" too) or ServerGst; run is how long the cameras are read
// after they are up (warm-ups and windows), for the GStreamer server's
// looped copies.
func startSource(ctx context.Context, bin, server string, n int, clips string, udp, stagger bool, run time.Duration, logs io.Writer) (*cameraSource, error) {
	if stagger && server == ServerGst {
		return nil, fmt.Errorf("stagger: only the simulator starts cameras at other keyframes (GStreamer's server starts each client at the clip's start)")
	}
	switch server {
	case "", ServerSim:
		s, err := startSimChild(ctx, bin, n, clips, udp, stagger, logs)
		if err != nil {
			return nil, err
		}
		return &cameraSource{server: ServerSim, urls: s.urls, clips: s.clips, pid: s.pid(), end: s.stopAndCount}, nil
	case ServerGst:
		// Long enough for the start-up wait and the run: every client
		// starts the clip at its PLAY.
		length := 60*time.Second + time.Duration(n)*50*time.Millisecond + run + 30*time.Second
		g, err := startGstChild(ctx, clips, n, length, udp, logs)
		if err != nil {
			return nil, err
		}
		return &cameraSource{server: ServerGst, urls: g.urls, clips: g.clips, pid: g.pid(), end: func() float64 { g.close(); return 0 }}, nil
	}
	return nil, fmt.Errorf("server %q: want %s or %s", server, ServerSim, ServerGst)
}
