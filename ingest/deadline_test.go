package ingest_test

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/unit"
)

// stateRecorder is a Handler keeping the states and reasons it is told.
type stateRecorder struct {
	mu      sync.Mutex
	states  []ingest.State
	reasons []string
	errs    []string
	aus     int
}

func (r *stateRecorder) StreamStarted(ingest.StreamInfo) {}
func (r *stateRecorder) AccessUnit(unit.AccessUnit) {
	r.mu.Lock()
	r.aus++
	r.mu.Unlock()
}
func (r *stateRecorder) StateChanged(s ingest.State, reason string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states, r.reasons = append(r.states, s), append(r.reasons, reason)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	r.errs = append(r.errs, msg)
}

// first returns the first state s and its reason and error, and whether
// there is one.
func (r *stateRecorder) first(s ingest.State) (reason, err string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, st := range r.states {
		if st == s {
			return r.reasons[i], r.errs[i], true
		}
	}
	return "", "", false
}

// silentServer accepts TCP connections and never writes a byte: a TLS
// handshake or an RTSP request sent to it is never answered. With
// answerOptions it answers OPTIONS (so the client goes on to DESCRIBE)
// and nothing else. It returns its address.
func silentServer(t *testing.T, answerOptions bool) string {
	if answerOptions {
		return testkit.SilentServer(t, answerOnlyOptions)
	}
	return testkit.SilentServer(t, nil)
}

// answerOnlyOptions answers the OPTIONS requests read on c, and reads
// every other request without answering.
func answerOnlyOptions(c net.Conn) {
	r := bufio.NewReader(c)
	var method, cseq string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case method == "":
			method, _, _ = strings.Cut(line, " ")
		case strings.HasPrefix(strings.ToLower(line), "cseq:"):
			cseq = strings.TrimSpace(line[len("cseq:"):])
		case line == "":
			if method == "OPTIONS" {
				c.Write([]byte("RTSP/1.0 200 OK\r\nCSeq: " + cseq + "\r\nPublic: DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n"))
			}
			method, cseq = "", ""
		}
	}
}

// closeWithin runs s.Close and fails t if it does not return within d.
func closeWithin(t *testing.T, s *ingest.Session, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("Session.Close did not return within %s", d)
	}
}

// TestTLSHandshakeNeverAnswered: an rtsps camera whose server accepts TCP
// and never answers the TLS handshake backs off with reason timeout once
// the connect timeout runs out, and Close returns at once whether it is
// handshaking or backing off.
func TestTLSHandshakeNeverAnswered(t *testing.T) {
	addr := silentServer(t, false)
	t.Run("times out", func(t *testing.T) {
		rec := &stateRecorder{}
		s, err := ingest.NewSession(sessionConfig("cam1", "rtsps://"+addr+"/x", func(c *ingest.Config) {
			c.SkipVerify, c.ConnectTimeout, c.BackoffMin, c.BackoffMax = true, 500*time.Millisecond, time.Minute, time.Minute
		}), rec)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		deadline := time.Now().Add(15 * time.Second) // the connect timeout is 0.5 s; this only guards against a hang
		for {
			if reason, msg, ok := rec.first(ingest.StateBackingOff); ok {
				if reason != ingest.ReasonTimeout || !strings.Contains(msg, "connect timeout") {
					t.Errorf("backing off with reason %q, error %q; want reason timeout naming the connect timeout", reason, msg)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("camera still %v after 15 s with a connect timeout of 0.5 s", s.Status().State)
			}
			time.Sleep(20 * time.Millisecond)
		}
		closeWithin(t, s, 5*time.Second)
	})
	t.Run("closed while handshaking", func(t *testing.T) {
		rec := &stateRecorder{}
		s, err := ingest.NewSession(sessionConfig("cam2", "rtsps://"+addr+"/x", func(c *ingest.Config) {
			c.SkipVerify, c.ConnectTimeout, c.ReadTimeout = true, time.Hour, time.Hour
		}), rec)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		time.Sleep(300 * time.Millisecond) // connected, in the handshake
		if st := s.Status().State; st != ingest.StateConnecting {
			t.Fatalf("state %v, want connecting", st)
		}
		closeWithin(t, s, 5*time.Second)
		if st := s.Status().State; st != ingest.StateStopped {
			t.Errorf("state after Close %v, want stopped", st)
		}
	})
}

// TestDescribeNeverAnswered: a server that answers OPTIONS and never
// DESCRIBE makes the camera back off with reason timeout within the read
// timeout, and Close returns while it waits.
func TestDescribeNeverAnswered(t *testing.T) {
	addr := silentServer(t, true)
	rec := &stateRecorder{}
	s, err := ingest.NewSession(sessionConfig("cam1", "rtsp://"+addr+"/x", func(c *ingest.Config) {
		c.ReadTimeout, c.BackoffMin, c.BackoffMax = 500*time.Millisecond, time.Minute, time.Minute
	}), rec)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if reason, msg, ok := rec.first(ingest.StateBackingOff); ok {
			if reason != ingest.ReasonTimeout || !strings.Contains(msg, "describe") {
				t.Errorf("backing off with reason %q, error %q; want a describe timeout", reason, msg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("camera still %v after 15 s with a read timeout of 0.5 s", s.Status().State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	closeWithin(t, s, 5*time.Second)

	// Closed while DESCRIBE waits for its answer.
	s, err = ingest.NewSession(sessionConfig("cam2", "rtsp://"+addr+"/x", func(c *ingest.Config) { c.ReadTimeout, c.ConnectTimeout = time.Hour, time.Hour }), rec)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	time.Sleep(300 * time.Millisecond)
	closeWithin(t, s, 5*time.Second)
}
