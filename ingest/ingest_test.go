package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

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
