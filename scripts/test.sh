#!/usr/bin/env bash
# Sets up and runs every test: unit and end-to-end tests (real RTSP over
# loopback, libavcodec, OpenCV), go vet, and short fuzz runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
go vet ./...
go test -count=1 -timeout 30m ./...
go test -count=1 -race -timeout 10m ./sched/ ./ingest/ ./event/
# The scored replay of the shipped scenarios, through the CLI (non-zero
# exit on any failed scenario).
go run ./cmd/vigil bench accuracy --scenarios bench/scenarios
fuzz=${FUZZTIME:-10s}
go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime "$fuzz" ./decode/
go test -run '^$' -fuzz '^FuzzParseConfig$' -fuzztime "$fuzz" ./engine/
go test -run '^$' -fuzz '^FuzzDepacketizeDecode$' -fuzztime "$fuzz" ./engine/
go test -run '^$' -fuzz '^FuzzSliceQP$' -fuzztime "$fuzz" ./ingest/
