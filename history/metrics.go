package history

import "github.com/prometheus/client_golang/prometheus"

// metrics are the history's: what it holds, what it dropped or evicted,
// its failed writes and damaged files.
type metrics struct {
	dropped     *prometheus.CounterVec
	evicted     *prometheus.CounterVec
	writeErrors prometheus.Counter
	damaged     prometheus.Counter
	available   prometheus.Gauge
	held        []prometheus.Collector // of what the store holds
}

func newMetrics(s *Store) *metrics {
	m := &metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_history_events_dropped_total",
			Help: "Events not written to the incident history (delivery unaffected), by reason: queue_full, write_failed, unavailable."}, []string{"reason"}),
		evicted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_history_evicted_total",
			Help: "Incidents removed from the history by its budget, by reason: age (history.max_age), size (history.max_bytes)."}, []string{"reason"}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_history_write_errors_total",
			Help: "Failed writes of the incident history file (a full or read-only disk)."}),
		damaged: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_history_damaged_total",
			Help: "Damaged incident history files moved aside at start."}),
		available: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_history_available",
			Help: "1 when the incident history file is open, 0 when it cannot be (an error logged; retried every minute)."}),
	}
	for _, r := range []string{DropQueueFull, DropWriteFailed, DropUnavailable} {
		m.dropped.WithLabelValues(r)
	}
	for _, r := range []string{"age", "size"} {
		m.evicted.WithLabelValues(r)
	}
	m.held = []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_history_incidents", Help: "Incidents in the history."},
			func() float64 { n, _ := s.Size(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_history_bytes", Help: "Bytes of the incidents in the history (keys and values)."},
			func() float64 { _, b := s.Size(); return float64(b) }),
	}
	return m
}

// Collectors returns the history's metrics, to register.
func (s *Store) Collectors() []prometheus.Collector {
	return append([]prometheus.Collector{s.m.dropped, s.m.evicted, s.m.writeErrors, s.m.damaged, s.m.available}, s.m.held...)
}
