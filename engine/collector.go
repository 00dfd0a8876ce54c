package engine

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	packetsLostDesc = prometheus.NewDesc("vigil_camera_rtp_packets_lost_total",
		"RTP packets lost, from sequence number gaps.", []string{"camera"}, nil)
	jitterDesc = prometheus.NewDesc("vigil_camera_rtp_jitter_seconds",
		"RFC 3550 interarrival jitter of the current stream.", []string{"camera"}, nil)
	bitrateDesc = prometheus.NewDesc("vigil_camera_video_bytes_per_second",
		"Video payload rate (bitrate / 8) over the last full second.", []string{"camera"}, nil)
	keyIntervalDesc = prometheus.NewDesc("vigil_camera_keyframe_interval_seconds",
		"Time between the last two keyframes, by presentation time.", []string{"camera"}, nil)
)

// sessionCollector reads per-camera transport statistics from the ingest
// sessions at scrape time.
type sessionCollector struct{ e *Engine }

func (c sessionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- packetsLostDesc
	ch <- jitterDesc
	ch <- bitrateDesc
	ch <- keyIntervalDesc
}

func (c sessionCollector) Collect(ch chan<- prometheus.Metric) {
	for _, cam := range c.e.snapshot() {
		st := cam.sess.Stats()
		ch <- prometheus.MustNewConstMetric(packetsLostDesc, prometheus.CounterValue, float64(st.PacketsLost), cam.id)
		ch <- prometheus.MustNewConstMetric(jitterDesc, prometheus.GaugeValue, st.Jitter.Seconds(), cam.id)
		ch <- prometheus.MustNewConstMetric(bitrateDesc, prometheus.GaugeValue, st.Bitrate/8, cam.id)
		ch <- prometheus.MustNewConstMetric(keyIntervalDesc, prometheus.GaugeValue, st.KeyframeInterval.Seconds(), cam.id)
	}
}
