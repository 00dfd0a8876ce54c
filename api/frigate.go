package api

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/history"
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
//   - GET /api/events: Frigate's JSON list of events (one per person or
//     vehicle followed, frigate.Incident) with its query parameters, from
//     the incident history on disk (IncidentRecords); a client
//     of vigil's live stream (Accept: text/event-stream, as EventSource
//     sends, or a resume point) gets the stream (wantsStream);
//   - GET /api/events/summary and /api/events/{id}: the media browser's
//     counts per camera, label, zones and day, and one event;
//   - GET /api/events/{id}/snapshot.jpg and thumbnail.jpg: the best
//     snapshot of the event's incident from the evidence store;
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
	// detection, "car" when it raises vehicle incidents).
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

// IncidentRecords is how the Frigate event endpoints read the incident
// history on disk (history.Store), whose person and vehicle records keep
// their Frigate objects: the list survives restarts. Config.Incidents is
// used when it implements it.
type IncidentRecords interface {
	Scan(q history.ScanQuery, visit func(*history.Record) bool) error
	Get(incidentID string) (*history.Record, error)
}

// frigateTopicPrefix is Frigate's default topic prefix, answered when no
// sink speaks Frigate.
const frigateTopicPrefix = "frigate"

// frigateContourArea is Frigate's default motion.contour_area (pixels of
// its detect resolution), which /api/config answers: vigil's min_area is a
// share of the frame, not a pixel count.
const frigateContourArea = 10

// frigateAPI serves the Frigate endpoints.
type frigateAPI struct {
	eng      Engine
	src      FrigateSource   // nil: defaults
	records  IncidentRecords // nil: no events
	evidence Evidence        // nil: no snapshots
	reg      *prometheus.Registry
	version  string
	started  time.Time

	mu   sync.Mutex
	last detectorSample // the previous /api/stats sample
}

// frigateRoutes registers the Frigate endpoints on mux, /api/events
// among them (its stream, cfg.Live, included).
func frigateRoutes(mux *deadlineMux, cfg Config, eng Engine) {
	f := &frigateAPI{eng: eng, evidence: cfg.Evidence, reg: cfg.Registry, started: time.Now(),
		version: FrigateVersion + "-vigil." + buildinfo.Read().Version}
	f.src, _ = eng.(FrigateSource)
	f.records, _ = cfg.Incidents.(IncidentRecords)
	if cfg.Incidents != nil && f.records == nil && cfg.Logger != nil {
		cfg.Logger.Warn("frigate event list unavailable: the incidents are not served from the incident history", "type", fmt.Sprintf("%T", cfg.Incidents))
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
	if cfg.Live != nil || f.records != nil {
		mux.own("GET /api/events", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if cfg.Live != nil && (f.records == nil || wantsStream(r)) {
				setDeadlines(w, 0, 0)
				cfg.Live.ServeHTTP(w, r)
				return
			}
			setDeadlines(w, mux.read, mux.write)
			f.events(w, r)
		}))
	}
	if f.records != nil {
		mux.HandleFunc("GET /api/events/summary", f.summary)
		mux.HandleFunc("GET /api/events/{id}", f.event)
	}
	if cfg.Evidence != nil {
		snapshot := func(w http.ResponseWriter, r *http.Request) {
			id := r.PathValue("id")
			if _, ok := frigate.StartOf(id); ok && f.records != nil {
				// An object's snapshot is its incident's.
				if _, inc, err := f.find(id); err == nil && inc != "" {
					id = inc
				}
			}
			file, err := cfg.Evidence.OpenIncident(id)
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
