"""Value tiers: sizes by the ceil rule, tie handling, reports, bad input."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics.kpis import historical_clv
from crmcore.analytics.value_tiers import value_tiers
from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import NotFoundError, ValidationError


def reference_tiers(values: list[float], cuts: tuple[float, ...]) -> list[int]:
    """Plain Python: sort by value descending (stable), cut at ceil(c * n)."""
    n = len(values)
    order = sorted(range(n), key=lambda i: -values[i])
    bounds = [math.ceil(round(c * n, 9)) for c in cuts] + [n]
    out = [0] * n
    for position, i in enumerate(order):
        out[i] = next(j for j, b in enumerate(bounds) if position < b)
    return out


amounts = st.lists(st.integers(0, 20).map(float), min_size=0, max_size=80)


@given(values=amounts)
@settings(max_examples=100, deadline=None)
def test_first_ties_equal_the_reference(values: list[float]) -> None:
    tiers = value_tiers(values)
    assert tiers.tiers.tolist() == reference_tiers(values, (0.01, 0.05, 0.2))
    counts = [row.customers for row in tiers.summary()]
    n = len(values)
    expected = np.diff([0, *(math.ceil(round(c * n, 9)) for c in (0.01, 0.05, 0.2)), n])
    assert counts == expected.tolist()


@given(values=amounts)
@settings(max_examples=100, deadline=None)
def test_shared_ties_keep_equal_values_together_and_monotone(values: list[float]) -> None:
    shared = value_tiers(values, ties="share")
    first = value_tiers(values)
    array = np.array(values)
    for value in set(values):
        assert len(set(shared.tiers[array == value].tolist())) == 1
    assert (shared.tiers <= first.tiers).all()  # sharing only ever promotes
    # a higher value never sits in a lower tier
    order = np.argsort(-array, kind="stable")
    assert (np.diff(shared.tiers[order]) >= 0).all()


def test_example_with_ids_and_report() -> None:
    values = np.arange(100, dtype=float)  # customer i spent i
    ids = [f"c{i}" for i in range(100)]
    tiers = value_tiers(values, customer_ids=ids, label="spend")
    assert tiers.names == ("Top 1%", "Top 5%", "Top 20%", "Rest")
    assert tiers.customers_in("Top 1%") == ["c99"]
    assert tiers.customers_in("Top 5%") == ["c95", "c96", "c97", "c98"]
    assert tiers.tier_of("c80") == "Top 20%" and tiers.tier_of("c79") == "Rest"
    rows = tiers.summary()
    assert [r.customers for r in rows] == [1, 4, 15, 80]
    assert rows[0].value_share == pytest.approx(99 / 4950)
    assert sum(r.value_share or 0 for r in rows) == pytest.approx(1.0)
    assert rows[2].min_value == 80.0 and rows[2].max_value == 94.0
    data = json.loads(json.dumps(tiers.to_dict()))
    assert data["tiers"][3]["cut"] is None and data["label"] == "spend"
    assert "Top 20%" in tiers._repr_html_()
    assert tiers.mask("Rest").sum() == 80
    with pytest.raises(NotFoundError):
        tiers.mask("Gold")
    with pytest.raises(NotFoundError):
        tiers.tier_of("nobody")


def test_custom_cuts_and_names_and_empty() -> None:
    tiers = value_tiers([3.0, 2.0, 1.0, 0.0], cuts=[0.5], names=["Gold"], rest="Other")
    assert tiers.tier_list() == ["Gold", "Gold", "Other", "Other"]
    empty = value_tiers([])
    assert len(empty) == 0
    assert all(r.customers == 0 and r.mean_value is None for r in empty.summary())
    assert json.loads(json.dumps(empty.to_dict()))["total"] == 0
    with pytest.raises(ValidationError):
        value_tiers([1.0]).customers_in("Rest")


def test_tiers_from_historical_clv() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    log = TransactionLog.from_records(
        [{"customer_id": f"c{i}", "at": t, "amount": float(i + 1)} for i in range(20)]
    )
    clv = historical_clv(log, t, margin=0.5)
    tiers = value_tiers(clv.values, customer_ids=clv.customer_ids, cuts=(0.05, 0.25))
    assert tiers.customers_in("Top 5%") == ["c19"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cuts": (0.2, 0.1)}, "cuts"),
        ({"cuts": (0.0,)}, "cuts[0]"),
        ({"cuts": (1.0,)}, "cuts[0]"),
        ({"cuts": "0.1"}, "cuts"),
        ({"cuts": ()}, "cuts"),
        ({"names": ["a"]}, "names"),
        ({"names": ["a", "b", "Rest"]}, "names"),
        ({"rest": ""}, "rest"),
        ({"ties": "max"}, "ties"),
        ({"customer_ids": ["a"]}, "customer_ids"),
    ],
)
def test_bad_options(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        value_tiers([1.0, 2.0], **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_bad_values() -> None:
    with pytest.raises(ValidationError, match=r"values\[1\]"):
        value_tiers([1.0, float("nan")])
    with pytest.raises(ValidationError):
        value_tiers([[1.0]])
    with pytest.raises(ValidationError):
        value_tiers(["x"])
