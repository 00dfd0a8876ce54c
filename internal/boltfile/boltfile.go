// Package boltfile holds what the packages keeping a bbolt file (outbox,
// history) share about a file that may be damaged: telling damage from a
// failing surrounding, and closing a database opened on a damaged file.
package boltfile

import (
	"errors"
	"io/fs"
	"syscall"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

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
