package engine

import (
	"github.com/prometheus/client_golang/prometheus"
)

var packetsLostDesc = prometheus.NewDesc("vigil_camera_rtp_packets_lost_total",
	"RTP packets lost, from sequence number gaps.", []string{"camera"}, nil)

// sessionCollector reads per-camera transport counters from the ingest
// sessions at scrape time.
type sessionCollector struct{ e *Engine }

func (c sessionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- packetsLostDesc }

func (c sessionCollector) Collect(ch chan<- prometheus.Metric) {
	for _, cam := range c.e.snapshot() {
		ch <- prometheus.MustNewConstMetric(packetsLostDesc, prometheus.CounterValue,
			float64(cam.sess.PacketsLost()), cam.id)
	}
}
