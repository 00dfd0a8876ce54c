package event

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
)

// fileSink writes JSON lines to a file, rotating it by size. It writes
// whole records only: a write that fails part-way (a full disk) is cut off
// before it is retried, so no line is torn and no two records share one.
type fileSink struct {
	cfg  SinkConfig
	f    *os.File
	size int64 // of the whole records in the file
	torn bool  // the file holds a partial record past size
}

func newFileSink(cfg SinkConfig) (*fileSink, error) {
	f, err := os.OpenFile(cfg.Path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", cfg.Name, err)
	}
	size, err := wholeRecords(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("file sink %s: read %s: %w", cfg.Name, cfg.Path, err)
	}
	s := &fileSink{cfg: cfg, f: f, size: size}
	// A partial last line (a crash in the middle of a write) goes first.
	if st, err := f.Stat(); err == nil && st.Size() != size {
		s.torn = true
	}
	return s, nil
}

// wholeRecords returns the size of f up to and including its last newline.
func wholeRecords(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end := st.Size()
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}

func (s *fileSink) deliver(_ context.Context, r record, _ *Event) error {
	if s.torn {
		if err := s.f.Truncate(s.size); err != nil {
			return fmt.Errorf("file sink %s: cut %s back to its last whole record (%d bytes): %w", s.cfg.Name, s.cfg.Path, s.size, err)
		}
		s.torn = false
	}
	line := append(r.json, '\n')
	if s.size > 0 && s.size+int64(len(line)) > s.cfg.MaxBytes {
		if err := s.rotate(); err != nil {
			return fmt.Errorf("file sink %s: rotate %s: %w", s.cfg.Name, s.cfg.Path, err)
		}
	}
	_, err := s.f.Write(line)
	if err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		// Whatever part of the line reached the file is cut off now, or
		// before the next write if the cut fails too.
		s.torn = s.f.Truncate(s.size) != nil
		return fmt.Errorf("file sink %s: write %s: %w", s.cfg.Name, s.cfg.Path, err)
	}
	s.size += int64(len(line))
	return nil
}

// rotate renames path.N-1 → path.N ... path → path.1 and reopens path. The
// file in use stays open until its successor is, so a failed rotation
// leaves the sink writing where it was.
func (s *fileSink) rotate() error {
	p := s.cfg.Path
	os.Remove(p + "." + strconv.Itoa(s.cfg.Keep)) //nolint:errcheck // may not exist
	for i := s.cfg.Keep - 1; i >= 1; i-- {
		os.Rename(p+"."+strconv.Itoa(i), p+"."+strconv.Itoa(i+1)) //nolint:errcheck // may not exist
	}
	if err := os.Rename(p, p+".1"); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o640)
	if err != nil {
		os.Rename(p+".1", p) //nolint:errcheck // best effort: keep writing to path
		return err
	}
	s.f.Close() //nolint:errcheck // synced after every record
	s.f, s.size = f, 0
	return nil
}

func (s *fileSink) close() error { return s.f.Close() }
