#!/usr/bin/env bash
# Builds go2rtc (github.com/AlexxIT/go2rtc v1.9.9, MIT, pinned with its
# dependencies in internal/tools/go2rtc), the RTSP restreamer Frigate ships,
# into DIR (default .cache/bin): the end-to-end tests' second RTSP server
# that no one here wrote. Kept when already there; about 15 s from the Go
# module proxy the first time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/.cache/bin}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
[ -x "$out/go2rtc" ] && exit 0
export PATH="$PATH:/usr/local/go/bin"
# go2rtc builds without cgo (its v4l2 package carries a C file for
# go generate only).
CGO_ENABLED=0 go build -C "$root/internal/tools/go2rtc" -trimpath -o "$out/go2rtc.tmp" github.com/AlexxIT/go2rtc
mv "$out/go2rtc.tmp" "$out/go2rtc"
