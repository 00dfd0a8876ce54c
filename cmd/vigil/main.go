// Command vigil is the video ingest and analytics engine.
//
//	vigil run [--config cameras.yaml] [--metrics-addr ADDR] [--data-dir DIR]   run the engine (the embedded demo without --config)
//	vigil sim [--addr ADDR] [--cameras N] [--clip NAME|FILE]... serve clips as RTSP cameras
//	vigil bench offline --clip FILE                             decode + analyze a clip, beside ffmpeg
//	vigil bench live --cameras N [--ramp]                       the engine against N simulated cameras, measured from outside
//	vigil bench compare --steps 5,10,20 [--chart F.svg]         the engine beside ffmpeg and OpenCV per camera
//	vigil bench gate --matrix DIR                               mode auto's gate per clip of an encoding matrix
//	vigil version
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-video/vigil/api"
	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/internal/buildinfo"

	"github.com/vigil-video/vigil/bench"
	"github.com/vigil-video/vigil/service"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	ctx, stop := shutdownContext(os.Exit)
	defer stop()
	var err error
	switch args[0] {
	case "run":
		fs := flag.NewFlagSet("run", flag.ExitOnError)
		o := service.Options{Events: os.Stdout, Logs: os.Stderr}
		fs.StringVar(&o.ConfigPath, "config", "", "camera configuration (YAML); empty runs the embedded demo")
		fs.StringVar(&o.Listen, "metrics-addr", "", "HTTP address of /metrics and the API (overrides the config's listen)")
		fs.StringVar(&o.DataDir, "data-dir", service.DefaultDataDir, "directory of the outbox and the evidence when the configuration gives no absolute path")
		fs.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
		fs.StringVar(&o.LogFormat, "log-format", "text", "text or json")
		fs.Parse(args[1:])
		err = service.Run(ctx, o)
	case "sim":
		fs := flag.NewFlagSet("sim", flag.ExitOnError)
		o := bench.SimOptions{Logs: os.Stderr, Out: os.Stdout}
		fs.StringVar(&o.Addr, "addr", "127.0.0.1:8554", "RTSP listen address")
		fs.IntVar(&o.Cameras, "cameras", 2, "number of cameras")
		fs.StringVar(&o.Clips, "clips", "motion,static", "comma-separated clips (embedded names or .h264/.h265 files), assigned round-robin; NAME=PCT% sets a share, e.g. motion=10%,static")
		fs.Float64Var(&o.FPS, "fps", 0, "frame rate of clip files; 0: the container's, or 25 for raw .h264/.h265")
		fs.BoolVar(&o.UDP, "udp", false, "also serve UDP transport")
		fs.StringVar(&o.User, "user", "", "require this RTSP user")
		fs.StringVar(&o.Pass, "pass", "", "require this RTSP password")
		fs.Parse(args[1:])
		err = bench.RunSim(ctx, o)
	case "check-config":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: vigil check-config FILE")
			return 2
		}
		err = checkConfig(args[1])
	case "bench":
		err = bench.Main(ctx, args[1:], os.Stdout, os.Stderr)
	case "version", "--version", "-version":
		fmt.Println(buildinfo.Read())
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "vigil: unknown command %q\n", args[0])
		usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigil:", strings.TrimSpace(err.Error()))
		return 1
	}
	return 0
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: vigil <command> [flags]
  run      run the engine (the embedded demo when no --config is given)
  sim      serve H.264/H.265 clips as RTSP cameras on loopback
  bench    offline: decode + analyze a clip beside ffmpeg -threads 1
           live:    the engine against simulated cameras, measured from outside (--ramp)
           baseline, compare: ffmpeg and OpenCV per camera, beside the engine (--chart)
           gate:    mode auto's activity gate per clip of an encoding matrix (scripts/gatematrix.sh)
  check-config FILE  validate a configuration and print it in effect, secrets masked
  version  print the version
`)
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
