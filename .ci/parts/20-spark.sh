# shellcheck shell=bash
# Java for the Spark tests (tests/engines, crmcore.engines.spark), and how they find it.
#
# Sourced by .ci/run (set -euo pipefail is on). Spark runs in local mode inside the test process
# (local[2], one session per test module), so there is no server to start: only a JVM to
# find. This part installs openjdk-17-jre-headless with apt when `java` is absent, checks the
# version (Spark 4 needs Java 17 or later) and exports JAVA_HOME, PYSPARK_PYTHON and
# PYSPARK_DRIVER_PYTHON (the venv's interpreter: scripts/dev.py creates .venv and installs the
# dev extra, pyspark included, before the tests run), SPARK_LOCAL_IP (loopback only) and
# SPARK_LOCAL_DIRS (scratch files, removed at exit). With CI=true the Spark tests fail, never
# skip, if any of this is missing.

if ! command -v java >/dev/null 2>&1; then
    echo "java not found: installing openjdk-17-jre-headless with apt" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
_spark_java="$(readlink -f "$(command -v java)")"
export JAVA_HOME="${JAVA_HOME:-${_spark_java%/bin/java}}"
_spark_version="$("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1)"
echo "$_spark_version"
_spark_major="$(echo "$_spark_version" | sed -n 's/.*version "\([0-9]*\).*/\1/p')"
if [ "${_spark_major:-0}" -lt 17 ]; then
    echo "Spark 4 needs Java 17 or later; found '$_spark_version' at $JAVA_HOME" >&2
    false
fi

export PYSPARK_PYTHON="$PWD/.venv/bin/python"
export PYSPARK_DRIVER_PYTHON="$PYSPARK_PYTHON"
export SPARK_LOCAL_IP=127.0.0.1
_spark_tmp="$(mktemp -d "${TMPDIR:-/tmp}/crmcore-spark.XXXXXX")"
export SPARK_LOCAL_DIRS="$_spark_tmp"
TEARDOWN+=("rm -rf '$_spark_tmp'")
