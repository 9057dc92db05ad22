#!/usr/bin/env bash
# Measures and writes the Nexmark and IoT sections of BENCHMARKS.md.
#   benches/report.sh [--events N] [--peer-events N] [--no-peers]
# --events: stream length of `weir bench nexmark` (default 10M), on 1 and 2 workers.
# --peer-events: stream length of the Flink side-by-side runs (default 2M; Flink reads
#   JSON at tens of thousands of events/s, so 10M would take most of an hour).
# --no-peers: skip Flink (no Java/PyFlink needed); the Flink 2.3 columns are left out.
# Run it on a quiet machine: it takes ~15 minutes with the peers.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
events=10M
peer_events=2000000
peers=1
args=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --peer-events) peer_events="$2"; shift 2 ;;
    --no-peers) peers=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
cd "$repo"
cargo build --release -p weir-runtime --features baseline --bin weir
run="$(mktemp -d "${TMPDIR:-/tmp}/weir-report-XXXXXX")"
echo "results in $run" >&2
load() { cut -d' ' -f1-3 /proc/loadavg; }
before="$(load)"
./target/release/weir bench nexmark --events "$events" --workers 1,2 --json | tee "$run/weir.jsonl"
after_weir="$(load)"
if [[ $peers == 1 ]]; then
  benches/peers/flink/run_nexmark.sh --events "$peer_events" --workers 1 \
    --json-out "$run/flink_nexmark.json"
  benches/peers/flink/run_iot.sh --events "$peer_events" --workers 1 --json-out "$run/flink_iot.json"
fi
python3 - "$run/machine.json" "$before" "$after_weir" "benches/report.sh ${args[*]}" <<'PY'
import json, os, platform, subprocess, sys, datetime
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
mem = next((l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
json.dump({"nproc": os.cpu_count(), "cpu": cpu, "memory": f"{int(mem.split()[0]) / 1048576:.0f} GiB RAM",
           "load_before": sys.argv[2], "load_after_weir": sys.argv[3], "command": sys.argv[4].strip(),
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "kernel": platform.release()}, open(sys.argv[1], "w"), indent=1)
PY
# The raw results stay beside the report they produced.
rm -rf benches/results/latest && mkdir -p benches/results/latest
cp "$run"/*.json* benches/results/latest/
python3 benches/report.py benches/results/latest
