// Package metrics holds vigil's Prometheus metrics: one registry, the
// per-camera series (only the camera label, bounded by the configuration,
// deleted with the camera) and the worker pool's gauges. Names follow
// Prometheus conventions: vigil_ prefix, base units, _total counters.
package metrics

import (
	"time"

	"github.com/vigil-video/vigil/internal/buildinfo"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vigil-video/vigil/health"
	"github.com/vigil-video/vigil/ingest"
	"github.com/vigil-video/vigil/sched"
)

// Set holds the engine's Prometheus metrics. Per-camera series carry
// only the camera label (bounded by the configuration) and are deleted when
// a camera is removed.
type Set struct {
	// Reg is the registry every series is in.
	Reg *prometheus.Registry

	FramesReceived *prometheus.CounterVec
	FramesDecoded  *prometheus.CounterVec
	FramesAnalyzed *prometheus.CounterVec
	FramesDropped  *prometheus.CounterVec
	DecodeErrors   *prometheus.CounterVec
	BytesReceived  *prometheus.CounterVec
	Reconnects     *prometheus.CounterVec
	Incidents      *prometheus.CounterVec
	LastFrame      *prometheus.GaugeVec

	AnalysisStalled *prometheus.GaugeVec
	AnalysisStalls  *prometheus.CounterVec
	// HealthUpdatesHeld counts cause changes of open health incidents not
	// sent as their own update event (health_update_interval).
	HealthUpdatesHeld *prometheus.CounterVec
	// ProcessStalls counts stalls of the whole process (internal/pause).
	ProcessStalls prometheus.Counter

	DecodeSeconds   prometheus.Histogram
	AnalysisSeconds prometheus.Histogram
	EvidenceErrors  prometheus.Counter

	// The object detector (analyze.Inference), shared by all cameras.
	ObjectsEnabled   prometheus.Gauge
	ObjectModel      prometheus.Gauge
	ObjectQueue      prometheus.Gauge
	ObjectInferences prometheus.Counter
	ObjectSheds      *prometheus.CounterVec
	ObjectSeconds    prometheus.Histogram
	ObjectWait       *prometheus.HistogramVec
}

// RequestKinds are analyze.RequestKinds (the object requests' kinds),
// whose wait series exist from the start.
var RequestKinds = []string{"first", "motion", "leave", "follow", "look", "recheck"}

// Inferred, Shed and Queued feed the object detector's metrics
// (analyze.InferenceObserver).
func (m *Set) Inferred(_, kind string, _ time.Time, wait, d time.Duration) {
	m.ObjectInferences.Inc()
	m.ObjectSeconds.Observe(d.Seconds())
	m.ObjectWait.WithLabelValues(kind).Observe(wait.Seconds())
}

// Shed counts a shed inference request by reason.
func (m *Set) Shed(_, reason string) { m.ObjectSheds.WithLabelValues(reason).Inc() }

// Queued sets the inference queue length.
func (m *Set) Queued(n int) { m.ObjectQueue.Set(float64(n)) }

// PoolStats is what the metrics read of the worker pool.
type PoolStats interface {
	Queued() (units, bytes int)
	Workers() int
	Busy() (int, time.Duration)
}

// New returns the metrics, reading the pool (through pool, at scrape time)
// and cams, a collector of per-camera state.
func New(pool func() PoolStats, cams prometheus.Collector) *Set {
	reg := prometheus.NewRegistry()
	cam := []string{"camera"}
	m := &Set{
		Reg: reg,
		EvidenceErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_evidence_errors_total",
			Help: "Incident snapshots that could not be encoded or stored (the events go out without them).",
		}),
		FramesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_frames_received_total",
			Help: "Video access units received from the camera.",
		}, cam),
		FramesDecoded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_frames_decoded_total",
			Help: "Pictures decoded.",
		}, cam),
		FramesAnalyzed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_frames_analyzed_total",
			Help: "Pictures analyzed (at the camera's analysis rate).",
		}, cam),
		FramesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_frames_dropped_total",
			Help: "Access units dropped before decoding, by reason.",
		}, []string{"camera", "reason"}),
		DecodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_decode_errors_total",
			Help: "Access units the decoder rejected as invalid.",
		}, cam),
		BytesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_received_bytes_total",
			Help: "Bytes of video access units received.",
		}, cam),
		Reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_reconnects_total",
			Help: "Streams that ended and were retried, by reason.",
		}, []string{"camera", "reason"}),
		Incidents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_incidents_total",
			Help: "Incidents started, by kind.",
		}, []string{"camera", "kind"}),
		LastFrame: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_camera_last_frame_timestamp_seconds",
			Help: "Unix time of the last access unit received.",
		}, cam),
		AnalysisStalled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_camera_analysis_stalled",
			Help: "1 while the camera streams but its pictures are not analyzed (or at under half the rate due): an analysis_stalled incident is open.",
		}, cam),
		AnalysisStalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_camera_analysis_stalls_total",
			Help: "analysis_stalled Incidents started, by cause.",
		}, []string{"camera", "cause"}),
		HealthUpdatesHeld: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_health_updates_held_total",
			Help: "Cause changes of open camera_offline and analysis_stalled incidents not sent as their own update event (at most one per health_update_interval; the latest cause goes out when it passes), by kind.",
		}, []string{"camera", "kind"}),
		ProcessStalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_process_stalls_total",
			Help: "Stalls of the whole process (SIGSTOP, a VM or swap stall) of more than 2 s; the health timers restarted from each one's end.",
		}),
		DecodeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigil_decode_duration_seconds",
			Help:    "Time to decode one access unit.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 14),
		}),
		AnalysisSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigil_analysis_duration_seconds",
			Help:    "Time to scale and analyze one frame.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 14),
		}),
	}
	m.ObjectsEnabled = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "vigil_objects_enabled",
		Help: "1 when objects.enabled asks for the object network (whether or not it loaded: see vigil_objects_model_loaded), else 0.",
	})
	m.ObjectModel = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "vigil_objects_model_loaded",
		Help: "1 when the object network is loaded and runs; 0 when it is disabled or its model is absent (people by HOG, or motion only).",
	})
	m.ObjectQueue = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "vigil_objects_queue_length",
		Help: "Inference requests waiting for the budget (at most one per camera).",
	})
	m.ObjectInferences = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vigil_objects_inferences_total",
		Help: "Inferences run by the object network.",
	})
	m.ObjectSheds = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_objects_shed_total",
		Help: "Inference requests not run, by reason: replaced (a newer one of the camera), stale (waited over 2s for the budget), overload (the camera's overload ladder), error (the network failed, or the color picture could not be made), crowded (a re-check not built: as many requests waited ahead of it as the budget serves in 2s, or more; the camera asks again at its cadence).",
	}, []string{"reason"})
	for _, r := range []string{"replaced", "stale", "overload", "error", "crowded"} {
		m.ObjectSheds.WithLabelValues(r)
	}
	m.ObjectSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "vigil_objects_inference_duration_seconds",
		Help:    "Time of one inference of the object network.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 10),
	})
	m.ObjectWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vigil_objects_wait_seconds",
		Help:    "Time a camera's inference request waited for the budget before its inference started, by request: first (the first result of a camera's motion, served first), motion (the others driven by motion on a camera that follows no object), leave (a re-check of the objects held on a still scene right after motion or a result that missed one; before follow, after follow that has waited 5s), follow (motion on a camera that follows an object it reports; after 5s it ranks with motion), look (a first look at a still picture), recheck (objects held on a still scene). A newer picture that replaces a waiting request keeps the camera's wait (unless it becomes a first result), and so does a request of the same kind asked again within 2s (20s while the camera's ladder sheds) of one shed for waiting 2s unreplaced (vigil_objects_shed_total{reason=\"stale\"}): a wait can be longer than 2s.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 5, 10, 30},
	}, []string{"request"})
	for _, k := range RequestKinds {
		m.ObjectWait.WithLabelValues(k)
	}
	bi := buildinfo.Read()
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "vigil_build_info",
		Help:        "Build information; always 1.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion},
	})
	buildInfo.Set(1)
	reg.MustRegister(
		m.FramesReceived, m.FramesDecoded, m.FramesAnalyzed, m.FramesDropped,
		m.DecodeErrors, m.BytesReceived, m.Reconnects, m.Incidents,
		m.LastFrame, m.DecodeSeconds, m.AnalysisSeconds,
		m.EvidenceErrors, m.AnalysisStalled, m.AnalysisStalls, m.HealthUpdatesHeld, m.ProcessStalls, buildInfo, cams,
		m.ObjectsEnabled, m.ObjectModel, m.ObjectQueue, m.ObjectInferences, m.ObjectSheds, m.ObjectSeconds, m.ObjectWait,
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

// Camera is one camera's series, resolved once so the per-frame
// path does no label lookup.
type Camera struct {
	Received, Decoded, Analyzed, DecodeErrors, Bytes prometheus.Counter
	LastFrame                                        prometheus.Gauge
}

// ForCamera creates a camera's series at zero, vigil_incidents_total for
// every kind it can raise (so that increase() sees the first incident),
// and returns its hot ones.
func (m *Set) ForCamera(id string, kinds []string) Camera {
	m.AnalysisStalled.WithLabelValues(id).Set(0)
	for _, cause := range health.Causes {
		m.AnalysisStalls.WithLabelValues(id, cause)
	}
	for _, k := range []string{health.KindCameraOffline, health.KindAnalysisStalled} {
		m.HealthUpdatesHeld.WithLabelValues(id, k)
	}
	for _, r := range []sched.DropReason{sched.DropQueueFull, sched.DropBudget, sched.DropGOP, sched.DropClosed} {
		m.FramesDropped.WithLabelValues(id, r.String())
	}
	for _, r := range ingest.Reasons {
		m.Reconnects.WithLabelValues(id, r)
	}
	for _, k := range kinds {
		m.Incidents.WithLabelValues(id, k)
	}
	return Camera{
		Received:     m.FramesReceived.WithLabelValues(id),
		Decoded:      m.FramesDecoded.WithLabelValues(id),
		Analyzed:     m.FramesAnalyzed.WithLabelValues(id),
		DecodeErrors: m.DecodeErrors.WithLabelValues(id),
		Bytes:        m.BytesReceived.WithLabelValues(id),
		LastFrame:    m.LastFrame.WithLabelValues(id),
	}
}

// RemoveCamera deletes every series of a camera.
func (m *Set) RemoveCamera(id string) {
	l := prometheus.Labels{"camera": id}
	for _, v := range []*prometheus.CounterVec{m.FramesReceived, m.FramesDecoded, m.FramesAnalyzed,
		m.FramesDropped, m.DecodeErrors, m.BytesReceived, m.Reconnects, m.Incidents, m.AnalysisStalls, m.HealthUpdatesHeld} {
		v.DeletePartialMatch(l)
	}
	for _, v := range []*prometheus.GaugeVec{m.LastFrame, m.AnalysisStalled} {
		v.DeletePartialMatch(l)
	}
}
