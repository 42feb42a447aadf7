"""The engines are optional: importing them loads no engine, a missing one is a clear error."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import sys
import crmcore, crmcore.engines, crmcore.engines.duckdb, crmcore.engines.spark
import crmcore.columnar.arrow
print(sorted({m.split('.')[0] for m in sys.modules}))
"""


def test_importing_the_engines_loads_none_of_them() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    loaded = set(eval(out.stdout))  # a printed list of module names
    assert not loaded & {"duckdb", "pyspark", "pyarrow", "pandas", "scipy"}


@pytest.mark.parametrize(
    ("blocked", "call", "extra"),
    [
        ("duckdb", "crmcore.engines.duckdb.rfm_scores(log, t)", "duckdb"),
        ("pyspark", "crmcore.engines.spark.rfm_scores(log, t)", "spark"),
        ("pyarrow", "crmcore.columnar.arrow.to_arrow(log)", "arrow"),
    ],
)
def test_a_missing_extra_names_itself(blocked: str, call: str, extra: str) -> None:
    code = f"""
import sys
sys.modules[{blocked!r}] = None  # as if not installed
from datetime import UTC, datetime
import crmcore.engines.duckdb, crmcore.engines.spark, crmcore.columnar.arrow
from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import MissingDependencyError
t = datetime(2026, 1, 1, tzinfo=UTC)
log = TransactionLog.from_records([{{"customer_id": "a", "at": t, "amount": 1.0}}])
try:
    {call}
except MissingDependencyError as error:
    print(error.extra)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == extra
