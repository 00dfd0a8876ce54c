// Command vigil is the video ingest and analytics engine.
//
//	vigil run [--config cameras.yaml] [--metrics-addr ADDR] [--data-dir DIR]   run the engine (the embedded demo without --config)
//	vigil sim [--addr ADDR] [--cameras N] [--clip NAME|FILE]... serve clips as RTSP cameras
//	vigil bench offline --clip FILE                             decode + analyze a clip, beside ffmpeg
//	vigil bench live --cameras N [--ramp]                       the engine against N simulated cameras, measured from outside
//	vigil bench compare --steps 5,10,20 [--chart F.svg]         the engine beside ffmpeg and OpenCV per camera
//	vigil bench gate --matrix DIR                               mode auto's gate per clip of an encoding matrix
//	vigil check-config FILE                                     validate a configuration, print it in effect
//	vigil healthcheck [--url URL] [--ca-file F]                 ask a running engine's /readyz, exit 0 or 1
//	vigil version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/buildinfo"
	"github.com/vigil-video/vigil/internal/cliflag"

	"github.com/vigil-video/vigil/bench"
	"github.com/vigil-video/vigil/service"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	stdout, stderr := os.Stdout, os.Stderr
	// log says what the signals do, and the run's failure under `vigil
	// run` (in its --log-format); the other commands print their failure.
	log := slog.New(slog.NewTextHandler(stderr, nil))
	fail := func(err error) { fmt.Fprintln(stderr, "vigil:", strings.TrimSpace(err.Error())) }
	var do func(ctx context.Context) error
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		o := service.Options{Events: stdout, Logs: stderr}
		fs.StringVar(&o.ConfigPath, "config", "", "camera configuration (YAML); empty runs the embedded demo")
		fs.StringVar(&o.Listen, "metrics-addr", "", "HTTP address of /metrics and the API (overrides the config's listen)")
		fs.StringVar(&o.DataDir, "data-dir", service.DefaultDataDir, "directory of the outbox and the evidence when the configuration gives no absolute path")
		fs.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
		fs.StringVar(&o.LogFormat, "log-format", "text", "text or json")
		if err := cliflag.Parse(fs, rest, stdout, stderr); err != nil {
			return exitCode(err)
		}
		l, err := service.NewLogger(stderr, o.LogLevel, o.LogFormat)
		if err != nil {
			if o.LogFormat == "json" { // a bad --log-level: still JSON
				slog.New(slog.NewJSONHandler(stderr, nil)).Error("vigil stopped", "error", err)
			} else {
				fail(err)
			}
			return 2
		}
		log, o.Logger = l, l
		fail = func(err error) { log.Error("vigil stopped", "error", err) }
		do = func(ctx context.Context) error { return service.Run(ctx, o) }
	case "sim":
		fs := flag.NewFlagSet("sim", flag.ContinueOnError)
		o := bench.SimOptions{Logs: stderr, Out: stdout}
		fs.StringVar(&o.Addr, "addr", "127.0.0.1:8554", "RTSP listen address")
		fs.IntVar(&o.Cameras, "cameras", 2, "number of cameras")
		fs.StringVar(&o.Clips, "clips", "motion,static", "comma-separated clips (embedded names or .h264/.h265 files), assigned round-robin; NAME=PCT% sets a share, e.g. motion=10%,static")
		fs.Float64Var(&o.FPS, "fps", 0, "frame rate of clip files; 0: the container's, or 25 for raw .h264/.h265")
		fs.BoolVar(&o.UDP, "udp", false, "also serve UDP transport")
		fs.StringVar(&o.User, "user", "", "require this RTSP user")
		fs.StringVar(&o.Pass, "pass", "", "require this RTSP password")
		fs.BoolVar(&o.Stagger, "stagger", false, "start the cameras of each clip at its keyframes in turn, not all at its first (people walking show at different times)")
		if err := cliflag.Parse(fs, rest, stdout, stderr); err != nil {
			return exitCode(err)
		}
		do = func(ctx context.Context) error { return bench.RunSim(ctx, o) }
	case "check-config":
		fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "usage: vigil check-config FILE\n  validate a configuration (and its web_config_file) and print it in effect, defaults applied, secrets masked")
		}
		if err := cliflag.Parse(fs, rest, stdout, stderr); err != nil {
			return exitCode(err)
		}
		if fs.NArg() != 1 {
			fs.SetOutput(stderr)
			fs.Usage()
			return 2
		}
		do = func(context.Context) error { return checkConfig(fs.Arg(0)) }
	case "healthcheck":
		fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
		var p api.Probe
		fs.StringVar(&p.URL, "url", api.DefaultProbeURL, "the engine's probe: /readyz (ready) or /livez (alive); https for a web_config_file with TLS")
		fs.StringVar(&p.CAFile, "ca-file", "", "PEM certificates that sign the server's (a self-signed one is its own); default: the system's")
		fs.BoolVar(&p.InsecureSkipVerify, "insecure-skip-verify", false, "accept any server certificate (loopback addresses only)")
		fs.DurationVar(&p.Timeout, "timeout", 5*time.Second, "time allowed for the whole request")
		if err := cliflag.Parse(fs, rest, stdout, stderr); err != nil {
			return exitCode(err)
		}
		do = func(ctx context.Context) error { return healthcheck(ctx, p, stdout) }
		fail = func(err error) { fmt.Fprintln(stdout, "unhealthy:", err) }
	case "bench":
		do = func(ctx context.Context) error { return bench.Main(ctx, rest, stdout, stderr) }
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, buildinfo.Read())
		return 0
	default:
		if cliflag.IsHelp(cmd) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "vigil: unknown command %q\n", cmd)
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := shutdownContext(os.Exit, log)
	defer stop()
	if err := do(ctx); err != nil {
		fail(err)
		return 1
	}
	return 0
}

// exitCode is a command's exit status after its flags failed to parse:
// 0 after -h or --help, else 2.
func exitCode(err error) int {
	if cliflag.Help(err) {
		return 0
	}
	return 2
}

// Commands are vigil's subcommands, in the order usage lists them.
var Commands = []string{"run", "sim", "bench", "check-config", "healthcheck", "version"}

const usage = `usage: vigil <command> [flags]   (vigil <command> --help for a command's flags)
  run      run the engine (the embedded demo when no --config is given)
  sim      serve H.264/H.265 clips as RTSP cameras on loopback
  bench    offline: decode + analyze a clip beside ffmpeg -threads 1
           live:    the engine against simulated cameras, measured from outside (--ramp)
           baseline, compare: ffmpeg and OpenCV per camera, beside the engine (--chart)
           accuracy, persons: the scored replay, the person detectors on labeled footage
           gate:    mode auto's activity gate per clip of an encoding matrix (scripts/gatematrix.sh)
  check-config FILE  validate a configuration and print it in effect, secrets masked
  healthcheck  ask a running engine's /readyz (exit 0 ready, 1 not), for a container HEALTHCHECK
  version  print the version
`

// healthcheck runs the probe once and prints one line: "ok: URL: 200 ok".
func healthcheck(ctx context.Context, p api.Probe, out io.Writer) error {
	answer, err := p.Check(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", p.URL, err)
	}
	_, err = fmt.Fprintf(out, "ok: %s: %s\n", p.URL, answer)
	return err
}

// checkConfig validates a configuration file and prints it as it takes
// effect (defaults applied), secrets masked.
func checkConfig(path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	if err := api.CheckWebConfig(cfg.WebConfigFile); err != nil {
		return err
	}
	out, err := config.Show(cfg)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
