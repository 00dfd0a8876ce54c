package outbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/boltfile"
)

// damageError: the outbox file itself cannot be read as an outbox; with
// oneMeta, it can, from its other meta page (errOneMeta).
type damageError struct {
	cause   error
	oneMeta bool
}

// errOneMeta: one of the two meta pages is damaged, the rest is sound.
// bbolt opens the file from the other, which describes either the last
// commit or the one before (the events of the last are then gone).
var errOneMeta = errors.New("one meta page damaged")

func (e *damageError) Error() string { return "damaged: " + e.cause.Error() }
func (e *damageError) Unwrap() error { return e.cause }

// Open opens the outbox at cfg.Path (cfg has its defaults). A
// damaged file never panics nor is silently replaced. With on_damage
// move_aside it is renamed to <path>.damaged-<UTC time>, an error is
// logged, onDamage is called (the metric) and a fresh outbox is opened in
// its place; when only one meta page is damaged, a copy goes aside instead
// and the outbox is opened from the other meta page (the last commit, or
// the one before: what the last stored may be lost; the rest is
// delivered). With refuse, the error names the file and the way out. An
// outbox that cannot be opened for another reason (permissions, a lock
// held by another process) is an error, never moved aside.
func Open(cfg config.Outbox, sinks []string, log *slog.Logger, onDrop func([]Drop, map[SinkReason]int), onDamage func()) (*Outbox, error) {
	o, err := openFile(cfg, sinks, log, onDrop, false)
	var dmg *damageError
	if !errors.As(err, &dmg) {
		return o, err
	}
	if cfg.OnDamage == config.DamageRefuse {
		log.Error("outbox damaged; not starting (outbox.on_damage: refuse)", "path", cfg.Path, "error", dmg.cause)
		return nil, fmt.Errorf("outbox %s is %w; outbox.on_damage is %s: move the file aside (its undelivered events are lost to the sinks) or set on_damage: %s",
			cfg.Path, dmg, config.DamageRefuse, config.DamageMoveAside)
	}
	aside := cfg.Path + ".damaged-" + time.Now().UTC().Format("20060102T150405.000Z")
	if dmg.oneMeta {
		if err := copyFile(cfg.Path, aside); err != nil {
			return nil, fmt.Errorf("outbox %s is %w, and copying it aside failed: %w", cfg.Path, dmg, err)
		}
		log.Error("outbox damaged: one meta page; a copy moved aside, opened from the other, the events of the last commit may not be delivered",
			"path", cfg.Path, "moved_to", aside, "error", dmg.cause)
	} else {
		if err := os.Rename(cfg.Path, aside); err != nil {
			return nil, fmt.Errorf("outbox %s is %w, and moving it aside failed: %w", cfg.Path, dmg, err)
		}
		log.Error("outbox damaged: moved aside, starting with an empty outbox; the events it held are not delivered",
			"path", cfg.Path, "moved_to", aside, "error", dmg.cause)
	}
	if onDamage != nil {
		onDamage()
	}
	o, err = openFile(cfg, sinks, log, onDrop, dmg.oneMeta)
	if err != nil {
		return nil, fmt.Errorf("outbox in place of the damaged one (moved to %s): %w", aside, err)
	}
	return o, nil
}

// copyFile copies src to a new file dst, synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// classify marks err as damage unless it comes from the file's
// surroundings (boltfile.Surroundings).
func classify(err error) error {
	if boltfile.Surroundings(err) {
		return err
	}
	return &damageError{cause: err}
}

// checkOutbox reads every page the outbox reaches: each page's type
// below the high-water mark, every key and value of every bucket (a
// damaged page panics here, in the caller's goroutine, where
// openFile recovers it), then bbolt's own consistency check
// (Tx.Check: reachable and freed pages). Tx.Check runs in a goroutine of
// bbolt's where a panic cannot be recovered, so it runs last, on pages
// already read safely: the buckets' pages by the cursors, the meta and
// freelist pages by their headers read from the file. A damaged meta page
// while the rest is sound (bbolt opened the outbox from the other, and
// rewrites it at the next commit) is errOneMeta; Tx.Check, which would
// panic on it, is skipped.
func checkOutbox(db *bolt.DB) error {
	f, err := os.Open(db.Path())
	if err != nil {
		return err
	}
	defer f.Close()
	pageSize := int64(db.Info().PageSize)
	// header reports whether page id's header names it and has the flags.
	header := func(id int, flags uint16) bool {
		var h [16]byte
		if _, err := f.ReadAt(h[:], int64(id)*pageSize); err != nil {
			return false
		}
		return binary.NativeEndian.Uint64(h[:8]) == uint64(id) && binary.NativeEndian.Uint16(h[8:10]) == flags
	}
	const metaFlag, freelistFlag = 0x04, 0x10 // bbolt's page flags
	return db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil {
				return err
			}
			if p == nil {
				break
			}
			switch p.Type {
			case "freelist":
				if !header(id, freelistFlag) {
					return fmt.Errorf("page %d: damaged freelist page", id)
				}
			case "branch", "leaf", "meta":
			case "free":
				continue // a freed page's header is stale
			default:
				return fmt.Errorf("page %d: invalid type %q", id, p.Type)
			}
			id += p.OverflowCount
		}
		if err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				switch {
				case v == nil && b.Bucket(k) == nil:
					return fmt.Errorf("bucket %q: key %x: no value", name, k)
				case v == nil:
					return nil
				case string(name) == string(bucketEvents):
					if len(k) != 8 {
						return fmt.Errorf("events: key %x is not a sequence number", k)
					}
					if _, err := decodeRecord(0, v); err != nil { // reads every byte
						return fmt.Errorf("events: seq %d: %w", binary.BigEndian.Uint64(k), err)
					}
				}
				return nil
			})
		}); err != nil {
			return err
		}
		if !header(0, metaFlag) || !header(1, metaFlag) {
			return errOneMeta
		}
		var errs []error
		for err := range tx.Check() {
			if len(errs) < 5 {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
}
