package ingest

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestNTPToTime(t *testing.T) {
	const unixEpoch = uint64(ntpUnixOffset) << 32
	tests := []struct {
		name string
		ntp  uint64
		want time.Time
	}{
		{"unix epoch", unixEpoch, time.Unix(0, 0)},
		{"half second", unixEpoch | 0x80000000, time.Unix(0, 500_000_000)},
		{"quarter second", unixEpoch | 0x40000000, time.Unix(0, 250_000_000)},
		{"last fraction rounds up", unixEpoch | 0xFFFFFFFF, time.Unix(1, 0)},
		{"2026", uint64(ntpUnixOffset+1_780_000_000)<<32 | 0xC0000000, time.Unix(1_780_000_000, 750_000_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ntpToTime(tt.ntp); !got.Equal(tt.want) {
				t.Errorf("ntpToTime(%#x) = %v, want %v", tt.ntp, got.UTC(), tt.want.UTC())
			}
		})
	}
}

func TestSRClock(t *testing.T) {
	base := time.Unix(1_780_000_000, 500_000_000)
	var ref uint32 = 0xFFFFF000 // close to wrapping
	sr := &rtcp.SenderReport{
		SSRC:    7,
		NTPTime: uint64(ntpUnixOffset+1_780_000_000)<<32 | 0x80000000,
		RTPTime: ref,
	}
	tests := []struct {
		name   string
		report bool
		ssrc   uint32
		ts     uint32
		want   time.Time
		wantOK bool
	}{
		{"no report yet", false, 7, ref, time.Time{}, false},
		{"report time", true, 7, ref, base, true},
		{"one frame later", true, 7, ref + 3600, base.Add(40 * time.Millisecond), true},
		{"across rtp wrap", true, 7, ref + 90000, base.Add(time.Second), true},
		{"before the report", true, 7, ref - 1800, base.Add(-20 * time.Millisecond), true},
		{"other source", true, 8, ref, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &srClock{clockRate: 90000}
			if tt.report {
				k.senderReport(sr)
			}
			got, ok := k.captureTime(tt.ssrc, tt.ts)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("captureTime(%d, %#x) = %v, %v; want %v, %v", tt.ssrc, tt.ts, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func BenchmarkSRClockCaptureTime(b *testing.B) {
	k := &srClock{clockRate: 90000}
	k.senderReport(&rtcp.SenderReport{SSRC: 1, NTPTime: uint64(ntpUnixOffset) << 32})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k.captureTime(1, uint32(i)*3600)
	}
}

func TestSkewGuard(t *testing.T) {
	host := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var g skewGuard
	for i, tc := range []struct {
		offset      time.Duration
		ok, changed bool
	}{
		{100 * time.Millisecond, true, false},
		{-1500 * time.Millisecond, true, false},
		{3 * time.Minute, false, true}, // a camera without NTP
		{1500 * time.Millisecond, false, false},
		{500 * time.Millisecond, true, true},
		{-2500 * time.Millisecond, false, true}, // drifted behind
	} {
		off, ok, changed := g.check(host.Add(tc.offset), host)
		if off != tc.offset || ok != tc.ok || changed != tc.changed {
			t.Fatalf("step %d: check(%v) = %v, %v, %v; want %v, %v, %v", i, tc.offset, off, ok, changed, tc.offset, tc.ok, tc.changed)
		}
	}
}
