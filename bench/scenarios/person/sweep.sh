#!/usr/bin/env bash
# Sweeps person.hit_threshold (HOG) over real people (bench/scenarios/real:
# vtest.avi walking, H.264 and H.265; the still view) and drawn shapes that
# are not people (this directory: the synthetic crossing, intrusion,
# loitering and lighting clips), and prints the person score of each.
#   bench/scenarios/person/sweep.sh [THRESHOLD ...]   (default 0 0.1 0.2 0.3 0.5)
set -euo pipefail
cd "$(dirname "$0")/../../.."
go build -o /tmp/vigil-sweep ./cmd/vigil
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for th in "${@:-0 0.1 0.2 0.3 0.5}"; do
	for th1 in $th; do
		d="$tmp/$th1"
		mkdir -p "$d"
		for f in bench/scenarios/real/*.yaml bench/scenarios/person/*.yaml; do
			dir=$(cd "$(dirname "$f")" && pwd)
			sed -e "/hit_threshold:/d" -e "s|min_height: \(.*\)|min_height: \1\n    hit_threshold: $th1|" \
				-e "s|^clip: \(.*\)|clip: $dir/\1|" "$f" >"$d/$(basename "$f")"
		done
		printf 'hit_threshold %s: ' "$th1"
		out=$(/tmp/vigil-sweep bench accuracy --scenarios "$d" 2>/dev/null || true)
		grep '^person ' <<<"$out" || echo "(no person incident)"
	done
done
