#!/usr/bin/env bash
# Mounts the damaged-outbox attack on a vigil binary: an outbox
# with a backlog (its webhook is down) is damaged one page at a time, and
# vigil is started on each damaged copy:
#
#   scripts/attack-damaged-outbox.sh VIGIL_BINARY [EVERY]
#
# Every EVERY-th 4 KiB page (default 1: all) is overwritten with random
# bytes, then a zero-length outbox is tried. For each start it prints
# whether vigil panicked or exited, whether it reported the damage (the
# ERROR line, vigil_outbox_damaged_total, the file moved aside) and how
# many events the outbox it runs on still holds (all 200 when the damage
# hit unused space), then a summary.
# Everything listens on 127.0.0.1.
set -euo pipefail
vigil=${1:?usage: attack-damaged-outbox.sh VIGIL_BINARY [EVERY]}
every=${2:-1}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api_port=$(free_port)
closed=$(free_port) # nothing listens there: the webhook is down, the cameras offline

config() { # outbox path, offline_grace
	printf 'listen: 127.0.0.1:%s\nstart_spread: 1ms\noutbox: {path: %s}\nevidence: {dir: %s/evidence}\n' "$api_port" "$1" "$dir"
	printf 'sinks:\n  - {name: hook, type: webhook, url: "http://127.0.0.1:%s/", backoff_min: 1h, backoff_max: 1h}\ncameras:\n' "$closed"
	for i in $(seq 1 100); do
		printf '  - {id: cam%s, url: "rtsp://127.0.0.1:%s/x", offline_grace: %s, backoff_min: 1h, backoff_max: 1h}\n' "$i" "$closed" "$2"
	done
}
metric() { curl -s "http://127.0.0.1:$api_port/metrics" | awk -v re="$1" '$0 !~ /^#/ && $1 ~ re {s += $2} END {printf "%d", s}'; }

# The outbox to damage: 100 camera_offline starts, and their ends at SIGTERM.
config "$dir/outbox.db" 100ms >"$dir/vigil.yaml"
"$vigil" run --config "$dir/vigil.yaml" --data-dir "$dir" --log-level error 2>/dev/null &
pid=$!
sleep 5
kill -TERM $pid
wait $pid || true
size=$(stat -c %s "$dir/outbox.db")
want=200 # 100 starts, 100 ends
pages=$((size / 4096))
echo "outbox: $size bytes, $pages pages"

panics=0 reported=0 whole=0 silent=0 tried=0
try() { # name
	mkdir -p "$dir/try"
	config "$dir/try/outbox.db" 1h >"$dir/try.yaml" # no new incident: the outbox holds only the old
	"$vigil" run --config "$dir/try.yaml" --data-dir "$dir/try" --log-level warn 2>"$dir/try.log" &
	local p=$! up=0
	for _ in $(seq 1 50); do
		if ! kill -0 $p 2>/dev/null; then break; fi
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api_port/livez")" = 200 ]; then up=1; break; fi
		sleep 0.1
	done
	local state held dmg aside
	held=$([ $up = 1 ] && metric '^vigil_outbox_events' || echo -)
	dmg=$([ $up = 1 ] && metric '^vigil_outbox_damaged_total' || echo -)
	aside=$(find "$dir/try" -name 'outbox.db.damaged-*' | wc -l)
	kill -TERM $p 2>/dev/null || true
	wait $p 2>/dev/null && state=ok || state="exit $?"
	tried=$((tried + 1))
	if grep -q '^panic:' "$dir/try.log"; then
		panics=$((panics + 1)); state=PANIC
	elif [ "$dmg" = 1 ] && grep -q 'msg="outbox damaged' "$dir/try.log" && [ "$aside" = 1 ]; then
		reported=$((reported + 1)); state="reported"
	elif [ $up = 1 ] && [ "$held" = "$want" ]; then
		whole=$((whole + 1)); state="whole"
	else
		silent=$((silent + 1)); state="SILENT ($state)"
	fi
	echo "$1: $state, outbox holds $held events"
	rm -rf "$dir/try"
}
for ((p = 0; p < pages; p += every)); do
	mkdir -p "$dir/try"
	cp "$dir/outbox.db" "$dir/try/outbox.db"
	dd if=/dev/urandom of="$dir/try/outbox.db" bs=4096 seek=$p count=1 conv=notrunc status=none
	try "page $p"
done
mkdir -p "$dir/try"
: >"$dir/try/outbox.db"
try "zero-length"
echo "$tried starts: $panics panicked, $reported reported (moved aside, logged, counted), $whole found whole (damage in unused space), $silent silent"
