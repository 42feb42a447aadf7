"""Fixtures for the engine tests: DuckDB always; one local Spark session per test module.

Spark runs in local mode (``local[2]``) in this process's JVM: the JVM starts
once, with the first module that needs it, and each module gets a session of
its own, stopped at the module's end (so no temporary view or setting leaks
from one module into the next). With ``CI=true`` a missing Java or pyspark
fails the run with a message saying what to install; locally the Spark tests
skip, saying how to enable them.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

from crmcore.engines import duckdb as duck_engine

_HOW = (
    "Spark tests need Java 17 (apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME) "
    "and pyspark (pip install 'crmcore[spark]'); PYSPARK_PYTHON must be this interpreter "
    f"({sys.executable})"
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: the Spark tests must run, but {reason}. {_HOW}", pytrace=False)
    pytest.skip(f"{reason}; {_HOW}")


@pytest.fixture(scope="module")
def spark_session() -> Iterator[Any]:
    """The module's ``SparkSession`` (local[2]; the session zone is deliberately not UTC)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        _unavailable("pyspark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _unavailable("no Java runtime was found")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only
    session = (
        SparkSession.builder.master("local[2]")
        .appName("crmcore-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        # Test data is tiny: adaptive re-planning and compiling generated Java for every stage
        # cost more than they save (the benchmark runs Spark's defaults, and checks the result).
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        # Results must not depend on the session's zone: run in one far from UTC.
        .config("spark.sql.session.timeZone", "America/New_York")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()


@pytest.fixture(params=["duckdb", "spark"])
def engine(request: pytest.FixtureRequest) -> ModuleType:
    """The engine module under test (``crmcore.engines.duckdb`` or ``crmcore.engines.spark``)."""
    if request.param == "spark":
        request.getfixturevalue("spark_session")
        from crmcore.engines import spark as spark_engine

        return spark_engine
    return duck_engine


@pytest.fixture(scope="module")
def spark(spark_session: Any) -> ModuleType:
    """The Spark engine module (the session started)."""
    from crmcore.engines import spark as spark_engine

    return spark_engine
