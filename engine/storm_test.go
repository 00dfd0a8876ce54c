package engine

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/incident"
)

// flakyRTSP serves a loopback port that fails every RTSP client in turn
// another way: the connection closed at once, 401 Unauthorized, 500
// Internal Server Error. A camera behind it changes its failure reason at
// every reconnection. It returns the address.
func flakyRTSP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Uint64
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				mode := n.Add(1) % 3
				if mode == 0 {
					return
				}
				conn.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
				r := bufio.NewReader(conn)
				cseq := "1"
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "CSeq") {
						cseq = strings.TrimSpace(v)
					}
					if l == "\r\n" {
						break
					}
				}
				status := "401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"cam\""
				if mode == 2 {
					status = "500 Internal Server Error"
				}
				conn.Write([]byte("RTSP/1.0 " + status + "\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n")) //nolint:errcheck
			}()
		}
	}()
	return ln.Addr().String()
}

// envInt returns the integer in the environment variable name, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestReconnectStormUpdatesHeld (issue 23): cameras whose server fails
// each reconnection another way (closed, 401, 500), with a fast backoff,
// change their camera_offline cause at nearly every attempt; each incident
// sends at most one update per health_update_interval, the other changes
// are counted in vigil_health_updates_held_total, and the incident stays
// one. VIGIL_STORM_CAMERAS, VIGIL_STORM_SECONDS and VIGIL_STORM_INTERVAL
// (seconds) scale it up for BENCHMARKS.md.
func TestReconnectStormUpdatesHeld(t *testing.T) {
	cams := envInt("VIGIL_STORM_CAMERAS", 10)
	secs := envInt("VIGIL_STORM_SECONDS", 6)
	every := time.Duration(envInt("VIGIL_STORM_INTERVAL", 1)) * time.Second
	addr := flakyRTSP(t)
	var list []config.Camera
	for i := range cams {
		c := cameraConfig("cam"+strconv.Itoa(i), "rtsp://"+addr+"/stream"+strconv.Itoa(i))
		c.BackoffMin, c.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
		c.OfflineGrace = 100 * time.Millisecond
		c.HealthUpdateInterval = every
		list = append(list, c)
	}
	e, events, _ := startEngine(t, list...)
	start := time.Now()
	time.Sleep(time.Duration(secs) * time.Second)
	elapsed := time.Since(start)
	var updates, starts, reconnects, held int
	for i := range cams {
		id := "cam" + strconv.Itoa(i)
		n := 0
		causes := map[string]bool{}
		for _, ev := range events.of(id) {
			if ev.Data.Kind != health.KindCameraOffline {
				continue
			}
			causes[ev.Data.Cause] = true
			switch ev.Type {
			case incident.TypeUpdate:
				n++
			case incident.TypeStart:
				starts++
			}
		}
		updates += n
		h := int(testutil.ToFloat64(e.metrics.HealthUpdatesHeld.WithLabelValues(id, health.KindCameraOffline)))
		held += h
		for _, r := range []string{"closed", "auth", "bad_stream", "unreachable", "timeout"} {
			reconnects += int(testutil.ToFloat64(e.metrics.Reconnects.WithLabelValues(id, r)))
		}
		if most := int(elapsed/every) + 1; n > most {
			t.Errorf("%s: %d updates in %v, want %d at most (one per %v)", id, n, elapsed, most, every)
		}
		if len(causes) < 2 || h == 0 {
			t.Errorf("%s: causes %v, %d changes held: the storm did not change the cause", id, causes, h)
		}
	}
	if starts != cams {
		t.Errorf("%d camera_offline starts for %d cameras, want one each", starts, cams)
	}
	t.Logf("%d cameras, %v: %d reconnections, %d camera_offline starts, %d updates, %d cause changes held",
		cams, elapsed.Round(time.Second), reconnects, starts, updates, held)
}
