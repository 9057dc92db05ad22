"""DuckDB's side of benches/query_lake.sh: one SQL file over the lake, answer as CSV.

Usage: python3 duckdb_query.py LAKE_FOLDER SQL_FILE

The table is named after the lake folder (as `weir query --lake FOLDER` names it) and reads
the folder's finished `*.parquet` files with Hive partitioning, so the same SQL text runs
in both engines.
"""

import csv
import os
import sys

import duckdb


def main() -> None:
    lake, sql_file = sys.argv[1], sys.argv[2]
    table = os.path.basename(os.path.normpath(lake))
    with open(sql_file, encoding="utf-8") as f:
        sql = f.read()
    con = duckdb.connect()
    files = os.path.join(lake, "**", "*.parquet").replace("'", "''")
    con.execute(
        f"CREATE VIEW {table} AS SELECT * FROM "
        f"read_parquet('{files}', hive_partitioning = true)"
    )
    cursor = con.execute(sql)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow([d[0] for d in cursor.description])
    out.writerows(cursor.fetchall())


if __name__ == "__main__":
    main()
