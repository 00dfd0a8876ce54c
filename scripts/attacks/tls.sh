#!/bin/sh
# Mounts the attack 2: an rtsps camera whose server accepts TCP and
# never answers the TLS handshake; then a reload removing it (SIGHUP), then
# SIGTERM.
D=${D:-/tmp/vigil-attacks}; mkdir -p $D
V=${V:-$D/vigil}  # go build -o $D/vigil ./cmd/vigil
python3 -c '
import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",18322)); s.listen(100)
conns=[]
while True:
    c,_=s.accept(); conns.append(c)
' &
MUTE=$!
cat > $D/tls.yaml <<Y
listen: 127.0.0.1:19109
sinks: [{type: stdout}]
cameras:
  - {id: mute, url: rtsps://127.0.0.1:18322/x, tls_skip_verify: true}
  - {id: stuck, url: rtsps://127.0.0.1:18322/y, tls_skip_verify: true, connect_timeout: 10m}
  - {id: other, url: rtsp://127.0.0.1:18323/x}
Y
$V run --config $D/tls.yaml --data-dir $D/data2 > $D/tls.out 2> $D/tls.err &
RUN=$!
sleep 25
curl -s 127.0.0.1:19109/api/cameras/mute | python3 -c 'import json,sys; c=json.load(sys.stdin); print("after 25 s:", c["state"], c.get("reason"), c.get("last_error"))'
curl -s 127.0.0.1:19109/api/cameras/stuck | python3 -c 'import json,sys; c=json.load(sys.stdin); print("stuck (connect_timeout 10m) after 25 s:", c["state"])'
# remove stuck, which is in its handshake
cat > $D/tls.yaml <<Y
listen: 127.0.0.1:19109
sinks: [{type: stdout}]
cameras:
  - {id: mute, url: rtsps://127.0.0.1:18322/x, tls_skip_verify: true}
  - {id: other, url: rtsp://127.0.0.1:18323/x}
Y
T0=$(date +%s.%N); kill -HUP $RUN
for i in $(seq 1 600); do grep -q 'configuration applied' $D/tls.err && break; sleep 0.05; done
T1=$(date +%s.%N); echo "reload removing it: $(echo "$T1 - $T0" | bc) s"
T0=$(date +%s.%N); kill -TERM $RUN; wait $RUN; RC=$?; T1=$(date +%s.%N)
echo "SIGTERM to exit: $(echo "$T1 - $T0" | bc) s, status $RC"
kill $MUTE
