package incidenttest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"

	"github.com/vigil-video/vigil/incident"
)

// FileIDs returns the event ids of a file sink's JSON lines, in file order;
// a line that is not one whole event fails the test.
func FileIDs(t testing.TB, path string) []string {
	t.Helper()
	return readIDs(t, path, false)
}

// FileIDsSoFar is FileIDs for a file a sink may be writing now: a last line
// not ended yet is not read (a line is torn only when more follows it).
func FileIDsSoFar(t testing.TB, path string) []string {
	t.Helper()
	return readIDs(t, path, true)
}

func readIDs(t testing.TB, path string, soFar bool) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); soFar {
		b = b[:i+1]
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var ev incident.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.ID == "" {
			t.Fatalf("%s line %d is not one whole event (%v): %.200q", path, n, err, sc.Text())
		}
		ids = append(ids, ev.ID)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// Dedup keeps the first occurrence of every id (delivery is at least once).
func Dedup(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// IDs returns the ids of evs.
func IDs(evs []incident.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

// BigEvents returns n events of about size bytes each (an embedded
// snapshot), over three cameras.
func BigEvents(n, size int) []incident.Event {
	evs := Events(n)
	img := base64.StdEncoding.EncodeToString(make([]byte, size*3/4))
	for i := range evs {
		evs[i].Data.Evidence = []incident.Evidence{{Role: "best", JPEGBase64: img}}
	}
	return evs
}
