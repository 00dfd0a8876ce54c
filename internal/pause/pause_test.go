package pause

import (
	"testing"
	"time"
)

// TestDetector drives the detector on an explicit clock (the ticker's
// observations): ticks 250 ms apart are no stall; a gap of 8 s is one,
// counted once, ending at the first sign of life after it; an observation
// older than the last changes nothing.
func TestDetector(t *testing.T) {
	var stalls []time.Duration
	d := New(Config{OnStall: func(l time.Duration) { stalls = append(stalls, l) }})
	at := func(off time.Duration) time.Time { return d.base.Add(off) }
	for off := Period; off <= 3*time.Second; off += Period {
		if r := d.Resumed(at(off)); !r.IsZero() {
			t.Fatalf("ticks %v apart: a stall ending at %v", Period, r.Sub(d.base))
		}
	}
	if r := d.Resumed(at(11 * time.Second)); !r.Equal(at(11 * time.Second)) {
		t.Fatalf("after 8 s without a tick: resumed %v, want 11s", r.Sub(d.base))
	}
	d.observe(at(11*time.Second + Period))
	d.observe(at(time.Second)) // late and out of order
	if r := d.Resumed(at(12 * time.Second)); !r.Equal(at(11 * time.Second)) {
		t.Errorf("resumed %v after the stall, want 11s", r.Sub(d.base))
	}
	if len(stalls) != 1 || stalls[0] != 8*time.Second {
		t.Errorf("stalls %v, want one of 8s", stalls)
	}
	now := at(12 * time.Second)
	if got := d.Since(now, at(5*time.Second)); got != time.Second {
		t.Errorf("Since a time before the stall = %v, want 1s (from the resume)", got)
	}
	if got := d.Since(now, at(11*time.Second+Period)); got != time.Second-Period {
		t.Errorf("Since a time after the stall = %v, want %v", got, time.Second-Period)
	}
}

// TestDetectorRunning: a running detector sees no stall in a process that
// runs, and a nil one sees none ever.
func TestDetectorRunning(t *testing.T) {
	d := New(Config{OnStall: func(l time.Duration) { t.Errorf("a stall of %v in a running process", l) }})
	d.Start()
	time.Sleep(3 * Threshold / 2)
	if r := d.Resumed(time.Now()); !r.IsZero() {
		t.Errorf("a running process resumed at %v", r)
	}
	d.Close()
	d.Close()
	var none *Detector
	now := time.Now()
	if got := none.Since(now, now.Add(-time.Minute)); got != time.Minute {
		t.Errorf("nil detector: Since = %v, want 1m", got)
	}
}

// TestStartForgivesTheTimeBefore: the time between New and Start (the
// engine loading its model and opening its cameras) is no stall, nor is a
// gap after Close.
func TestStartForgivesTheTimeBefore(t *testing.T) {
	var stalls int
	d := New(Config{OnStall: func(time.Duration) { stalls++ }})
	d.base = d.base.Add(-10 * time.Second) // New was 10 s ago
	d.Start()
	if r := d.Resumed(time.Now()); !r.IsZero() || stalls != 0 {
		t.Errorf("Start 10 s after New: a stall ending at %v (%d counted)", r, stalls)
	}
	d.Close()
	if r := d.Resumed(time.Now().Add(time.Minute)); !r.IsZero() || stalls != 0 {
		t.Errorf("a minute after Close: a stall ending at %v (%d counted)", r, stalls)
	}
}
