# Sourced by the run_*.sh scripts: Java 17 and a virtual environment with PyFlink 2.3.
venv="${WEIR_FLINK_VENV:-$HOME/.cache/weir-flink-venv}"
if [[ -z "${JAVA_HOME:-}" ]]; then
  for jdk in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk*; do
    if [[ -x "$jdk/bin/java" ]]; then export JAVA_HOME="$jdk"; break; fi
  done
fi
if [[ -z "${JAVA_HOME:-}" ]]; then
  echo "Java 17 not found: set JAVA_HOME" >&2
  exit 1
fi
export PATH="$JAVA_HOME/bin:$PATH"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import pyflink' 2>/dev/null; then
  echo "creating $venv with apache-flink==2.3.0 (once; about 1 GB)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet apache-flink==2.3.0
fi
FLINK_PYTHON="$venv/bin/python"
export FLINK_PYTHON
