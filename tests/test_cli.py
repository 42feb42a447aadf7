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
        "Top customers by predicted 12-month CLV", "At risk:", "Segments (", "Feedback loop:",
        "Top themes by NPS drag", "Loyalty: Club points", "Journey map",
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


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    assert (
        main(["demo", "--db", str(path), "--customers", "300", "--seed", "5"], io.StringIO()) == 0
    )
    return path


AS_OF = "2026-10-31T00:00:00+00:00"


def test_segment_runs_a_rule_inside_the_database(demo_db: Path) -> None:
    out = io.StringIO()
    rule = "count(purchases in last 365 days) >= 1 and consent_email"
    assert main(["segment", rule, "--db", str(demo_db), "--as-of", AS_OF, "--limit", "2"], out) == 0
    count = int(out.getvalue().split()[0].replace(",", ""))
    with SqliteStore(demo_db) as store:
        from crmcore.kernel.clock import parse_datetime
        from crmcore.segments import parse_rule

        expected = store.segment_members(parse_rule(rule), parse_datetime(AS_OF))
    assert count == len(expected) > 2
    assert out.getvalue().splitlines()[1].strip() == expected[0]
    assert "more" in out.getvalue()


def test_segment_prints_sql_with_parameters_not_literals(demo_db: Path) -> None:
    out = io.StringIO()
    args = ["segment", 'name = "x\'; DROP TABLE customers; --"', "--db", str(demo_db)]
    assert main([*args, "--sql", "postgresql"], out) == 0
    sql, params = out.getvalue().split("\n-- parameters: ")
    assert "DROP" not in sql and "%s" in sql
    assert "DROP TABLE customers" in params


def test_segment_errors_point_at_the_rule_text(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["segment", 'countri = "CN"', "--db", str(demo_db)], io.StringIO()) == 1
    error = capsys.readouterr().err
    assert "line 1, column 1: unknown field 'countri'; did you mean 'country'?" in error
    assert error.rstrip().endswith("^")
    assert main(["rfm", "--db", str(demo_db.parent / "missing.db")], io.StringIO()) == 1
    assert "not found" in capsys.readouterr().err


def test_rfm_prints_the_segments_of_the_stored_purchases(demo_db: Path) -> None:
    out = io.StringIO()
    assert main(["rfm", "--db", str(demo_db), "--as-of", AS_OF], out) == 0
    rows = out.getvalue().splitlines()[2:]
    assert rows and sum(int(r.split()[-3].replace(",", "")) for r in rows) > 0
    assert any(r.lstrip().startswith("Champions") for r in rows)


@pytest.mark.parametrize("customers", ["1", "2", "5"])
def test_the_demo_copes_with_a_tiny_customer_base(tmp_path: Path, customers: str) -> None:
    text = _run(tmp_path, "--customers", customers, "--seed", "3")
    assert "\nTimings" in text  # every section ran (or said why it had nothing to show)


def test_without_the_models_extra_the_demo_skips_clv_and_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("scipy", "scipy.optimize", "scipy.special"):
        monkeypatch.setitem(sys.modules, name, None)  # importing them now fails
    text = _run(tmp_path, "--customers", "200", "--seed", "4")
    assert "Predicted CLV\n=============\n  skipped:" in text
    assert "pip install 'crmcore[models]'" in text
    assert "\nAt risk:" in text  # the churn score still runs, without P(alive)
