"""The BTYD summary: the CDNOW published calibration summary, definitions, holdout, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics.btyd import BtydSummary, summary_from_transactions
from crmcore.columnar import TransactionLog
from crmcore.datasets import (
    CDNOW_CALIBRATION_END,
    CDNOW_HOLDOUT_END,
    load_cdnow,
    load_cdnow_summary,
)
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError

CALIBRATION_END = CDNOW_CALIBRATION_END
HOLDOUT_END = CDNOW_HOLDOUT_END


def cdnow_log() -> TransactionLog:
    """The CDNOW sample as a TransactionLog (customer id = sample id, dates at 00:00 UTC)."""
    return load_cdnow()


@cache
def cdnow_summary() -> BtydSummary:
    """The 39-week calibration summary (days aggregated, times in weeks) with holdout."""
    return summary_from_transactions(
        cdnow_log(), CALIBRATION_END, "D", time_unit="W", holdout_end=HOLDOUT_END
    )


def published_summary() -> BtydSummary:
    """The summary as published (x, t_x, T, zbar), in sample-id order."""
    return load_cdnow_summary()


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 1, 1, hour, tzinfo=UTC) + timedelta(days=day)


def make_log(rows: list[tuple[str, datetime, float]]) -> TransactionLog:
    return TransactionLog.from_records({"customer_id": c, "at": t, "amount": a} for c, t, a in rows)


# -- CDNOW -------------------------------------------------------------------------------


def test_cdnow_summary_matches_the_published_calibration_summary() -> None:
    ours = cdnow_summary()
    ref = published_summary()
    assert len(ours) == 2357
    assert int(np.count_nonzero(ours.frequency)) == 946
    order = np.argsort(ours.customer_ids.astype(np.int64))
    assert ours.customer_ids[order].tolist() == ref.customer_ids.tolist()
    assert ours.frequency[order].tolist() == ref.frequency.tolist()
    # published values are rounded to 2 decimals
    np.testing.assert_allclose(ours.recency[order], ref.recency, atol=0.005)
    np.testing.assert_allclose(ours.T[order], ref.T, atol=0.005)
    np.testing.assert_allclose(ours.monetary[order], ref.monetary, atol=0.005 + 1e-9)
    assert int(ours.frequency.sum()) == 2457


def test_cdnow_holdout_is_39_weeks_and_counts_later_purchases() -> None:
    s = cdnow_summary()
    assert s.holdout_duration == 39.0
    assert s.holdout_frequency is not None and s.holdout_monetary is not None
    # customer 1 bought on 1997-12-12 (26.48) after the calibration period
    i = s.customer_ids.tolist().index("1")
    assert s.holdout_frequency[i] == 1
    assert s.holdout_monetary[i] == pytest.approx(26.48)
    assert int(s.holdout_frequency.sum()) == 1882


# -- definitions -------------------------------------------------------------------------


def test_same_day_purchases_count_once_and_their_amounts_add() -> None:
    log = make_log(
        [
            ("a", at(0, 9), 10.0),
            ("a", at(0, 15), 5.0),  # same day as the first: part of the first purchase
            ("a", at(7, 9), 20.0),
            ("a", at(7, 18), 6.0),
            ("a", at(14), 30.0),
        ]
    )
    s = summary_from_transactions(log, at(28), "D")
    assert s.frequency.tolist() == [2]
    assert s.recency.tolist() == [14.0]
    assert s.T.tolist() == [28.0]
    assert s.monetary.tolist() == [28.0]  # (26 + 30) / 2, the first day (15) excluded


def test_weeks_and_months_and_units() -> None:
    # 2024-01-01 is a Monday
    log = make_log([("a", at(2), 1.0), ("a", at(4), 2.0), ("a", at(9), 4.0)])
    weekly = summary_from_transactions(log, at(20), "W")
    assert weekly.frequency.tolist() == [1]  # days 2 and 4 are in the same week
    assert weekly.recency.tolist() == [1.0]
    assert weekly.T.tolist() == [2.0]
    assert weekly.monetary.tolist() == [4.0]
    in_days = summary_from_transactions(log, at(20), "W", time_unit="D")
    assert in_days.recency.tolist() == [7.0] and in_days.T.tolist() == [14.0]
    monthly = summary_from_transactions(log, at(70), "M")
    assert monthly.frequency.tolist() == [0] and monthly.T.tolist() == [2.0]
    hourly = summary_from_transactions(log, at(4), "h", time_unit="D")
    assert hourly.frequency.tolist() == [1] and hourly.recency.tolist() == [2.0]


def test_purchases_after_as_of_are_ignored_and_late_customers_left_out() -> None:
    log = make_log([("a", at(0), 1.0), ("a", at(30), 9.0), ("b", at(20), 5.0)])
    s = summary_from_transactions(log, at(10), "D")
    assert s.customer_ids.tolist() == ["a"]
    assert s.frequency.tolist() == [0] and s.monetary.tolist() == [0.0]


def test_holdout_split() -> None:
    log = make_log(
        [
            ("a", at(0), 1.0),
            ("a", at(3), 2.0),
            ("a", at(12), 4.0),
            ("a", at(12, 20), 6.0),
            ("a", at(15), 5.0),
            ("b", at(1), 3.0),
            ("c", at(11), 7.0),  # first purchase in the holdout: not a calibration customer
        ]
    )
    s = summary_from_transactions(log, at(10), "D", holdout_end=at(20))
    assert s.customer_ids.tolist() == ["a", "b"]
    assert s.frequency.tolist() == [1, 0]
    assert s.holdout_frequency is not None and s.holdout_monetary is not None
    assert s.holdout_frequency.tolist() == [2, 0]
    assert s.holdout_monetary.tolist() == [7.5, 0.0]
    assert s.holdout_duration == 10.0


def test_row_order_does_not_matter() -> None:
    rng = np.random.default_rng(3)
    rows = [
        (f"c{int(rng.integers(0, 30))}", at(int(rng.integers(0, 200))), float(rng.integers(1, 99)))
        for _ in range(400)
    ]
    a = summary_from_transactions(make_log(rows), at(210), "W", time_unit="D")
    perm = [rows[i] for i in rng.permutation(len(rows))]
    b = summary_from_transactions(make_log(perm), at(210), "W", time_unit="D")
    oa = np.argsort(a.customer_ids)
    ob = np.argsort(b.customer_ids)
    assert a.customer_ids[oa].tolist() == b.customer_ids[ob].tolist()
    for name in ("frequency", "recency", "T", "monetary"):
        np.testing.assert_allclose(getattr(a, name)[oa], getattr(b, name)[ob], rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcde"), st.integers(0, 60), st.integers(1, 500)),
        min_size=1,
        max_size=40,
    )
)
def test_matches_a_per_customer_reference(rows: list[tuple[str, int, int]]) -> None:
    """Differential: the vectorised summary equals a plain per-customer computation."""
    log = make_log([(c, at(d), float(a)) for c, d, a in rows])
    s = summary_from_transactions(log, at(60), "D")
    for i, cid in enumerate(s.customer_ids.tolist()):
        days: dict[int, float] = {}
        for c, d, a in rows:
            if c == cid:
                days[d] = days.get(d, 0.0) + a
        ordered = sorted(days)
        assert s.frequency[i] == len(ordered) - 1
        assert s.recency[i] == ordered[-1] - ordered[0]
        assert s.T[i] == 60 - ordered[0]
        repeat = [days[d] for d in ordered[1:]]
        assert s.monetary[i] == pytest.approx(sum(repeat) / len(repeat) if repeat else 0.0)
        assert 0 <= s.recency[i] <= s.T[i]


# -- the summary object ------------------------------------------------------------------


def test_report_and_selection() -> None:
    s = cdnow_summary()
    data = s.to_dict()
    assert data["customers"] == 2357 and data["repeat_buyers"] == 946
    assert data["time_unit"] == "W" and len(data["frequency"]) == 2357  # type: ignore[arg-type]
    html = s._repr_html_()
    assert "BTYD summary" in html and "2,357 customers" in html
    repeat = s.filter(s.repeat_buyers)
    assert len(repeat) == 946 and bool(np.all(repeat.frequency > 0))
    assert repeat.holdout_frequency is not None
    assert "946 repeat buyers" in repr(repeat)
    with pytest.raises(ValueError, match="read-only"):
        s.frequency[0] = 5


def test_construction_is_validated_and_copies() -> None:
    freq = np.array([1, 0])
    s = BtydSummary(
        customer_ids=["a", "b"], frequency=freq, recency=[2.0, 0.0], T=[3.0, 3.0], monetary=[5, 0]
    )
    freq[0] = 9
    assert s.frequency.tolist() == [1, 0]
    bad: dict[str, dict[str, object]] = {
        "recency > T": {"recency": [4.0, 0.0]},
        "recency without repeat": {"recency": [2.0, 1.0]},
        "fractional frequency": {"frequency": [1.5, 0]},
        "negative frequency": {"frequency": [-1, 0]},
        "nan": {"T": [float("nan"), 3.0]},
        "monetary without repeat": {"monetary": [5.0, 1.0]},
        "length": {"T": [3.0]},
        "unit": {"time_unit": "fortnight"},
    }
    base: dict[str, object] = {
        "customer_ids": ["a", "b"],
        "frequency": [1, 0],
        "recency": [2.0, 0.0],
        "T": [3.0, 3.0],
        "monetary": [5.0, 0.0],
    }
    for case, change in bad.items():
        with pytest.raises(ValidationError):
            BtydSummary(**{**base, **change})  # type: ignore[arg-type]
        assert case


def test_empty_log_gives_an_empty_summary() -> None:
    empty = TransactionLog.from_records([])
    s = summary_from_transactions(empty, at(0), "D")
    assert len(s) == 0
    assert s.to_dict()["customers"] == 0
    assert "0 customers" in s._repr_html_()


def test_bad_arguments() -> None:
    log = make_log([("a", at(0), 1.0)])
    with pytest.raises(ValidationError):
        summary_from_transactions(log, datetime(2024, 3, 1), "D")  # naive
    with pytest.raises(ValidationError):
        summary_from_transactions(log, at(5), "Q")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        summary_from_transactions(log, at(5), "D", time_unit="M")
    with pytest.raises(ValidationError):
        summary_from_transactions(log, at(5), "D", holdout_end=at(4))
    with pytest.raises(ValidationError):
        summary_from_transactions(log, at(5, 1), "D", holdout_end=at(5, 2))  # same day
    with pytest.raises(ValidationError):
        summary_from_transactions([], at(5), "D")  # type: ignore[arg-type]
    mixed = TransactionLog.from_records(
        [
            {"customer_id": "a", "at": at(0), "amount": 1.0, "currency": "EUR"},
            {"customer_id": "a", "at": at(1), "amount": 1.0, "currency": "USD"},
        ]
    )
    with pytest.raises(CurrencyMismatchError):
        summary_from_transactions(mixed, at(5), "D")


def test_a_day_that_holds_only_a_return_is_not_a_purchase() -> None:
    # Issue 21, defect 1: returns used to count as purchase days (and negative spend).
    log = TransactionLog.from_records([
        {"customer_id": "a", "at": at(0), "amount": 20.0},
        {"customer_id": "a", "at": at(5), "amount": -20.0},
        {"customer_id": "a", "at": at(9), "amount": 10.0},
        {"customer_id": "b", "at": at(3), "amount": -4.0},  # bought before the data starts
    ])  # fmt: skip
    s = summary_from_transactions(log, at(30), "D")
    assert s.customer_ids.tolist() == ["a"]
    assert (s.frequency.tolist(), s.recency.tolist(), s.monetary.tolist()) == ([1], [9.0], [10.0])
    assert s.return_count is not None and s.return_count.tolist() == [1]
    assert s.return_value is not None and s.return_value.tolist() == [-20.0]
    assert s.data is not None
    assert (s.data.returns, s.data.returns_without_purchase) == (2, 1)
    assert s.data.return_value_without_purchase == -4.0
    assert s.take([0]).return_count is not None
