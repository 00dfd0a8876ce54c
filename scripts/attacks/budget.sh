#!/bin/sh
# Mounts the memory-budget attack against the built binary: the 8K 4:4:4
# 10-bit stream on two cameras whose limits admit it, with
# stream_memory_mb 1024 (one admitted, one refused by the budget), then a
# reload removing both (the memory returned).
set -e
. "$(dirname "$0")/hostile-stream.sh"
cat > $D/hostile.yaml <<Y
listen: 127.0.0.1:19108
stream_memory_mb: 1024
sinks: [{type: stdout}]
cameras:
  - {id: h1, url: rtsp://127.0.0.1:18554/cam001, decode_mode: all, limits: {max_width: 8192, max_height: 4352, max_chroma: "4:4:4", max_bit_depth: 10, memory_mb: 4096}}
  - {id: h2, url: rtsp://127.0.0.1:18554/cam002, decode_mode: all, limits: {max_width: 8192, max_height: 4352, max_chroma: "4:4:4", max_bit_depth: 10, memory_mb: 4096}}
Y
$V run --config $D/hostile.yaml --data-dir $D/data > $D/run.out 2> $D/run.err &
RUN=$!
sleep 20
grep -E 'VmHWM|VmRSS' /proc/$RUN/status
curl -s 127.0.0.1:19108/api/cameras | python3 -c 'import json,sys; [print(c["id"], c["state"], c.get("reason"), c.get("last_error")) for c in json.load(sys.stdin)]'
curl -s 127.0.0.1:19108/metrics | grep -E '^vigil_(camera_memory_bytes|stream_memory|decoders_open|frames_decoded_total)'
cat > $D/hostile.yaml <<Y
listen: 127.0.0.1:19108
stream_memory_mb: 1024
sinks: [{type: stdout}]
cameras:
  - {id: other, url: rtsp://127.0.0.1:18555/x}
Y
kill -HUP $RUN; sleep 5
echo "after a reload removing both:"; grep -E 'VmRSS' /proc/$RUN/status
curl -s 127.0.0.1:19108/metrics | grep -E '^vigil_(stream_memory_reserved|decoders_open)'
kill -TERM $RUN; wait $RUN || true
kill $SIM; wait $SIM || true
