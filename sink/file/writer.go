package file

import (
	"bufio"
	"context"
	"io"
	"sync"

	"github.com/vigil-video/vigil/incident"
)

// Writer writes JSON lines to a writer (the stdout sink).
type Writer struct {
	mu sync.Mutex
	w  *bufio.Writer
}

// Deliver writes js and a newline, and flushes.
func (s *Writer) Deliver(_ context.Context, js []byte, _ *incident.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Write(js)       //nolint:errcheck // reported by Flush
	s.w.WriteByte('\n') //nolint:errcheck
	return s.w.Flush()
}

// Close does nothing: the writer is not the sink's.
func (s *Writer) Close() error { return nil }

// NewWriter returns a sink writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }
