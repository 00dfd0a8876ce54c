package api

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/internal/buildinfo"
)

// Frigate's HTTP API, as far as Frigate's consumers read it: the Home
// Assistant integration (frigate-hass-integration: api.py, __init__.py,
// sensor.py, camera.py, media_source.py, views.py) and the notification
// blueprints that attach event snapshots through it. Served behind the
// same authentication as the rest of the API:
//
//   - GET /api/version: text, "<FrigateVersion>-vigil.<vigil version>";
//   - GET /api/config: the cameras (tracked objects, zones, motion
//     threshold), mqtt.topic_prefix (the frigate_compat sink's
//     frigate_topic_prefix): nothing else, no URL, no credential;
//   - GET /api/stats: per camera camera_fps (received) and process_fps
//     (analyzed), the object network as a detector (inference_speed in
//     ms) and detection_fps, service.uptime and version;
//   - GET /api/events: Frigate's JSON list of events (one per person
//     incident) with its query parameters, from the incident log; a client
//     of vigil's live stream (Accept: text/event-stream, as EventSource
//     sends, or a resume point) gets the stream (wantsStream);
//   - GET /api/events/summary and /api/events/{id}: the media browser's
//     counts per camera, label, zones and day, and one event;
//   - GET /api/events/{id}/snapshot.jpg and thumbnail.jpg: the incident's
//     best snapshot from the evidence store;
//   - GET /api/{camera}/latest.jpg: the camera's next analyzed picture
//     (the integration's camera entity).

// FrigateVersion is the Frigate release whose API the endpoints answer
// as: 0.14 introduced review segments (frigate/reviews); the integration
// refuses a server under 0.12 and turns on its 0.16+ features (face and
// plate recognition, classification) only from config's version, which
// stays under them.
const FrigateVersion = "0.14.1"

// FrigateCamera is a camera as /api/config shows it.
type FrigateCamera struct {
	// ID is the camera's id: Frigate's camera name.
	ID string
	// Objects are the Frigate labels it tracks ("person" with person
	// detection).
	Objects []string
	// Zones are its zones' names.
	Zones []string
	// MotionThreshold is motion.threshold: the per-pixel difference,
	// 1..255, that counts as change, as Frigate's.
	MotionThreshold int
}

// FrigateSource is what /api/config needs of the engine beyond Engine;
// an Engine that implements it is asked (engine.Engine does). Without it
// /api/config lists the cameras with no zones, tracking "person", under
// the topic prefix "frigate".
type FrigateSource interface {
	// FrigateCameras returns every camera, sorted by id.
	FrigateCameras() []FrigateCamera
	// FrigateTopicPrefix is the frigate_compat MQTT sink's
	// frigate_topic_prefix, "" when there is none.
	FrigateTopicPrefix() string
}

// IncidentQuerier is how the Frigate event endpoints read the incident
// log: IncidentLog's Query (newest first, paged by cursor). Config.Incidents
// is used when it implements it.
type IncidentQuerier interface {
	Query(camera, kind string, since, until time.Time, cursor string, limit int) (events []incident.Event, next string, err error)
}

// frigateTopicPrefix is Frigate's default topic prefix, answered when no
// sink speaks Frigate.
const frigateTopicPrefix = "frigate"

// frigateContourArea is Frigate's default motion.contour_area (pixels of
// its detect resolution), which /api/config answers: vigil's min_area is a
// share of the frame, not a pixel count.
const frigateContourArea = 10

// maxFrigateEvents bounds limit on /api/events (the integration's media
// browser asks 10000 for "all").
const maxFrigateEvents = 10000

// frigateQueryPage is how many log events one Query reads.
const frigateQueryPage = 1000

// maxFrigateScan bounds the log events one request reads (the in-memory
// log holds 10,000; a log on disk may hold far more): the events older
// than that are not answered.
const maxFrigateScan = 200_000

// frigateAPI serves the Frigate endpoints.
type frigateAPI struct {
	eng      Engine
	src      FrigateSource   // nil: defaults
	log      IncidentQuerier // nil: no events
	evidence Evidence        // nil: no snapshots
	reg      *prometheus.Registry
	version  string
	started  time.Time

	mu   sync.Mutex
	last detectorSample // the previous /api/stats sample
}

// detectorSample is the object network's counters at one time, from which
// /api/stats reports rates since the previous sample.
type detectorSample struct {
	at                time.Time
	inferences, count float64 // inferences run; durations observed
	seconds           float64 // their sum
	fps, speedMS      float64 // the rates reported from it
}

// frigateRoutes registers the Frigate endpoints on mux, /api/events
// among them (its stream, cfg.Live, included).
func frigateRoutes(mux *deadlineMux, cfg Config, eng Engine) {
	f := &frigateAPI{eng: eng, evidence: cfg.Evidence, reg: cfg.Registry, started: time.Now(),
		version: FrigateVersion + "-vigil." + buildinfo.Read().Version}
	f.src, _ = eng.(FrigateSource)
	f.log, _ = cfg.Incidents.(IncidentQuerier)
	if cfg.Incidents != nil && f.log == nil && cfg.Logger != nil {
		cfg.Logger.Warn("frigate event list unavailable: the incident log has no Query", "type", fmt.Sprintf("%T", cfg.Incidents))
	}
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(f.version)) //nolint:errcheck // the client went away
	})
	mux.HandleFunc("GET /api/config", f.config)
	mux.HandleFunc("GET /api/stats", f.stats)
	// /api/{camera}/latest.jpg would overlap /api/cameras/{id} and
	// /api/events/{id} in the mux: the catch-all /api/ serves it.
	mux.HandleFunc("GET /api/", f.latest)
	if cfg.Live != nil || f.log != nil {
		mux.ServeMux.Handle("GET /api/events", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if cfg.Live != nil && (f.log == nil || wantsStream(r)) {
				setDeadlines(w, 0, 0)
				cfg.Live.ServeHTTP(w, r)
				return
			}
			setDeadlines(w, mux.read, mux.write)
			f.events(w, r)
		}))
	}
	if f.log != nil {
		mux.HandleFunc("GET /api/events/summary", f.summary)
		mux.HandleFunc("GET /api/events/{id}", f.event)
	}
	if cfg.Evidence != nil {
		snapshot := func(w http.ResponseWriter, r *http.Request) {
			file, err := cfg.Evidence.OpenIncident(r.PathValue("id"))
			if err != nil {
				http.Error(w, "no such snapshot", http.StatusNotFound)
				return
			}
			serveJPEG(w, file)
		}
		mux.HandleFunc("GET /api/events/{id}/snapshot.jpg", snapshot)
		mux.HandleFunc("GET /api/events/{id}/thumbnail.jpg", snapshot)
	}
}

// wantsStream says whether a request on /api/events is for vigil's live
// stream rather than Frigate's list: it accepts text/event-stream (as
// every EventSource does), or it resumes (Last-Event-ID, last_event_id),
// or it names no Accept and no query at all (a program written for the
// stream before the list existed; Frigate's consumers, aiohttp, requests,
// curl and browsers, all send an Accept header, and the integration always
// a query).
func wantsStream(r *http.Request) bool {
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") || lastEventID(r) != "" {
		return true
	}
	_, accept := r.Header["Accept"]
	return !accept && r.URL.RawQuery == ""
}

// latestPath is /api/<camera>/latest.<ext>.
var latestPath = regexp.MustCompile(`^/api/([^/]+)/latest\.(jpg|jpeg)$`)

// latest serves /api/<camera>/latest.jpg (Frigate's query parameters,
// h= and the drawing options, are ignored) and 404 for every other path
// under /api/ no other route has.
func (f *frigateAPI) latest(w http.ResponseWriter, r *http.Request) {
	m := latestPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
	serveCameraSnapshot(w, r, f.eng, m[1])
}

// config serves /api/config: what the integration reads of Frigate's
// configuration, every key it indexes without a default present.
func (f *frigateAPI) config(w http.ResponseWriter, _ *http.Request) {
	prefix := frigateTopicPrefix
	var cams []FrigateCamera
	if f.src != nil {
		cams = f.src.FrigateCameras()
		if p := f.src.FrigateTopicPrefix(); p != "" {
			prefix = p
		}
	} else {
		for _, st := range f.eng.Cameras() {
			cams = append(cams, FrigateCamera{ID: st.ID, Objects: []string{frigate.LabelPerson}, MotionThreshold: config.DefaultMotion().Threshold})
		}
	}
	off := map[string]any{"enabled": false, "enabled_in_config": false}
	cameras := map[string]any{}
	tracked := []string{}
	for _, c := range cams {
		zones := map[string]any{}
		for _, z := range c.Zones {
			zones[z] = map[string]any{"objects": []string{}} // every tracked object
		}
		for _, o := range c.Objects {
			if !slices.Contains(tracked, o) {
				tracked = append(tracked, o)
			}
		}
		cameras[c.ID] = map[string]any{
			"name":    c.ID,
			"enabled": true,
			"objects": map[string]any{"track": nonNil(c.Objects), "filters": map[string]any{}},
			"zones":   zones,
			"motion": map[string]any{"enabled": true, "threshold": c.MotionThreshold, "contour_area": frigateContourArea,
				"improve_contrast": false},
			"detect":    map[string]any{"enabled": true},
			"snapshots": map[string]any{"enabled": f.evidence != nil},
			"record":    off,
			"audio":     map[string]any{"enabled": false, "enabled_in_config": false, "listen": []string{}},
			"review": map[string]any{"alerts": map[string]any{"enabled": true, "enabled_in_config": true},
				"detections": map[string]any{"enabled": true, "enabled_in_config": true}},
			"onvif": map[string]any{"autotracking": off},
			"live":  map[string]any{"streams": map[string]any{}},
		}
	}
	writeJSON(w, map[string]any{
		"mqtt":     map[string]any{"enabled": true, "topic_prefix": prefix},
		"cameras":  cameras,
		"objects":  map[string]any{"track": tracked},
		"model":    map[string]any{"all_attributes": []string{}, "non_logo_attributes": []string{}},
		"birdseye": map[string]any{"enabled": false, "restream": false},
		"go2rtc":   map[string]any{"streams": map[string]any{}},
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
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

// frigateEvent is an event of /api/events: the columns Frigate selects.
type frigateEvent struct {
	ID                 string           `json:"id"`
	Camera             string           `json:"camera"`
	Label              string           `json:"label"`
	SubLabel           *string          `json:"sub_label"`
	Zones              []string         `json:"zones"`
	StartTime          float64          `json:"start_time"`
	EndTime            *float64         `json:"end_time"`
	HasClip            bool             `json:"has_clip"`
	HasSnapshot        bool             `json:"has_snapshot"`
	PlusID             *string          `json:"plus_id"`
	RetainIndefinitely bool             `json:"retain_indefinitely"`
	TopScore           float64          `json:"top_score"`
	FalsePositive      bool             `json:"false_positive"`
	Box                *[4]float64      `json:"box"`
	Data               frigateEventData `json:"data"`
}

// frigateEventData is an event's data: box normalized [x, y, w, h], as
// Frigate stores it (vigil has no detection region to report).
type frigateEventData struct {
	Box        [4]float64 `json:"box"`
	Score      float64    `json:"score"`
	TopScore   float64    `json:"top_score"`
	Attributes []any      `json:"attributes"`
	Type       string     `json:"type"`
}

// eventFilter is /api/events' query: a nil set or pointer does not
// filter.
type eventFilter struct {
	cameras, labels, zones     map[string]bool
	noZone                     bool // zones has "None": events without a zone match
	subLabelNone               bool // sub_labels filters, and only "None" can match (no event has one)
	after, before              float64
	hasClip, hasSnapshot, open *bool
	favorites                  bool
	minScore, maxScore         *float64
	id                         string
}

func (q *eventFilter) match(e *frigateEvent) bool {
	switch {
	case q.cameras != nil && !q.cameras[e.Camera],
		q.labels != nil && !q.labels[e.Label],
		q.subLabelNone,
		q.after != 0 && e.StartTime <= q.after,
		q.before != 0 && e.StartTime >= q.before,
		q.hasClip != nil && *q.hasClip != e.HasClip,
		q.hasSnapshot != nil && *q.hasSnapshot != e.HasSnapshot,
		q.open != nil && *q.open != (e.EndTime == nil),
		q.favorites && !e.RetainIndefinitely,
		q.minScore != nil && e.Data.Score < *q.minScore,
		q.maxScore != nil && e.Data.Score > *q.maxScore,
		q.id != "" && e.ID != q.id:
		return false
	}
	if q.zones != nil {
		if len(e.Zones) == 0 {
			return q.noZone
		}
		for _, z := range e.Zones {
			if q.zones[z] {
				return true
			}
		}
		return false
	}
	return true
}

// parseEventFilter reads Frigate's parameters (camera, cameras, label,
// labels, zone, zones: "all" or a comma-separated list; sub_label(s);
// after and before in Unix seconds; has_clip, has_snapshot, in_progress,
// favorites: 0 or 1; min_score, max_score; event_id); an error names the
// parameter.
func parseEventFilter(r *http.Request) (eventFilter, error) {
	qs := r.URL.Query()
	var q eventFilter
	set := func(plural, singular string) (map[string]bool, error) {
		v := qs.Get(plural)
		if v == "" || v == "all" {
			v = qs.Get(singular)
		}
		if v == "" || v == "all" {
			return nil, nil
		}
		out := map[string]bool{}
		for _, s := range strings.Split(v, ",") {
			out[s] = true
		}
		return out, nil
	}
	q.cameras, _ = set("cameras", "camera")
	q.labels, _ = set("labels", "label")
	q.zones, _ = set("zones", "zone")
	if q.zones != nil && q.zones["None"] {
		q.noZone = true
		delete(q.zones, "None")
	}
	if sub, _ := set("sub_labels", "sub_label"); sub != nil && !sub["None"] {
		q.subLabelNone = true
	}
	for _, p := range []struct {
		name string
		dst  *float64
	}{{"after", &q.after}, {"before", &q.before}} {
		if v := qs.Get(p.name); v != "" {
			t, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(t) || math.IsInf(t, 0) {
				return q, fmt.Errorf("%s: want Unix seconds, e.g. 1732309200", p.name)
			}
			*p.dst = t
		}
	}
	for _, p := range []struct {
		name string
		dst  **bool
	}{{"has_clip", &q.hasClip}, {"has_snapshot", &q.hasSnapshot}, {"in_progress", &q.open}} {
		if v := qs.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return q, fmt.Errorf("%s: want 0 or 1", p.name)
			}
			b := n != 0
			*p.dst = &b
		}
	}
	if v := qs.Get("favorites"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return q, fmt.Errorf("favorites: want 0 or 1")
		}
		q.favorites = n != 0
	}
	for _, p := range []struct {
		name string
		dst  **float64
	}{{"min_score", &q.minScore}, {"max_score", &q.maxScore}} {
		if v := qs.Get(p.name); v != "" {
			s, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return q, fmt.Errorf("%s: want a score 0 to 1", p.name)
			}
			*p.dst = &s
		}
	}
	q.id = qs.Get("event_id")
	return q, nil
}

// events serves Frigate's GET /api/events: the events matching the query,
// newest first (sort: date_desc, the default; date_asc, score_desc,
// score_asc), up to limit (default 100, at most 10000).
func (f *frigateAPI) events(w http.ResponseWriter, r *http.Request) {
	if f.log == nil {
		http.Error(w, "no incident log", http.StatusNotFound)
		return
	}
	q, err := parseEventFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxFrigateEvents {
			http.Error(w, fmt.Sprintf("limit: want 1 to %d", maxFrigateEvents), http.StatusBadRequest)
			return
		}
		limit = n
	}
	sortBy := r.URL.Query().Get("sort")
	var cmp func(a, b frigateEvent) int
	switch sortBy {
	case "", "date_desc":
	case "date_asc":
		cmp = func(a, b frigateEvent) int { return compareFloat(a.StartTime, b.StartTime) }
	case "score_desc":
		cmp = func(a, b frigateEvent) int { return compareFloat(b.Data.Score, a.Data.Score) }
	case "score_asc":
		cmp = func(a, b frigateEvent) int { return compareFloat(a.Data.Score, b.Data.Score) }
	default:
		http.Error(w, "sort: want date_desc, date_asc, score_desc or score_asc", http.StatusBadRequest)
		return
	}
	out := []frigateEvent{}
	err = f.scan(&q, func(e frigateEvent) bool {
		out = append(out, e)
		// Newest first: the first limit are the answer. Another order
		// needs them all (the log is bounded).
		return cmp != nil || len(out) < limit
	})
	if err != nil {
		http.Error(w, "incident log: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if cmp != nil {
		slices.SortStableFunc(out, cmp)
		out = out[:min(len(out), limit)]
	}
	writeJSON(w, out)
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// event serves GET /api/events/{id}: one event, 404 when the log does not
// hold it.
func (f *frigateAPI) event(w http.ResponseWriter, r *http.Request) {
	q := eventFilter{id: r.PathValue("id")}
	var found *frigateEvent
	if err := f.scan(&q, func(e frigateEvent) bool { found = &e; return false }); err != nil {
		http.Error(w, "incident log: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if found == nil {
		http.Error(w, "no such event", http.StatusNotFound)
		return
	}
	writeJSON(w, found)
}

// summary serves GET /api/events/summary: the events counted by camera,
// label, zones and day (in timezone, an IANA name, default UTC), with the
// has_clip and has_snapshot filters; what the media browser counts.
func (f *frigateAPI) summary(w http.ResponseWriter, r *http.Request) {
	q, err := parseEventFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	loc := time.UTC
	if tz := r.URL.Query().Get("timezone"); tz != "" && tz != "utc" {
		if loc, err = time.LoadLocation(tz); err != nil {
			http.Error(w, "timezone: want an IANA time zone, e.g. Europe/Paris", http.StatusBadRequest)
			return
		}
	}
	type group struct {
		Camera   string   `json:"camera"`
		Label    string   `json:"label"`
		SubLabel *string  `json:"sub_label"`
		Data     any      `json:"data"`
		Day      string   `json:"day"`
		Zones    []string `json:"zones"`
		Count    int      `json:"count"`
	}
	out := []*group{}
	byKey := map[string]*group{}
	err = f.scan(&q, func(e frigateEvent) bool {
		day := time.Unix(int64(e.StartTime), 0).In(loc).Format(time.DateOnly)
		key := e.Camera + "\x00" + e.Label + "\x00" + day + "\x00" + strings.Join(e.Zones, "\x00")
		if g := byKey[key]; g != nil {
			g.Count++
			return true
		}
		g := &group{Camera: e.Camera, Label: e.Label, Day: day, Zones: e.Zones, Count: 1}
		byKey[key] = g
		out = append(out, g)
		return true
	})
	if err != nil {
		http.Error(w, "incident log: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, out)
}

// pending is an event being assembled from the log, newest event first.
type pending struct {
	e       frigateEvent
	scored  bool // score and box come from the newest sighting
	entered []string
}

// scan reads the log's person incidents newest first and calls visit with
// each event matching q, by start time, newest first, until visit returns
// false or maxFrigateScan log events were read. An incident is reported
// once its start is read: every later event of it was read before.
func (f *frigateAPI) scan(q *eventFilter, visit func(frigateEvent) bool) error {
	camera := ""
	if len(q.cameras) == 1 {
		for c := range q.cameras {
			camera = c
		}
	}
	var since time.Time
	if q.after > 0 {
		// The log's time is the emission's, the start time the incident's
		// (the camera's clock, within 2 s of the host's): a minute of
		// margin; match compares the start times.
		sec, frac := math.Modf(q.after)
		since = time.Unix(int64(sec), int64(frac*1e9)).Add(-time.Minute)
	}
	open := map[string]*pending{}
	cursor := ""
	for read := 0; read < maxFrigateScan; {
		// The person incidents: the only kind frigate.Label maps.
		evs, next, err := f.log.Query(camera, "person", since, time.Time{}, cursor, frigateQueryPage)
		if err != nil {
			return err
		}
		read += len(evs)
		for i := range evs {
			ev := &evs[i]
			d := &ev.Data
			if frigate.Label(d.Kind) == "" {
				continue
			}
			p := open[d.IncidentID]
			if p == nil {
				p = &pending{e: frigateEvent{ID: d.IncidentID, Camera: d.Camera, Label: frigate.Label(d.Kind),
					StartTime: unixSeconds(d.StartedAt), Zones: []string{}, Data: frigateEventData{Attributes: []any{}, Type: "object"}}}
				open[d.IncidentID] = p
			}
			p.add(ev)
			if ev.Type != incident.TypeStart {
				continue
			}
			delete(open, d.IncidentID)
			e := p.e
			e.Zones = p.entered
			if e.Zones == nil {
				e.Zones = []string{}
			}
			e.TopScore = e.Data.TopScore
			if q.match(&e) && !visit(e) {
				return nil
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
	return nil
}

// add folds one of the incident's events (newer ones first) into p.
func (p *pending) add(ev *incident.Event) {
	d := &ev.Data
	if ev.Type == incident.TypeEnd && d.EndedAt != nil {
		end := unixSeconds(*d.EndedAt)
		p.e.EndTime = &end
	}
	if len(d.Evidence) > 0 {
		p.e.HasSnapshot = true
	}
	if d.Zone != "" && !slices.Contains(p.entered, d.Zone) {
		p.entered = append([]string{d.Zone}, p.entered...)
	}
	if ev.Type == incident.TypeEnd {
		return // no sighting: the end's score is the most people seen
	}
	score, obj := frigate.Score(d)
	p.e.Data.TopScore = math.Max(p.e.Data.TopScore, score)
	if p.scored {
		return
	}
	p.scored = true
	p.e.Data.Score = score
	switch {
	case obj != nil:
		p.e.Data.Box = obj.Box
	case len(d.Boxes) > 0:
		p.e.Data.Box = d.Boxes[0]
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
