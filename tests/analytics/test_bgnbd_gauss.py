"""BG/NBD predictions for large a and b: the Gauss 2F1 against a 60-digit evaluation.

A fit that runs towards the edge (a = 829, b = 6,309 on a small weekly Online-Retail file)
made scipy's 2F1 overflow, so E[X(t)] (Fader, Hardie & Lee 2005, eq. 7 and eq. 10) and the
CLV built on it were not finite. The reference here sums the printed series of eq. (10),
``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)``, term by term in 60-digit `decimal` arithmetic from
the exact binary values of the inputs: an evaluation that shares nothing with the library's.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics import customer_lifetime_value, fit_bgnbd, summary_from_transactions
from crmcore.analytics.bgnbd import BgNbdModel, _gauss_mixture
from crmcore.analytics.btyd import BtydSummary
from crmcore.columnar import TransactionLog
from crmcore.datasets import online_retail_csv

pytest.importorskip("scipy")

LARGE = BgNbdModel(r=0.415, alpha=2.675, a=829.0, b=6309.0)


def gauss_tail(s: float, big_b: float, c: float, alpha_t: float, t: float) -> Decimal:
    """``(1-z)^s 2F1(s, B; c; z)`` with ``z = t/(alpha_t + t)``, in 60-digit arithmetic."""
    with localcontext() as ctx:
        ctx.prec = 60
        s_, b_, c_, base, h = (Decimal(v) for v in (s, big_b, c, alpha_t, t))
        z = h / (base + h)
        term = (base / (base + h)) ** s_
        total, k = term, 0
        while True:
            term = term * (s_ + k) * (b_ + k) / ((c_ + k) * (k + 1)) * z
            total += term
            k += 1
            shrinking = (s_ + k) * (b_ + k) * z < (c_ + k) * (k + 1)
            if shrinking and abs(term) < abs(total) * Decimal("1e-40"):
                return total
            assert k < 200_000


def reference_expectation(m: BgNbdModel, x: int, big_t: float, t: float) -> float:
    """Eq. (10) without P(alive): (a+b+x-1)/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]."""
    c = m.a + m.b + x - 1
    tail = gauss_tail(m.r + x, m.b + x, c, m.alpha + big_t, t)
    with localcontext() as ctx:
        ctx.prec = 60
        return float((Decimal(m.a) + Decimal(m.b) + x - 1) / (Decimal(m.a) - 1) * (1 - tail))


def one(x: int, t_x: float, big_t: float) -> BtydSummary:
    return BtydSummary(
        customer_ids=["c"], frequency=[x], recency=[t_x], T=[big_t], monetary=[float(x > 0)]
    )


def unconditional(m: BgNbdModel, x: int, big_t: float, t: float) -> float:
    s = one(x, big_t, big_t)  # bought at T: the odds of having dropped out are a/(b+x-1)
    alive = (m.b + x - 1) / (m.a + m.b + x - 1)
    assert float(m.probability_alive(s)[0]) == pytest.approx(alive, rel=1e-14)
    return float(m.expected_purchases(s, t)[0]) / alive


@pytest.mark.parametrize(
    "ab", [(829.0, 6309.0), (112391.0, 866577.0), (5000.0, 100.0), (12.0, 1e5)]
)
@pytest.mark.parametrize("x_t", [(0, 0.0), (2, 30.0), (50, 52.0), (2000, 52.0)])
@pytest.mark.parametrize("t", [0.5, 4.345, 52.0, 500.0])
def test_large_a_and_b_match_the_high_precision_series(
    ab: tuple[float, float], x_t: tuple[int, float], t: float
) -> None:
    m = BgNbdModel(r=0.415, alpha=2.675, a=ab[0], b=ab[1])
    x, big_t = x_t
    got = unconditional(m, x, big_t, t) if x else float(m.expected_purchases_new(t))
    assert got == pytest.approx(reference_expectation(m, x, big_t, t), rel=1e-11)


@pytest.mark.parametrize(
    "params",
    [
        (0.243, 4.414, 0.793, 2.426),
        (3.0, 0.5, 3.0, 10.0),
        (0.5, 1.0, 9.5, 40.0),
        (2.0, 26.4, 1.14, 1e6),
    ],
)
@pytest.mark.parametrize("t", [0.5, 39.0, 200.0])
def test_small_a_keeps_scipy_and_matches_too(params: tuple[float, ...], t: float) -> None:
    m = BgNbdModel(r=params[0], alpha=params[1], a=params[2], b=params[3])
    for x, big_t in [(0, 0.0), (3, 20.0), (40, 52.0)]:
        got = unconditional(m, x, big_t, t) if x else float(m.expected_purchases_new(t))
        assert got == pytest.approx(reference_expectation(m, x, big_t, t), rel=1e-8)


def test_the_online_retail_case_a_829_b_6309() -> None:
    """The reported model: scipy's 2F1 was inf/NaN here, E[X(t)] was not finite."""
    t = np.array([1.0, 4.345, 13.0, 52.0])
    got = LARGE.expected_purchases_new(t)
    expected = [reference_expectation(LARGE, 0, 0.0, float(v)) for v in t]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert bool(np.all(np.diff(got) > 0))


def test_p_alive_ahead_for_large_a_matches_the_series() -> None:
    # P(alive at T+t) = P(alive) (1-z)^(r+x) 2F1(r+x, b+x; a+b+x; z), z = t/(alpha+T+t)
    m = LARGE
    s = BtydSummary(
        customer_ids=["a", "b", "c"],
        frequency=[0, 4, 60],
        recency=[0.0, 20.0, 50.0],
        T=[30.0, 40.0, 52.0],
        monetary=[0.0, 1.0, 1.0],
    )
    now = m.probability_alive(s)
    ahead = m.probability_alive(s, 26.0)
    for i, (x, big_t) in enumerate([(0, 30.0), (4, 40.0), (60, 52.0)]):
        tail = gauss_tail(m.r + x, m.b + x, m.a + m.b + x, m.alpha + big_t, 26.0)
        assert float(ahead[i]) == pytest.approx(float(now[i]) * float(tail), rel=1e-11)
    assert bool(np.all(ahead < now))


@given(
    s=st.floats(0.01, 3000),
    big_b=st.floats(0.01, 1e6),
    gap=st.floats(1e-3, 1e5),
    z=st.floats(0.0, 0.99),
)
@settings(max_examples=150, deadline=None)
def test_the_mixture_sum_is_a_probability_and_its_complement(
    s: float, big_b: float, gap: float, z: float
) -> None:
    tail, rest = _gauss_mixture(s, big_b, big_b + gap, math.log1p(-z), z)
    assert 0.0 <= float(tail) <= 1.0 + 1e-12
    assert float(rest) == pytest.approx(1.0 - float(tail), abs=1e-10)


@given(
    s=st.floats(0.05, 20),
    big_b=st.floats(0.05, 50),
    gap=st.floats(0.05, 50),
    z=st.floats(0.0, 0.9),
)
@settings(max_examples=100, deadline=None)
def test_the_mixture_sum_agrees_with_scipy_where_scipy_is_reliable(
    s: float, big_b: float, gap: float, z: float
) -> None:
    import scipy.special as sp

    tail, _ = _gauss_mixture(s, big_b, big_b + gap, math.log1p(-z), z)
    expected = (1 - z) ** s * sp.hyp2f1(s, big_b, big_b + gap, z)
    assert float(tail) == pytest.approx(expected, rel=1e-10)


def test_a_small_weekly_online_retail_file_gives_a_finite_clv(tmp_path: Path) -> None:
    """150 customers in weeks: the fit runs to a, b ~ 1e5 (the data barely identify the
    dropout), which made every CLV raise "E[purchases] is not finite"."""
    path = tmp_path / "retail.csv"
    online_retail_csv(path, customers=150, seed=2)
    log = TransactionLog.from_csv(
        path,
        columns={
            "customer_id": "CustomerID",
            "at": "InvoiceDate",
            "order_id": "InvoiceNo",
            "quantity": "Quantity",
            "unit_price": "UnitPrice",
        },
        tz="UTC",
        extra="ignore",
    )
    summary = summary_from_transactions(log, datetime(2011, 12, 10, tzinfo=UTC), "D", time_unit="W")
    model = fit_bgnbd(summary)
    assert model.a > 100 and model.b > 100  # the regime that used to overflow
    clv = customer_lifetime_value(model, 10.0, summary)
    assert len(clv.clv) == len(summary.customer_ids) > 100
    assert bool(np.all(np.isfinite(clv.clv))) and bool(np.all(clv.clv > 0))
    e52 = model.expected_purchases(summary, 52.0)
    first = int(np.argmax(summary.frequency))
    x, big_t = int(summary.frequency[first]), float(summary.T[first])
    alive = float(model.probability_alive(summary)[first])
    assert float(e52[first]) == pytest.approx(
        reference_expectation(model, x, big_t, 52.0) * alive, rel=1e-10
    )
