"""The columnar form of opportunities: built from objects or arrays, checked, queried as of t."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings

from crmcore.kernel.clock import to_micros
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.kernel.money import Money
from crmcore.sales._pipeline_reference import minor
from crmcore.sales.exchange_rates import ExchangeRates
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import NEVER, OpportunityFrame, day_number
from crmcore.sales.pipeline import DEFAULT_PIPELINE as P

from .opportunity_strategies import opportunities, times

T = datetime(2026, 3, 2, tzinfo=UTC)


def deal(i: int, amount: str = "100", currency: str = "EUR") -> Opportunity:
    return Opportunity.open(
        f"o{i}", P, owner="ann", amount=Money(amount, currency), close_date=date(2026, 4, 1), at=T
    ).value


@settings(max_examples=60, deadline=None)
@given(opportunities(), times)
def test_as_of_queries_agree_with_each_opportunity(deals: list[Opportunity], t: datetime) -> None:
    frame = OpportunityFrame.from_opportunities(deals, P)
    assert frame.ids.tolist() == [o.id for o in deals]
    exists = frame.exists_at(t)
    stage, status = frame.stage_at(t), frame.status_at(t)
    amount, day = frame.amount_at(t), frame.close_day_at(t)
    codes = {"open": 0, "won": 1, "lost": 2}
    for i, o in enumerate(deals):
        assert frame.closed[i] == (NEVER if o.closed_at is None else to_micros(o.closed_at))
        assert P.keys[frame.opened_stage[i]] == o.opened_stage
        assert exists[i] == (o.created_at <= t)
        if not exists[i]:
            continue
        assert P.keys[stage[i]] == o.stage_at(t)
        assert status[i] == codes[o.status_at(t).value]  # type: ignore[union-attr]
        assert amount[i] == minor(o.amount_at(t))  # type: ignore[arg-type]
        assert day[i] == day_number(o.close_date_at(t))  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(opportunities(max_size=12))
def test_filter_keeps_rows_with_their_histories(deals: list[Opportunity]) -> None:
    frame = OpportunityFrame.from_opportunities(deals, P)
    keep = np.arange(len(deals)) % 2 == 0
    part = frame.filter(keep)
    again = OpportunityFrame.from_opportunities(
        [d for d, k in zip(deals, keep, strict=True) if k], P
    )
    for name in ("stage", "created", "amount", "close_day", "status", "closed", "opened_stage"):
        assert np.array_equal(getattr(part, name), getattr(again, name))
    for log in ("moves", "amount_revisions", "close_date_revisions"):
        assert len(getattr(part, log)) == len(getattr(again, log))
        assert np.array_equal(getattr(part, log).row, getattr(again, log).row)


def test_from_arrays_checks_every_column_and_names_the_row() -> None:
    good = {
        "ids": ["a", "b"],
        "stage": [0, 4],
        "created": [0, 0],
        "amount": [100, 5],
        "close_day": [10, 10],
    }
    frame = OpportunityFrame.from_arrays(P, **good)  # type: ignore[arg-type]
    assert frame.status.tolist() == [0, 0] and frame.owner.tolist() == [-1, -1]
    cases = [
        ({"stage": [0, 9]}, "stage[1]"),
        ({"amount": [100, -1]}, "amount[1]"),
        ({"close_day": [-1, 10]}, "close_day[0]"),
        ({"ids": ["a", "a"]}, "ids"),
        ({"probability": [5, 2_000_000]}, "probability[1]"),
        ({"owner": [0, 3], "owners": ["ann"]}, "owner[1]"),
        ({"amount": [1, 2, 3]}, "amount"),
        ({"currencies": ["EURO"]}, "currencies"),
        ({"moves": ([1], [0], [0], [3], [0])}, "moves.to_code"),  # ends at 3, row stage is 4
        ({"moves": ([1], [-5], [0], [4], [0])}, "moves.at[0]"),  # before the row's creation
        ({"moves": ([1], [0], [0], [4], [2])}, "moves.move[0]"),  # advance recorded as a win
        ({"moves": ([1, 0], [0, 0], [0, 0], [4, 1], [0, 0])}, "moves.at[1]"),  # not sorted
        ({"amount_revisions": ([0], [1], [50], [99])}, "amount_revisions.new[0]"),
    ]
    for change, field in cases:
        with pytest.raises(ValidationError) as error:
            OpportunityFrame.from_arrays(P, **(good | change))  # type: ignore[arg-type]
        assert error.value.field.startswith(field.split("[")[0]), (change, error.value.field)


def test_mixed_currencies_are_refused_unless_converted() -> None:
    frame = OpportunityFrame.from_opportunities([deal(1, "100"), deal(2, "1000", "JPY")], P)
    with pytest.raises(CurrencyMismatchError, match="without a rates= conversion table"):
        frame.report_currency()
    rates = ExchangeRates("EUR", {"JPY": "0.0061"})
    currency, amounts = frame.report_currency(rates)
    assert (currency, amounts.tolist()) == ("EUR", [10000, 610])
    converted = frame.in_currency(rates)
    assert converted.currencies == ("EUR",) and converted.amount.tolist() == [10000, 610]
    assert rates.convert(Money("1000", "JPY")) == Money("6.10", "EUR")


def test_conversion_rounds_half_even_like_money() -> None:
    rates = ExchangeRates("USD", {"EUR": "1.005"})
    units = np.arange(0, 2000, dtype=np.int64)
    fast = rates.convert_minor(units, "EUR")
    slow = [rates.convert(Money.of_minor(int(u), "EUR")).to_minor() for u in units]
    assert fast.tolist() == slow
    assert rates.rate("USD") == Decimal(1)
    with pytest.raises(ValidationError):
        ExchangeRates("EUR", {"USD": "-1"})


def test_to_pandas_has_one_row_per_opportunity() -> None:
    won = deal(2).win(T + timedelta(days=1), P).value
    df = OpportunityFrame.from_opportunities([deal(1), won], P).to_pandas()
    assert list(df["status"]) == ["open", "won"] and list(df["amount"]) == [100.0, 100.0]
    assert df["closed_at"].isna().tolist() == [True, False]


def test_wrong_inputs() -> None:
    with pytest.raises(ValidationError):
        OpportunityFrame.from_opportunities(["x"], P)  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        OpportunityFrame.from_opportunities([deal(1)], "sales")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        OpportunityFrame.from_opportunities([deal(1)], P).filter([True, False])


def test_from_arrays_refuses_non_numbers_and_values_beyond_the_column_type() -> None:
    good = {"ids": ["a"], "stage": [0], "created": [0], "amount": [100], "close_day": [10]}
    cases = [
        ({"stage": np.array([np.nan])}, "stage", "not a whole number"),
        ({"stage": [40_000]}, "stage", "must lie in -32768..32767"),
        ({"amount": [1.5]}, "amount", "not a whole number"),
        ({"ids": ["a\ud800"]}, "ids", "lone surrogate"),
        ({"owners": None, "owner": [0]}, "owners", "must be a collection"),
        ({"moves": None}, "moves", "must be a collection"),
    ]
    for change, field, reason in cases:
        with pytest.raises(ValidationError, match=reason) as error:
            OpportunityFrame.from_arrays(P, **(good | change))  # type: ignore[arg-type]
        assert error.value.field.split("[")[0] == field, change
