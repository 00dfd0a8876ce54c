// Package cliflag parses a subcommand's flags the way an operator expects
// of a command-line tool: -h and --help print the usage on stdout and the
// command exits 0; a bad flag prints its error and the usage on stderr.
package cliflag

import (
	"bytes"
	"errors"
	"flag"
	"io"
)

// Parse parses args into fs (made with flag.ContinueOnError). On -h or
// --help it writes fs's usage to out and returns flag.ErrHelp, which the
// caller passes up and main turns into exit status 0 (Help); on a bad
// flag it writes the error and the usage to errOut and returns the error.
func Parse(fs *flag.FlagSet, args []string, out, errOut io.Writer) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(errOut)
	switch {
	case errors.Is(err, flag.ErrHelp):
		out.Write(buf.Bytes()) //nolint:errcheck // a closed stdout has no better place to go
	case err != nil:
		errOut.Write(buf.Bytes()) //nolint:errcheck
	}
	return err
}

// Help reports whether err is the request for help Parse returns, which
// ends a command with exit status 0.
func Help(err error) bool { return errors.Is(err, flag.ErrHelp) }

// IsHelp reports whether arg asks for help (-h, -help, --help or help).
func IsHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}
