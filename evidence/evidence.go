// Package evidence keeps incident snapshots (JPEG files under evidence.dir,
// or nothing on disk when they are embedded in the events) within a size
// and age budget, and serves them without following links out of the
// directory.
package evidence

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/incident"
)

// evidenceName is a snapshot's file name; anything else in the directory
// is left alone and never served.
var (
	evidenceName = regexp.MustCompile(`^[0-9a-f-]{36}-(start|best)\.jpg$`)
	cameraName   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// Store keeps incident snapshots under a size and age budget. Its
// methods are safe for concurrent use.
type Store struct {
	cfg config.Evidence

	mu    sync.Mutex
	files []evidenceFile // oldest first
	total int64
}

type evidenceFile struct {
	rel  string
	size int64
	mod  time.Time
}

// Open creates the directory if needed and indexes the snapshots
// already there (pruning them to the budget). With Embed nothing is
// written to disk. cfg is complete and valid (package config).
func Open(cfg config.Evidence) (*Store, error) {
	s := &Store{cfg: cfg}
	if cfg.Embed {
		return s, nil
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("evidence.dir: %w", err)
	}
	err := filepath.WalkDir(cfg.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !evidenceName.MatchString(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(cfg.Dir, path)
		s.files = append(s.files, evidenceFile{rel: filepath.ToSlash(rel), size: info.Size(), mod: info.ModTime()})
		s.total += info.Size()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("evidence.dir: %w", err)
	}
	slices.SortFunc(s.files, func(a, b evidenceFile) int { return a.mod.Compare(b.mod) })
	s.mu.Lock()
	s.prune(time.Now())
	s.mu.Unlock()
	return s, nil
}

// Save keeps jpg as the role ("start" or "best") snapshot of an incident
// and returns the reference to put in its events. A "best" snapshot
// replaces the previous one of the incident.
func (s *Store) Save(camera, incidentID, role string, jpg []byte, now time.Time) (incident.Evidence, error) {
	if s.cfg.Embed {
		return incident.Evidence{Role: role, JPEGBase64: base64.StdEncoding.EncodeToString(jpg)}, nil
	}
	name := incidentID + "-" + role + ".jpg"
	if !validName(camera, name) {
		return incident.Evidence{}, fmt.Errorf("evidence %s/%s: invalid name", camera, name)
	}
	rel := camera + "/" + name
	if err := s.write(camera, rel, jpg); err != nil {
		return incident.Evidence{}, fmt.Errorf("evidence %s: %w", rel, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.IndexFunc(s.files, func(f evidenceFile) bool { return f.rel == rel }); i >= 0 {
		s.total -= s.files[i].size
		s.files = slices.Delete(s.files, i, i+1)
	}
	s.files = append(s.files, evidenceFile{rel: rel, size: int64(len(jpg)), mod: now})
	s.total += int64(len(jpg))
	s.prune(now)
	return incident.Evidence{Role: role, Path: rel}, nil
}

// write stores jpg at rel ("<camera>/<file>") through an os.Root on the
// evidence directory, never following a symbolic link out of it: the
// camera directory must be a real directory (a link, even one staying
// inside, is refused, as Open refuses it), the temporary file is created
// with O_EXCL|O_NOFOLLOW, and the rename replaces a link planted at rel
// instead of writing through it.
func (s *Store) write(camera, rel string, jpg []byte) error {
	root, err := os.OpenRoot(s.cfg.Dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.Mkdir(camera, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := cameraDir(root, camera); err != nil {
		return err
	}
	tmp := camera + "/.tmp-" + rand.Text()
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o640)
	if err != nil {
		return err
	}
	_, werr := f.Write(jpg)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = root.Rename(tmp, rel)
	}
	if werr != nil {
		root.Remove(tmp) //nolint:errcheck // best effort; the write error is what matters
	}
	return werr
}

// errNotDir: a camera directory of the evidence store is a symbolic link
// or not a directory; nothing is read or written through it.
var errNotDir = errors.New("camera directory is a symbolic link or not a directory")

// cameraDir checks that camera is a real directory of root (Lstat: a link
// is not a directory).
func cameraDir(root *os.Root, camera string) error {
	fi, err := root.Lstat(camera)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errNotDir
	}
	return nil
}

// prune removes the oldest snapshots over the age or size budget, through
// an os.Root (a camera directory replaced by a link never takes a removal
// outside the evidence directory); s.mu is held.
func (s *Store) prune(now time.Time) {
	n := 0
	for n < len(s.files) && (s.total > s.cfg.MaxBytes || now.Sub(s.files[n].mod) > s.cfg.MaxAge) {
		s.total -= s.files[n].size
		n++
	}
	if n == 0 {
		return
	}
	if root, err := os.OpenRoot(s.cfg.Dir); err == nil {
		for _, f := range s.files[:n] {
			if camera, _, ok := strings.Cut(f.rel, "/"); ok && cameraDir(root, camera) == nil {
				root.Remove(f.rel) //nolint:errcheck // gone already, or left for the next start
			}
		}
		root.Close()
	}
	s.files = slices.Delete(s.files, 0, n)
}

// ErrNotFound is returned by Store.Open for a path that is not a kept snapshot.
var ErrNotFound = errors.New("no such evidence")

// Open returns the snapshot at a path from an event ("<camera>/<file>").
// It never follows a symbolic link: the file is opened through an os.Root
// on the evidence directory (nothing outside it is reachable), and a
// camera directory or snapshot that is a link, or anything but a regular
// file, is ErrNotFound (os.Root alone would follow a link that stays
// inside the directory).
func (s *Store) Open(camera, name string) (*os.File, error) {
	if s.cfg.Embed || !validName(camera, name) {
		return nil, ErrNotFound
	}
	root, err := os.OpenRoot(s.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("evidence.dir: %w", err)
	}
	defer root.Close()
	if cameraDir(root, camera) != nil {
		return nil, ErrNotFound
	}
	rel := camera + "/" + name
	fi, err := root.Lstat(rel)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, ErrNotFound
	}
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, ErrNotFound
	}
	// The entry may have been swapped between Lstat and open: serve only
	// the regular file that was checked.
	if got, err := f.Stat(); err != nil || !got.Mode().IsRegular() || !os.SameFile(fi, got) {
		f.Close()
		return nil, ErrNotFound
	}
	return f, nil
}

// validName accepts a camera directory and a snapshot file name that stay
// inside the evidence directory.
func validName(camera, name string) bool {
	return cameraName.MatchString(camera) && camera != "." && camera != ".." && evidenceName.MatchString(name)
}

// Usage returns the snapshots kept and their bytes.
func (s *Store) Usage() (files int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files), s.total
}

// OpenIncident opens an incident's best snapshot (its "best" if kept, else
// its "start"), whatever its camera: what Frigate serves at
// /api/events/<id>/snapshot.jpg.
func (s *Store) OpenIncident(incidentID string) (*os.File, error) {
	s.mu.Lock()
	var best, start string
	for _, f := range s.files {
		camera, name, ok := strings.Cut(f.rel, "/")
		if !ok {
			continue
		}
		switch name {
		case incidentID + "-best.jpg":
			best = camera + "/" + name
		case incidentID + "-start.jpg":
			start = camera + "/" + name
		}
	}
	s.mu.Unlock()
	rel := best
	if rel == "" {
		rel = start
	}
	camera, name, ok := strings.Cut(rel, "/")
	if !ok {
		return nil, ErrNotFound
	}
	return s.Open(camera, name)
}
