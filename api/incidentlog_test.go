package api

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/incident/incidenttest"
	"github.com/vigil-video/vigil/internal/await"
)

func TestLogQueryAndPagination(t *testing.T) {
	l := NewIncidentLog(50)
	evs := incidenttest.Events(80)
	for _, ev := range evs {
		l.Add(ev)
	}
	var all []incident.Event
	cursor := ""
	for {
		page, next, err := l.Query("cam1", "", time.Time{}, time.Time{}, cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	// The newest 50 events are kept; cam1 has every third of them.
	want := 0
	for _, ev := range evs[30:] {
		if ev.Data.Camera == "cam1" {
			want++
		}
	}
	if len(all) != want {
		t.Fatalf("paged %d cam1 events, want %d", len(all), want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.After(all[i-1].Time) {
			t.Fatal("not newest first")
		}
	}
	if _, _, err := l.Query("", "", time.Time{}, time.Time{}, "garbage!", 5); err == nil {
		t.Fatal("bad cursor accepted")
	}
	srv := httptest.NewServer(l)
	defer srv.Close()
	for q, code := range map[string]int{"?limit=5&kind=motion": 200, "?limit=0": 400, "?since=yesterday": 400} {
		res, err := http.Get(srv.URL + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != code {
			t.Errorf("GET %s: %d %s, want %d", q, res.StatusCode, b, code)
		}
		if code == 400 && !strings.Contains(string(b), strings.Split(strings.TrimPrefix(q, "?"), "=")[0]) {
			t.Errorf("GET %s: error %q does not name the parameter", q, b)
		}
	}
}

func TestHubStreamsAndDropsSlowSubscribers(t *testing.T) {
	h := NewEventHub(2, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	br.ReadString('\n') //nolint:errcheck // the opening comment
	await.Until(t, 20*time.Second, "the subscriber", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.subs) == 1 })
	ev := incidenttest.Events(1)[0]
	h.Publish(ev)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "id: ") {
			if strings.TrimSpace(strings.TrimPrefix(line, "id: ")) != ev.ID {
				t.Fatalf("stream id %q", line)
			}
			break
		}
	}
	// A subscriber that does not read is cut off; Publish never blocks.
	done := make(chan struct{})
	go func() {
		for _, e := range incidenttest.Events(5000) {
			h.Publish(e)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	h.mu.Lock()
	n := len(h.subs)
	h.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d slow subscribers still attached", n)
	}
}
