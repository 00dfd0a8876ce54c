package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress reports a benchmark's progress: a redrawn bar on a terminal,
// plain lines (at most one per label and 10 s) otherwise. A nil progress is
// silent.
type progress struct {
	w        io.Writer
	terminal bool

	mu        sync.Mutex
	lastLabel string
	lastLine  time.Time
}

// newProgress writes to w; terminal selects the redrawn bar.
func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// step reports label at fraction frac (0..1) of its work.
func (p *progress) step(label string, frac float64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	frac = min(max(frac, 0), 1)
	if p.terminal {
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r\033[K[%s%s] %3.0f%% %s", strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, label)
		return
	}
	if label != p.lastLabel || time.Since(p.lastLine) >= 10*time.Second {
		fmt.Fprintf(p.w, "%s %3.0f%% %s\n", time.Now().Format("15:04:05"), 100*frac, label)
		p.lastLabel, p.lastLine = label, time.Now()
	}
}

// done ends the current bar with a final line.
func (p *progress) done(label string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s\n", label)
		return
	}
	fmt.Fprintf(p.w, "%s done %s\n", time.Now().Format("15:04:05"), label)
	p.lastLabel = ""
}
