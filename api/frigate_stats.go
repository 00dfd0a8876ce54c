package api

import (
	"math"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// detectorSample is the object network's counters at one time, from which
// /api/stats reports rates since the previous sample.
type detectorSample struct {
	at                time.Time
	inferences, count float64 // inferences run; durations observed
	seconds           float64 // their sum
	fps, speedMS      float64 // the rates reported from it
}

// stats serves /api/stats from the engine's figures: each camera's
// received and analyzed frame rates, the object network's inference rate
// and mean duration since the previous request (at least a second ago;
// the first one: since the start), and the service's uptime and version.
func (f *frigateAPI) stats(w http.ResponseWriter, _ *http.Request) {
	cams := map[string]any{}
	for _, st := range f.eng.Cameras() {
		cams[st.ID] = map[string]any{"camera_fps": round2(st.FPSIn), "process_fps": round2(st.FPSAnalyzed), "detection_enabled": true}
	}
	now := time.Now()
	det, loaded := f.detector(now)
	detectors := map[string]any{}
	if loaded {
		detectors["objects"] = map[string]any{"inference_speed": round2(det.speedMS), "detection_start": 0}
	}
	writeJSON(w, map[string]any{
		"cameras":       cams,
		"detectors":     detectors,
		"detection_fps": round2(det.fps),
		"processes":     map[string]any{},
		"service": map[string]any{"uptime": int64(now.Sub(f.started).Seconds()), "version": f.version,
			"latest_version": "disabled", "storage": map[string]any{}, "temperatures": map[string]any{},
			"last_updated": now.Unix()},
	})
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// detector reads the object network's metrics from the registry and
// returns the rates since the previous sample, and whether the model is
// loaded.
func (f *frigateAPI) detector(now time.Time) (detectorSample, bool) {
	cur := detectorSample{at: now}
	loaded := false
	if f.reg != nil {
		mfs, _ := f.reg.Gather() // a failed collector leaves its family out
		for _, mf := range mfs {
			ms := mf.GetMetric()
			if len(ms) == 0 {
				continue
			}
			switch mf.GetName() {
			case "vigil_objects_model_loaded":
				loaded = ms[0].GetGauge().GetValue() > 0
			case "vigil_objects_inferences_total":
				cur.inferences = ms[0].GetCounter().GetValue()
			case "vigil_objects_inference_duration_seconds":
				cur.count, cur.seconds = histogramTotals(ms)
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	prev := f.last
	if prev.at.IsZero() {
		prev = detectorSample{at: f.started}
	}
	dt := cur.at.Sub(prev.at).Seconds()
	if dt < 1 && !f.last.at.IsZero() {
		return f.last, loaded // too soon: the previous rates
	}
	if dt > 0 {
		cur.fps = (cur.inferences - prev.inferences) / dt
	}
	if n := cur.count - prev.count; n > 0 {
		cur.speedMS = (cur.seconds - prev.seconds) / n * 1000
	} else {
		cur.speedMS = prev.speedMS
	}
	f.last = cur
	return cur, loaded
}

// histogramTotals sums a histogram family's sample counts and sums.
func histogramTotals(ms []*dto.Metric) (count, sum float64) {
	for _, m := range ms {
		count += float64(m.GetHistogram().GetSampleCount())
		sum += m.GetHistogram().GetSampleSum()
	}
	return count, sum
}
