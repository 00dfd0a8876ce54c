package engine

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-video/vigil/sched"
)

func (e *Engine) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.metrics.reg, promhttp.HandlerOpts{Registry: e.metrics.reg}))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := e.ready(); err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: " + err.Error() + "\n")) //nolint:errcheck // the client went away
			return
		}
		w.Write([]byte("ok\n")) //nolint:errcheck // the client went away
	})
	mux.HandleFunc("GET /api/cameras", func(w http.ResponseWriter, _ *http.Request) {
		cams := e.snapshot()
		out := make([]CameraStatus, 0, len(cams))
		for _, c := range cams {
			out = append(out, c.status())
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /api/cameras/{id}", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		c, ok := e.cameras[r.PathValue("id")]
		e.mu.Unlock()
		if !ok {
			http.Error(w, "no such camera", http.StatusNotFound)
			return
		}
		writeJSON(w, c.status())
	})
	if e.opts.Incidents != nil {
		mux.Handle("GET /api/incidents", e.opts.Incidents)
	}
	if e.opts.Live != nil {
		mux.Handle("GET /api/events", e.opts.Live)
	}
	if e.opts.Evidence != nil {
		mux.HandleFunc("GET /api/evidence/{camera}/{file}", func(w http.ResponseWriter, r *http.Request) {
			f, err := e.opts.Evidence.Open(r.PathValue("camera"), r.PathValue("file"))
			if err != nil {
				http.Error(w, "no such evidence", http.StatusNotFound)
				return
			}
			defer f.Close()
			w.Header().Set("Content-Type", "image/jpeg")
			w.Header().Set("Cache-Control", "private, max-age=3600")
			io.Copy(w, f)
		})
	}
	mux.HandleFunc("GET /api/cameras/{id}/snapshot.jpg", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		c, ok := e.cameras[r.PathValue("id")]
		e.mu.Unlock()
		if !ok {
			http.Error(w, "no such camera", http.StatusNotFound)
			return
		}
		jpg, err := c.snapshot(r.Context(), 5*time.Second)
		if err != nil {
			http.Error(w, "no snapshot: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(jpg) //nolint:errcheck // the client went away
	})
	if e.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// ready says why the engine is not ready, naming the check that fails:
// starting (Start has not finished), shutting down (Close has begun), or
// Options.Ready's error (the outbox cannot be written).
func (e *Engine) ready() error {
	switch {
	case e.closing.Load():
		return errors.New("shutting down")
	case !e.started.Load():
		return errors.New("starting")
	case e.opts.Ready != nil:
		return e.opts.Ready()
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // the client went away
}

// CameraStatus is a camera's state in the API. It never holds credentials.
type CameraStatus struct {
	ID         string    `json:"id"`
	URL        string    `json:"url"`
	State      string    `json:"state"`
	Reason     string    `json:"reason,omitempty"`
	Since      time.Time `json:"since"`
	Codec      string    `json:"codec,omitempty"`
	Transport  string    `json:"transport"`
	LastFrame  time.Time `json:"last_frame,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
	QueueDepth int       `json:"queue_depth"`
	// OfflineSince is set while the camera has no video.
	OfflineSince *time.Time `json:"offline_since,omitempty"`
	// Incident is the open camera_offline incident's id.
	OfflineIncident  string  `json:"offline_incident,omitempty"`
	PacketsLost      uint64  `json:"rtp_packets_lost"`
	JitterSeconds    float64 `json:"rtp_jitter_seconds"`
	Bitrate          float64 `json:"bitrate_bits_per_second"`
	KeyframeInterval float64 `json:"keyframe_interval_seconds"`
	// FPSIn is access units received per second; FPSAnalyzed frames analyzed.
	FPSIn       float64 `json:"fps_in"`
	FPSAnalyzed float64 `json:"fps_analyzed"`
	// DecodeMode is the configured mode; DecodingAll says whether every
	// frame is decoded now (false: keyframes only).
	DecodeMode  string  `json:"decode_mode"`
	DecodingAll bool    `json:"decoding_all_frames"`
	Wakeups     uint64  `json:"wakeups"`
	Skipped     uint64  `json:"frames_skipped"`
	LagSeconds  float64 `json:"lag_seconds"`
	// OverloadStep is "full", "reduced" (lower analysis rate) or "keyframes".
	OverloadStep string `json:"overload_step"`
	// Dropped counts access units dropped, by reason.
	Dropped map[string]uint64 `json:"dropped"`
	// Analysis is "ok", "no_video" (see State), or "stalled" while the camera streams but its
	// pictures are not analyzed (or at under half the rate due);
	// AnalysisCause says why and AnalysisIncident is the open
	// analysis_stalled incident.
	Analysis         string     `json:"analysis"`
	AnalysisCause    string     `json:"analysis_cause,omitempty"`
	AnalysisIncident string     `json:"analysis_incident,omitempty"`
	LastAnalyzed     *time.Time `json:"last_analyzed,omitempty"`
	// ClockOffsetSeconds is the camera's RTCP clock minus the host's (0
	// before a sender report); past 2 s frame times come from receipt.
	ClockOffsetSeconds float64 `json:"clock_offset_seconds"`
}

func (c *camera) status() CameraStatus {
	st := c.sess.Status()
	ts := c.sess.Stats()
	an, anCause, anIncident := c.health.state()
	if an == "ok" && !c.flowing.Load() {
		an = "no_video"
	}
	var lastAnalyzed *time.Time
	if v := c.lastAnalyzed.Load(); v != 0 {
		t := time.Unix(0, v).UTC()
		lastAnalyzed = &t
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var offSince *time.Time
	var offID string
	if c.off.down {
		t := c.off.since.UTC()
		offSince = &t
	}
	if c.off.incident != nil {
		offID = c.off.incident.IncidentID
	}
	return CameraStatus{
		Analysis:           an,
		AnalysisCause:      anCause,
		AnalysisIncident:   anIncident,
		LastAnalyzed:       lastAnalyzed,
		ClockOffsetSeconds: ts.ClockOffset.Seconds(),
		OfflineSince:       offSince,
		OfflineIncident:    offID,
		PacketsLost:        ts.PacketsLost,
		JitterSeconds:      ts.Jitter.Seconds(),
		Bitrate:            ts.Bitrate,
		KeyframeInterval:   ts.KeyframeInterval.Seconds(),
		FPSIn:              ts.FrameRate,
		FPSAnalyzed:        math.Float64frombits(c.analyzedFPS.Load()),
		Dropped:            c.dropCounts(),
		DecodeMode:         c.cfg.DecodeMode,
		DecodingAll:        c.gate.decodingAll(),
		Wakeups:            c.gate.wakeups.Load(),
		Skipped:            c.gate.skipped.Load(),
		LagSeconds:         time.Duration(c.lagNano.Load()).Seconds(),
		OverloadStep:       sched.Step(c.step.Load()).String(),
		ID:                 c.id,
		URL:                c.sess.RedactedURL(),
		State:              st.State.String(),
		Reason:             st.Reason,
		Since:              st.Since.UTC(),
		Codec:              string(st.Codec),
		Transport:          c.cfg.Transport,
		LastFrame:          c.lastFrame.UTC(),
		LastError:          c.lastError,
		QueueDepth:         c.queue.Len(),
	}
}

func (c *camera) dropCounts() map[string]uint64 {
	out := make(map[string]uint64, len(c.drops))
	for r := range c.drops {
		out[sched.DropReason(r).String()] = c.drops[r].Load()
	}
	return out
}
