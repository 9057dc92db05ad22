"""Proves that outside tools read Weir's Parquet lake: opens the lake with pyarrow
(as a Hive-partitioned dataset and file by file) and compares it with the same records
written as JSON lines. Exits non-zero on any difference or unreadable file.

usage: read_lake.py <lake dir> <records.jsonl>
"""

import datetime
import json
import pathlib
import sys

import pyarrow.dataset as ds
import pyarrow.parquet as pq


def main() -> int:
    lake, jsonl = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    files = sorted(p for p in lake.rglob("*.parquet"))
    if not files:
        print(f"no parquet files under {lake}", file=sys.stderr)
        return 1
    # A live writer holds `.weir-writer-<n>.lock` (hidden, so readers skip it, as
    # pyarrow's dataset discovery does below); anything else is a leftover.
    leftovers = [
        p
        for p in lake.rglob("*")
        if p.is_file()
        and p.suffix != ".parquet"
        and not (p.name.startswith(".weir-writer-") and p.suffix == ".lock")
    ]
    if leftovers:
        print(f"unexpected files in the lake: {leftovers}", file=sys.stderr)
        return 1
    rows = 0
    for f in files:
        table = pq.read_table(f)  # raises on a corrupt or half-written file
        rows += table.num_rows
        ts = table.column("ts").type
        if str(ts) != "timestamp[ms, tz=UTC]":
            print(f"{f}: ts is {ts}", file=sys.stderr)
            return 1
    dataset = ds.dataset(lake, format="parquet", partitioning="hive")
    table = dataset.to_table()
    if "date" not in table.column_names or "hour" not in table.column_names:
        print(f"no hive partition columns: {table.column_names}", file=sys.stderr)
        return 1
    millis = lambda t: round(t.timestamp() * 1000)
    got = sorted(
        (r["device_id"], millis(r["ts"]), r["temp"])
        for r in table.select(["device_id", "ts", "temp"]).to_pylist()
    )
    expected = []
    with open(jsonl) as lines:
        for line in lines:
            r = json.loads(line)
            ts = datetime.datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
            expected.append((r["device_id"], millis(ts), r["temp"]))
    expected.sort()
    if got != expected:
        print(f"lake ({len(got)} rows) differs from JSON ({len(expected)} rows)", file=sys.stderr)
        for a, b in zip(got, expected):
            if a != b:
                print(f"first difference: {a} vs {b}", file=sys.stderr)
                break
        return 1
    print(json.dumps({"files": len(files), "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
