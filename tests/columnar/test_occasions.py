"""The one rule: purchase occasions, returns and what every analysis reads from a log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics import cohort_matrix, rfm_scores, summary_from_transactions
from crmcore.columnar import TransactionLog, purchase_occasions
from crmcore.kernel.errors import ValidationError

T0 = datetime(2024, 1, 1, tzinfo=UTC)
AS_OF = datetime(2024, 12, 31, tzinfo=UTC)
DAY = timedelta(days=1)


def test_orders_are_occasions_and_returns_are_beside_them() -> None:
    log = TransactionLog.from_records([
        {"customer_id": "a", "at": T0, "order_id": "1", "quantity": 2, "unit_price": 5.0},
        {"customer_id": "a", "at": T0 + DAY, "order_id": "1", "quantity": 1, "unit_price": 3.0},
        {"customer_id": "a", "at": T0 + 2 * DAY, "order_id": "C2", "quantity": -1,
         "unit_price": 3.0},
        {"customer_id": "b", "at": T0, "amount": 0.0},  # a free order is still a purchase
        {"customer_id": "c", "at": T0, "amount": 4.0, "quantity": -1},  # only returns goods
        {"customer_id": "d", "at": T0, "order_id": "9", "amount": 10.0},
        {"customer_id": "d", "at": T0, "order_id": "9", "amount": -12.0},  # net negative
    ])  # fmt: skip
    o = purchase_occasions(log)
    assert o.codes.tolist() == [0, 1]
    assert o.value.tolist() == [13.0, 0.0]
    assert o.t.tolist() == [int(np.datetime64("2024-01-01", "us").astype(np.int64))] * 2
    assert sorted(o.return_value.tolist()) == [-3.0, -2.0, 4.0]
    assert purchase_occasions(log) is o  # cached on the immutable log


def test_cancellation_pattern_makes_orders_returns() -> None:
    rows = [
        {"customer_id": "a", "at": T0, "order_id": "1", "quantity": 2, "unit_price": 5.0},
        {"customer_id": "a", "at": T0 + DAY, "order_id": "C1", "quantity": 1, "unit_price": 5.0},
    ]
    plain = purchase_occasions(TransactionLog.from_records(rows))
    assert len(plain.units) == 2
    cancelled = TransactionLog.from_records(rows, cancellations="^C")
    assert cancelled["quantity"].to_list() == [2, -1]
    assert purchase_occasions(cancelled).return_value.tolist() == [-5.0]
    with pytest.raises(ValidationError, match="transaction logs only"):
        from crmcore.columnar import EventLog

        EventLog.from_records([], cancellations="^C")


def test_amounts_are_exact_in_minor_units() -> None:
    log = TransactionLog.from_records(
        [{"customer_id": "a", "at": T0, "quantity": 3, "unit_price": 0.1}]
    )
    assert log["amount"].to_list() == [0.3]  # not 0.30000000000000004


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, object]]:
    rows = []
    for i in range(draw(st.integers(1, 12))):
        customer = draw(st.sampled_from(["a", "b", "c", "d"]))
        order = f"{customer}-{draw(st.integers(0, 5))}"
        rows.append({
            "customer_id": customer,
            "at": T0 + DAY * draw(st.integers(0, 300)),
            "order_id": order,
            "quantity": draw(st.integers(-3, 5)),
            "unit_price": draw(st.integers(0, 10_000)) / 100,
        })  # fmt: skip
        del i
    return rows


def _return_of(rows: list[dict[str, object]], data: st.DataObject) -> dict[str, object]:
    buyer = data.draw(st.sampled_from([r["customer_id"] for r in rows]))
    return {
        "customer_id": buyer,
        "at": T0 + DAY * data.draw(st.integers(0, 300)),
        "order_id": f"R-{data.draw(st.integers(0, 9))}-{buyer}",
        "quantity": -data.draw(st.integers(1, 3)),
        "unit_price": data.draw(st.integers(1, 10_000)) / 100,
    }


@settings(max_examples=80, deadline=None)
@given(histories(), st.data())
def test_adding_a_return_never_increases_frequency_or_activity(
    rows: list[dict[str, object]], data: st.DataObject
) -> None:
    before = TransactionLog.from_records(rows)
    after = TransactionLog.from_records([*rows, _return_of(rows, data)])
    if not len(purchase_occasions(before).units):
        return
    r0, r1 = rfm_scores(before, AS_OF), rfm_scores(after, AS_OF)
    f0 = dict(zip(r0.customer_ids.tolist(), r0.frequency.tolist(), strict=True))
    f1 = dict(zip(r1.customer_ids.tolist(), r1.frequency.tolist(), strict=True))
    assert all(f1.get(c, 0) <= f for c, f in f0.items()) and set(f1) <= set(f0)
    c0, c1 = cohort_matrix(before, AS_OF), cohort_matrix(after, AS_OF)
    assert c0.labels == c1.labels
    assert (c1.active <= c0.active).all()
    s0, s1 = summary_from_transactions(before, AS_OF), summary_from_transactions(after, AS_OF)
    assert (s1.frequency <= s0.frequency).all()


@settings(max_examples=80, deadline=None)
@given(histories())
def test_netting_is_exact_in_minor_units(rows: list[dict[str, object]]) -> None:
    log = TransactionLog.from_records(rows)
    o = purchase_occasions(log)
    cents = sum(int(r["quantity"]) * round(float(r["unit_price"]) * 100) for r in rows)  # type: ignore[arg-type]
    assert int(o.units.sum() + o.return_units.sum()) == cents * 100


@settings(max_examples=80, deadline=None)
@given(histories())
def test_lines_and_one_row_per_order_give_the_same_numbers(rows: list[dict[str, object]]) -> None:
    lines = TransactionLog.from_records(rows)
    totals: dict[str, list[object]] = {}
    for r in rows:
        key = str(r["order_id"])
        units = int(r["quantity"]) * round(float(r["unit_price"]) * 10_000)  # type: ignore[arg-type]
        entry = totals.setdefault(key, [r["customer_id"], r["at"], 0, True])
        entry[1] = min(entry[1], r["at"])  # type: ignore[type-var]
        entry[2] += units  # type: ignore[operator]
        entry[3] = entry[3] and (units < 0 or int(r["quantity"]) < 0)  # type: ignore[call-overload]
    orders = TransactionLog.from_records(
        {
            "customer_id": c,
            "at": t,
            "order_id": key,
            "amount": u / 10_000,  # type: ignore[operator]
            "quantity": -1 if (gone and u <= 0) else 1,
        }
        for key, (c, t, u, gone) in totals.items()
    )
    if not len(purchase_occasions(lines).units):
        return
    a, b = rfm_scores(lines, AS_OF), rfm_scores(orders, AS_OF)
    assert sorted(zip(a.customer_ids.tolist(), a.frequency.tolist(), a.monetary.tolist(),
                      strict=True)) == sorted(
        zip(b.customer_ids.tolist(), b.frequency.tolist(), b.monetary.tolist(), strict=True)
    )  # fmt: skip
    sa, sb = summary_from_transactions(lines, AS_OF), summary_from_transactions(orders, AS_OF)
    key_a = sorted(zip(sa.customer_ids.tolist(), sa.frequency.tolist(), sa.recency.tolist(),
                       sa.monetary.tolist(), strict=True))  # fmt: skip
    key_b = sorted(zip(sb.customer_ids.tolist(), sb.frequency.tolist(), sb.recency.tolist(),
                       sb.monetary.tolist(), strict=True))  # fmt: skip
    assert key_a == key_b
