package engine

import (
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/sched"
)

// metrics holds the engine's Prometheus metrics. Per-camera series carry
// only the camera label (bounded by the configuration) and are deleted when
// a camera is removed.
type metrics struct {
	reg *prometheus.Registry

	framesReceived *prometheus.CounterVec
	framesDecoded  *prometheus.CounterVec
	framesAnalyzed *prometheus.CounterVec
	framesDropped  *prometheus.CounterVec
	decodeErrors   *prometheus.CounterVec
	bytesReceived  *prometheus.CounterVec
	reconnects     *prometheus.CounterVec
	incidents      *prometheus.CounterVec
	cameraUp       *prometheus.GaugeVec
	cameraState    *prometheus.GaugeVec
	lastFrame      *prometheus.GaugeVec

	analysisStalled *prometheus.GaugeVec
	analysisStalls  *prometheus.CounterVec

	decodeSeconds   prometheus.Histogram
	analysisSeconds prometheus.Histogram
	evidenceErrors  prometheus.Counter
}

// poolStats is what the metrics read of the worker pool.
type poolStats interface {
	Queued() (units, bytes int)
	Workers() int
	Busy() (int, time.Duration)
}

func newMetrics(pool func() poolStats, cams prometheus.Collector) *metrics {
	reg := prometheus.NewRegistry()
	cam := []string{"camera"}
	m := &metrics{
		reg: reg,
		evidenceErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_evidence_errors_total",
			Help: "Incident snapshots that could not be encoded or stored (the events go out without them).",
		}),
		framesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_frames_received_total",
			Help: "Video access units received from the camera.",
		}, cam),
		framesDecoded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_frames_decoded_total",
			Help: "Pictures decoded.",
		}, cam),
		framesAnalyzed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_frames_analyzed_total",
			Help: "Pictures analyzed (at the camera's analysis rate).",
		}, cam),
		framesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_frames_dropped_total",
			Help: "Access units dropped before decoding, by reason.",
		}, []string{"camera", "reason"}),
		decodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_decode_errors_total",
			Help: "Access units the decoder rejected as invalid.",
		}, cam),
		bytesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_received_bytes_total",
			Help: "Bytes of video access units received.",
		}, cam),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_reconnects_total",
			Help: "Streams that ended and were retried, by reason.",
		}, []string{"camera", "reason"}),
		incidents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_incidents_total",
			Help: "Incidents started, by kind.",
		}, []string{"camera", "kind"}),
		cameraUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_camera_up",
			Help: "1 while the camera is streaming, else 0.",
		}, cam),
		cameraState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_camera_state",
			Help: "1 for the camera's current supervisor state, 0 for the others.",
		}, []string{"camera", "state"}),
		lastFrame: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_camera_last_frame_timestamp_seconds",
			Help: "Unix time of the last access unit received.",
		}, cam),
		analysisStalled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_camera_analysis_stalled",
			Help: "1 while the camera streams but its pictures are not analyzed (or at under half the rate due): an analysis_stalled incident is open.",
		}, cam),
		analysisStalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_analysis_stalls_total",
			Help: "analysis_stalled incidents started, by cause.",
		}, []string{"camera", "cause"}),
		decodeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigil_decode_duration_seconds",
			Help:    "Time to decode one access unit.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 14),
		}),
		analysisSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigil_analysis_duration_seconds",
			Help:    "Time to scale and analyze one frame.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 14),
		}),
	}
	version := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "vigil_build_info",
		Help:        "Build information; always 1.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	buildInfo.Set(1)
	reg.MustRegister(
		m.framesReceived, m.framesDecoded, m.framesAnalyzed, m.framesDropped,
		m.decodeErrors, m.bytesReceived, m.reconnects, m.incidents,
		m.cameraUp, m.cameraState, m.lastFrame, m.decodeSeconds, m.analysisSeconds,
		m.evidenceErrors, m.analysisStalled, m.analysisStalls, buildInfo, cams,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_worker_queue_depth",
			Help: "Access units waiting in all camera queues.",
		}, func() float64 { u, _ := pool().Queued(); return float64(u) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_worker_queue_bytes",
			Help: "Bytes of access units waiting in all camera queues.",
		}, func() float64 { _, b := pool().Queued(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigil_workers",
			Help: "Workers in the decode and analysis pool.",
		}, func() float64 { return float64(pool().Workers()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "vigil_worker_busy_seconds_total",
			Help: "Time workers spent decoding and analyzing, summed over workers.",
		}, func() float64 { _, d := pool().Busy(); return d.Seconds() }),
	)
	return m
}

// cameraMetrics are one camera's series, resolved once so the per-frame
// path does no label lookup.
type cameraMetrics struct {
	received, decoded, analyzed, decodeErrors, bytes prometheus.Counter
	lastFrame                                        prometheus.Gauge
}

func (m *metrics) forCamera(id string) cameraMetrics {
	m.cameraUp.WithLabelValues(id).Set(0)
	m.analysisStalled.WithLabelValues(id).Set(0)
	for _, cause := range health.Causes {
		m.analysisStalls.WithLabelValues(id, cause)
	}
	for _, r := range []sched.DropReason{sched.DropQueueFull, sched.DropBudget, sched.DropGOP, sched.DropClosed} {
		m.framesDropped.WithLabelValues(id, r.String())
	}
	for _, k := range []string{"motion", health.KindCameraOffline, health.KindAnalysisStalled} {
		m.incidents.WithLabelValues(id, k)
	}
	return cameraMetrics{
		received:     m.framesReceived.WithLabelValues(id),
		decoded:      m.framesDecoded.WithLabelValues(id),
		analyzed:     m.framesAnalyzed.WithLabelValues(id),
		decodeErrors: m.decodeErrors.WithLabelValues(id),
		bytes:        m.bytesReceived.WithLabelValues(id),
		lastFrame:    m.lastFrame.WithLabelValues(id),
	}
}

func (m *metrics) setState(id string, s ingest.State) {
	for _, st := range ingest.States {
		v := 0.0
		if st == s {
			v = 1
		}
		m.cameraState.WithLabelValues(id, st.String()).Set(v)
	}
	up := 0.0
	if s == ingest.StateStreaming {
		up = 1
	}
	m.cameraUp.WithLabelValues(id).Set(up)
}

// removeCamera deletes every series of a camera.
func (m *metrics) removeCamera(id string) {
	l := prometheus.Labels{"camera": id}
	for _, v := range []*prometheus.CounterVec{m.framesReceived, m.framesDecoded, m.framesAnalyzed,
		m.framesDropped, m.decodeErrors, m.bytesReceived, m.reconnects, m.incidents, m.analysisStalls} {
		v.DeletePartialMatch(l)
	}
	for _, v := range []*prometheus.GaugeVec{m.cameraUp, m.cameraState, m.lastFrame, m.analysisStalled} {
		v.DeletePartialMatch(l)
	}
}
