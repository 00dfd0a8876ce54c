package sim

import (
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/vigil-video/vigil/internal/await"
)

// ntpUnixEpoch is the Unix epoch in the 64-bit NTP format.
const ntpUnixEpoch = uint64(2208988800) << 32

// ntpToTime decodes the 64-bit NTP format per RFC 3550 (fraction in units
// of 2^-32 s). gortsplib v4.16.2's Client.PacketNTP is not used: it reads
// the fraction as nanoseconds (bluenviron/gortsplib#869).
func ntpToTime(v uint64) time.Time {
	return time.Unix(int64(v>>32)-2208988800, int64((v&0xFFFFFFFF)*uint64(time.Second)>>32))
}

func TestNTPTime(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want uint64
	}{
		{"unix epoch", time.Unix(0, 0), ntpUnixEpoch},
		{"half second", time.Unix(0, 500_000_000), ntpUnixEpoch | 0x80000000},
		{"quarter second", time.Unix(0, 250_000_000), ntpUnixEpoch | 0x40000000},
		{"2026", time.Unix(1_780_000_000, 750_000_000), (2208988800+1_780_000_000)<<32 | 0xC0000000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ntpTime(tt.t); got != tt.want {
				t.Errorf("ntpTime(%v) = %#x, want %#x", tt.t.UTC(), got, tt.want)
			}
		})
	}
}

// TestSenderReportTimeMatchesWallClock plays a camera with a real client
// and maps every packet's RTP timestamp to a capture time through the
// latest sender report: a frame is stamped with its send schedule, so it
// cannot be captured after it was received, nor long before.
func TestSenderReportTimeMatchesWallClock(t *testing.T) {
	for _, tr := range []struct {
		name      string
		transport gortsplib.Transport
	}{{"tcp", gortsplib.TransportTCP}, {"udp", gortsplib.TransportUDP}} {
		t.Run(tr.name, func(t *testing.T) {
			clip := mustClip(t, "motion")
			s := startServer(t, Config{UDP: true, Cameras: []Camera{{Path: "cam1", Clip: clip}}})
			c, desc, err := dial(t, s.URL("cam1"), tr.transport)
			if err != nil {
				t.Fatal(err)
			}
			medi := desc.Medias[0]
			if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
				t.Fatal(err)
			}

			var (
				mu         sync.Mutex
				srs        int
				srNTP      time.Time
				srRTP      uint32
				mapped     int
				worstAhead time.Duration // capture - receipt, max
				worstLag   time.Duration // receipt - capture, max
			)
			c.OnPacketRTCPAny(func(_ *description.Media, pkt rtcp.Packet) {
				if sr, ok := pkt.(*rtcp.SenderReport); ok {
					mu.Lock()
					srs++
					srNTP, srRTP = ntpToTime(sr.NTPTime), sr.RTPTime
					mu.Unlock()
				}
			})
			c.OnPacketRTPAny(func(_ *description.Media, _ format.Format, pkt *rtp.Packet) {
				now := time.Now()
				mu.Lock()
				defer mu.Unlock()
				if srs == 0 {
					return
				}
				d := time.Duration(int64(int32(pkt.Timestamp-srRTP)) * int64(time.Second) / 90000)
				capture := srNTP.Add(d)
				mapped++
				worstAhead = max(worstAhead, capture.Sub(now))
				worstLag = max(worstLag, now.Sub(capture))
			})
			if _, err := c.Play(nil); err != nil {
				t.Fatal(err)
			}
			// ~3 s: the reports at the start and 2 s later are both used.
			await.Until(t, 15*time.Second, "two sender reports and 3 s of video", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return srs >= 2 && s.SentAccessUnits("cam1") >= 75
			})
			c.Close()

			mu.Lock()
			defer mu.Unlock()
			if mapped == 0 {
				t.Fatal("no packet after a sender report")
			}
			// 1 ms covers NTP rounding.
			if worstAhead > time.Millisecond {
				t.Errorf("a packet was captured %v after it was received", worstAhead)
			}
			// The pacer sends up to maxLag late before skipping frames; the
			// rest is slack for a loaded machine (it guards against gross
			// clock errors, not speed).
			if limit := maxLag + 500*time.Millisecond; worstLag > limit {
				t.Errorf("a packet was received %v after its capture, more than %v", worstLag, limit)
			}
			t.Logf("%d packets: capture at most %v before receipt", mapped, worstLag)
		})
	}
}
