#!/usr/bin/env bash
# What checkpointing every 10 s costs in throughput (issue 21's < 5% target), on the IoT
# query and on Nexmark q5 and q8: runs without and with `--checkpoint-every 10s`
# alternate, PAIRS pairs per workload, the checkpointed run first in every other pair so
# that a drift of the machine's load does not favour one side. Prints every run's wall
# time, each pair's ratio and the mean ratio, and the load average around each pair.
#   benches/checkpoint_overhead.sh [PAIRS] [IOT_EVENTS] [NEXMARK_EVENTS] [WORKERS]
#     (after cargo build --release -p weir-runtime)
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-3}
IOT_EVENTS=${2:-150000000}
NEXMARK_EVENTS=${3:-30000000}
WORKERS=${4:-1}
WEIR=${WEIR:-$PWD/target/release/weir}
WORK=$(mktemp -d /tmp/weir-ckoverhead.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# The IoT query of benches/checkpoints.sh: 100 devices, tumbling 1m, avg + count.
# shellcheck source=benches/iot_query.sh
. benches/iot_query.sh
iot_query 100 1000 "$IOT_EVENTS" 1m "$WORK/out.jsonl" > "$WORK/iot.pipe"
# The Nexmark queries as benches/nexmark has them, with the stream length and the output
# file replaced.
for q in q5 q8; do
  sed -e "s/events: 10M/events: $NEXMARK_EVENTS/" \
      -e "s|file(\"out/nexmark_$q.jsonl\")|file(\"$WORK/out.jsonl\")|" \
      "benches/nexmark/$q.pipe" > "$WORK/$q.pipe"
done

# Wall seconds of one run of $1 with checkpoints every $2 (or none); the number of complete
# checkpoints it left goes to $WORK/epochs.
run() {
  rm -rf "$WORK/state" "$WORK/out.jsonl"
  local flags=(--http off --quiet --workers "$WORKERS")
  [ "$2" = none ] || flags+=(--checkpoint-dir "$WORK/state" --checkpoint-every "$2")
  local start
  start=$(date +%s.%N)
  "$WEIR" run "$1" "${flags[@]}"
  echo "$(date +%s.%N) - $start" | bc
  [ "$2" = none ] || { ls "$WORK"/state/epoch-*/MANIFEST 2>/dev/null || true; } | wc -l > "$WORK/epochs"
}

echo "machine: $(nproc) cores, $WORKERS worker(s), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in iot q5 q8; do
  echo "== $name"
  ratios=()
  for i in $(seq 1 "$PAIRS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ $((i % 2)) = 1 ]; then
      none=$(run "$WORK/$name.pipe" none); ck=$(run "$WORK/$name.pipe" 10s)
    else
      ck=$(run "$WORK/$name.pipe" 10s); none=$(run "$WORK/$name.pipe" none)
    fi
    epochs=$(cat "$WORK/epochs")
    ratio=$(echo "$ck / $none" | bc -l)
    ratios+=("$ratio")
    printf "pair %d: none %.2fs  10s %.2fs (%s epochs left)  10s/none %.3f  load %s -> %s\n" \
      "$i" "$none" "$ck" "$epochs" "$ratio" "$load" "$(cut -d' ' -f1 /proc/loadavg)"
  done
  printf "%s: mean 10s/none over %d pairs: %.3f\n" "$name" "$PAIRS" \
    "$(printf '%s\n' "${ratios[@]}" | awk '{ s += $1 } END { print s / NR }')"
done
