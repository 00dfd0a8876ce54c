package api

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
)

// TestLiveResume: a client reconnecting with Last-Event-ID first gets the
// events it missed (from the recent log), once each, then the live ones; a
// resume point no longer kept is said so in a comment.
func TestLiveResume(t *testing.T) {
	log := NewIncidentLog(100)
	hub := NewEventHub(16, log)
	srv := httptest.NewServer(hub)
	defer srv.Close()
	var evs []incident.Event
	publish := func(i int) {
		ev := incident.New(incident.TypeStart, incident.Incident{IncidentID: fmt.Sprintf("inc-%d", i), Camera: "cam", Kind: "motion", Boxes: [][4]float64{}}, time.Now())
		evs = append(evs, ev)
		log.Add(ev)
		hub.Publish(ev)
	}
	for i := range 5 {
		publish(i)
	}

	ids := func(lastID string, want int, during func()) (got []string, comments []string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
		req.Header.Set("Last-Event-ID", lastID)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() && len(got) < want {
			line := sc.Text()
			if id, ok := strings.CutPrefix(line, "id: "); ok {
				got = append(got, id)
			}
			if strings.HasPrefix(line, ": resume") {
				comments = append(comments, line)
			}
			if line == "" && during != nil && len(got) == want-1 {
				during()
				during = nil
			}
		}
		return got, comments
	}
	// Missed 2, 3, 4; then 5 published live while connected.
	got, _ := ids(evs[1].ID, 4, func() { publish(5) })
	want := []string{evs[2].ID, evs[3].ID, evs[4].ID, evs[5].ID}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("resumed ids %v, want %v", got, want)
	}
	// An unknown resume point: a comment, then live events.
	got, comments := ids("no-such-id", 1, func() { publish(6) })
	if len(comments) != 1 || len(got) != 1 || got[0] != evs[6].ID {
		t.Fatalf("unknown resume point: ids %v comments %v", got, comments)
	}
}
