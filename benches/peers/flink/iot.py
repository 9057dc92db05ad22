"""IoT peer run: per-device one-minute tumbling average over simulated sensor readings,
in Weir and in Flink SQL, on the same JSON-lines file in the same run.

1. Weir writes the `sensors` simulator's readings to a JSON-lines file (sensors → file).
2. Weir runs the query on that file, and on the simulator directly.
3. Flink SQL runs the same query on the same file.
Each side is also run on a 1,000-event file, to show its fixed per-job cost apart (for
Flink, the second such job: the first also starts the mini-cluster and warms the JIT).

Usage (normally through run_iot.sh): python iot.py --weir PATH [--events N] [--workers W]
"""

import argparse
import json
import os
import sys
import tempfile

from peer import flink_table_env, machine, rate, run_weir, timed_collect

SCHEMA = """{
  device_id: string
  temp:      f64
  ts:        timestamp
  event_time ts
  watermark  bounded 5s
}"""

QUERY = """  | key by device_id
  | window tumbling 1m
  | aggregate avg_temp = avg(temp), readings = count()"""


def sensors_call(events, devices, seed):
    # 1 kHz of event time across all devices; up to 2 s out of order (bounded 5 s: none late).
    return (f"sensors(devices: {devices}, rate: 1000, events: {events}, seed: {seed}, "
            f"jitter: 2s, anomaly_rate: 0.001)")


def write_pipes(work, events, devices, seed):
    data = os.path.join(work, f"readings-{events}.jsonl")
    gen = os.path.join(work, f"generate-{events}.pipe")
    with open(gen, "w") as f:
        f.write(f"source readings = {sensors_call(events, devices, seed)} {SCHEMA}\n"
                f"sink dump = file({json.dumps(data)})\n"
                "pipeline write_readings { from readings | to dump }\n")
    on_file = os.path.join(work, f"avg-file-{events}.pipe")
    with open(on_file, "w") as f:
        f.write(f"source readings = file({json.dumps(data)}) {SCHEMA}\n"
                f"sink out = file({json.dumps(os.path.join(work, 'weir-file.jsonl'))})\n"
                f"pipeline device_avg {{\n  from readings\n{QUERY}\n  | to out\n}}\n")
    on_sim = os.path.join(work, f"avg-sim-{events}.pipe")
    with open(on_sim, "w") as f:
        f.write(f"source readings = {sensors_call(events, devices, seed)} {SCHEMA}\n"
                f"sink out = file({json.dumps(os.path.join(work, 'weir-sim.jsonl'))})\n"
                f"pipeline device_avg {{\n  from readings\n{QUERY}\n  | to out\n}}\n")
    return data, gen, on_file, on_sim


FLINK_SOURCE = """CREATE TEMPORARY TABLE readings (
  device_id STRING,
  temp DOUBLE,
  ts TIMESTAMP_LTZ(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
  'connector' = 'filesystem',
  'path' = '{path}',
  'format' = 'json',
  'json.timestamp-format.standard' = 'ISO-8601',
  'json.fail-on-missing-field' = 'false',
  'json.ignore-parse-errors' = 'false'
)"""

FLINK_QUERY = """SELECT device_id, window_start, AVG(temp) AS avg_temp, COUNT(*) AS readings
FROM TABLE(TUMBLE(TABLE readings, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY device_id, window_start, window_end"""


def flink_run(path, workers):
    env = flink_table_env(workers)
    env.execute_sql(FLINK_SOURCE.format(path=path))
    secs, rows = timed_collect(env, FLINK_QUERY)
    return secs, rows


def weir_results(path):
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            out[(r["device_id"], r["window"]["start"][:19])] = (r["avg_temp"], r["readings"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weir", required=True, help="the weir binary (release build)")
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--devices", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=1,
                    help="Weir workers and Flink parallelism")
    ap.add_argument("--work", help="scratch directory (default: a temporary one)")
    ap.add_argument("--json-out", help="also write the results to this JSON file (for benches/report.py)")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="weir-flink-iot-")
    os.makedirs(work, exist_ok=True)
    print(f"machine: {machine()}", flush=True)
    print(f"scratch: {work}", flush=True)

    small = write_pipes(work, 1_000, args.devices, args.seed)
    data, gen, on_file, on_sim = write_pipes(work, args.events, args.devices, args.seed)
    for g in (small[1], gen):
        secs, n_in, _ = run_weir(args.weir, g)
        print(f"wrote {n_in} readings in {secs:.2f}s", flush=True)
    size_mb = os.path.getsize(data) / 1e6

    weir_small, _, _ = run_weir(args.weir, small[2], args.workers)
    weir_file_secs, weir_in, weir_out = run_weir(args.weir, on_file, args.workers)
    weir_sim_secs, sim_in, sim_out = run_weir(args.weir, on_sim, args.workers)
    print(f"weir: file {weir_file_secs:.2f}s, simulator {weir_sim_secs:.2f}s", flush=True)

    # The first Flink job also starts the JVM's mini-cluster and warms its JIT; the second
    # small job measures what every job costs before it reads a record.
    flink_run(small[0], args.workers)
    flink_small, _ = flink_run(small[0], args.workers)
    flink_secs, flink_rows = flink_run(data, args.workers)
    print(f"flink: {flink_secs:.2f}s ({len(flink_rows)} rows)", flush=True)

    # Same results? Compare each (device, window) average.
    weir = weir_results(os.path.join(work, "weir-file.jsonl"))
    mismatched = 0
    for row in flink_rows:
        key = (row[0], row[1].strftime("%Y-%m-%dT%H:%M:%S"))
        got = weir.get(key)
        if got is None or abs(got[0] - row[2]) > 1e-9 * max(1.0, abs(row[2])) or got[1] != row[3]:
            mismatched += 1
    same = mismatched == 0 and len(weir) == len(flink_rows)

    print()
    print(f"IoT query: per-device 1-minute tumbling average, {args.events:,} readings "
          f"({size_mb:.0f} MB JSON lines), {args.devices} devices, {args.workers} worker(s) / parallelism")
    print(f"| system | input | seconds | events/s | events/s net of start-up | output rows |")
    print(f"| --- | --- | ---: | ---: | ---: | ---: |")

    def line(name, inp, secs, fixed, rows):
        net = rate(args.events, secs - fixed) if secs > fixed else float("nan")
        print(f"| {name} | {inp} | {secs:.2f} | {rate(args.events, secs):,.0f} | {net:,.0f} | {rows} |")

    line("Weir", "JSON-lines file", weir_file_secs, weir_small, weir_out)
    line("Weir", "sensors simulator", weir_sim_secs, 0.0, sim_out)
    line("Flink 2.3 (PyFlink SQL)", "JSON-lines file", flink_secs, flink_small, len(flink_rows))
    print()
    print(f"start-up (1,000-event file): Weir {weir_small:.2f}s, Flink {flink_small:.2f}s")
    print(f"Weir/Flink on the file: {flink_secs / weir_file_secs:.1f}x (wall), "
          f"{(flink_secs - flink_small) / max(weir_file_secs - weir_small, 1e-9):.1f}x (net of start-up)")
    print(f"results identical (every device-minute average and count): {'yes' if same else f'NO ({mismatched} differ)'}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({
                "query": "per-device 1-minute tumbling average",
                "events": args.events, "devices": args.devices, "workers": args.workers,
                "file_mb": round(size_mb, 1), "machine": machine(),
                "weir_file_s": weir_file_secs, "weir_sim_s": weir_sim_secs,
                "weir_startup_s": weir_small, "flink_s": flink_secs,
                "flink_startup_s": flink_small, "rows": len(flink_rows),
                "identical": same,
            }, f, indent=1)
    if weir_in != args.events or sim_in != args.events:
        print(f"warning: Weir read {weir_in} (file) and {sim_in} (simulator) records, not {args.events}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
