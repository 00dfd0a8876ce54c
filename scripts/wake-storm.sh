#!/bin/bash
# The start-up timeline of N idle cameras (BENCHMARKS.md, "A storm of
# wakes"): vigil's simulator serves N cameras of one still clip, which it
# plays in step, so their activity signals wake together; the engine runs
# on them and its metrics are read every second for T seconds.
#
#   N=300 T=45 VIGIL=./vigil [START_SPREAD=30s] scripts/wake-storm.sh [CLIP]
set -euo pipefail
N=${N:-300}
T=${T:-45}
VIGIL=${VIGIL:-vigil}
CLIP=${1:-.cache/camclips/sub-static.h264}
SIM_ADDR=${SIM_ADDR:-127.0.0.1:18554}
LISTEN=${LISTEN:-127.0.0.1:19090}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT

"$VIGIL" sim --addr "$SIM_ADDR" --cameras "$N" --clips "$CLIP" >"$dir/sim.out" 2>"$dir/sim.err" &
until grep -q '^ready' "$dir/sim.out"; do sleep 0.2; done
{
	printf 'listen: "%s"\noutbox: {path: "%s/outbox.db"}\nevidence: {dir: "%s/evidence"}\nobjects: {enabled: false}\n' "$LISTEN" "$dir" "$dir"
	if [ -n "${START_SPREAD:-}" ]; then printf 'start_spread: %s\n' "$START_SPREAD"; fi
	echo 'cameras:'
	i=0
	grep '^rtsp' "$dir/sim.out" | while read -r url _; do
		i=$((i + 1))
		printf '  - id: cam%03d\n    url: "%s"\n' "$i" "$url"
	done
} >"$dir/config.yaml"
"$VIGIL" run --config "$dir/config.yaml" >"$dir/engine.out" 2>"$dir/engine.err" &
engine=$!
echo "second rss_mib decoders_lent wake_verifications decoding_all frames_decoded max_lag_s"
for s in $(seq 1 "$T"); do
	sleep 1
	m=$(curl -s "$LISTEN/metrics" || true)
	rss=$(awk '/VmRSS/{print int($2/1024)}' "/proc/$engine/status")
	echo "$m" | awk -v s="$s" -v rss="$rss" '
		/^vigil_decoders_lent / {lent=$2}
		/^vigil_wake_verifications / {ver=$2}
		/^vigil_camera_decoding_all_frames/ {all+=$2}
		/^vigil_camera_frames_decoded_total/ {dec+=$2}
		/^vigil_camera_lag_seconds/ {if ($2 > lag) lag=$2}
		END {printf "%d %d %d %s %d %d %.2f\n", s, rss, lent, (ver == "" ? "-" : ver), all, dec, lag}'
done
echo "$m" | awk '/^vigil_camera_wakeups(_rejected|_deferred)?_total/ {split($1, a, "{"); t[a[1]]+=$2} END {for (k in t) print k, t[k]}'
