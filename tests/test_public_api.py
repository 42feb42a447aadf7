"""The public surface: every exported name resolves and is documented; any import order works."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import crmcore

# Modules a user may import first; each must import on its own in a fresh interpreter
# (catches import cycles that only show for one particular first import).
FIRST_IMPORTS = [
    "crmcore",
    "crmcore.kernel.stage",
    "crmcore.kernel.machine",
    "crmcore.kernel.codec",
    "crmcore.columnar",
    "crmcore.customers",
    "crmcore.customers.records",
    "crmcore.funnel",
    "crmcore.funnel.analytics",
    "crmcore.lifecycle",
    "crmcore.lifecycle.transitions_batch",
    "crmcore.journey",
    "crmcore.journey.journey_map",
    "crmcore.storage.sqlite",
    "crmcore.storage.sqlite.store",
    "crmcore.services",
    "crmcore.testing.contract",
    "crmcore.analytics",
    "crmcore.analytics.bgnbd",
    "crmcore.loyalty",
    "crmcore.loyalty.tiers",
    "crmcore.loyalty.tiers_batch",
    "crmcore.loyalty.ledger_batch",
    "crmcore.loyalty.posting_batch",
    "crmcore.segments",
    "crmcore.segments.parser",
    "crmcore.segments.typecheck",
    "crmcore.segments.grammar",
    "crmcore.feedback",
    "crmcore.feedback.case_metrics",
    "crmcore.feedback.case_machine",
    "crmcore.feedback.events",
    "crmcore.datasets",
    "crmcore.datasets.cdnow",
    "crmcore.columnar.occasions",
    "crmcore.sales",
    "crmcore.sales.leads",
    "crmcore.sales.pipeline",
    "crmcore.marketing",
    "crmcore.marketing.engine",
    "crmcore.marketing.workflows",
    "crmcore.sales_ports",
    "crmcore.marketing_ports",
    "crmcore.services.sales",
    "crmcore.services.marketing",
    "crmcore.storage.postgres",
    "crmcore.engines",
    "crmcore.plotting",
    "crmcore.cli",
    "crmcore.demo",
]


def test_every_exported_name_resolves_and_is_documented() -> None:
    assert len(crmcore.__all__) == len(set(crmcore.__all__))
    undocumented = []
    for name in crmcore.__all__:
        value = getattr(crmcore, name)
        if (inspect.isclass(value) or inspect.isfunction(value)) and not inspect.getdoc(value):
            undocumented.append(name)
    assert undocumented == []


def test_no_runtime_dependency_beyond_the_declared_ones() -> None:
    code = (
        "import sys, crmcore, crmcore.storage.sqlite, crmcore.funnel, crmcore.lifecycle, "
        "crmcore.sales, crmcore.marketing, crmcore.storage.postgres, crmcore.engines, "
        "crmcore.plotting, crmcore.datasets; "
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(eval(out.stdout))  # a printed list of module names
    optional = {"pandas", "scipy", "hypothesis", "pytest", "duckdb", "pyarrow", "pyspark"}
    assert not loaded & (optional | {"psycopg", "psycopg_pool", "matplotlib"})


@pytest.mark.parametrize("module", FIRST_IMPORTS)
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_all_is_grouped_by_area_and_sorted_within_groups() -> None:
    source = inspect.getsource(crmcore)
    body = source[source.index("__all__ = [") : source.index("]\n", source.index("__all__ = ["))]
    groups: list[list[str]] = []
    for line in body.splitlines()[1:]:
        line = line.strip()
        if line.startswith("#"):
            groups.append([])
        elif line:
            groups[-1].append(line.strip('",'))
    assert len(groups) >= 10
    for names in groups:
        assert names == sorted(names, key=lambda n: (n.lower().lstrip("_"), n))
    assert [n for names in groups for n in names] == list(crmcore.__all__)
