import csv
import io
import json
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
        "Sales: leads, scoring and the pipeline", "Marketing automation:",
        "Data protection", "Outbox", "Timings",
    )  # fmt: skip
    for section in sections:
        assert f"\n{section}" in text
    customers = int(re.search(r"customers\s+([\d,]+)\n", text).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert customers == 400
    awareness = re.search(r"awareness\s+([\d,]+)", text)
    assert awareness is not None and int(awareness.group(1).replace(",", "")) == 400
    with SqliteStore(tmp_path / "demo.db") as store, store.unit_of_work() as uow:
        everyone = uow.customers.list(limit=1000).items
        won = [c for c in everyone if c.id.startswith("c-lead-")]  # converted leads
        assert uow.customers.count() == 400 + len(won)
        orders = re.search(r"orders\s+([\d,]+)\n", text)
        assert orders is not None
        redeemed = re.search(r"win-back redemptions: (\d+)", text)  # orders paid with a coupon
        assert redeemed is not None
        assert uow.purchases.count() == int(orders.group(1).replace(",", "")) + int(redeemed[1])
        erased = [c for c in everyone if c.is_erased]
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


# -- your own files -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.analytics.retail_recipe import retail_file

    return retail_file(str(tmp_path_factory.mktemp("cli-retail")), customers=300, seed=5)


def _file(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


RETAIL_AS_OF = "2011-12-10T00:00:00+00:00"


def test_rfm_on_a_users_file_gives_the_recipes_numbers(retail: Path) -> None:
    pytest.importorskip("pandas")
    from datetime import UTC, datetime

    from tests.analytics.retail_recipe import OPTIONS, rfm

    code, out, _ = _file("rfm", str(retail), *OPTIONS, "--as-of", RETAIL_AS_OF, "--customers",
                         "--csv")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    ref = rfm(retail, datetime(2011, 12, 10, tzinfo=UTC))
    assert [r["customer_id"] for r in rows] == ref.index.tolist()
    assert [int(r["frequency"]) for r in rows] == ref["frequency"].tolist()
    codes = [f"{a}{b}{c}" for a, b, c in zip(ref["r"], ref["f"], ref["m"], strict=True)]
    assert [r["code"] for r in rows] == codes
    code, out, _ = _file("rfm", str(retail), *OPTIONS, "--as-of", RETAIL_AS_OF)
    assert code == 0 and "Champions" in out and "returns worth" in out and "guest" in out
    code, out, _ = _file("rfm", str(retail), *OPTIONS, "--json")
    report = json.loads(out)
    assert report["spend"] == "net" and report["data"]["returns"] > 0


def test_every_command_runs_on_the_export_with_no_glue(retail: Path) -> None:
    from tests.analytics.retail_recipe import OPTIONS

    for command in ("cohorts", "lifecycle", "segment"):
        args = [command] if command != "segment" else ["segment", "purchase_count >= 2"]
        code, out, err = _file(*args, str(retail), *OPTIONS, "--as-of", RETAIL_AS_OF)
        assert code == 0, err
        assert out.strip()
    code, out, _ = _file("cohorts", str(retail), *OPTIONS, "--json")
    assert json.loads(out)["cohorts"][0]["retention"][0] == 1.0
    code, out, _ = _file("lifecycle", str(retail), *OPTIONS, "--customers", "--csv")
    assert code == 0 and out.startswith("customer_id,state,risk,purchases")
    code, out, _ = _file("segment", "total_spent > 0", str(retail), *OPTIONS, "--csv")
    members = out.splitlines()[1:]
    code, all_out, _ = _file("rfm", str(retail), *OPTIONS, "--customers", "--csv")
    buyers = [r for r in csv.DictReader(io.StringIO(all_out)) if float(r["monetary"]) > 0]
    assert sorted(members) == sorted(r["customer_id"] for r in buyers)


def test_clv_on_the_export_names_its_horizon_and_models(retail: Path) -> None:
    pytest.importorskip("scipy")
    from tests.analytics.retail_recipe import OPTIONS

    code, out, err = _file("clv", str(retail), *OPTIONS, "--as-of", RETAIL_AS_OF, "--limit", "5")
    assert code == 0, err
    assert "12 months of 4.345 weeks (52.14 weeks = 365 days" in out and "BG/NBD (W): r=" in out
    code, out, err = _file("clv", str(retail), *OPTIONS, "--month", "calendar", "--json")
    report = json.loads(out)
    assert report["horizon"].startswith("12 calendar months after")
    assert set(report["purchase_model"]) == {"r", "alpha", "a", "b"}


def test_funnel_on_an_events_file(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,timestamp,event,page\n"
        "u1,2024-01-01 10:00,visit,/\nu1,2024-01-01 10:05,signup,/join\n"
        "u2,2024-01-02 09:00,visit,/\n,2024-01-02 09:30,visit,/\n"
    )
    args = ["funnel", str(path), "--customer", "user_id", "--at", "timestamp", "--kind", "event",
            "--steps", "visit,signup", "--tz", "UTC"]  # fmt: skip
    code, out, err = _file(*args)
    assert code == 0, err
    assert "1 rows without a customer id" in out
    code, out, _ = _file(*args, "--json")
    assert [s["customers"] for s in json.loads(out)["steps"]] == [2, 1]


def test_file_errors_say_what_to_do(retail: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _file("rfm", str(retail), "--customer", "CustomerID", "--at", "InvoiceDate",
                         "--order", "InvoiceNo", "--quantity", "Quantity", "--unit-price",
                         "UnitPrice")  # fmt: skip
    assert code == 1 and "--tz" in err and "naive" in err
    code, _, err = _file("rfm", str(retail), "--tz", "UTC")
    assert code == 1 and "columns=" in err
    with pytest.raises(SystemExit):
        main(["rfm", str(retail), "--csv", "--json"])
    help_text = subprocess.run(
        [sys.executable, "-m", "crmcore", "clv", "--help"], capture_output=True, text=True,
        timeout=120, check=True,
    ).stdout  # fmt: skip
    assert "examples:" in help_text and "--unit-price" in help_text


def test_the_guide_command_runs_as_a_subprocess(retail: Path) -> None:
    from tests.analytics.retail_recipe import OPTIONS

    result = subprocess.run(
        [sys.executable, "-m", "crmcore", "rfm", str(retail), *OPTIONS],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Champions" in result.stdout
    assert result.stderr == ""  # no progress bar when not on a terminal
