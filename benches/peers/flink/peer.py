"""Shared pieces of the Flink peer runs: running `weir`, timing, starting PyFlink.

Both sides are timed the same way: wall-clock seconds from submitting the work to having
every result. Weir runs as a child process (`weir run --workers W`); its summary line
gives the records read and written. Flink runs in this Python process through PyFlink's
local mini-cluster with `parallelism.default` = W.
"""

import os
import re
import subprocess
import time

SUMMARY = re.compile(
    r"weir: read (\d+) records in ([0-9.]+)s .* wrote (\d+)"
)


def run_weir(weir, pipe, workers=1, cwd=None):
    """Runs `weir run PIPE`; returns (wall seconds, records in, records out)."""
    started = time.perf_counter()
    done = subprocess.run(
        [weir, "run", pipe, "--workers", str(workers)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    secs = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"weir run {pipe} failed:\n{done.stderr}")
    match = SUMMARY.search(done.stderr)
    if match is None:
        raise RuntimeError(f"no summary line from weir run {pipe}:\n{done.stderr}")
    return secs, int(match.group(1)), int(match.group(3))


def flink_table_env(parallelism):
    """A streaming TableEnvironment on a local mini-cluster, UTC windows."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = env.get_config()
    conf.set("parallelism.default", str(parallelism))
    conf.set("table.local-time-zone", "UTC")
    return env


def timed_collect(env, sql):
    """Runs a query and pulls every result row; returns (seconds, rows)."""
    started = time.perf_counter()
    result = env.execute_sql(sql)
    rows = []
    with result.collect() as results:
        for row in results:
            rows.append(row)
    return time.perf_counter() - started, rows


def rate(events, secs):
    return events / secs if secs > 0 else float("inf")


def machine():
    """nproc, CPU model and load average, to print beside the numbers."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {model}, load average {load}"
