#!/usr/bin/env bash
# Bounded memory under overload: an MQTT source fed 10x faster than its sink can take.
# A producer (weir: sensors at RATE/s, realtime, to MQTT QoS 0) floods a Mosquitto on
# loopback; the measured weir reads it (`on overload backpressure`, then `drop`) and
# POSTs each record to a local HTTP receiver that answers after 10 ms (at most ~100
# records/s, so a 1000/s stream is 10x what it takes). Prints the measured process's
# resident memory (VmRSS) every 2 s, and what the source dropped.
#   benches/overload_memory.sh [SECONDS] [RATE]   (needs mosquitto and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-30}
RATE=${2:-1000}
WEIR=${WEIR:-target/debug/weir}
WORK=$(mktemp -d)
MQTT_PORT=19883
HTTP_PORT=19884
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$MQTT_PORT" > "$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" 2>"$WORK/mosquitto.log" & pids+=($!)
python3 - "$HTTP_PORT" <<'PY' & pids+=($!)
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
class Slow(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(0.01)
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), Slow).serve_forever()
PY
sleep 1

cat > "$WORK/producer.pipe" <<PIPE
source readings = sensors(devices: 10, rate: $RATE, duration: $((SECONDS_RUN + 30))s, seed: 1, realtime: true) {
  device_id: string
  temp:      f64
  ts:        timestamp
}
sink broker = mqtt("mqtt://127.0.0.1:$MQTT_PORT", topic: "load/{device_id}", qos: 0)
pipeline feed { from readings | to broker }
PIPE

for policy in backpressure drop; do
  cat > "$WORK/consumer.pipe" <<PIPE
source readings = mqtt("mqtt://127.0.0.1:$MQTT_PORT", topic: "load/{device_id}", qos: 0) {
  device_id: string
  temp:      f64
  ts:        timestamp
  on overload $policy
}
sink slow = webhook("http://127.0.0.1:$HTTP_PORT/", timeout: 5s)
pipeline deliver { from readings | to slow }
PIPE
  "$WEIR" run "$WORK/consumer.pipe" --http off 2>"$WORK/consumer.err" & consumer=$!
  pids+=("$consumer")
  sleep 1
  "$WEIR" run "$WORK/producer.pipe" --http off --quiet 2>/dev/null & producer=$!
  pids+=("$producer")
  echo "on overload $policy: source $RATE records/s, sink ~100 records/s"
  echo "t_s rss_kib"
  for t in $(seq 2 2 "$SECONDS_RUN"); do
    sleep 2
    echo "$t $(awk '/VmRSS/ {print $2}' /proc/$consumer/status)"
  done
  # A stop would wait for the slow sink to take what is in flight: end both at once.
  kill -TERM "$consumer" "$producer" 2>/dev/null || true
  sleep 3
  kill -KILL "$consumer" "$producer" 2>/dev/null || true
  wait "$consumer" 2>/dev/null || true
  wait "$producer" 2>/dev/null || true
  grep -h "dropped on overload" "$WORK/consumer.err" | head -3 || true
done
