"""Cohort matrices: a plain-Python reference, pandas, definitions, reports, bad input."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics.cohorts import cohort_matrix, period_index
from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import NotFoundError, ValidationError

AS_OF = datetime(2026, 3, 10, 12, tzinfo=UTC)
Record = tuple[str, datetime, float]


def pidx(at: datetime, period: str) -> int:
    if period == "week":
        return (at.date() - date(1969, 12, 29)).days // 7
    return (at.year - 1970) * 12 + at.month - 1


def reference(records: list[Record], as_of: datetime, period: str) -> dict[str, Any]:
    """Customer by customer, row by row: the definitions in the module docstring."""
    kept = [r for r in records if r[1] <= as_of]
    first: dict[str, datetime] = {}
    for customer, at, _ in kept:
        first[customer] = min(first.get(customer, at), at)
    low = min(pidx(t, period) for t in first.values())
    cohorts = pidx(as_of, period) - low + 1
    active: set[tuple[str, int, int]] = set()
    revenue: dict[tuple[int, int], float] = defaultdict(float)
    for customer, at, amount in kept:
        c = pidx(first[customer], period) - low
        k = pidx(at, period) - pidx(first[customer], period)
        active.add((customer, c, k))
        revenue[c, k] += amount
    counts = np.zeros((cohorts, cohorts), dtype=int)
    for _, c, k in active:
        counts[c, k] += 1
    money = np.zeros((cohorts, cohorts))
    for (c, k), v in revenue.items():
        money[c, k] = v
    return {"active": counts, "revenue": money}


records_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        st.integers(0, 400 * 24).map(lambda h: AS_OF - timedelta(hours=h - 24 * 20)),
        st.integers(1, 50).map(float),
    ),
    min_size=1,
    max_size=40,
)


def make_log(records: list[Record]) -> TransactionLog:
    return TransactionLog.from_records(
        {"customer_id": c, "at": at, "amount": amount} for c, at, amount in records
    )


@given(records=records_strategy, period=st.sampled_from(["month", "week"]))
@settings(max_examples=80, deadline=None)
def test_matrix_equals_the_python_reference(records: list[Record], period: str) -> None:
    if all(at > AS_OF for _, at, _ in records):
        with pytest.raises(ValidationError):
            cohort_matrix(make_log(records), AS_OF, period=period)  # type: ignore[arg-type]
        return
    cm = cohort_matrix(make_log(records), AS_OF, period=period)  # type: ignore[arg-type]
    ref = reference(records, AS_OF, period)
    assert cm.active.tolist() == ref["active"].tolist()
    np.testing.assert_allclose(cm.revenue, ref["revenue"])
    assert cm.sizes.tolist() == cm.active[:, 0].tolist()
    assert not cm.active[~cm.observed].any()  # nothing is counted in an unobserved cell
    rates = cm.retention()
    assert np.isnan(rates[~cm.observed]).all()
    ok = cm.observed & (cm.sizes[:, None] > 0)
    assert ((rates[ok] >= 0) & (rates[ok] <= 1)).all()
    assert (rates[ok & (np.arange(cm.shape[1]) == 0)] == 1).all()


def test_matches_pandas_on_a_random_log() -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    n = 3000
    ids = np.array([f"c{i}" for i in rng.integers(0, 400, n)])
    at = np.datetime64("2024-01-01", "us") + rng.integers(0, 800, n).astype("timedelta64[D]")
    amount = rng.integers(1, 100, n).astype(float)
    log = TransactionLog.from_records(
        {"customer_id": str(c), "at": t.item().replace(tzinfo=UTC), "amount": float(a)}
        for c, t, a in zip(ids, at, amount, strict=True)
    )
    as_of = datetime(2026, 2, 1, tzinfo=UTC)
    cm = cohort_matrix(log, as_of)
    df = pd.DataFrame({"c": ids, "at": at, "amount": amount})
    df = df[df["at"] <= np.datetime64("2026-02-01")]
    df["p"] = df["at"].dt.to_period("M")
    df["cohort"] = df.groupby("c")["p"].transform("min")
    df["k"] = (df["p"] - df["cohort"]).apply(lambda x: x.n)
    table = df.groupby(["cohort", "k"])["c"].nunique().unstack(fill_value=0)
    assert cm.labels[0] == str(table.index[0])
    for label, row in table.iterrows():
        c = cm.row(str(label))
        for k, count in row.items():
            assert cm.active[c, int(k)] == count


def test_definitions_on_a_small_example() -> None:
    def at(month: int, day: int = 15) -> datetime:
        return datetime(2026, month, day, tzinfo=UTC)

    log = make_log(
        [
            ("a", at(1), 10.0),
            ("a", at(1, 20), 5.0),  # twice in January: counted once
            ("a", at(3), 7.0),  # skips February, back in March: counts again
            ("b", at(1), 20.0),
            ("b", at(2), 4.0),
            ("c", at(2), 8.0),
            ("d", at(4), 1.0),  # after as_of: ignored
        ]
    )
    cm = cohort_matrix(log, datetime(2026, 3, 31, tzinfo=UTC))
    assert cm.labels == ("2026-01", "2026-02", "2026-03")
    assert cm.starts[1] == date(2026, 2, 1)
    assert cm.active.tolist() == [[2, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert cm.revenue.tolist() == [[35.0, 4.0, 7.0], [8.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert cm.observed.tolist() == [[True] * 3, [True, True, False], [True, False, False]]
    rates = cm.retention()
    assert rates[0].tolist() == [1.0, 0.5, 0.5]
    assert np.isnan(rates[2]).all()  # empty cohort: undefined, not zero
    assert cm.churn()[0].tolist() == [0.0, 0.5, 0.5]
    assert cm.retention_curve() == [1.0, 1 / 3, 0.5]
    assert cm.revenue_per_customer()[0].tolist() == [17.5, 2.0, 3.5]
    assert cm.cumulative_revenue_per_customer()[0].tolist() == [17.5, 19.5, 23.0]
    assert cm.cohort_revenue().tolist() == [46.0, 8.0, 0.0]
    data = json.loads(json.dumps(cm.to_dict()))
    assert data["cohorts"][1]["retention"] == [1.0, 0.0, None]
    assert data["cohorts"][1]["active"] == [1, 0, None]
    assert data["cohorts"][2]["retention"] == [None, None, None]
    assert data["customers"] == 3
    html = cm._repr_html_()
    assert "rgba(76,120,168" in html and "2026-02" in html and "nan" not in html
    with pytest.raises(NotFoundError):
        cm.row("2025-12")
    capped = cohort_matrix(log, datetime(2026, 3, 31, tzinfo=UTC), max_periods=2)
    assert capped.active.tolist() == [[2, 1], [1, 0], [0, 0]]
    assert capped.revenue[0].tolist() == [35.0, 4.0]


def test_weeks_are_iso_weeks_starting_monday() -> None:
    log = make_log(
        [
            ("a", datetime(2025, 12, 28, 23, tzinfo=UTC), 1.0),  # Sunday: ISO 2025-W52
            ("b", datetime(2025, 12, 29, 0, tzinfo=UTC), 1.0),  # Monday: ISO 2026-W01
            ("a", datetime(2026, 1, 4, tzinfo=UTC), 1.0),  # Sunday of 2026-W01
        ]
    )
    cm = cohort_matrix(log, datetime(2026, 1, 5, tzinfo=UTC), period="week")
    assert cm.labels == ("2025-W52", "2026-W01", "2026-W02")
    assert cm.starts[1] == date(2025, 12, 29)
    assert cm.active.tolist() == [[1, 1, 0], [1, 0, 0], [0, 0, 0]]
    t = np.array([0, 4 * 86_400_000_000 - 1, 4 * 86_400_000_000, -1], dtype=np.int64)
    assert period_index(t, "week").tolist() == [0, 0, 1, 0]
    assert period_index(t, "month").tolist() == [0, 0, 0, -1]


def test_big_heatmap_shows_the_latest_cohorts() -> None:
    records = [(f"c{i}", AS_OF - timedelta(days=7 * i), 1.0) for i in range(60)]
    cm = cohort_matrix(make_log(records), AS_OF, period="week")
    assert cm.shape == (60, 60)
    html = cm._repr_html_()
    assert "last 36 of 60 cohorts" in html


def test_bad_input() -> None:
    log = make_log([("a", AS_OF, 1.0)])
    with pytest.raises(ValidationError):
        cohort_matrix(log, AS_OF, period="day")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        cohort_matrix(log, AS_OF, max_periods=0)
    with pytest.raises(ValidationError, match="period: must be one of 'month', 'week'"):
        cohort_matrix(log, AS_OF, period=np.array(["month"]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"as_of: .* cells"):  # 95,000 x 95,000 months
        cohort_matrix(log, datetime(9999, 12, 31, tzinfo=UTC))
    matrix = cohort_matrix(log, AS_OF)
    with pytest.raises(ValidationError, match="label: must be a cohort label"):
        matrix.row(np.array(["2026-01"]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="micros: must be a 1-D integer array"):
        period_index(np.array([1.5]), "month")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="micros: must be times from year 1 to 9999"):
        period_index(np.array([2**62], dtype=np.int64), "week")
    with pytest.raises(ValidationError):
        cohort_matrix(log, datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="no purchase"):
        cohort_matrix(log, AS_OF - timedelta(days=1))
    with pytest.raises(ValidationError):
        cohort_matrix([("a", AS_OF, 1.0)], AS_OF)
