"""Nexmark peer run: each query of benches/nexmark/ in Weir and in Flink SQL, side by
side in the same run.

1. Weir dumps the generated stream (the queries' `nexmark(events: N, rate: 10k, seed: 0,
   max_delay: 3s)`) to persons.jsonl, auctions.jsonl and bids.jsonl.
2. Weir: `weir bench nexmark` (generator source, discarding sinks, one child per query),
   and `weir run` of each query with its sources replaced by the JSON-lines files.
3. Flink 2.3 (PyFlink, local mini-cluster, parallelism = workers): each query's SQL
   (nexmark_sql.py) over the same files into `blackhole` sinks, as the Flink Nexmark
   suite does.
Results are checked before timing: on a small dump (--check-events), Flink's answer
count must equal Weir's for every query but q12 (processing time). An updating Flink
result is counted as the rows of its final state (Flink's COUNT(*) of it); q10's answers
are the rows in the files both write. Queries Flink cannot run (NOT_IN_FLINK) are listed,
not run.

Usage (normally through run_nexmark.sh):
  python nexmark.py --weir PATH [--events N] [--workers W] [--queries q0,q5]
"""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from nexmark_sql import (ANSWER_KEYS, FILE_SINKS, FILES, NOT_IN_FLINK, QUERIES, TABLES,
                         table_options)
from peer import flink_table_env, machine, rate, run_weir

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
QUERY_DIR = os.path.join(REPO, "benches", "nexmark")
STREAM = "rate: 10k, seed: 0, max_delay: 3s"

def dump(weir, events, directory):
    """Writes the stream of `events` events as three JSON-lines files under `directory`."""
    os.makedirs(directory, exist_ok=True)
    call = f"nexmark(kind: {{kind}}, events: {events}, {STREAM})"
    schemas = {
        "person": "id: i64 name: string email_address: string credit_card: string city: string "
                  "state: string date_time: timestamp extra: string",
        "auction": "id: i64 item_name: string description: string initial_bid: i64 reserve: i64 "
                   "date_time: timestamp expires: timestamp seller: i64 category: i64 extra: string",
        "bid": "auction: i64 bidder: i64 price: i64 channel: string url: string "
               "date_time: timestamp extra: string",
    }
    text = ""
    for kind, fields in schemas.items():
        path = os.path.join(directory, FILES[kind])
        text += (f"source {kind}_in = {call.format(kind=kind)} {{\n  {fields}\n"
                 f"  event_time date_time\n  watermark bounded 3s\n}}\n"
                 f"sink {kind}_file = file({json.dumps(path)})\n"
                 f"pipeline dump_{kind} {{ from {kind}_in | to {kind}_file }}\n")
    pipe = os.path.join(directory, "dump.pipe")
    with open(pipe, "w") as f:
        f.write(text)
    secs, n_in, _ = run_weir(weir, pipe, workers=1)
    if n_in != events:
        raise RuntimeError(f"dumped {n_in} events, expected {events}")
    return secs


def on_files(query, dump_dir, work):
    """The query's .pipe with its nexmark sources reading the dump, sinks under `work`."""
    with open(os.path.join(QUERY_DIR, f"{query}.pipe")) as f:
        text = f.read()

    def source(m):
        kind = re.search(r"kind:\s*(\w+)", m.group(1)).group(1)
        return f"file({json.dumps(os.path.join(dump_dir, FILES[kind]))})"

    def lake(m):
        path = os.path.join(work, f"{query}_{m.group(1)}_lake")
        shutil.rmtree(path, ignore_errors=True)
        return f"sink {m.group(1)} = parquet({json.dumps(path)}"

    text = re.sub(r"nexmark\(([^)]*)\)", source, text)
    text = re.sub(r'sink (\w+) = file\("[^"]*"\)',
                  lambda m: f"sink {m.group(1)} = file({json.dumps(os.path.join(work, query + '_' + m.group(1) + '.jsonl'))})",
                  text)
    text = re.sub(r'sink (\w+) = parquet\("[^"]*"', lake, text)
    # Tables name files relative to the repository (q13's side input).
    text = re.sub(r'= csv\("([^"/][^"]*)"',
                  lambda m: f"= csv({json.dumps(os.path.join(REPO, m.group(1)))}", text)
    path = os.path.join(work, f"{query}_files.pipe")
    with open(path, "w") as f:
        f.write(text)
    return path, os.path.join(work, f"{query}_out")


def weir_rows(query, out):
    """Rows of Weir's answer: the records of `out`.jsonl, or of the Parquet lake `out`_lake
    (q10)."""
    if os.path.isdir(out + "_lake"):
        import pyarrow.parquet as pq  # PyFlink's dependency

        return sum(pq.ParquetFile(os.path.join(d, f)).metadata.num_rows
                   for d, _, files in os.walk(out + "_lake") for f in files
                   if f.endswith(".parquet"))
    with open(out + ".jsonl") as f:
        return sum(1 for line in f if line.strip())


def weir_on_files(weir, query, dump_dir, work, workers):
    pipe, out = on_files(query, dump_dir, work)
    secs, _, _ = run_weir(weir, pipe, workers)
    return secs, weir_rows(query, out)


def weir_bench(weir, events, workers, queries):
    done = subprocess.run(
        [weir, "bench", "nexmark", "--json", "--events", str(events), "--workers", str(workers),
         "--query", ",".join(queries), "--dir", QUERY_DIR],
        capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"weir bench nexmark failed:\n{done.stderr}\n{done.stdout}")
    return {m["query"]: m for m in map(json.loads, done.stdout.splitlines())}


def flink_env(query, dump_dir, workers):
    tables, setup, selects, _ = QUERIES[query]
    env = flink_table_env(workers)
    for t in tables:
        env.execute_sql(TABLES[t].format(options=table_options(os.path.join(dump_dir, FILES[t]))))
    for s in setup:
        if callable(s):
            s(env)
        else:
            env.execute_sql(s)
    return env, selects


def file_sink(env, query, dump_dir):
    """Creates the query's file sink table (FILE_SINKS) over a fresh directory."""
    path = tempfile.mkdtemp(prefix=f"flink-{query}-", dir=dump_dir)
    env.execute_sql(FILE_SINKS[query].format(path=path))
    return re.search(r"TABLE (\w+)", FILE_SINKS[query]).group(1), path


def file_rows(path):
    """CSV records in the finished files under `path` (in-progress files are hidden)."""
    count = 0
    for d, _, files in os.walk(path):
        for name in files:
            if not name.startswith((".", "_")):
                with open(os.path.join(d, name), newline="") as f:
                    count += sum(1 for _ in csv.reader(f))
    return count


def flink_count(query, dump_dir, workers):
    """The number of rows of the query's answer: of the files it wrote (FILE_SINKS), or
    Flink's own COUNT(*) of the answer (COUNT(DISTINCT key) for ANSWER_KEYS), whose last
    value is the count of its final state (an updating answer may come as upserts,
    without the rows they replace, so its change rows cannot be counted here; and only
    BIGINTs come over to Python, which cannot take some column types, such as
    TIMESTAMP_LTZ)."""
    from pyflink.common import RowKind

    env, selects = flink_env(query, dump_dir, workers)
    if query in FILE_SINKS:
        table, path = file_sink(env, query, dump_dir)
        env.sql_query(selects["out"]).execute_insert(table).wait()
        return file_rows(path)
    counted = f"DISTINCT {ANSWER_KEYS[query]}" if query in ANSWER_KEYS else "*"
    # Mini-batches make the count change once per batch rather than per row (rows cross
    # to Python one at a time, at about 100 a second); the final state is the same.
    conf = env.get_config()
    conf.set("table.exec.mini-batch.enabled", "true")
    conf.set("table.exec.mini-batch.allow-latency", "1 s")
    conf.set("table.exec.mini-batch.size", "10000")
    count = 0
    answers = env.sql_query(f"SELECT COUNT({counted}) AS answers FROM ({selects['out']})")
    with answers.execute().collect() as rows:
        for row in rows:
            if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER):
                count = row[0]
            elif row.get_row_kind() == RowKind.DELETE:
                count = 0
    return count


def flink_timed(query, dump_dir, workers):
    """Seconds to run every sink of the query into blackhole sinks (the answer into its
    files for a query in FILE_SINKS)."""
    from pyflink.table import Schema, TableDescriptor

    env, selects = flink_env(query, dump_dir, workers)
    statements = env.create_statement_set()
    for name, sql in selects.items():
        table = env.sql_query(sql)
        if name == "out" and query in FILE_SINKS:
            statements.add_insert(file_sink(env, query, dump_dir)[0], table)
            continue
        row_type = table.get_resolved_schema().to_physical_row_data_type()
        env.create_temporary_table(
            f"blackhole_{name}",
            TableDescriptor.for_connector("blackhole")
            .schema(Schema.new_builder().from_row_data_type(row_type).build())
            .build())
        statements.add_insert(f"blackhole_{name}", table)
    started = time.perf_counter()
    statements.execute().wait()
    return time.perf_counter() - started


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weir", required=True, help="the weir binary (release build)")
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--check-events", type=int, default=200_000,
                    help="events of the dump the answer counts are compared on")
    ap.add_argument("--workers", type=int, default=1, help="Weir workers and Flink parallelism")
    ap.add_argument("--queries", help="comma-separated (default: every query of nexmark_sql.py "
                    "whose .pipe is in this checkout; one Flink cannot run is listed, not run)")
    ap.add_argument("--work", help="scratch directory (default: a temporary one)")
    ap.add_argument("--json-out", help="also write the results to this JSON file")
    args = ap.parse_args()
    if args.queries:
        queries = [q.strip() for q in args.queries.split(",") if q.strip()]
    else:
        queries = [q for q in QUERIES if os.path.exists(os.path.join(QUERY_DIR, f"{q}.pipe"))]
    for q in [q for q in queries if q in NOT_IN_FLINK]:
        print(f"{q}: not run: Flink 2.3 cannot run it: {NOT_IN_FLINK[q]}", flush=True)
    queries = [q for q in queries if q not in NOT_IN_FLINK]
    if not queries:
        sys.exit("no query left to run")
    for q in queries:
        if q not in QUERIES:
            sys.exit(f"unknown query {q} (known: {', '.join(QUERIES)})")
        if not os.path.exists(os.path.join(QUERY_DIR, f"{q}.pipe")):
            sys.exit(f"{q}: no {QUERY_DIR}/{q}.pipe in this checkout")
    work = args.work or tempfile.mkdtemp(prefix="weir-flink-nexmark-")
    os.makedirs(work, exist_ok=True)
    print(f"machine: {machine()}", flush=True)
    print(f"scratch: {work}", flush=True)

    small_dir = os.path.join(work, f"dump-{args.check_events}")
    tiny_dir = os.path.join(work, "dump-1000")
    big_dir = os.path.join(work, f"dump-{args.events}")
    for d, n in [(tiny_dir, 1000), (small_dir, args.check_events), (big_dir, args.events)]:
        secs = dump(args.weir, n, d)
        print(f"dumped {n:,} events in {secs:.1f}s", flush=True)
    size_mb = sum(os.path.getsize(os.path.join(big_dir, f)) for f in FILES.values()) / 1e6

    # The answers agree before anything is timed.
    checks = {}
    for q in queries:
        _, weir_count = weir_on_files(args.weir, q, small_dir, work, args.workers)
        flink_n = flink_count(q, small_dir, args.workers)
        checks[q] = (weir_count, flink_n)
        print(f"{q}: answers on {args.check_events:,} events: Weir {weir_count}, Flink {flink_n}",
              flush=True)

    # Fixed cost of one Flink job (planning, deployment, start of the sources).
    fixed = min(flink_timed("q0", tiny_dir, args.workers) for _ in range(2))
    weir_gen = weir_bench(args.weir, args.events, args.workers, queries)
    results = []
    for q in queries:
        weir_file_s, weir_file_out = weir_on_files(args.weir, q, big_dir, work, args.workers)
        flink_s = flink_timed(q, big_dir, args.workers)
        g = weir_gen[q]
        r = {
            "query": q, "events": args.events, "workers": args.workers,
            "weir_generator_eps": g["events_per_sec"], "weir_generator_outputs": g["outputs"],
            "weir_file_s": weir_file_s, "weir_file_eps": rate(args.events, weir_file_s),
            "weir_file_outputs": weir_file_out,
            "flink_s": flink_s, "flink_eps": rate(args.events, flink_s),
            "flink_net_eps": rate(args.events, flink_s - fixed) if flink_s > fixed else None,
            "check_events": args.check_events,
            "check_weir": checks[q][0], "check_flink": checks[q][1],
            "answers_agree": q == "q12" or checks[q][0] == checks[q][1],
            "note": QUERIES[q][3],
        }
        results.append(r)
        print(f"{q}: Weir {r['weir_file_eps']:,.0f} events/s on the files, "
              f"{r['weir_generator_eps']:,.0f} on the generator; Flink {r['flink_eps']:,.0f}",
              flush=True)

    print()
    print(f"Nexmark, {args.events:,} events ({size_mb:.0f} MB of JSON lines), "
          f"{args.workers} worker(s) / parallelism {args.workers}; {machine()}")
    print(f"Flink's fixed cost per job (1,000 events): {fixed:.2f}s")
    print("| query | Weir, generator (events/s) | Weir, JSON files | Flink 2.3, JSON files | "
          "Flink net of fixed cost | Weir/Flink (files) | answers on check dump (Weir = Flink) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        net = f"{r['flink_net_eps']:,.0f}" if r["flink_net_eps"] else "-"
        agree = ("n/a (processing time)" if r["query"] == "q12" else
                 f"{r['check_weir']} = {r['check_flink']}" if r["answers_agree"] else
                 f"DIFFER: {r['check_weir']} vs {r['check_flink']}")
        print(f"| {r['query']} | {r['weir_generator_eps']:,.0f} | {r['weir_file_eps']:,.0f} | "
              f"{r['flink_eps']:,.0f} | {net} | {r['weir_file_eps'] / r['flink_eps']:.1f}x | {agree} |")
    for q, why in NOT_IN_FLINK.items():
        print(f"Not in Flink 2.3: {q}: {why}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"machine": machine(), "events": args.events, "workers": args.workers,
                       "file_mb": round(size_mb, 1), "flink_fixed_s": fixed,
                       "results": results, "not_in_flink": NOT_IN_FLINK}, f, indent=1)
    return 0 if all(r["answers_agree"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
