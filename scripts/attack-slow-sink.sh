#!/usr/bin/env bash
# Mounts the slow-sink attack on a vigil binary and prints what the
# engine does, every 10 s, then at shutdown and at the next start:
#
#   scripts/attack-slow-sink.sh VIGIL_BINARY [CAMERAS] [SECONDS]
#
# A webhook receiver (python3, loopback) answers each event after 0.5 s;
# the outbox is small (outbox.max_bytes 32 KiB, about 50 events); CAMERAS
# cameras (default 100) point at a closed port with fast backoff, so each
# raises camera_offline incidents and updates as it retries, faster than
# the webhook takes them. Printed: /readyz, the events queued in memory
# and stored, the drops by reason, the sink's lag, the reconnect attempts
# (the supervisors keep running) and how long GET /api/cameras takes (the
# engine answers). After SECONDS (default 120) it sends SIGTERM with the
# webhook still slow and times the exit; then it starts vigil again on
# the same outbox with a webhook that answers at once and counts what the
# first run left that is delivered. Everything listens on 127.0.0.1.
set -euo pipefail
vigil=${1:?usage: attack-slow-sink.sh VIGIL_BINARY [CAMERAS] [SECONDS]}
cams=${2:-100}
secs=${3:-120}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hook_port=$(free_port)
api_port=$(free_port)
closed=$(free_port) # nothing listens there

cat >"$dir/hook.py" <<'EOF'
import http.server, sys, time, threading
delay = float(sys.argv[2])
count = 0
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(delay)
        with lock:
            count += 1
            open(sys.argv[3], "w").write(str(count))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF

config() {
	cat <<EOF
listen: 127.0.0.1:$api_port
start_spread: 1ms
outbox: {path: $dir/outbox.db, max_bytes: 32768, max_lag: 30s}
evidence: {dir: $dir/evidence}
sinks:
  - {name: hook, type: webhook, url: 'http://127.0.0.1:$hook_port/', timeout: 1h}
cameras:
EOF
	for i in $(seq 1 "$cams"); do
		echo "  - {id: cam$i, url: 'rtsp://127.0.0.1:$closed/x', backoff_min: 50ms, backoff_max: 100ms, offline_grace: 100ms, stall_timeout: 100ms}"
	done
}
config >"$dir/vigil.yaml"

metric() { # sum of a metric's samples matching a regex
	curl -s "http://127.0.0.1:$api_port/metrics" | awk -v re="$1" '$0 !~ /^#/ && $1 ~ re {s += $2} END {printf "%d", s}'
}

python3 "$dir/hook.py" "$hook_port" 0.5 "$dir/got1" &
hook=$!
"$vigil" run --config "$dir/vigil.yaml" --data-dir "$dir" --log-level warn 2>"$dir/log1" &
pid=$!
sleep 2
echo "t_s readyz queued stored_bytes dropped(overflow,queue_full) lag_s reconnects api_ms"
for ((t = 10; t <= secs; t += 10)); do
	sleep 10
	ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$api_port/readyz")
	api=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$api_port/api/cameras")
	echo "$t $ready $(metric '^vigil_delivery_queue_events') $(metric '^vigil_outbox_bytes') \
$(metric '^vigil_outbox_dropped_total\{reason="overflow"') $(metric '^vigil_outbox_dropped_total\{reason="queue_full"') \
$(metric '^vigil_sink_lag_seconds') $(metric '^vigil_camera_reconnects_total') $(awk -v s="$api" 'BEGIN{printf "%d", s*1000}')"
done
evicted=$(metric '^vigil_sink_events_dropped_total\{reason="outbox_full"')
published=$(metric '^vigil_incidents_total')
start=$(date +%s.%N)
kill -TERM $pid
wait $pid || true
end=$(date +%s.%N)
echo "SIGTERM to exit: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s, webhook still at 0.5 s per event"
echo "evicted from the healthy sink's backlog: $evicted; incidents started: $published"
grep -E 'delivery stopped|events evicted|not stored' "$dir/log1" | sed 's/^/  log: /' | tail -5
got1=$(cat "$dir/got1" 2>/dev/null || echo 0)
kill $hook; wait $hook 2>/dev/null || true

# The next run: the webhook answers at once; cameras are gone from the
# configuration so that only the first run's backlog is delivered.
python3 "$dir/hook.py" "$hook_port" 0 "$dir/got2" &
sed -i '/^cameras:/,$d' "$dir/vigil.yaml"
printf 'cameras:\n  - {id: idle, url: "rtsp://127.0.0.1:%s/x", offline_grace: 1h}\n' "$closed" >>"$dir/vigil.yaml"
"$vigil" run --config "$dir/vigil.yaml" --data-dir "$dir" --log-level warn 2>"$dir/log2" &
pid=$!
sleep 2
pending=$(metric '^vigil_outbox_events')
for _ in $(seq 1 120); do
	[ "$(metric '^vigil_outbox_events')" = 0 ] && break
	sleep 1
done
echo "first run: $got1 events delivered; next run: $pending pending at start, $(cat "$dir/got2" 2>/dev/null || echo 0) delivered, $(metric '^vigil_outbox_events') left"
kill -TERM $pid
wait $pid || true
