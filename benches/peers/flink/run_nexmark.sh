#!/usr/bin/env bash
# The Nexmark peer run: Weir and Flink 2.3 (PyFlink, Flink SQL) on the same generated
# events, query by query.
#   benches/peers/flink/run_nexmark.sh [--events N] [--workers W] [--queries q0,q5] [--json-out F]
# Needs Java 17 and Python 3.9–3.12; creates the PyFlink virtual environment the first
# time (see env.sh); builds weir in release mode. Not part of CI (downloads ~1 GB, runs
# for minutes).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
source "$here/env.sh"
cd "$repo"
cargo build --release -p weir-runtime --bin weir
exec "$FLINK_PYTHON" "$here/nexmark.py" --weir "$repo/target/release/weir" "$@"
