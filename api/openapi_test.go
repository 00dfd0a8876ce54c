package api

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/history"
	"github.com/vigil-video/vigil/internal/openapitest"
	"github.com/vigil-video/vigil/internal/testkit"
)

// TestOpenAPIDescribesEveryRoute: the routes Routes registers with every
// optional part on (incidents with Frigate's event list, live events,
// evidence, cluster, pprof), the console's among them, are
// exactly the operations of the served OpenAPI description, and each
// documented path, its parameters filled in, reaches the route it
// documents through the real mux. The description is served at
// /api/openapi.json, valid against its own schema for that route.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	ev, err := evidence.Open(config.Evidence{Dir: t.TempDir(), MaxBytes: 1 << 20, MaxAge: 1})
	if err != nil {
		t.Fatal(err)
	}
	hc := config.DefaultHistory()
	hc.Path = filepath.Join(t.TempDir(), "history.db")
	recent := history.Open(hc, nil) // Frigate's event routes too
	defer recent.Close()
	live := NewEventHub(1, nil)
	defer live.Close()
	cluster := http.NotFoundHandler() // only its route is looked at
	cfg := Config{Registry: prometheus.NewRegistry(), Incidents: recent, Live: live, Evidence: ev, Cluster: cluster, Pprof: true}
	mux := Routes(cfg, slowEngine{}).(*deadlineMux)

	doc, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	d := openapitest.Load(t, doc)
	documented := d.Operations()
	slices.Sort(documented)
	// A pattern ending in {$} matches its path exactly, as an OpenAPI
	// path does: GET /{$} is the description's GET /.
	exact := func(pattern string) string { return strings.TrimSuffix(pattern, "{$}") }
	var registered []string
	for _, p := range mux.patterns {
		registered = append(registered, exact(p))
	}
	slices.Sort(registered)
	for _, p := range registered {
		if !slices.Contains(documented, p) {
			t.Errorf("route %q is not in the OpenAPI description", p)
		}
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	// The mux itself says where a documented path goes (a route
	// registered on its ServeMux directly counts too).
	for _, op := range documented {
		method, path, _ := strings.Cut(op, " ")
		req := httptest.NewRequest(method, param.ReplaceAllString(path, "x"), nil)
		if _, pattern := mux.Handler(req); exact(pattern) != op {
			t.Errorf("the OpenAPI description has %q, but %s %s reaches %q", op, method, req.URL.Path, pattern)
		}
	}

	// Every operation has a unique operationId; every $ref resolves (a
	// local one to a node of the description, another to a bundled $id).
	ids := map[string]bool{}
	for _, item := range d.Raw["paths"].(map[string]any) {
		for _, op := range item.(map[string]any) {
			id, _ := op.(map[string]any)["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("operationId %q missing or repeated", id)
			}
			ids[id] = true
		}
	}
	bundled := map[string]bool{}
	for _, s := range d.Raw["components"].(map[string]any)["schemas"].(map[string]any) {
		if id, ok := s.(map[string]any)["$id"].(string); ok {
			bundled[id] = true
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["$id"]; ok {
				return // a bundled schema: its references are its own (compiled by the response checks)
			}
			if ref, ok := v["$ref"].(string); ok {
				if ptr, local := strings.CutPrefix(ref, "#/"); local {
					var node any = d.Raw
					for _, part := range strings.Split(ptr, "/") {
						m, _ := node.(map[string]any)
						node = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
					}
					if node == nil {
						t.Errorf("$ref %s does not resolve", ref)
					}
				} else if !bundled[strings.TrimSuffix(ref, "#")] {
					t.Errorf("$ref %s is neither local nor a bundled schema's $id", ref)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(d.Raw)

	// The console's page and files are documented answers.
	for _, tc := range []struct {
		path, template string
		status         int
	}{{"/", "/", 200}, {"/console/console.js", "/console/{file}", 200}, {"/console/console.css", "/console/{file}", 200}, {"/console/nope.js", "/console/{file}", 404}} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, rec.Code, tc.status)
		}
		if err := d.Validate("GET", tc.template, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()); err != nil {
			t.Error(err)
		}
	}

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	if err := d.Validate("GET", "/api/openapi.json", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()); err != nil {
		t.Error(err)
	}
	if rec.Body.String() != string(doc) {
		t.Error("/api/openapi.json does not serve OpenAPI()")
	}
	for _, name := range []string{"IncidentEvent", "IncidentData"} {
		if !strings.Contains(rec.Body.String(), `"`+name+`"`) {
			t.Errorf("the served description does not bundle %s", name)
		}
	}
}

// TestOpenAPIAuthResponses: with basic auth on (web_config_file), the
// real server's answers to a request without credentials (401), to a
// client that failed too often (429) and to the probes without
// credentials (200) are documented responses.
func TestOpenAPIAuthResponses(t *testing.T) {
	wc := testkit.BasicAuthWebConfig(t, "ops", "op-secret")
	s := New(Config{Listen: "127.0.0.1:0", WebConfigFile: wc, Registry: prometheus.NewRegistry(),
		Limits: httpLimits(func(h *config.HTTPConfig) { h.LoginFailuresBurst, h.LoginFailuresPerMinute = 2, 1 })}, slowEngine{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doc, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	d := openapitest.Load(t, doc)
	get := func(path, pass string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+s.Addr()+path, nil)
		if pass != "" {
			req.SetBasicAuth("ops", pass)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, p := range []string{"/livez", "/readyz"} {
		res := get(p, "")
		if res.StatusCode != 200 {
			t.Errorf("GET %s without credentials: %d", p, res.StatusCode)
		}
		d.Check(t, "GET", p, res)
	}
	res := get("/api/cameras", "")
	if res.StatusCode != 401 {
		t.Errorf("GET /api/cameras without credentials: %d, want 401", res.StatusCode)
	}
	d.Check(t, "GET", "/api/cameras", res)
	var limited bool
	for range 10 {
		res := get("/api/cameras", "wrong")
		limited = res.StatusCode == 429
		d.Check(t, "GET", "/api/cameras", res)
		if limited {
			break
		}
	}
	if !limited {
		t.Error("no 429 after 10 failed authentications with a burst of 2")
	}
	res = get("/api/openapi.json", "op-secret")
	if res.StatusCode != 200 && res.StatusCode != 429 { // the limit may hold this client's address
		t.Errorf("GET /api/openapi.json with credentials: %d", res.StatusCode)
	}
	d.Check(t, "GET", "/api/openapi.json", res)
}

// TestOpenAPIFrigateResponses: the Frigate endpoints' real answers (the
// server of the Frigate tests: person incidents in the log, a snapshot,
// basic auth), successes and errors, the list and the stream of
// /api/events, are documented responses; the list's events are valid
// FrigateEvents.
func TestOpenAPIFrigateResponses(t *testing.T) {
	base, _, _, _ := frigateServer(t)
	doc, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	d := openapitest.Load(t, doc)
	get := func(path, accept string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, tc := range []struct {
		path, template string
		status         int
	}{
		{"/api/version", "/api/version", 200},
		{"/api/config", "/api/config", 200},
		{"/api/stats", "/api/stats", 200},
		{"/api/door/latest.jpg", "/api/", 200},
		{"/api/nope/latest.jpg", "/api/", 404},
		{"/api/door/other", "/api/", 404},
		{"/api/events?limit=10", "/api/events", 200},
		{"/api/events?cameras=door&sort=score_desc", "/api/events", 200},
		{"/api/events?limit=0", "/api/events", 400},
		{"/api/events?sort=best", "/api/events", 400},
		{"/api/events?after=soon", "/api/events", 400},
		{"/api/events/summary?timezone=Europe/Paris", "/api/events/summary", 200},
		{"/api/events/summary?timezone=Mars/Olympus", "/api/events/summary", 400},
		{"/api/events/" + p1, "/api/events/{id}", 200},
		{"/api/events/" + m1, "/api/events/{id}", 404},
		{"/api/events/" + p1 + "/thumbnail.jpg", "/api/events/{id}/thumbnail.jpg", 200},
	} {
		res := get(tc.path, "application/json")
		if res.StatusCode != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, res.StatusCode, tc.status)
		}
		body := d.Check(t, "GET", tc.template, res)
		if tc.path == "/api/events?limit=10" && !strings.Contains(string(body), p1) {
			t.Errorf("the list does not hold %s: %s", p1, body)
		}
	}
	res := get("/api/events", "text/event-stream")
	res.Body.Close()
	if err := d.Validate("GET", "/api/events", res.StatusCode, res.Header.Get("Content-Type"), nil); err != nil {
		t.Error(err)
	}
}
