"""Customer KPIs and historical CLV: definitions, a Python reference, reports, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics.kpis import customer_kpis, historical_clv, unit_totals
from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import CurrencyMismatchError, NotFoundError, ValidationError

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
DAY = timedelta(days=1)
Record = tuple[str, datetime, float]


def make_log(records: list[Record]) -> TransactionLog:
    return TransactionLog.from_records(
        {"customer_id": c, "at": at, "amount": amount} for c, at, amount in records
    )


records_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.integers(-10, 250).map(lambda d: AS_OF - d * DAY),
        st.integers(0, 100).map(float),
    ),
    max_size=40,
)


@given(records=records_strategy, window=st.integers(1, 120))
@settings(max_examples=80, deadline=None)
def test_kpis_equal_the_python_reference(records: list[Record], window: int) -> None:
    k = customer_kpis(make_log(records), AS_OF, window_days=window, margin=0.4)
    kept = [r for r in records if r[1] <= AS_OF]
    counts: dict[str, int] = {}
    spend: dict[str, float] = {}
    first: dict[str, datetime] = {}
    for c, at, amount in kept:
        counts[c] = counts.get(c, 0) + 1
        spend[c] = spend.get(c, 0.0) + amount
        first[c] = min(first.get(c, at), at)
    w = window * DAY
    current = {c for c, at, _ in kept if at > AS_OF - w}
    previous = {c for c, at, _ in kept if AS_OF - 2 * w < at <= AS_OF - w}
    assert k.customers == len(counts)
    assert k.orders == len(kept)
    assert k.revenue == pytest.approx(sum(spend.values()))
    assert k.active_current == len(current) and k.active_previous == len(previous)
    assert k.retained == len(current & previous)
    assert k.new_customers == sum(1 for t in first.values() if t > AS_OF - w)
    if not kept:
        assert k.average_order_value is None and k.purchase_frequency is None
        assert k.repeat_purchase_rate is None and k.historical_clv_mean is None
    else:
        assert k.average_order_value == pytest.approx(sum(spend.values()) / len(kept))
        assert k.purchase_frequency == pytest.approx(len(kept) / len(counts))
        repeat = sum(1 for n in counts.values() if n >= 2) / len(counts)
        assert k.repeat_purchase_rate == pytest.approx(repeat)
        assert k.historical_clv_mean == pytest.approx(0.4 * sum(spend.values()) / len(counts))
        # mean historical CLV = AOV x frequency x margin
        assert k.historical_clv_mean == pytest.approx(
            k.average_order_value * k.purchase_frequency * 0.4  # type: ignore[operator]
        )
    if previous:
        assert k.retention_rate == pytest.approx(len(current & previous) / len(previous))
        assert k.churn_rate == pytest.approx(1 - k.retention_rate)  # type: ignore[operator]
    else:
        assert k.retention_rate is None and k.churn_rate is None
    json.dumps(k.to_dict())


def test_example_report() -> None:
    log = make_log(
        [
            ("a", AS_OF - 100 * DAY, 30.0),
            ("a", AS_OF - 10 * DAY, 10.0),
            ("b", AS_OF - 120 * DAY, 20.0),
            ("c", AS_OF - 5 * DAY, 40.0),
        ]
    )
    k = customer_kpis(log, AS_OF)
    assert (k.customers, k.orders, k.revenue) == (3, 4, 100.0)
    assert k.average_order_value == 25.0
    assert k.repeat_purchase_rate == pytest.approx(1 / 3)
    assert (k.active_previous, k.active_current, k.retained) == (2, 2, 1)
    assert (k.retention_rate, k.churn_rate) == (0.5, 0.5)
    assert k.new_customers == 1
    data = k.to_dict()
    assert data["as_of"] == AS_OF.isoformat() and data["churn_rate"] == 0.5
    html = k._repr_html_()
    assert "90-day churn rate" in html and "50.0%" in html


def test_historical_clv() -> None:
    log = make_log(
        [
            ("a", AS_OF - DAY, 30.0),
            ("a", AS_OF - DAY, 10.0),
            ("b", AS_OF - DAY, 20.0),
            ("later", AS_OF + DAY, 5.0),
        ]
    )
    clv = historical_clv(log, AS_OF, margin=0.25)
    assert clv.customer_ids.tolist() == ["a", "b"]
    assert clv.values.tolist() == [10.0, 5.0]
    assert clv.purchases.tolist() == [2, 1]
    assert clv.value_of("a") == 10.0
    with pytest.raises(NotFoundError):
        clv.value_of("later")
    data = json.loads(json.dumps(clv.to_dict()))
    assert data["total"] == 15.0 and data["top_10pct_share"] == pytest.approx(10 / 15)
    assert "Historical CLV" in clv._repr_html_()
    empty = historical_clv(make_log([]), AS_OF)
    assert len(empty) == 0 and empty.to_dict()["mean"] is None
    assert not clv.values.flags.writeable


def test_bad_input() -> None:
    log = make_log([("a", AS_OF, 1.0)])
    for kwargs in ({"window_days": 0}, {"window_days": 1.5}, {"margin": 0}, {"margin": 1.5}):
        with pytest.raises(ValidationError):
            customer_kpis(log, AS_OF, **kwargs)
    with pytest.raises(ValidationError):
        historical_clv(log, AS_OF, margin=True)
    with pytest.raises(ValidationError):
        customer_kpis(log, datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="row 1"):
        customer_kpis(make_log([("a", AS_OF, 1.0), ("b", AS_OF, float("inf"))]), AS_OF)
    mixed = TransactionLog.from_records(
        [
            {"customer_id": "a", "at": AS_OF, "amount": 1.0, "currency": "EUR"},
            {"customer_id": "b", "at": AS_OF, "amount": 1.0, "currency": "USD"},
        ]
    )
    with pytest.raises(CurrencyMismatchError):
        customer_kpis(mixed, AS_OF)


# -- exact sums ------------------------------------------------------------------------------


@given(
    rows=st.lists(
        st.tuples(st.integers(0, 4), st.integers(-(2**52) + 1, 2**52 - 1)), min_size=1, max_size=60
    ),
    scale=st.sampled_from([1, 2**20, 2**40]),
)
@settings(max_examples=150, deadline=None)
def test_unit_totals_are_exact_in_any_order(rows: list[tuple[int, int]], scale: int) -> None:
    """Large units of both signs: the partial sums pass 2**53, the totals are still exact."""
    keys = np.array([k for k, _ in rows], dtype=np.int64)
    units = np.array([float(u // scale) for _, u in rows])
    expected = [
        sum(int(u) for k, u in zip(keys, units, strict=True) if k == key) for key in range(5)
    ]
    if max(abs(e) for e in expected) >= 2**53:
        with pytest.raises(ValidationError, match="2\\*\\*53"):
            unit_totals(keys, units, 5)
        return
    got = unit_totals(keys, units, 5)
    assert [int(v) for v in got] == expected
    order = np.random.default_rng(len(rows)).permutation(len(rows))
    assert np.array_equal(unit_totals(keys[order], units[order], 5), got)


def test_the_split_sum_is_used_past_2_52() -> None:
    keys = np.array([0, 0, 1, 0], dtype=np.int64)
    units = np.array([2.0**52, 1.0, 3.0, -(2.0**52)])  # a float accumulator would lose the 1
    assert unit_totals(keys, units, 2).tolist() == [1.0, 3.0]
    assert unit_totals(keys[:0], units[:0], 2).dtype == np.float64
    with pytest.raises(ValidationError, match="2\\*\\*53"):
        unit_totals(np.array([0]), np.array([2.0**53]), 1)
