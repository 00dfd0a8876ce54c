package sim

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServe serves N cameras of the 640x360@25 motion clip to N
// in-process TCP readers (which only count packets) for one wall-clock
// second per op, and reports process CPU per camera-second (server plus
// readers) and packets received per second.
func BenchmarkServe(b *testing.B) {
	for _, n := range []int{10, 100, 300} {
		b.Run(fmt.Sprintf("cams=%d", n), func(b *testing.B) {
			clip := mustClip(b, "motion")
			cams := make([]Camera, n)
			for i := range cams {
				cams[i] = Camera{Path: fmt.Sprintf("cam%03d", i), Clip: clip}
			}
			s, err := Start(Config{Address: "127.0.0.1:0", Cameras: cams})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()

			var packets atomic.Uint64
			for _, c := range cams {
				u, _ := base.ParseURL(s.URL(c.Path))
				tcp := gortsplib.TransportTCP
				cl := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &tcp}
				if err := cl.Start2(); err != nil {
					b.Fatal(err)
				}
				defer cl.Close()
				desc, _, err := cl.Describe(u)
				if err != nil {
					b.Fatal(err)
				}
				if err := cl.SetupAll(desc.BaseURL, desc.Medias); err != nil {
					b.Fatal(err)
				}
				cl.OnPacketRTPAny(func(*description.Media, format.Format, *rtp.Packet) { packets.Add(1) })
				if _, err := cl.Play(nil); err != nil {
					b.Fatal(err)
				}
			}
			time.Sleep(500 * time.Millisecond) // let connection setup settle

			p0, c0, t0 := packets.Load(), cpuTime(), time.Now()
			b.ResetTimer()
			for range b.N {
				time.Sleep(time.Second)
			}
			b.StopTimer()
			wall := time.Since(t0)
			cpu := cpuTime() - c0
			camSeconds := float64(n) * wall.Seconds()
			b.ReportMetric(float64(cpu.Milliseconds())/camSeconds, "cpu-ms/cam-s")
			b.ReportMetric(float64(packets.Load()-p0)/wall.Seconds(), "pkts/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkWriteAU measures the pacer's per-access-unit write path (stamping
// and handing packets to gortsplib) for a camera with no reader.
func BenchmarkWriteAU(b *testing.B) {
	clip := mustClip(b, "motion")
	s, err := Start(Config{Address: "127.0.0.1:0", Cameras: []Camera{{Path: "cam", Clip: clip}}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cam := s.cams["cam"]
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		cam.writeAU(i%len(clip.AUs), uint32(i*3600), now)
	}
}
