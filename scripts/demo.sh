#!/usr/bin/env bash
# Sets up and runs the engine on its embedded demo: two simulated cameras on
# loopback; incidents on stdout, logs on stderr, metrics on :9108.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec go run ./cmd/vigil run --metrics-addr 127.0.0.1:9108 "$@"
