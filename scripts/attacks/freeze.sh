#!/usr/bin/env bash
# freeze.sh BIN FREEZE_SECONDS TAG: vigil run against 2 simulated cameras,
# frozen with SIGSTOP for FREEZE_SECONDS after 15 s of streaming, resumed,
# and read 20 s later: false camera_offline and analysis_stalled starts,
# reconnects, stalls counted. BIN is a build of ./cmd/vigil.
set -u
BIN=$1; FREEZE=$2; TAG=$3; D=/tmp/stallbench/$TAG; rm -rf $D; mkdir -p $D
RTSP=127.0.0.1:18554; HTTP=127.0.0.1:18080
$BIN sim --addr $RTSP --cameras 2 --clips motion > $D/sim.out 2> $D/sim.err & SIM=$!
sleep 2
URLS=$(grep -o 'rtsp://[^ ]*' $D/sim.out $D/sim.err | sed 's/^[^:]*://' | sort -u | head -2)
{ echo "listen: $HTTP"; echo "sinks:"; echo "  - {type: file, path: $D/events.jsonl}"; echo "cameras:"; i=0
  for u in $URLS; do i=$((i+1)); echo "  - {id: cam$i, url: \"$u\", offline_grace: 2s, stall_timeout: 2s}"; done; } > $D/cameras.yaml
$BIN run --config $D/cameras.yaml --data-dir $D/data --log-level warn 2> $D/vigil.err & V=$!
sleep 15
kill -STOP $V; sleep $FREEZE; kill -CONT $V; sleep 20
curl -s http://$HTTP/metrics | grep -E '^vigil_(camera_reconnects_total|process_stalls_total)' > $D/metrics.txt
kill -TERM $V; wait $V; kill -TERM $SIM; wait $SIM
echo "== $TAG freeze=${FREEZE}s"; cat $D/cameras.yaml | grep url
echo "camera_offline starts: $(grep -c '"type":"vigil.incident.start".*camera_offline\|camera_offline.*"type":"vigil.incident.start"' $D/events.jsonl)"
echo "analysis_stalled starts: $(grep -c 'vigil.incident.start.*analysis_stalled\|analysis_stalled.*vigil.incident.start' $D/events.jsonl)"
cat $D/metrics.txt; grep -i "stalled\|offline" $D/vigil.err | head -5
