package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"rtsp://admin:hunter2@10.0.0.5:554/stream1", "rtsp://10.0.0.5:554/stream1"},
		{"rtsps://user@cam/x", "rtsps://cam/x"},
		{"rtsp://cam/x?channel=1&password=hunter2", "rtsp://cam/x?channel=1&password=REDACTED"},
		{"rtsp://cam/x", "rtsp://cam/x"},
		{"::not a url", "::not a url"}, // no secret in it: shown as text
		{"rtsp://cam/x?sig=abc123&keyframe=1", "rtsp://cam/x?sig=REDACTED&keyframe=1"},
		{"rtsp://admin:hunter2@cam/x?token=t0k", "rtsp://cam/x?token=REDACTED"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactErrorKeepsIdentity(t *testing.T) {
	base := errors.New("dial rtsp://admin:hunter2@cam: refused")
	err := redactError(fmt.Errorf("describe: %w", base), "hunter2", "admin:hunter2")
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("secret left in %q", err)
	}
	if !errors.Is(err, base) {
		t.Fatal("redacted error lost its cause")
	}
	if redactError(nil, "x") != nil {
		t.Fatal("nil error redacted to non-nil")
	}
}

func TestNewSessionRejectsBadURLs(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://admin:hunter2@cam/x", `scheme "http"`},
		{"rtsp:///x", "no host"},
		{"rtsp://cam/x%zz", "cannot parse"},
	} {
		_, err := NewSession(Config{ID: "cam9", URL: tc.url}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `camera "cam9"`) {
			t.Errorf("%s: error %v, want it to name the camera and %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error leaks the password: %v", tc.url, err)
		}
	}
}

func TestAnnexBPrependsParameterSets(t *testing.T) {
	sps, pps := []byte{0x67, 1, 2}, []byte{0x68, 3}
	idr, p := []byte{0x65, 9, 9}, []byte{0x41, 7}
	prm := &params{codec: H264, sps: sps, pps: pps}
	sc := []byte{0, 0, 0, 1}
	join := func(n ...[]byte) []byte {
		var b []byte
		for _, x := range n {
			b = append(append(b, sc...), x...)
		}
		return b
	}
	if got := prm.annexB([][]byte{idr}, true); !bytes.Equal(got, join(sps, pps, idr)) {
		t.Errorf("IDR without in-band SPS/PPS: % x", got)
	}
	if got := prm.annexB([][]byte{p}, false); !bytes.Equal(got, join(p)) {
		t.Errorf("P slice: % x", got)
	}
	newSPS := []byte{0x67, 5}
	if got := prm.annexB([][]byte{newSPS, pps, idr}, true); !bytes.Equal(got, join(newSPS, pps, idr)) {
		t.Errorf("IDR with in-band SPS/PPS: % x", got)
	}
	if !bytes.Equal(prm.sps, newSPS) {
		t.Error("in-band SPS not remembered")
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", ErrUnsupported), ReasonUnsupported},
		{errStalled, ReasonStalled},
		{nil, ReasonClosed},
		{errors.New("something odd"), ReasonBadStream},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
