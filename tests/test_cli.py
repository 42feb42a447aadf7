import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crmcore.cli import main
from crmcore.storage.sqlite import SqliteStore


def _run(tmp_path: Path, *args: str) -> str:
    out = io.StringIO()
    assert main(["demo", "--db", str(tmp_path / "demo.db"), *args], out=out) == 0
    return out.getvalue()


def test_demo_stores_the_base_and_prints_consistent_figures(tmp_path: Path) -> None:
    text = _run(tmp_path, "--customers", "400", "--seed", "2")
    sections = (
        "Customers", "Top countries", "Sales", "Funnel (all seven stages", "Lifecycle as of",
        "Churn early warning", "RFM segments", "RFM table", "Value tiers",
        "Top customers by predicted 12-month CLV", "At risk:", "Segments (", "Journey map",
        "Data protection", "Outbox", "Timings",
    )  # fmt: skip
    for section in sections:
        assert f"\n{section}" in text
    customers = int(re.search(r"customers\s+([\d,]+)\n", text).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert customers == 400
    awareness = re.search(r"awareness\s+([\d,]+)", text)
    assert awareness is not None and int(awareness.group(1).replace(",", "")) == 400
    with SqliteStore(tmp_path / "demo.db") as store, store.unit_of_work() as uow:
        assert uow.customers.count() == 400
        orders = re.search(r"orders\s+([\d,]+)\n", text)
        assert orders is not None
        assert uow.purchases.count() == int(orders.group(1).replace(",", ""))
        erased = [c for c in uow.customers.list(limit=400).items if c.is_erased]
        assert len(erased) == 1 and erased[0].purchases.count > 0
        assert store.outbox.pending() == []  # the demo relayed every event
    inside = re.search(r"inside SQLite: ([\d,]+) members \(numpy: ([\d,]+)\)", text)
    assert inside is not None and inside.group(1) == inside.group(2)


def test_demo_replaces_an_existing_database_and_is_deterministic(tmp_path: Path) -> None:
    first = _run(tmp_path, "--customers", "150")
    second = _run(tmp_path, "--customers", "150")
    strip = re.compile(r"\nTimings.*", re.DOTALL)
    assert strip.sub("", first) == strip.sub("", second)


def test_bad_arguments_exit_with_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--customers", "0"])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        main(["no-such-command"])


def test_python_dash_m_runs_the_demo(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crmcore", "demo", "--customers", "50", "--db", "m.db"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "crmcore demo: 50 synthetic customers" in result.stdout
    assert (tmp_path / "m.db").exists()
