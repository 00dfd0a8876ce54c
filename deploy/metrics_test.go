package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/cluster"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/testkit"
)

// query is a PromQL expression and where it comes from.
type query struct {
	where, expr string
}

// ruleQueries returns the expressions of the alerting rules.
func ruleQueries(t *testing.T, path string) []query {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert, Record, Expr string
			}
		}
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []query
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			out = append(out, query{path + " " + r.Alert + r.Record, r.Expr})
		}
	}
	return out
}

// grafanaVars replaces Grafana's variables with values PromQL parses.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "6h")

// labelValues matches a query variable's label_values(<selector>, label).
var labelValues = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// dashboardQueries returns every panel query and query variable of a
// Grafana dashboard (rows' panels included).
func dashboardQueries(t *testing.T, path string) []query {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string
		Type    string
		Targets []struct{ Expr string }
		Panels  json.RawMessage
	}
	var d struct {
		Panels     []json.RawMessage
		Templating struct {
			List []struct {
				Name  string
				Type  string
				Query json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []query
	var walk func([]json.RawMessage)
	walk = func(ps []json.RawMessage) {
		for _, r := range ps {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", path, p.Title)
			}
			for _, tg := range p.Targets {
				out = append(out, query{fmt.Sprintf("%s panel %q", path, p.Title), grafanaVars.Replace(tg.Expr)})
			}
			var nested []json.RawMessage
			if len(p.Panels) > 0 {
				json.Unmarshal(p.Panels, &nested) //nolint:errcheck
				walk(nested)
			}
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			json.Unmarshal(v.Query, &q.Query) //nolint:errcheck // the older string form
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("%s: variable %s: %q is not label_values(<selector>, <label>)", path, v.Name, q.Query)
			continue
		}
		out = append(out, query{fmt.Sprintf("%s variable %s", path, v.Name), m[1]})
		out = append(out, query{fmt.Sprintf("%s variable %s", path, v.Name), fmt.Sprintf("count by (%s) (%s)", m[2], m[1])})
	}
	return out
}

// use is what a query needs from the exposition: metric names, and the
// labels it matches or groups by, per metric.
type use struct {
	metrics map[string]map[string]bool // metric → labels
}

func (u *use) add(where, expr string) error {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return fmt.Errorf("%s: %q: %w", where, expr, err)
	}
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		labels := u.metrics[vs.Name]
		if labels == nil {
			labels = map[string]bool{}
			u.metrics[vs.Name] = labels
		}
		for _, m := range vs.LabelMatchers {
			if m.Name != "__name__" {
				labels[m.Name] = true
			}
		}
		// Labels an enclosing aggregation groups by must come from here.
		for _, p := range path {
			if a, ok := p.(*parser.AggregateExpr); ok && !a.Without {
				for _, l := range a.Grouping {
					labels[l] = true
				}
			}
		}
		return nil
	})
	return nil
}

// lazyMetrics are documented metrics the engine creates only when their
// first event happens, so a short demo run does not show them; each is
// checked against the README's metrics table instead. The engine should
// initialize them at zero (as vigil_incidents_total is): then they leave
// this list.
var lazyMetrics = map[string][]string{
	// camera, reason: created at a camera's first reconnect.
	"vigil_camera_reconnects_total": {"camera", "reason"},
}

// scrapeMetrics are the series Prometheus makes of each scrape, which the
// rules may query beside vigil's own.
var scrapeMetrics = map[string]bool{"up": true}

// clusterFamilies returns the metrics a cluster node registers (only with
// a cluster: section, so the demo does not show them), from a real
// cluster.Node that is never started, as the engine gathers them.
func clusterFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	n, err := cluster.New(config.Cluster{NodeID: "deploy-test"}, cluster.Options{Runner: idleRunner{}, Emit: func(incident.Event) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(n.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	if len(out) == 0 {
		t.Fatal("a cluster node registers no metric")
	}
	return out
}

// idleRunner runs no camera.
type idleRunner struct{}

func (idleRunner) Run([]string) {}
func (idleRunner) Stop()        {}

// TestRulesAndDashboardNameExposedMetrics runs the engine's embedded demo,
// scrapes its /metrics, and checks that every metric the alert rules and
// the dashboard query is exposed (a cluster node's by a cluster.Node), with
// every label they match or group by; the demo's events on stdout are
// valid against the published schema; SIGTERM stops it cleanly; every
// line it logged (--log-format json) is a JSON record.
func TestRulesAndDashboardNameExposedMetrics(t *testing.T) {
	u := &use{metrics: map[string]map[string]bool{}}
	queries := append(ruleQueries(t, "prometheus/vigil-rules.yml"), dashboardQueries(t, "grafana/vigil.json")...)
	for _, q := range queries {
		if err := u.add(q.where, q.expr); err != nil {
			t.Error(err)
		}
	}
	if len(u.metrics) < 20 {
		t.Fatalf("only %d metrics found in the rules and the dashboard", len(u.metrics))
	}
	for name := range u.metrics {
		if !strings.HasPrefix(name, "vigil_") && !scrapeMetrics[name] {
			t.Errorf("%s is not a vigil metric", name)
		}
	}
	cluster := clusterFamilies(t)

	addr := freeAddr(t)
	var stdout bytes.Buffer
	var stderr testkit.SyncBuffer
	cmd := exec.Command(vigilBin, "run", "--metrics-addr", addr, "--log-format", "json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	vigil := testkit.StartProcess(t, cmd)

	// Scrape until every queried metric is there (histograms and vectors
	// appear with their first observation), at most a minute.
	var exposed map[string]*dto.MetricFamily
	var missing []string
	deadline := time.Now().Add(time.Minute)
	for {
		exposed, missing = scrape(t, addr), nil
		for name := range u.metrics {
			if _, ok := lazyMetrics[name]; !ok && family(exposed, name) == nil && family(cluster, name) == nil && !scrapeMetrics[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-vigil.Exited():
			t.Fatalf("vigil exited: %v\n%s", vigil.Err(), stderr.String())
		case <-time.After(time.Second):
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		t.Errorf("%s is queried but not exposed by the engine", name)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, labels := range u.metrics {
		if lazy, ok := lazyMetrics[name]; ok {
			if !bytes.Contains(readme, []byte("`"+name+"`")) {
				t.Errorf("%s: neither exposed by the demo nor in the README's metrics table", name)
			}
			for l := range labels {
				if !slices.Contains(lazy, l) && l != "instance" && l != "job" {
					t.Errorf("%s has no label %s", name, l)
				}
			}
			continue
		}
		mf := family(exposed, name)
		if mf == nil {
			mf = family(cluster, name)
		}
		if mf == nil {
			continue
		}
		have := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = true
			}
		}
		if strings.HasSuffix(name, "_bucket") {
			have["le"] = true
		}
		for l := range labels {
			if !have[l] && l != "instance" && l != "job" { // added by the scrape
				t.Errorf("%s is queried by label %s, which it does not have (%v)", name, l, keys(have))
			}
		}
	}

	// The demo's events, as a consumer reads them, against the schema.
	if err := vigil.Stop(syscall.SIGTERM, 20*time.Second); err != nil {
		t.Errorf("vigil after SIGTERM: %v\n%s", err, stderr.String())
	}
	validateEvents(t, stdout.Bytes())
	// --log-format json: every line on stderr is a JSON record, from
	// start to the end of the shutdown.
	n := 0
	for line := range strings.Lines(stderr.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil {
			t.Errorf("stderr line %d is not a JSON log record: %q", n+1, line)
		}
		n++
	}
	if n == 0 {
		t.Error("the demo logged nothing")
	}
}

// family returns the metric family a queried name belongs to: the name
// itself, or a histogram's or summary's _bucket, _sum, _count series.
func family(mfs map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if mf, ok := mfs[name]; ok {
		return mf
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if mf, ok := mfs[base]; ok && (mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY && suffix != "_bucket") {
			return mf
		}
	}
	return nil
}

func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil // not serving yet
	}
	defer res.Body.Close()
	var p expfmt.TextParser
	mfs, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	return mfs
}

func validateEvents(t *testing.T, out []byte) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range []string{"../schema/incident-v1.json", "../schema/incident-event-v1.json"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		c.AddResource(doc.(map[string]any)["$id"].(string), doc) //nolint:errcheck
	}
	sch, err := c.Compile("https://vigil.dev/schema/incident-event/v1")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(sc.Bytes()))
		if err != nil {
			t.Fatalf("stdout line %d is not JSON: %v", n+1, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("demo event %d: %v\n%s", n+1, err, sc.Bytes())
		}
		n++
	}
	if n == 0 {
		t.Error("the demo printed no event")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
