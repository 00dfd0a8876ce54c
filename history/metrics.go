package history

import "github.com/prometheus/client_golang/prometheus"

// metrics are the history's: what it holds, what it dropped or evicted,
// its failed writes and damaged files.
type metrics struct {
	dropped     *prometheus.CounterVec
	evicted     *prometheus.CounterVec
	writeErrors prometheus.Counter
	damaged     prometheus.Counter
	held        []prometheus.Collector // bound to the store (bind)
}

func newMetrics() *metrics {
	m := &metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_history_events_dropped_total",
			Help: "Events not written to the incident history (delivery unaffected), by reason: queue_full, write_failed."}, []string{"reason"}),
		evicted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_history_evicted_total",
			Help: "Incidents removed from the history by its budget, by reason: age (history.max_age), size (history.max_bytes)."}, []string{"reason"}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_history_write_errors_total",
			Help: "Failed writes of the incident history file (a full or read-only disk)."}),
		damaged: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_history_damaged_total",
			Help: "Damaged incident history files moved aside at start."}),
	}
	for _, r := range []string{DropQueueFull, DropWriteFailed} {
		m.dropped.WithLabelValues(r)
	}
	for _, r := range []string{"age", "size"} {
		m.evicted.WithLabelValues(r)
	}
	return m
}

// bind adds the gauges of what s holds.
func (m *metrics) bind(s *Store) {
	m.held = []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_history_incidents", Help: "Incidents in the history."},
			func() float64 { n, _ := s.Size(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_history_bytes", Help: "Bytes of the incidents in the history (keys and values)."},
			func() float64 { _, b := s.Size(); return float64(b) }),
	}
}

// Collectors returns the history's metrics, to register.
func (s *Store) Collectors() []prometheus.Collector {
	return append([]prometheus.Collector{s.m.dropped, s.m.evicted, s.m.writeErrors, s.m.damaged}, s.m.held...)
}
