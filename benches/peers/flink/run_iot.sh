#!/usr/bin/env bash
# The IoT peer run: Weir and Flink 2.3 (PyFlink, Flink SQL) on the same sensor readings.
#   benches/peers/flink/run_iot.sh [--events N] [--devices D] [--workers W]
# Needs Java 17 (JAVA_HOME, or /usr/lib/jvm/java-17-openjdk-amd64) and Python 3.9–3.12.
# Creates a virtual environment with apache-flink==2.3.0 at $WEIR_FLINK_VENV (default
# ~/.cache/weir-flink-venv) the first time; builds weir in release mode.
# Not part of CI: it downloads ~1 GB of Flink and takes minutes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
source "$here/env.sh"
cd "$repo"
cargo build --release -p weir-runtime --bin weir
exec "$FLINK_PYTHON" "$here/iot.py" --weir "$repo/target/release/weir" "$@"
