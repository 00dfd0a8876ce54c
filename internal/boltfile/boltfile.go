// Package boltfile holds what the packages keeping a bbolt file (outbox,
// history) share about a file that may be damaged: opening it without
// crashing on a damaged page, telling damage from a failing surrounding,
// and closing a database opened on a damaged file.
package boltfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// PanicError is a bbolt panic recovered while opening or reading a file:
// the file is damaged.
type PanicError struct{ Value any }

func (e *PanicError) Error() string { return fmt.Sprintf("bbolt panicked: %v", e.Value) }

// Open opens the bbolt file at path (created 0600 if missing), waiting up
// to timeout for another process's lock. A page pointing outside the
// mapped file faults on read: that panic, like any of bbolt's while
// opening, is returned as a *PanicError, the file closed (its lock
// released).
func Open(path string, timeout time.Duration) (db *bolt.DB, err error) {
	var file *os.File // the file bbolt opened: closed if Open panics
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			if db != nil {
				CloseQuietly(db)
			} else if file != nil {
				file.Close()
			}
			db, err = nil, &PanicError{Value: p}
		}
	}()
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		}})
}

// Read runs fn, which reads db, with a page fault or a panic of bbolt's
// (a damaged page) recovered: db is then closed and the error a
// *PanicError.
func Read(db *bolt.DB, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			CloseQuietly(db)
			err = &PanicError{Value: p}
		}
	}()
	return fn()
}

// Surroundings reports whether err, from opening or reading a bbolt
// file, comes from the file's surroundings (the operating system:
// permissions, I/O, no space; bbolt's lock timeout: another process holds
// the file) rather than from the file's content.
func Surroundings(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &errno) || errors.Is(err, berrors.ErrTimeout)
}

// CloseQuietly closes a bbolt database opened on a damaged file; closing
// may panic too. A nil db is ignored.
func CloseQuietly(db *bolt.DB) {
	if db == nil {
		return
	}
	defer func() { recover() }() //nolint:errcheck // damaged: nothing more to do
	db.Close()                   //nolint:errcheck
}
