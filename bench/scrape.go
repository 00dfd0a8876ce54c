package bench

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/vigil-video/vigil/internal/sleep"
	"github.com/vigil-video/vigil/sched"
)

// scrape is one reading of the engine's /metrics.
type scrape struct {
	at       time.Time
	families map[string]*dto.MetricFamily
}

// scrapeTries bounds the attempts of one sample; scrapePause is waited
// between them.
const (
	scrapeTries = 4
	scrapePause = time.Second
)

// scrapeSample reads one sample of the run, retrying a slow or failed
// scrape; a sample that cannot be read is marked in the result and nil is
// returned (its figures read as zero): the run never aborts for it.
func (r *LiveResult) scrapeSample(ctx context.Context, client *http.Client, addr, name string) *scrape {
	for i := range scrapeTries {
		s, err := scrapeMetrics(client, addr)
		if err == nil {
			return s
		}
		if i == scrapeTries-1 || !sleep.For(ctx, scrapePause) {
			break
		}
		r.ScrapeRetries++
	}
	r.ScrapeFailed = append(r.ScrapeFailed, name)
	return nil
}

func scrapeMetrics(client *http.Client, addr string) (*scrape, error) {
	res, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", res.Status)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	return &scrape{at: time.Now(), families: fams}, nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	case m.Histogram != nil:
		return m.Histogram.GetSampleSum() // a histogram's sum: seconds spent
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// sum adds a family's samples whose labels match every pair of match
// (a value starting with "!" matches anything but the rest).
func (s *scrape) sum(name string, match ...string) float64 {
	total := 0.0
	for _, m := range s.matching(name, match) {
		total += value(m)
	}
	return total
}

// matching returns a family's samples whose labels match (as sum).
func (s *scrape) matching(name string, match []string) []*dto.Metric {
	if s == nil || s.families[name] == nil {
		return nil
	}
	var out []*dto.Metric
next:
	for _, m := range s.families[name].Metric {
		for i := 0; i+1 < len(match); i += 2 {
			v, want := label(m, match[i]), match[i+1]
			if len(want) > 0 && want[0] == '!' {
				if v == want[1:] {
					continue next
				}
			} else if v != want {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// histogramAt returns, over a histogram family's samples whose labels
// match (as sum), the observations and those at most le (le must be one
// of its buckets' bounds).
func (s *scrape) histogramAt(name string, le float64, match ...string) (count, under float64) {
	for _, m := range s.matching(name, match) {
		h := m.GetHistogram()
		if h == nil {
			continue
		}
		count += float64(h.GetSampleCount())
		for _, b := range h.GetBucket() {
			if b.GetUpperBound() == le {
				under += float64(b.GetCumulativeCount())
			}
		}
	}
	return count, under
}

// perCamera returns a family's value per camera label.
func (s *scrape) perCamera(name string) map[string]float64 {
	out := map[string]float64{}
	if s == nil || s.families[name] == nil {
		return out
	}
	for _, m := range s.families[name].Metric {
		out[label(m, "camera")] += value(m)
	}
	return out
}

// maxOf returns the largest sample of a family.
func (s *scrape) maxOf(name string) float64 {
	best := 0.0
	for _, v := range s.perCamera(name) {
		best = max(best, v)
	}
	return best
}

// steps counts the cameras of each clip (clips[i] is cam%03d's, i+1) at
// each rung of the overload ladder: clip → step name → cameras.
func (s *scrape) steps(clips []string) map[string]map[string]int {
	byCamera := s.perCamera("vigil_camera_overload_step")
	if len(byCamera) == 0 {
		return nil
	}
	out := map[string]map[string]int{}
	for i, clip := range clips {
		v, ok := byCamera[fmt.Sprintf("cam%03d", i+1)]
		if !ok {
			continue
		}
		if out[clip] == nil {
			out[clip] = map[string]int{}
		}
		out[clip][sched.Step(v).String()]++
	}
	return out
}

// formatSteps writes steps as "clip: full 3, reduced 27; clip2: ...",
// clips and rungs in order.
func formatSteps(steps map[string]map[string]int) string {
	var parts []string
	for _, clip := range slices.Sorted(maps.Keys(steps)) {
		var rungs []string
		for st := sched.StepFull; st <= sched.StepDeepest; st++ {
			if n := steps[clip][st.String()]; n > 0 {
				rungs = append(rungs, fmt.Sprintf("%s %d", st, n))
			}
		}
		parts = append(parts, clip+": "+strings.Join(rungs, ", "))
	}
	return strings.Join(parts, "; ")
}

// perClipDelta sums a counter's growth from s0 to s1 over the cameras of
// each clip (clips[i] is cam%03d's, i+1); nil when s1 lacks it.
func perClipDelta(s0, s1 *scrape, name string, clips []string) map[string]float64 {
	end := s1.perCamera(name)
	if len(end) == 0 {
		return nil
	}
	start := s0.perCamera(name)
	out := map[string]float64{}
	for i, clip := range clips {
		id := fmt.Sprintf("cam%03d", i+1)
		if v, ok := end[id]; ok {
			out[clip] += v - start[id]
		}
	}
	return out
}
