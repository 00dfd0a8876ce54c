package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSecondSignalExits runs this test binary as a child whose shutdown
// never ends (it blocks after the first SIGTERM, as an engine wedged by a
// camera or a sink would), and checks that a second SIGTERM ends it at
// once with status 143.
func TestSecondSignalExits(t *testing.T) {
	if os.Getenv("VIGIL_SIGNAL_CHILD") == "1" {
		ctx, stop := shutdownContext(os.Exit, slog.New(slog.NewTextHandler(os.Stderr, nil)))
		defer stop()
		fmt.Println("ready")
		<-ctx.Done()
		fmt.Println("shutting down")
		select {} // a shutdown that never ends
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalExits$")
	cmd.Env = append(os.Environ(), "VIGIL_SIGNAL_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case l := <-lines:
			if l != want {
				t.Fatalf("child said %q, want %q", l, want)
			}
		case <-time.After(30 * time.Second): // guards against a hang only
			cmd.Process.Kill()
			t.Fatalf("child did not say %q", want)
		}
	}
	expect("ready")
	cmd.Process.Signal(syscall.SIGTERM)
	expect("shutting down")
	cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 143 {
			t.Fatalf("child ended with %v, want exit status 143", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child still running 30 s after the second SIGTERM")
	}
}
