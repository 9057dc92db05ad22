#!/usr/bin/env bash
# The HTTP server's cost on the IoT query: CPU seconds (user, sys) and wall time of
# 60M sensor readings (100 devices, key by device, tumbling 1m avg + count, 1 worker),
# with the server off, and on with /metrics and /api/job fetched every second (a
# Prometheus scrape plus the dashboard's poll). Alternates the two, ROUNDS times.
#   benches/http_overhead.sh [ROUNDS]      (after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
WEIR=target/release/weir
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=benches/iot_query.sh
. benches/iot_query.sh
iot_query 100 1000 60000000 1m "$WORK/out.jsonl" ", jitter: 2s" > "$WORK/iot.pipe"
PORT=19464
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mode user_s sys_s wall_s"
for _ in $(seq "$ROUNDS"); do
  /usr/bin/time -f "off %U %S %e" "$WEIR" run "$WORK/iot.pipe" --http off --quiet
  ( while true; do
      curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/metrics" || true
      curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/api/job" || true
      sleep 1
    done ) &
  scraper=$!
  /usr/bin/time -f "on %U %S %e" "$WEIR" run "$WORK/iot.pipe" --http "127.0.0.1:$PORT" --quiet
  kill "$scraper"; wait "$scraper" 2>/dev/null || true
done
