"""Funnels inside DuckDB and Spark equal the numpy engine: both countings, every mode, exclusions.

Random event logs (ties in time, repeated steps, kinds and stages, rows in
random order) x random funnels: every customer's outcome (steps reached,
excluded, the chosen attempt's start and the instant of each step) and every
number of the report must agree; times to convert within 1e-9.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import EventLog
from crmcore.engines import duckdb as duck
from crmcore.funnel import FunnelReport, Stage
from crmcore.funnel.analytics import Exclusion, funnel_customers, funnel_report
from crmcore.kernel.errors import CrmError, ValidationError
from tests.funnel.test_analytics_agreement import Row, event_rows, funnels, to_log

COUNTINGS = st.sampled_from(["trials", "max_step"])
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Outcome = tuple[int, bool, int, tuple[int, ...]]


def _numpy_outcomes(log: EventLog, f: dict[str, object], counting: str) -> dict[str, Outcome]:
    who = funnel_customers(log, **f, counting=counting, allow_unseen_kinds=True)  # type: ignore[arg-type]
    out = {}
    for i, customer in enumerate(who.customer_ids.tolist()):
        reached = int(who.reached[i])
        times = tuple(int(v) for v in who.step_at[i, 1:reached].astype(np.int64).tolist())
        entry = int(who.entered_at[i].astype(np.int64))
        out[customer] = (reached, bool(who.excluded[i]), entry, times)
    return out


def _engine_outcomes(
    engine: ModuleType, log: EventLog, f: dict[str, object], counting: str
) -> dict[str, Outcome]:
    lazy = "funnel_relation" if engine is duck else "funnel_dataframe"
    relation = getattr(engine, lazy)(log, **f, counting=counting, allow_unseen_kinds=True)
    table = relation.to_arrow_table() if engine is duck else relation.toArrow()
    steps = len(f["steps"])  # type: ignore[arg-type]
    out = {}
    for row in table.to_pylist():
        reached = int(row["reached"])
        times = tuple(int(row[f"t{k}"]) for k in range(1, max(reached, 1)))
        for k in range(max(reached, 1), steps):
            assert row[f"t{k}"] is None
        out[row["customer_id"]] = (reached, bool(row["excluded"]), int(row["t0"]), times)
    return out


def _same_report(a: FunnelReport, b: FunnelReport) -> None:
    assert (a.counts, a.customers, a.excluded, a.counting, a.mode, a.window) == (
        b.counts, b.customers, b.excluded, b.counting, b.mode, b.window,
    )  # fmt: skip
    for x, y in zip(a.steps, b.steps, strict=True):
        assert (x.number, x.label, x.customers, x.conversion, x.overall, x.dropped) == (
            y.number, y.label, y.customers, y.conversion, y.overall, y.dropped,
        )  # fmt: skip
        if x.time is None or y.time is None:
            assert x.time == y.time
            continue
        assert x.time.count == y.time.count
        for stat in ("mean", "median", "p25", "p75", "p90"):
            want, got = getattr(x.time, stat), getattr(y.time, stat)
            assert (want is None) == (got is None), stat
            if want is not None:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), stat


def _check(engine: ModuleType, rows: list[Row], f: dict[str, object], counting: str) -> None:
    log = to_log(rows)
    if not len(log):
        return
    try:
        expected = funnel_report(log, **f, counting=counting, allow_unseen_kinds=True)  # type: ignore[arg-type]
    except CrmError as error:
        with pytest.raises(type(error)):
            engine.funnel_report(log, **f, counting=counting, allow_unseen_kinds=True)
        return
    assert _engine_outcomes(engine, log, f, counting) == _numpy_outcomes(log, f, counting)
    _same_report(expected, engine.funnel_report(log, **f, counting=counting,
                                                allow_unseen_kinds=True))  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_rows(), funnels(), COUNTINGS)
def test_duckdb_equals_numpy(rows: list[Row], f: dict[str, object], counting: str) -> None:
    _check(duck, rows, f, counting)


@st.composite
def many_logs(draw: st.DrawFn) -> list[Row]:
    """Several random logs at once, customers renamed apart (customers are independent)."""
    logs = draw(st.lists(event_rows(max_rows=30), min_size=1, max_size=12))
    return [(f"l{i}-{c}", k, s, t) for i, rows in enumerate(logs) for c, k, s, t in rows]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(many_logs(), funnels(), COUNTINGS)
def test_spark_equals_numpy(
    spark: ModuleType, rows: list[Row], f: dict[str, object], counting: str
) -> None:
    _check(spark, rows, f, counting)


def test_long_chains_of_trials_are_followed_to_the_end(engine: ModuleType) -> None:
    """A customer with 40 trials in a row: the pointer doubling needs 6 rounds."""
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    rows: list[Row] = []
    for i in range(40):
        rows.append(("a", "visit", None, t0 + timedelta(hours=3 * i)))
        if i % 7 == 6:
            rows.append(("a", "buy", None, t0 + timedelta(hours=3 * i + 1)))
    rows += [("b", "visit", None, t0), ("b", "buy", None, t0 + timedelta(days=9))]
    f = {"steps": ["visit", "buy"], "window": timedelta(hours=2), "mode": "ordered",
         "exclusions": [Exclusion("x", after=1)]}  # fmt: skip
    rows.append(("a", "x", None, t0 + timedelta(hours=3 * 20 + 0.5)))
    for counting in ("trials", "max_step") if engine is duck else ("trials",):
        _check(engine, rows, f, counting)


def test_a_second_start_inside_the_first_window_is_no_trial(engine: ModuleType) -> None:
    """Two attempts closer than a window: the chain is one trial long, only the first counts."""
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    rows: list[Row] = [("c", "B", None, t0 + timedelta(minutes=m)) for m in (10, 20)]
    rows.append(("c", "A", None, t0 + timedelta(minutes=60)))
    f = {"steps": ["B", "A"], "window": timedelta(minutes=40), "mode": "ordered",
         "exclusions": []}  # fmt: skip
    _check(engine, rows, f, "trials")
    assert engine.funnel_report(to_log(rows), ["B", "A"], window=f["window"]).counts == (1, 0)


def test_stages_and_kinds_match_as_in_numpy(engine: ModuleType) -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    rows: list[Row] = [
        ("a", "ad_click", Stage.AWARENESS, t0),
        ("a", "demo", Stage.CONSIDERATION, t0 + timedelta(days=1)),
        ("b", "demo", None, t0),
    ]
    f = {"steps": [Stage.AWARENESS, "demo"], "window": None, "mode": "ordered", "exclusions": []}
    _check(engine, rows, f, "trials")


def test_a_typo_in_a_step_is_named_by_every_engine(engine: ModuleType) -> None:
    log = to_log([("a", "visit", None, datetime(2026, 1, 5, tzinfo=UTC))])
    with pytest.raises(ValidationError) as caught:
        engine.funnel_report(log, ["visit", "sigunp"])
    assert caught.value.field == "steps[1]"
    assert engine.funnel_report(log, ["visit", "sigunp"], allow_unseen_kinds=True).counts == (1, 0)


def test_hostile_kinds_are_data_not_sql(engine: ModuleType) -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    hostile = ["x'); DROP TABLE t; --", 'a"b', "`c`", "\\", "%_", "日本"]
    rows: list[Row] = [
        ("u", kind, None, t0 + timedelta(minutes=i)) for i, kind in enumerate(hostile)
    ]
    report = engine.funnel_report(to_log(rows), hostile, window=None)
    assert report.counts == (1,) * len(hostile)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(many_logs(), funnels(), COUNTINGS)
def test_duckdb_batches_of_customers_change_nothing(
    rows: list[Row], f: dict[str, object], counting: str
) -> None:
    """Large logs run in batches of customers (by a hash of the id): the same outcomes."""
    from unittest import mock

    from crmcore.engines import _duckdb_runner

    with mock.patch.object(_duckdb_runner, "BATCH_ROWS", 7):
        _check(duck, rows, f, counting)
