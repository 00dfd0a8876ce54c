#!/bin/sh
# Mounts the hostile-stream attack against the built binary: two cameras serving an
# 8K (7680x4320) 4:4:4 10-bit H.264 stream, default configuration.
set -e
. "$(dirname "$0")/hostile-stream.sh"
cat > $D/hostile.yaml <<Y
listen: 127.0.0.1:19108
sinks: [{type: stdout}]
cameras:
  - {id: h1, url: rtsp://127.0.0.1:18554/cam001, decode_mode: all}
  - {id: h2, url: rtsp://127.0.0.1:18554/cam002, decode_mode: all}
Y
$V run --config $D/hostile.yaml --data-dir $D/data > $D/run.out 2> $D/run.err &
RUN=$!
sleep 20
grep -E 'VmHWM|VmRSS' /proc/$RUN/status
curl -s 127.0.0.1:19108/api/cameras | python3 -c 'import json,sys; [print(c["id"], c["state"], c.get("reason"), c.get("last_error")) for c in json.load(sys.stdin)]'
curl -s 127.0.0.1:19108/metrics | grep -E '^vigil_(camera_memory_bytes|stream_memory|decoders_open|frames_decoded_total)'
kill -TERM $RUN; wait $RUN || true
kill $SIM; wait $SIM || true
