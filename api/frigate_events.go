package api

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-video/vigil/frigate"
	"github.com/vigil-video/vigil/history"
)

// maxFrigateEvents bounds limit on /api/events (the integration's media
// browser asks 10000 for "all").
const maxFrigateEvents = 10000

// maxFrigateScan bounds the history's incidents one request reads: the
// events older than that are not answered.
const maxFrigateScan = 200_000

// frigateClockMargin is how far an object's start (the camera's clock)
// may be after the time its record was written (the engine's): records
// written before a time by more are skipped without being read.
const frigateClockMargin = time.Minute

// frigateKinds are the incident kinds with Frigate objects.
var frigateKinds = map[string]bool{"person": true, "vehicle": true}

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
	if f.records == nil {
		http.Error(w, "no incident history", http.StatusNotFound)
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
	newest := func(a, b frigateEvent) int { return compareFloat(b.StartTime, a.StartTime) }
	out := []frigateEvent{}
	// Newest first (the default): once limit are held, a record written
	// before the limit-th newest start cannot hold a newer object.
	floor := math.Inf(-1)
	err = f.scan(&q, func(updated float64) bool {
		return cmp != nil || updated >= floor
	}, func(e frigateEvent) bool {
		out = append(out, e)
		if cmp == nil && len(out) >= 2*limit {
			slices.SortStableFunc(out, newest)
			out = out[:limit]
			floor = out[limit-1].StartTime - frigateClockMargin.Seconds()
		}
		return true
	})
	if err != nil {
		http.Error(w, "incident history: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if cmp == nil {
		cmp = newest
	}
	slices.SortStableFunc(out, cmp)
	out = out[:min(len(out), limit)]
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

// event serves GET /api/events/{id}: one event, 404 when the history
// does not hold it.
func (f *frigateAPI) event(w http.ResponseWriter, r *http.Request) {
	found, _, err := f.find(r.PathValue("id"))
	if err != nil {
		http.Error(w, "incident history: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if found == nil {
		http.Error(w, "no such event", http.StatusNotFound)
		return
	}
	writeJSON(w, found)
}

// find returns the event id and the id of its incident, or nil when the
// history does not hold it: an object's id (frigate.EventID) names its
// incident's start, an incident taken as one object is named by its id.
func (f *frigateAPI) find(id string) (*frigateEvent, string, error) {
	var found *frigateEvent
	incidentID := ""
	visit := func(rec *history.Record) bool {
		objectsOf(rec)
		for i := range rec.Frigate.Objects {
			if o := &rec.Frigate.Objects[i]; o.ID == id {
				e := eventOf(rec, o)
				found, incidentID = &e, rec.Event.Data.IncidentID
				return false
			}
		}
		return true
	}
	if start, ok := frigate.StartOf(id); ok {
		err := f.records.Scan(history.ScanQuery{Kinds: frigateKinds, Since: start.Add(-time.Millisecond), Until: start.Add(time.Millisecond)}, visit)
		return found, incidentID, err
	}
	rec, err := f.records.Get(id)
	if err != nil || rec == nil {
		return nil, "", err
	}
	visit(rec)
	return found, incidentID, nil
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
	err = f.scan(&q, nil, func(e frigateEvent) bool {
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
		http.Error(w, "incident history: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, out)
}

// scan reads the history's person and vehicle incidents, newest start
// first, and calls visit with each of their objects matching q, until
// visit returns false or maxFrigateScan incidents were read. want, when
// set, is asked with a record's last write (Unix seconds) before it is
// read: false skips it.
func (f *frigateAPI) scan(q *eventFilter, want func(updated float64) bool, visit func(frigateEvent) bool) error {
	hq := history.ScanQuery{Kinds: frigateKinds, Cameras: q.cameras, Max: maxFrigateScan}
	if q.before != 0 {
		// An object starts with or after its incident.
		sec, frac := math.Modf(q.before)
		hq.Until = time.Unix(int64(sec), int64(frac*1e9)).Add(time.Millisecond)
	}
	hq.Want = func(_, updated time.Time) bool {
		u := unixSeconds(updated) + frigateClockMargin.Seconds()
		return (q.after == 0 || u > q.after) && (want == nil || want(u))
	}
	more := true
	return f.records.Scan(hq, func(rec *history.Record) bool {
		objectsOf(rec)
		for i := len(rec.Frigate.Objects) - 1; i >= 0 && more; i-- {
			e := eventOf(rec, &rec.Frigate.Objects[i])
			if q.match(&e) {
				more = visit(e)
			}
		}
		return more
	})
}

// objectsOf gives a record written before the history kept Frigate
// objects (an upgrade) the objects of its latest event alone: the whole
// incident, or the people of its latest sighting.
func objectsOf(rec *history.Record) {
	if len(rec.Frigate.Objects) == 0 {
		rec.Frigate.Apply(&rec.Event)
	}
}

// eventOf returns the Frigate event of the object o of the incident rec.
func eventOf(rec *history.Record, o *frigate.Object) frigateEvent {
	e := frigateEvent{ID: o.ID, Camera: rec.Event.Data.Camera, Label: o.Label, StartTime: unixSeconds(o.Start),
		Zones: slices.Clone(o.Zones), HasSnapshot: rec.Frigate.Snapshot, TopScore: o.TopScore,
		Data: frigateEventData{Score: o.Score, TopScore: o.TopScore, Box: o.Box, Attributes: []any{}, Type: "object"}}
	if e.Zones == nil {
		e.Zones = []string{}
	}
	if o.End != nil {
		end := unixSeconds(*o.End)
		e.EndTime = &end
	}
	return e
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
