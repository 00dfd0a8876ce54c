// Package buildinfo reads what the Go toolchain recorded in the binary:
// the module version, the VCS revision and time, and the Go version.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info describes the running binary.
type Info struct {
	// Version is the main module's version ("devel" for a local build).
	Version string
	// Revision and Time are the VCS commit and its time ("" when unknown);
	// Modified is true when the work tree had uncommitted changes.
	Revision, Time string
	Modified       bool
	// GoVersion is the toolchain that built the binary.
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	i := Info{Version: "devel", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		i.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// String is the one-line form `vigil version` prints.
func (i Info) String() string {
	s := "vigil " + i.Version
	if i.Revision != "" {
		s += fmt.Sprintf(" (revision %s, %s", i.Revision, i.Time)
		if i.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + i.GoVersion
}
