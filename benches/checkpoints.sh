#!/usr/bin/env bash
# What checkpoints cost and how fast a run comes back (issue 21), on the IoT query:
# sensor readings keyed by device, tumbling window, avg + count, 1 worker, file sink.
#   1. throughput of EVENTS readings (100 devices) without checkpoints, with
#      --checkpoint-every 10s and with 1s (one run each; wall time and records/s);
#   2. a large state: KEYS devices, each in an open 1-hour window, checkpointed every
#      10s; once every key was read (status line in >= KEYS) and a checkpoint cut after
#      that is complete, the run is SIGKILLed. Prints
#      the epoch's size (du), how long it took (oldest part's mtime to the MANIFEST's),
#      and the recovery time: from the restart to the first status line that has read
#      records (--status-every 100ms), i.e. checkpoint read, checked and restored.
#   benches/checkpoints.sh [EVENTS] [KEYS]   (after cargo build --release -p weir-runtime;
#                                           EVENTS=0 skips the throughput part)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-150000000}
KEYS=${2:-1000000}
WEIR=${WEIR:-$PWD/target/release/weir}
WORK=$(mktemp -d /tmp/weir-ckbench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# shellcheck source=benches/iot_query.sh
. benches/iot_query.sh
pipe() { # devices rate events window
  iot_query "$1" "$2" "$3" "$4" "$WORK/out.jsonl"
}

# Size in bytes and duration in ms of each complete checkpoint in $1.
epochs() {
  for d in "$1"/epoch-*; do
    [ -f "$d/MANIFEST" ] || continue
    size=$(du -sb "$d" | cut -f1)
    ms=$(find "$d" -type f -printf '%T@ %f\n' | sort -n | awk '
      NR == 1 { first = $1 } $2 == "MANIFEST" { m = $1 } END { printf "%.0f", (m - first) * 1000 }')
    echo "  $(basename "$d"): $size bytes ($(numfmt --to=iec "$size")), oldest part to MANIFEST ${ms} ms"
  done
}

echo "machine: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$EVENTS" -gt 0 ] && {
echo "== throughput: $EVENTS readings, 100 devices, tumbling 1m, 1 worker"
pipe 100 1000 "$EVENTS" 1m > "$WORK/iot.pipe"
for every in none 10s 1s; do
  rm -rf "$WORK/state" "$WORK/out.jsonl"
  flags=(--http off --quiet)
  [ "$every" = none ] || flags+=(--checkpoint-dir "$WORK/state" --checkpoint-every "$every")
  start=$(date +%s.%N)
  "$WEIR" run "$WORK/iot.pipe" "${flags[@]}"
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  printf "checkpoint-every=%-4s wall %.2fs  %.2fM records/s  load %s\n" "$every" "$wall" \
    "$(echo "$EVENTS / $wall / 1000000" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
  [ "$every" = none ] || epochs "$WORK/state"
done
}

echo "== large state: $KEYS devices, each in an open 1-hour window, checkpoint every 10s"
rm -rf "$WORK/state" "$WORK/out.jsonl"
# KEYS readings per second of event time: every device once a second, for an hour.
pipe "$KEYS" "$KEYS" $((KEYS * 3600)) 1h > "$WORK/big.pipe"
flags=(--http off --checkpoint-dir "$WORK/state" --checkpoint-every 10s --status-every 1s)
"$WEIR" run "$WORK/big.pipe" "${flags[@]}" 2> "$WORK/big.log" &
run=$!
# Wait for a complete checkpoint cut after every key was read, then SIGKILL.
full=""
while kill -0 "$run" 2>/dev/null; do
  if [ -z "$full" ] && grep -q "in=" "$WORK/big.log"; then
    read_in=$(grep -o 'in=[0-9]*' "$WORK/big.log" | tail -1 | cut -d= -f2 || true)
    if [ "${read_in:-0}" -ge "$KEYS" ]; then
      full=$(ls -d "$WORK"/state/epoch-* 2>/dev/null | sed 's/.*epoch-//' | sort -n | tail -1 || true)
      full=${full:--1}
    fi
  fi
  if [ -n "$full" ]; then
    newest=$(for d in "$WORK"/state/epoch-*; do [ -f "$d/MANIFEST" ] && basename "$d"; done \
      | sed 's/epoch-//' | sort -n | tail -1 || true)
    [ -n "$newest" ] && [ "$newest" -gt "$full" ] && break
  fi
  sleep 0.2
done
rss=$(ps -o rss= -p "$run" || echo 0)
kill -9 "$run" 2>/dev/null || true; wait "$run" 2>/dev/null || true
echo "killed at: $(grep -o 'in=[0-9]*' "$WORK/big.log" | tail -1), RSS $((rss / 1024)) MB"
epochs "$WORK/state"
echo "load before restart: $(cut -d' ' -f1-3 /proc/loadavg)"
flags=(--http off --checkpoint-dir "$WORK/state" --checkpoint-every 10s --status-every 100ms)
start=$(date +%s%N)
"$WEIR" run "$WORK/big.pipe" "${flags[@]}" > /dev/null 2> "$WORK/restart.log" &
run=$!
resumed=""
while kill -0 "$run" 2>/dev/null; do
  now=$(date +%s%N)
  if [ -z "$resumed" ] && grep -q resuming "$WORK/restart.log"; then
    resumed=1
    echo "+$(((now - start) / 1000000)) ms: $(grep resuming "$WORK/restart.log")"
  fi
  n=$(grep -o 'in=[0-9]*' "$WORK/restart.log" | cut -d= -f2 | sort -n | tail -1 || true)
  if [ "${n:-0}" -gt 0 ]; then
    echo "+$(((now - start) / 1000000)) ms (polled every 20 ms): first progress after restore:"
    grep status "$WORK/restart.log" | grep -v 'in=0 ' | head -1
    break
  fi
  sleep 0.02
done
kill -9 "$run" 2>/dev/null || true; wait "$run" 2>/dev/null || true
