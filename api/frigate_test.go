package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/evidence"
	"github.com/vigil-video/vigil/history"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/metrics"
)

// The incidents of frigateServer (evidence wants UUIDs).
const (
	p1 = "0193a1b2-0000-7000-8000-000000000001"
	p2 = "0193a1b2-0000-7000-8000-000000000002"
	p3 = "0193a1b2-0000-7000-8000-000000000003"
	m1 = "0193a1b2-0000-7000-8000-0000000000e1"
)

// frigateEngine is the engine as the API sees it: two cameras, one with a
// zone, and their pictures.
type frigateEngine struct{}

func (frigateEngine) Cameras() []CameraStatus {
	return []CameraStatus{
		{ID: "door", URL: "rtsp://cam.example/door", FPSIn: 14.96, FPSAnalyzed: 4.99},
		{ID: "yard", URL: "rtsp://cam.example/yard", FPSIn: 0, FPSAnalyzed: 0},
	}
}
func (e frigateEngine) Camera(id string) (CameraStatus, bool) {
	for _, c := range e.Cameras() {
		if c.ID == id {
			return c, true
		}
	}
	return CameraStatus{}, false
}
func (frigateEngine) Ready() error { return nil }
func (frigateEngine) Snapshot(_ context.Context, id string, _ time.Duration) ([]byte, error) {
	if id != "door" && id != "yard" {
		return nil, ErrNoCamera
	}
	return []byte("\xff\xd8 latest " + id + " \xff\xd9"), nil
}
func (frigateEngine) FrigateCameras() []FrigateCamera {
	return []FrigateCamera{
		{ID: "door", Objects: []string{"person"}, Zones: []string{"porch"}, MotionThreshold: 25},
		{ID: "yard", Objects: []string{"person"}, Zones: []string{}, MotionThreshold: 30},
	}
}
func (frigateEngine) FrigateTopicPrefix() string { return "frigate" }

type idlePool struct{}

func (idlePool) Queued() (int, int)               { return 0, 0 }
func (idlePool) Workers() int                     { return 1 }
func (idlePool) Busy() (int, time.Duration)       { return 0, 0 }
func (idlePool) Describe(chan<- *prometheus.Desc) {}
func (idlePool) Collect(chan<- prometheus.Metric) {}

// frigateServer starts the API with basic auth (user ops, password pw), a
// real incident history, evidence store and the engine's metrics, holding:
// p1, a person on door 10 s after t0, ended, with a snapshot and the
// network's scores 0.8 then 0.6; p2, a person on yard at 20 s, open, in
// zone drive; p3, a person on door at 30 s, ended, no snapshot; m1, a
// motion incident (no Frigate event).
func frigateServer(t *testing.T) (base string, t0 time.Time, live *EventHub, jpg []byte) {
	t.Helper()
	dir := t.TempDir()
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(web, []byte("basic_auth_users:\n  ops: "+string(h)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := evidence.Open(testkit.FillZeros(config.Evidence{Dir: filepath.Join(dir, "evidence")}, config.DefaultEvidence()))
	if err != nil {
		t.Fatal(err)
	}
	jpg = []byte("\xff\xd8\xff\xe0 p1's best \xff\xd9")
	best, err := store.Save("door", p1, "best", jpg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hc := config.DefaultHistory()
	hc.Path = filepath.Join(dir, "history.db")
	hist := history.Open(hc, nil)
	t.Cleanup(func() { hist.Close() })
	log := NewIncidentLog(100)
	t0 = time.Date(2026, 11, 22, 21, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	mk := func(typ, id, cam, kind, zone string, start, now, people float64, objs []incident.Object, ev []incident.Evidence) incident.Event {
		in := incident.Incident{IncidentID: id, Camera: cam, Kind: kind, Zone: zone, StartedAt: at(start), FrameTime: at(now),
			FrameTimeSource: incident.TimeReceipt, Score: people, Objects: objs, Evidence: ev, Boxes: [][4]float64{{0.5, 0.5, 0.2, 0.4}}}
		if typ == incident.TypeEnd {
			in.EndedAt, in.Boxes = &in.FrameTime, nil
		}
		return incident.New(typ, in, at(now))
	}
	person := func(score float64) []incident.Object {
		return []incident.Object{{Label: "person", Score: score, Box: [4]float64{0.1, 0.2, 0.1, 0.3}}}
	}
	for _, ev := range []incident.Event{
		mk(incident.TypeStart, m1, "door", "motion", "", 9, 9, 0.1, nil, nil),
		mk(incident.TypeStart, p1, "door", "person", "", 10, 10, 1, person(0.8), []incident.Evidence{best}),
		mk(incident.TypeUpdate, p1, "door", "person", "", 10, 15, 1, person(0.6), []incident.Evidence{best}),
		mk(incident.TypeEnd, p1, "door", "person", "", 10, 18, 2, nil, []incident.Evidence{best}),
		mk(incident.TypeStart, p2, "yard", "person", "drive", 20, 20, 1, person(0.7), nil),
		mk(incident.TypeStart, p3, "door", "person", "", 30, 30, 1, person(0.9), nil),
		mk(incident.TypeEnd, p3, "door", "person", "", 30, 33, 1, nil, nil),
		mk(incident.TypeEnd, m1, "door", "motion", "", 9, 40, 0.1, nil, nil),
	} {
		log.Add(ev)
		hist.Add(ev)
	}
	awaitHistory(t, hist, m1, incident.TypeEnd)
	m := metrics.New(func() metrics.PoolStats { return idlePool{} }, idlePool{})
	m.ObjectModel.Set(1)
	for range 10 {
		m.Inferred("door", "motion", time.Now(), 0, 40*time.Millisecond)
	}
	live = NewEventHub(16, log)
	s := New(Config{Listen: "127.0.0.1:0", WebConfigFile: web, Registry: m.Reg, Incidents: hist, Live: live, Evidence: store,
		Limits: httpLimits(func(*config.HTTPConfig) {})}, frigateEngine{})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Close(); s.Close() })
	return "http://ops:pw@" + s.Addr(), t0, live, jpg
}

// awaitHistory waits until the history's record of incident id is its
// event of type typ (the writer is asynchronous; it writes in order).
func awaitHistory(t *testing.T, hist *history.Store, id, typ string) {
	t.Helper()
	await.Until(t, 20*time.Second, "the history to hold "+id+"'s "+typ, func() bool {
		r, err := hist.Get(id)
		return err == nil && r != nil && r.Event.Type == typ
	})
}

// integrationGet requests path the way the integration's FrigateApiClient
// does (aiohttp: Accept */*, the query built by yarl from the non-None
// parameters, the credentials in the URL) and returns the body.
func integrationGet(t *testing.T, base, path string, params url.Values) (int, http.Header, []byte) {
	t.Helper()
	u := base + "/" + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	req.Header.Set("User-Agent", "HomeAssistant/2026.5 aiohttp/3.11")
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

// getJSON is integrationGet decoding JSON (response.json()).
func getJSON(t *testing.T, base, path string, params url.Values, v any) {
	t.Helper()
	code, _, b := integrationGet(t, base, path, params)
	if code != 200 {
		t.Fatalf("GET %s?%s: %d %s", path, params.Encode(), code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// key indexes nested JSON objects as Python's d["a"]["b"] does: a missing
// key is the KeyError that stops the integration's setup.
func key(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("[%s]: %T, not an object", strings.Join(path[:i], "]["), v)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("KeyError: [%s]", strings.Join(path[:i+1], "]["))
		}
	}
	return v
}

// TestFrigateIntegrationSetup replays frigate-hass-integration's setup and
// platforms against the real handlers: async_setup_entry (version, then
// config: mqtt.topic_prefix, cameras), the coordinator's stats and what
// sensor.py, camera.py, number.py, switch.py and binary_sensor.py index
// in them without a default, and the camera entity's latest.jpg.
func TestFrigateIntegrationSetup(t *testing.T) {
	base, _, _, _ := frigateServer(t)

	// server_version.split("-")[0] >= FRIGATE_VERSION_ERROR_CUTOFF 0.12.0.
	code, _, v := integrationGet(t, base, "api/version", nil)
	if code != 200 {
		t.Fatalf("api/version: %d %s", code, v)
	}
	parts := strings.Split(strings.Split(string(v), "-")[0], ".")
	major, _ := strconv.Atoi(parts[0])
	minor, _ := strconv.Atoi(parts[1])
	if len(parts) != 3 || major != 0 || minor < 12 {
		t.Errorf("version %q: not a Frigate version the integration accepts (>= 0.12.0)", v)
	}

	var cfg map[string]any
	getJSON(t, base, "api/config", nil, &cfg)
	if p := key(t, cfg, "mqtt", "topic_prefix"); p != "frigate" {
		t.Errorf("mqtt.topic_prefix %v, want the frigate_compat sink's frigate", p)
	}
	model := key(t, cfg, "model").(map[string]any) // config["model"].get(...)
	_ = model
	// get_cameras_zones_and_objects: the sensors and binary sensors made.
	entities := map[string]bool{}
	cameras := key(t, cfg, "cameras").(map[string]any)
	for cam := range cameras {
		for _, o := range key(t, cameras, cam, "objects", "track").([]any) {
			entities[cam+"/"+o.(string)] = true
		}
		entities[cam+"/all"] = true
		for zone, zc := range key(t, cameras, cam, "zones").(map[string]any) {
			objs, _ := zc.(map[string]any)["objects"].([]any) // .get("objects")
			for _, o := range key(t, cameras, cam, "objects", "track").([]any) {
				if len(objs) == 0 || slices.Contains(objs, o) {
					entities[zone+"/"+o.(string)] = true
				}
			}
			entities[zone+"/all"] = true
		}
		// number.py: float(config["cameras"][cam]["motion"]["contour_area"]) and ["threshold"].
		for _, k := range []string{"contour_area", "threshold"} {
			if _, ok := key(t, cameras, cam, "motion", k).(float64); !ok {
				t.Errorf("cameras.%s.motion.%s is no number", cam, k)
			}
		}
	}
	want := map[string]bool{"door/person": true, "door/all": true, "porch/person": true, "porch/all": true, "yard/person": true, "yard/all": true}
	if !reflect.DeepEqual(entities, want) {
		t.Errorf("entities %v, want %v", entities, want)
	}
	if th := key(t, cameras, "yard", "motion", "threshold"); th != 30.0 {
		t.Errorf("yard motion threshold %v, want the camera's 30", th)
	}
	raw, _ := json.Marshal(cfg)
	for _, secret := range []string{"rtsp://", "cam.example", "pw"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("/api/config holds %q: %s", secret, raw)
		}
	}

	// The coordinator's data.
	var stats map[string]any
	getJSON(t, base, "api/stats", nil, &stats)
	fps := 0
	for k, v := range stats {
		if strings.HasSuffix(k, "_fps") { // FrigateFpsSensor: round(float(data))
			if _, ok := v.(float64); !ok {
				t.Errorf("stats.%s = %v, not a number", k, v)
			}
			fps++
		}
	}
	if fps == 0 || key(t, stats, "detection_fps").(float64) <= 0 {
		t.Errorf("stats: no detection_fps from the 10 inferences: %v", stats["detection_fps"])
	}
	for name := range key(t, stats, "detectors").(map[string]any) { // DetectorSpeedSensor
		if ms := key(t, stats, "detectors", name, "inference_speed"); ms != 40.0 {
			t.Errorf("detector %s inference_speed %v, want the 40 ms observed", name, ms)
		}
	}
	if len(key(t, stats, "detectors").(map[string]any)) != 1 {
		t.Errorf("detectors %v, want the object network", stats["detectors"])
	}
	if up, ok := key(t, stats, "service", "uptime").(float64); !ok || up < 0 {
		t.Errorf("service.uptime %v", stats["service"])
	}
	if lv := key(t, stats, "service", "latest_version"); lv != "disabled" {
		t.Errorf("service.latest_version %v, want disabled (no update entity offering a Frigate release)", lv)
	}
	for name, cam := range key(t, stats, "cameras").(map[string]any) {
		for k, v := range cam.(map[string]any) {
			if strings.HasSuffix(k, "_fps") { // CameraFpsSensor
				if _, ok := v.(float64); !ok {
					t.Errorf("stats.cameras.%s.%s = %v", name, k, v)
				}
			}
		}
		// sensor.py indexes config["cameras"][name]["audio"]["enabled_in_config"] for each.
		key(t, cameras, name, "audio", "enabled_in_config")
	}
	if f := key(t, stats, "cameras", "door", "camera_fps"); f != 14.96 {
		t.Errorf("door camera_fps %v, want the engine's 14.96", f)
	}
	if f := key(t, stats, "cameras", "door", "process_fps"); f != 4.99 {
		t.Errorf("door process_fps %v, want the engine's 4.99", f)
	}

	// camera.py: api/<camera>/latest.jpg?h=<height>.
	code, hdr, b := integrationGet(t, base, "api/door/latest.jpg", url.Values{"h": {"277"}})
	if code != 200 || hdr.Get("Content-Type") != "image/jpeg" || !bytes.Contains(b, []byte("latest door")) {
		t.Errorf("latest.jpg: %d %s %q", code, hdr.Get("Content-Type"), b)
	}
	if code, _, _ := integrationGet(t, base, "api/nope/latest.jpg", nil); code != 404 {
		t.Errorf("latest.jpg of an unknown camera: %d", code)
	}
	if code, _, _ := integrationGet(t, base, "api/door/nothing", nil); code != 404 {
		t.Errorf("an unknown path: %d", code)
	}
}

// TestFrigateEventsAPI replays the media browser's and the notification
// proxy's requests: /api/events with Frigate's parameters (as
// async_get_events builds them), /api/events/summary, one event, and the
// snapshot and thumbnail.
func TestFrigateEventsAPI(t *testing.T) {
	base, t0, _, jpg := frigateServer(t)
	sec := func(s float64) float64 { return float64(t0.Unix()) + s }
	ids := func(params url.Values) []string {
		t.Helper()
		params.Set("include_thumbnails", "0")
		var evs []map[string]any
		getJSON(t, base, "api/events", params, &evs)
		out := []string{}
		for _, e := range evs {
			out = append(out, e["id"].(string))
		}
		return out
	}
	for _, c := range []struct {
		params url.Values
		want   []string
	}{
		{url.Values{}, []string{p3, p2, p1}},
		{url.Values{"cameras": {"door"}}, []string{p3, p1}},
		{url.Values{"camera": {"yard"}}, []string{p2}},
		{url.Values{"cameras": {"door,yard"}, "limit": {"2"}}, []string{p3, p2}},
		{url.Values{"labels": {"person"}}, []string{p3, p2, p1}},
		{url.Values{"label": {"car"}}, []string{}},
		{url.Values{"zones": {"drive"}}, []string{p2}},
		{url.Values{"zone": {"None"}}, []string{p3, p1}},
		{url.Values{"after": {fmt.Sprint(sec(10))}}, []string{p3, p2}},
		{url.Values{"before": {fmt.Sprint(sec(30))}}, []string{p2, p1}},
		{url.Values{"after": {fmt.Sprint(sec(15))}, "before": {fmt.Sprint(sec(25))}}, []string{p2}},
		{url.Values{"has_snapshot": {"1"}}, []string{p1}},
		{url.Values{"has_snapshot": {"0"}}, []string{p3, p2}},
		{url.Values{"has_clip": {"1"}}, []string{}},
		{url.Values{"has_clip": {"0"}}, []string{p3, p2, p1}},
		{url.Values{"in_progress": {"1"}}, []string{p2}},
		{url.Values{"in_progress": {"0"}}, []string{p3, p1}},
		{url.Values{"sub_labels": {"bob"}}, []string{}},
		{url.Values{"favorites": {"1"}}, []string{}},
		{url.Values{"min_score": {"0.75"}}, []string{p3}},
		{url.Values{"sort": {"date_asc"}}, []string{p1, p2, p3}},
		{url.Values{"sort": {"score_asc"}, "limit": {"1"}}, []string{p1}},
		{url.Values{"event_id": {p2}}, []string{p2}},
	} {
		if got := ids(c.params); !reflect.DeepEqual(got, c.want) {
			t.Errorf("?%s: %v, want %v", c.params.Encode(), got, c.want)
		}
	}
	for _, bad := range []url.Values{{"after": {"yesterday"}}, {"limit": {"0"}}, {"has_snapshot": {"yes"}}, {"sort": {"random"}}} {
		code, _, b := integrationGet(t, base, "api/events", bad)
		name := ""
		for k := range bad {
			name = k
		}
		if code != 400 || !strings.HasPrefix(string(b), name+":") {
			t.Errorf("?%s: %d %q, want a 400 naming %s", bad.Encode(), code, b, name)
		}
	}

	// The fields _build_event_response reads, and the score as it shows it:
	// event['data'].get('top_score') or event['top_score'].
	var evs []map[string]any
	getJSON(t, base, "api/events", url.Values{"cameras": {"door"}, "has_snapshot": {"1"}, "limit": {"50"}, "include_thumbnails": {"0"}}, &evs)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	first := evs[0]
	for k, want := range map[string]any{"id": p1, "camera": "door", "label": "person", "start_time": sec(10), "end_time": sec(18),
		"has_clip": false, "has_snapshot": true, "sub_label": nil, "retain_indefinitely": false} {
		if got := key(t, first, k); got != want {
			t.Errorf("p1.%s = %v, want %v", k, got, want)
		}
	}
	if got := key(t, first, "data", "top_score"); got != 0.8 {
		t.Errorf("p1 data.top_score %v, want the network's best 0.8 (not the end's people count)", got)
	}
	if got := key(t, first, "data", "score"); got != 0.6 {
		t.Errorf("p1 data.score %v, want the last sighting's 0.6", got)
	}
	if got := key(t, first, "data", "box"); !reflect.DeepEqual(got, []any{0.1, 0.2, 0.1, 0.3}) {
		t.Errorf("p1 data.box %v, want the person's normalized box", got)
	}
	var open []map[string]any
	getJSON(t, base, "api/events", url.Values{"in_progress": {"1"}}, &open)
	if len(open) != 1 || open[0]["end_time"] != nil || !reflect.DeepEqual(open[0]["zones"], []any{"drive"}) {
		t.Errorf("the open event: %v", open)
	}

	// media_source: async_get_event and the summary it counts.
	var one map[string]any
	getJSON(t, base, "api/events/"+p3, nil, &one)
	if one["id"] != p3 || one["has_snapshot"] != false {
		t.Errorf("api/events/"+p3+": %v", one)
	}
	if code, _, _ := integrationGet(t, base, "api/events/"+m1, nil); code != 404 {
		t.Errorf("api/events/"+m1+" (motion, no Frigate event): %d", code)
	}
	var sum []map[string]any
	getJSON(t, base, "api/events/summary", url.Values{"has_snapshot": {"1"}, "timezone": {"Pacific/Auckland"}}, &sum)
	if len(sum) != 1 || sum[0]["camera"] != "door" || sum[0]["label"] != "person" || sum[0]["count"] != 1.0 ||
		sum[0]["day"] != "2026-11-23" || !reflect.DeepEqual(sum[0]["zones"], []any{}) {
		t.Errorf("summary: %v, want door/person 1 on 2026-11-23 in Auckland", sum)
	}
	getJSON(t, base, "api/events/summary", nil, &sum)
	n := 0.0
	for _, g := range sum {
		n += g["count"].(float64)
	}
	if n != 3 || len(sum) != 2 {
		t.Errorf("summary: %v, want 3 events in 2 groups", sum)
	}

	// views.py NotificationsProxyView and the blueprints' attachments:
	// api/events/<detections[0]>/thumbnail.jpg and snapshot.jpg.
	for _, p := range []string{"api/events/" + p1 + "/thumbnail.jpg", "api/events/" + p1 + "/snapshot.jpg"} {
		code, hdr, b := integrationGet(t, base, p, url.Values{"format": {"android"}})
		if code != 200 || hdr.Get("Content-Type") != "image/jpeg" || !bytes.Equal(b, jpg) {
			t.Errorf("%s: %d %s %q", p, code, hdr.Get("Content-Type"), b)
		}
	}
	if code, _, _ := integrationGet(t, base, "api/events/"+p3+"/thumbnail.jpg", nil); code != 404 {
		t.Errorf("thumbnail of an event without snapshot: %d", code)
	}
}

// TestFrigateEventsOrStream: /api/events serves vigil's stream to those
// who ask for it (EventSource's Accept, a resume point, a request with no
// Accept and no query: the stream's clients before the list existed) and
// Frigate's list to everyone else; every Frigate path wants the
// credentials.
func TestFrigateEventsOrStream(t *testing.T) {
	base, _, live, _ := frigateServer(t)
	for _, c := range []struct {
		name   string
		header map[string]string
		query  string
		stream bool
	}{
		{"EventSource", map[string]string{"Accept": "text/event-stream"}, "", true},
		{"resume", map[string]string{"Accept": "*/*", "Last-Event-ID": "x"}, "", true},
		{"resume parameter", map[string]string{"Accept": "*/*"}, "last_event_id=x", true},
		{"no Accept, no query", nil, "", true},
		{"curl", map[string]string{"Accept": "*/*"}, "", false},
		{"no Accept, a Frigate query", nil, "limit=5", false},
		{"JSON", map[string]string{"Accept": "application/json"}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			u := base + "/api/events"
			if c.query != "" {
				u += "?" + c.query
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			ct := res.Header.Get("Content-Type")
			if c.stream {
				if ct != "text/event-stream" {
					t.Fatalf("content type %q, want the stream", ct)
				}
				live.Publish(incident.New(incident.TypeStart, incident.Incident{IncidentID: "live", Camera: "door", Kind: "motion"}, time.Now()))
				buf := make([]byte, 4096)
				var got []byte
				for !bytes.Contains(got, []byte(`"incident_id":"live"`)) {
					n, err := res.Body.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						t.Fatalf("stream: %v after %q", err, got)
					}
				}
				return
			}
			var evs []map[string]any
			if err := json.NewDecoder(res.Body).Decode(&evs); err != nil || ct != "application/json" || len(evs) == 0 {
				t.Errorf("content type %q, %d events (%v), want Frigate's list", ct, len(evs), err)
			}
		})
	}
	plain := strings.Replace(base, "ops:pw@", "", 1)
	for _, p := range []string{"/api/version", "/api/config", "/api/stats", "/api/events?limit=1", "/api/events/summary", "/api/events/" + p1,
		"/api/events/" + p1 + "/thumbnail.jpg", "/api/door/latest.jpg"} {
		res, err := http.Get(plain + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", p, res.StatusCode)
		}
	}
}
