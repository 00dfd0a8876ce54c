// Package file is the file sink (JSON lines, rotated by size) and the
// stdout sink (Writer).
package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
	"github.com/vigil-video/vigil/sink"
	"gopkg.in/natefinch/lumberjack.v2"
)

// Sink writes JSON lines to a file, rotated by size through
// lumberjack (the old files are <name>-<UTC time>.<ext>, the newest Keep
// kept). It writes whole records only: a write that fails part-way (a full
// disk) is cut off before it is retried, so no line is torn and no two
// records share one; and each record is on disk (fsync) before the sink
// acknowledges it.
//
// lumberjack counts sizes in whole megabytes, so max_bytes is rounded up
// to a MiB; and it starts one goroutine per file sink (old-file removal)
// that it never stops, so it outlives Close.
type Sink struct {
	name string // of the sink, in errors
	cfg  config.FileSink
	lj   *lumberjack.Logger
	file os.FileInfo // the current file as of the last whole record
	size int64       // of the whole records in it
	torn bool        // the file at Path may hold a partial record past its whole ones
}

// New opens the file at cfg.Path for appending, cutting a torn last line
// a crash left.
func New(c sink.Common, cfg config.FileSink) (*Sink, error) {
	// Check now that the file can be written, and where its whole records
	// end: a crash in the middle of a write leaves a partial last line,
	// which goes first.
	f, err := os.OpenFile(cfg.Path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", c.Name, err)
	}
	defer f.Close()
	size, err := wholeRecords(f)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: read %s: %w", c.Name, cfg.Path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", c.Name, err)
	}
	s := &Sink{name: c.Name, cfg: cfg, file: st, size: size, torn: st.Size() != size, lj: &lumberjack.Logger{
		Filename:   cfg.Path,
		MaxSize:    int(max((cfg.MaxBytes+(1<<20)-1)>>20, 1)),
		MaxBackups: cfg.Keep,
	}}
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

// cut truncates the file at Path back to its whole records (none if
// lumberjack has rotated to a new file since the last whole record) and
// makes lumberjack reopen it, and so read its size again, at the next
// write.
func (s *Sink) cut() error {
	if err := s.lj.Close(); err != nil {
		return err
	}
	st, err := os.Stat(s.cfg.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a failed rotation: nothing written
	}
	if err != nil {
		return err
	}
	whole := s.size
	if !os.SameFile(st, s.file) {
		whole = 0
	}
	if st.Size() == whole {
		return nil
	}
	if err := os.Truncate(s.cfg.Path, whole); err != nil {
		return err
	}
	s.file, s.size = st, whole
	return nil
}

func (s *Sink) Deliver(_ context.Context, js []byte, _ *incident.Event) error {
	if s.torn {
		if err := s.cut(); err != nil {
			return fmt.Errorf("file sink %s: cut %s back to its last whole record: %w", s.name, s.cfg.Path, err)
		}
		s.torn = false
	}
	_, err := s.lj.Write(append(js, '\n'))
	if err == nil {
		err = s.sync()
	}
	if err != nil {
		// Whatever part of the line reached the file is cut off now, or
		// before the next write if the cut fails too.
		s.torn = s.cut() != nil
		return fmt.Errorf("file sink %s: write %s: %w", s.name, s.cfg.Path, err)
	}
	return nil
}

// sync flushes the current file to disk and notes its whole size.
// lumberjack keeps its descriptor to itself; fsync through another one
// flushes the same file.
func (s *Sink) sync() error {
	f, err := os.Open(s.cfg.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	s.file, s.size = st, st.Size()
	return nil
}

func (s *Sink) Close() error { return s.lj.Close() }
