package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-video/vigil/bench"
)

// TestMain runs main's run when the test binary is started as vigil by
// vigilCmd, so that the tests see exit statuses and both streams.
func TestMain(m *testing.M) {
	if os.Getenv("VIGIL_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// vigilCmd runs this test binary as `vigil args...` and returns its exit
// status, stdout and stderr.
func vigilCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "VIGIL_AS_MAIN=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// usageName matches the command a usage text's line names: its first word
// when indented by two spaces.
var usageName = regexp.MustCompile(`(?m)^  ([a-z][a-z-]*)`)

func usageNames(text string) []string {
	var out []string
	for _, m := range usageName.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestEveryHelp: `vigil --help`, and -h and --help of every command and
// every bench mode, exit 0 with the usage on stdout and nothing on stderr;
// the lists walked are those the usage texts show. An unknown command or
// flag still fails (exit 2, the error on stderr).
func TestEveryHelp(t *testing.T) {
	if got := usageNames(usage); !slices.Equal(got, Commands) {
		t.Fatalf("vigil's usage lists %v, the test walks %v", got, Commands)
	}
	if got := usageNames(bench.Usage); !slices.Equal(got, bench.Modes) {
		t.Fatalf("bench's usage lists %v, the test walks %v", got, bench.Modes)
	}
	calls := [][]string{{"--help"}, {"-h"}, {"help"}, {"bench", "--help"}}
	for _, c := range Commands {
		if c != "version" {
			calls = append(calls, []string{c, "--help"}, []string{c, "-h"})
		}
	}
	for _, m := range bench.Modes {
		calls = append(calls, []string{"bench", m, "--help"}, []string{"bench", m, "-h"})
	}
	for _, args := range calls {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := vigilCmd(t, args...)
			if code != 0 || !strings.Contains(strings.ToLower(out), "usage") || errOut != "" {
				t.Errorf("vigil %s: exit %d, stdout %q, stderr %q; want 0, the usage on stdout, nothing on stderr",
					strings.Join(args, " "), code, out, errOut)
			}
		})
	}
	for _, args := range [][]string{{"no-such-command"}, {"run", "--no-such-flag"}, {"check-config"}, {"bench", "live", "--no-such-flag"}} {
		code, out, errOut := vigilCmd(t, args...)
		if code == 0 || out != "" || errOut == "" {
			t.Errorf("vigil %s: exit %d, stdout %q, stderr %q; want a failure said on stderr", strings.Join(args, " "), code, out, errOut)
		}
	}
}
