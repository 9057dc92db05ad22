#!/usr/bin/env bash
# `weir query` beside DuckDB on the same Parquet lake (issue 17).
#   1. writes the lake with Weir itself: benches/query_lake/lake.pipe, the sensor
#      simulator's ROWS readings (100 devices) into `parquet(…, partition_by: [date(ts)])`,
#      ten `date=` folders at 10 M rows;
#   2. runs the two queries of benches/query_lake/ (full_scan.sql: a grouped aggregate
#      over every row; one_day.sql: the same over `WHERE date = DATE '2024-05-04'`, one
#      partition) once in each engine and checks the answers are the same (same_answer.py);
#   3. times each engine on each query with hyperfine (RUNS runs after one warm-up, so
#      the files are in the page cache for both): `weir query SQL --lake FOLDER --format
#      csv` and `python3 duckdb_query.py FOLDER SQL` (DuckDB's Python package, pinned in
#      requirements.txt; a Python that imports it costs its own start-up, timed apart).
#   benches/query_lake.sh [ROWS] [RUNS]
# Needs a release build with SQL: cargo build --release -p weir-runtime --features sql
# (WEIR=path overrides), hyperfine, and `pip install --require-hashes -r
# benches/query_lake/requirements.txt`. Results go to target/query_lake/ (the lake is
# kept there for another run: delete it to write a new one).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
RUNS=${2:-5}
ROOT=$PWD
WEIR=${WEIR:-$ROOT/target/release/weir}
HERE=$ROOT/benches/query_lake
OUT=$ROOT/target/query_lake/$ROWS
LAKE=$OUT/lake/readings
PYTHON=${PYTHON:-python3}

command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
"$PYTHON" -c 'import duckdb' 2>/dev/null || {
  echo "needs DuckDB: $PYTHON -m pip install --require-hashes -r benches/query_lake/requirements.txt" >&2
  exit 2
}
[ -x "$WEIR" ] || { echo "no $WEIR: cargo build --release -p weir-runtime --features sql" >&2; exit 2; }
mkdir -p "$OUT"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "duckdb $("$PYTHON" -c 'import duckdb; print(duckdb.__version__)'), $("$WEIR" --version)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ ! -d "$LAKE" ]; then
  sed "s/events: 10000000/events: $ROWS/" "$HERE/lake.pipe" > "$OUT/lake.pipe"
  start=$(date +%s.%N)
  (cd "$OUT" && "$WEIR" run lake.pipe --workers 1 --quiet)
  end=$(date +%s.%N)
  echo "lake written by weir run in $(echo "$end - $start" | bc) s"
fi
echo "lake: $(find "$LAKE" -name '*.parquet' | wc -l) files in $(find "$LAKE" -mindepth 1 -maxdepth 1 -type d | wc -l) partitions, $(du -sh "$LAKE" | cut -f1)"

# The same answer from both engines, checked before any timing.
for q in full_scan one_day; do
  "$WEIR" query "$(cat "$HERE/$q.sql")" --lake "$LAKE" --format csv > "$OUT/$q.weir.csv"
  "$PYTHON" "$HERE/duckdb_query.py" "$LAKE" "$HERE/$q.sql" > "$OUT/$q.duckdb.csv"
  echo -n "$q: "
  "$PYTHON" "$HERE/same_answer.py" "$OUT/$q.weir.csv" "$OUT/$q.duckdb.csv"
done

for q in full_scan one_day; do
  hyperfine --warmup 1 --runs "$RUNS" --export-markdown "$OUT/$q.md" \
    -n "weir query ($q)" "$WEIR query \"\$(cat $HERE/$q.sql)\" --lake $LAKE --format csv" \
    -n "duckdb ($q)" "$PYTHON $HERE/duckdb_query.py $LAKE $HERE/$q.sql"
done
# What DuckDB's side spends before any query: Python's start-up and `import duckdb`.
hyperfine --warmup 1 --runs "$RUNS" --export-markdown "$OUT/import.md" \
  -n "python3 -c 'import duckdb'" "$PYTHON -c 'import duckdb'"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$OUT/full_scan.md" "$OUT/one_day.md" "$OUT/import.md"
