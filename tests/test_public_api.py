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
    "crmcore.columnar",
    "crmcore.customers",
    "crmcore.customers.records",
    "crmcore.funnel",
    "crmcore.funnel.analytics",
    "crmcore.lifecycle",
    "crmcore.journey",
    "crmcore.storage.sqlite",
    "crmcore.services",
    "crmcore.testing.contract",
    "crmcore.analytics",
    "crmcore.analytics.bgnbd",
    "crmcore.loyalty",
    "crmcore.loyalty.tiers",
    "crmcore.segments",
    "crmcore.segments.parser",
    "crmcore.feedback",
    "crmcore.feedback.case_metrics",
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
        "import sys, crmcore, crmcore.storage.sqlite, crmcore.funnel, crmcore.lifecycle; "
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(eval(out.stdout))  # a printed list of module names
    assert not loaded & {"pandas", "scipy", "hypothesis", "pytest", "duckdb"}


@pytest.mark.parametrize("module", FIRST_IMPORTS)
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
