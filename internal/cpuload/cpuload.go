// Package cpuload measures how busy the machine's CPUs are, from
// /proc/stat (Linux).
package cpuload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Meter measures the machine's CPU load between two calls of Load. Not
// safe for concurrent use.
type Meter struct {
	path        string
	busy, total uint64 // the previous call's counters (0: since boot)
}

// New returns a meter reading /proc/stat.
func New() *Meter { return &Meter{path: "/proc/stat"} }

// Load returns the share of CPU time (all CPUs together, 0..1) spent not
// idle since the previous call; the first call returns the share since
// boot. An error names the file that could not be read or parsed.
func (m *Meter) Load() (float64, error) {
	b, err := os.ReadFile(m.path)
	if err != nil {
		return 0, fmt.Errorf("cpu load: %w", err)
	}
	busy, total, err := parse(b)
	if err != nil {
		return 0, fmt.Errorf("cpu load: %s: %w", m.path, err)
	}
	pb, pt := m.busy, m.total
	m.busy, m.total = busy, total
	if total <= pt || busy < pb {
		return 0, nil // no time passed, or the counters went back
	}
	return min(float64(busy-pb)/float64(total-pt), 1), nil
}

// parse reads the aggregate "cpu" line: user nice system idle iowait irq
// softirq steal (guest time is already in user). Idle and iowait are not
// busy.
func parse(b []byte) (busy, total uint64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 5 || string(f[0]) != "cpu" {
			continue
		}
		for i, s := range f[1:min(len(f), 9)] {
			v, err := strconv.ParseUint(string(s), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("cpu line field %d: %w", i+1, err)
			}
			total += v
			if i != 3 && i != 4 {
				busy += v
			}
		}
		return busy, total, nil
	}
	return 0, 0, errors.New("no cpu line")
}
