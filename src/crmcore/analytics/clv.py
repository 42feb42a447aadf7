"""Predictive customer lifetime value: BG/NBD purchases times Gamma-Gamma spend, discounted.

For each customer, over ``months`` future months with a monthly
``discount_rate`` *d*:

    CLV = sum_{m=1..months} (E[Y(m)] - E[Y(m-1)]) * E[spend] / (1 + d)^m

where ``E[Y(t)]`` is the BG/NBD conditional expected number of repeat
purchases in ``(T, T+t]``
([`BgNbdModel.expected_purchases()`][crmcore.analytics.bgnbd.BgNbdModel.expected_purchases], Fader,
Hardie & Lee 2005, eq. 10) and ``E[spend]`` the Gamma-Gamma conditional expected spend per purchase
([`GammaGammaModel.expected_spend()`][crmcore.analytics.gamma_gamma.GammaGammaModel.expected_spend]).
This is the discounted-cash-flow CLV of the ``lifetimes`` package (0.11.3,
``lifetimes.utils._customer_lifetime_value``), including its month lengths in the model's time unit:
30 days, 4.345 weeks, 720 hours (calendar-month models use 1), so results are directly comparable
with it. So "12 months" means 360 days in a daily model and 364.98 days in a weekly one; the
report says which
([`PredictedClv.horizon`][crmcore.analytics.clv.PredictedClv.horizon]), and
``month="calendar"`` measures each month as the calendar month after the summary's
``as_of`` instead (31 days, then 30, 31, ...: twelve of them are a year).

The report carries what it used: the fitted parameters of both models, the
time unit, the as-of date, the horizon and how its months were measured, and
what the summary's input left out ([`DataUsed`][crmcore.columnar.occasions.DataUsed]).
When the spend data cannot support a Gamma-Gamma fit, ``spend`` can be one
expected spend for everyone, or one per customer.

All customers are computed at once: one ``(customers, months + 1)`` matrix of
cumulative expected purchases, differenced along the months axis.

Values are plain ``float`` (analytics run on floats); turn them into
[`Money`][crmcore.kernel.money.Money] for display or storage with
[`PredictedClv.as_money()`][crmcore.analytics.clv.PredictedClv.as_money], which rounds to the
currency's minor unit.

Examples:
    >>> from crmcore.analytics.bgnbd import BgNbdModel
    >>> from crmcore.analytics.btyd import BtydSummary
    >>> from crmcore.analytics.gamma_gamma import GammaGammaModel
    >>> s = BtydSummary(customer_ids=["a", "b"], frequency=[2, 0], recency=[30.43, 0.0],
    ...                T=[38.86, 38.86], monetary=[22.35, 0.0], time_unit="W")
    >>> report = customer_lifetime_value(
    ...     BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426),
    ...     GammaGammaModel(p=6.25, q=3.74, v=15.44),
    ...     s, months=12, discount_rate=0.01)
    >>> [str(m) for m in report.as_money("USD")]
    ['36.29 USD', '8.37 USD']
"""

from __future__ import annotations

import calendar
import itertools
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.analytics.bgnbd import BgNbdModel
from crmcore.analytics.btyd import BtydSummary
from crmcore.analytics.gamma_gamma import GammaGammaModel
from crmcore.columnar.occasions import DataUsed
from crmcore.kernel.arrays import AnyArray, Float64Array, read_only
from crmcore.kernel.deprecation import renamed
from crmcore.kernel.errors import ModelFitError, ValidationError
from crmcore.kernel.money import Money, currency_code
from crmcore.kernel.reports import data_frame, html_table, json_number
from crmcore.kernel.validators import choice, integer
from crmcore.plotting.clv import plot_clv

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["MONTH_LENGTH", "MonthRule", "PredictedClv", "customer_lifetime_value"]


MONTH_LENGTH: Final[dict[str, float]] = {"h": 30 * 24.0, "D": 30.0, "W": 4.345, "M": 1.0}
"""One month in each time unit, as in ``lifetimes`` (``_customer_lifetime_value``)."""
MonthRule: TypeAlias = Literal["30-day", "calendar"]
"""How a CLV month is measured: 30 days (as ``lifetimes``), or the calendar months after as_of."""
_UNIT_NAMES: Final = {"h": "hours", "D": "days", "W": "weeks", "M": "months"}
_DAYS_PER_UNIT: Final = {"h": 1 / 24, "D": 1.0, "W": 7.0}
_HTML_ROWS: Final = 10
_MAX_MONTHS: Final = 1200  # a century of monthly columns


@attrs.frozen(kw_only=True, eq=False)
class PredictedClv:
    """Predicted CLV per customer, with the pieces it is made of (aligned arrays).

    ``clv`` is the discounted value over ``months``; ``expected_purchases``
    the undiscounted expected repeat purchases over the same horizon;
    ``probability_alive`` today's P(alive); ``expected_spend`` the expected
    spend per purchase. All arrays are read-only floats. The rest says what
    was used: the horizon ([`horizon`][crmcore.analytics.clv.PredictedClv.horizon] in
    words; ``month_lengths`` in ``time_unit``), the as-of date, both models'
    parameters, and the input's [`DataUsed`][crmcore.columnar.occasions.DataUsed].
    """

    customer_ids: AnyArray
    clv: Float64Array
    expected_purchases: Float64Array
    probability_alive: Float64Array
    expected_spend: Float64Array
    months: int
    discount_rate: float
    month: MonthRule = "30-day"
    time_unit: str = "W"
    as_of: datetime | None = None
    horizon_end: datetime | None = None
    month_lengths: tuple[float, ...] = ()
    purchase_model: dict[str, float] = attrs.field(factory=dict)
    spend_model: dict[str, float] | None = None
    data: DataUsed | None = None

    def __len__(self) -> int:
        return len(self.customer_ids)

    def __repr__(self) -> str:
        return (
            f"PredictedClv({len(self)} customers, {self.horizon}, at "
            f"{self.discount_rate:.2%}/month, total {float(self.clv.sum()):,.2f})"
        )

    @property
    def horizon(self) -> str:
        """The horizon in words: how many months, how each was measured, where it ends."""
        unit = _UNIT_NAMES[self.time_unit]
        total = sum(self.month_lengths)
        if self.month == "calendar":
            start = "" if self.as_of is None else f" after {self.as_of.date().isoformat()}"
            end = "" if self.horizon_end is None else f" to {self.horizon_end.date().isoformat()}"
            return f"{self.months} calendar months{start}{end} ({total:g} {unit})"
        length = MONTH_LENGTH[self.time_unit]
        if self.time_unit == "M":
            return f"{self.months} calendar months (the model's own unit)"
        days = total * _DAYS_PER_UNIT[self.time_unit]
        in_days = "" if self.time_unit == "D" else f" = {days:.4g} days"
        return (
            f"{self.months} months of {length:g} {unit} ({total:.4g} {unit}{in_days} in all; "
            "the lifetimes convention)"
        )

    def top(self, n: int = 10) -> AnyArray:
        """Positions of the ``n`` customers with the highest CLV, highest first (stable ties)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValidationError("n", n, "must be an int >= 0")
        order = np.argsort(-self.clv, kind="stable")
        return order[:n]

    def as_money(self, currency: str) -> tuple[Money, ...]:
        """Each customer's CLV as [`Money`][crmcore.Money], rounded to the minor unit."""
        code = currency_code(currency)
        return tuple(Money(Decimal(repr(v)), code).rounded() for v in self.clv.tolist())

    def to_dict(self) -> dict[str, object]:
        """Settings, models, total and one list per column, JSON-compatible."""
        return {
            "months": self.months,
            "month": self.month,
            "horizon": self.horizon,
            "time_unit": self.time_unit,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "horizon_end": None if self.horizon_end is None else self.horizon_end.isoformat(),
            "discount_rate": self.discount_rate,
            "purchase_model": {k: json_number(v) for k, v in self.purchase_model.items()},
            "spend_model": None
            if self.spend_model is None
            else {k: json_number(v) for k, v in self.spend_model.items()},
            "data": None if self.data is None else self.data.to_dict(),
            "customers": len(self),
            "total_clv": json_number(self.clv.sum()),
            "customer_ids": self.customer_ids.tolist(),
            "clv": [json_number(v) for v in self.clv],
            "expected_purchases": [json_number(v) for v in self.expected_purchases],
            "probability_alive": [json_number(v) for v in self.probability_alive],
            "expected_spend": [json_number(v) for v in self.expected_spend],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per customer: ``customer_id``, ``clv``, ``expected_purchases``,
        ``probability_alive`` and ``expected_spend`` (the settings are in ``to_dict()``)."""
        columns = ("clv", "expected_purchases", "probability_alive", "expected_spend")
        return data_frame(
            {"customer_id": self.customer_ids, **{c: getattr(self, c) for c in columns}},
            "PredictedClv.to_pandas",
        )

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """How concentrated the value is (the share held by the top x % of customers):
        [`plot_clv()`][crmcore.plotting.clv.plot_clv]."""
        return plot_clv(self, ax=ax)

    def _repr_html_(self) -> str:
        """The top customers by CLV as an HTML table with bars."""
        idx = self.top(min(len(self), _HTML_ROWS))
        rows = [
            [cid, clv, e, p, m]
            for cid, clv, e, p, m in zip(
                self.customer_ids[idx].tolist(),
                self.clv[idx].tolist(),
                self.expected_purchases[idx].tolist(),
                self.probability_alive[idx].tolist(),
                self.expected_spend[idx].tolist(),
                strict=True,
            )
        ]
        top = float(self.clv[idx[0]]) if len(idx) else 0.0
        params = ", ".join(f"{k} {v:.4g}" for k, v in self.purchase_model.items())
        spend = (
            "own spend"
            if self.spend_model is None
            else ", ".join(f"{k} {v:.4g}" for k, v in self.spend_model.items())
        )
        caption = (
            f"{len(self):,} customers; {self.horizon}; discounted at "
            f"{self.discount_rate:.2%} per month; total {float(self.clv.sum()):,.2f}; "
            f"BG/NBD {params}; spend {spend}"
        )
        if self.data is not None:
            caption += "; " + "; ".join(self.data.notes())
        return html_table(
            "Predicted customer lifetime value (top customers)",
            ["customer", "CLV", "exp. purchases", "P(alive)", "exp. spend"],
            rows,
            kinds=["auto", "money", "float", "pct", "money"],
            bars={1: top},
            currency=None if self.data is None else self.data.currency,
            caption=caption,
        )


def _add_months(start: datetime, months: int) -> datetime:
    """``start`` moved ``months`` calendar months on (the day clamped to the month's end)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if year > 9999:  # as timedelta arithmetic says it
        raise OverflowError("date value out of range")
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return start.replace(year=year, month=month + 1, day=day)


def _month_steps(
    summary: BtydSummary, months: int, month: str
) -> tuple[list[float], datetime | None]:
    """Cumulative horizon at the end of each month, in the summary's time unit, and its end."""
    unit = summary.time_unit
    if month == "30-day" or unit == "M":
        length = MONTH_LENGTH[unit]
        end = None
        if summary.as_of is not None and unit != "M":
            end = summary.as_of + timedelta(days=30 * months)
        return [k * length for k in range(months + 1)], end
    if summary.as_of is None:
        raise ValidationError(
            "month", month,
            "calendar months are counted from the summary's as_of, which this summary lacks: "
            "build it with summary_from_transactions(), or use month='30-day'",
        )  # fmt: skip
    start = summary.as_of
    unit_us = {"h": 3_600e6, "D": 86_400e6, "W": 7 * 86_400e6}[unit]
    steps = [(_add_months(start, k) - start) / timedelta(microseconds=1) / unit_us
             for k in range(months + 1)]  # fmt: skip
    return steps, _add_months(start, months)


def _spend(spend: object, summary: BtydSummary) -> tuple[Float64Array, dict[str, float] | None]:
    """Expected spend per purchase of each customer, and the spend model's parameters."""
    if isinstance(spend, GammaGammaModel):
        return spend.expected_spend(summary), spend.params
    if isinstance(spend, int | float) and not isinstance(spend, bool):
        if not (math.isfinite(spend) and spend >= 0):
            raise ValidationError("spend", spend, "must be a finite number >= 0")
        return np.full(len(summary), float(spend)), {"spend": float(spend)}
    values = np.asarray(spend)
    if values.ndim != 1 or values.dtype.kind not in "fiu" or len(values) != len(summary):
        raise ValidationError(
            "spend", type(spend).__name__,
            "must be a GammaGammaModel, one number, or one number per customer of the summary",
        )  # fmt: skip
    amounts = values.astype(np.float64)
    if not np.all(np.isfinite(amounts)):
        raise ValidationError("spend", spend, "must hold finite numbers")
    return amounts, None


def customer_lifetime_value(
    purchases: BgNbdModel,
    spend: GammaGammaModel | float | npt.ArrayLike,
    summary: BtydSummary,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    month: MonthRule = "30-day",
) -> PredictedClv:
    """Discounted CLV of every customer in ``summary`` over the next ``months`` months.

    ``spend`` is a fitted [`GammaGammaModel`][crmcore.analytics.gamma_gamma.GammaGammaModel],
    or, where the data cannot support one, one expected spend per purchase for everyone (a
    number) or per customer (an array aligned with ``summary``). ``discount_rate`` is per
    month (0.01 = 1 % a month, about 12.7 % a year). ``month`` measures the months:
    ``"30-day"`` as ``lifetimes`` does (30 days, 4.345 weeks, 720 hours), ``"calendar"``
    as the calendar months after the summary's ``as_of``. The summary's ``time_unit`` must
    be the one ``purchases`` was fitted in. Raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError] for bad arguments and
    [`ModelFitError`][crmcore.kernel.errors.ModelFitError] if a model cannot give a finite
    prediction (e.g. a spend model with ``q <= 1``).
    """
    if not isinstance(summary, BtydSummary):
        raise ValidationError("summary", type(summary).__name__, "must be an BtydSummary")
    if not isinstance(purchases, BgNbdModel):
        raise ValidationError("purchases", type(purchases).__name__, "must be a BgNbdModel")
    months = integer(months, "months", low=1, high=_MAX_MONTHS)
    month = choice(month, "month", ("30-day", "calendar"))
    if not (
        isinstance(discount_rate, int | float)
        and math.isfinite(discount_rate)
        and discount_rate > -1
    ):
        raise ValidationError("discount_rate", discount_rate, "must be a finite number > -1")
    if summary.time_unit != purchases.time_unit:
        raise ValidationError(
            "summary.time_unit",
            summary.time_unit,
            f"must match the purchase model's time unit ({purchases.time_unit})",
        )
    amount, spend_params = _spend(spend, summary)
    try:
        steps, end = _month_steps(summary, months, month)
    except OverflowError:  # the horizon passes the year 9999
        raise ValidationError(
            "months", months, f"runs past the year 9999 from as_of ({summary.as_of})"
        ) from None
    cumulative = purchases.expected_purchases_path(summary, steps)
    per_month = np.diff(cumulative, axis=1)
    discount = (1.0 + float(discount_rate)) ** -np.arange(1, months + 1, dtype=np.float64)
    clv = (per_month @ discount) * amount
    if not np.all(np.isfinite(clv)):
        raise ModelFitError("CLV", "the prediction is not finite for these models")
    return PredictedClv(
        customer_ids=read_only(summary.customer_ids.copy()),
        clv=read_only(clv),
        expected_purchases=read_only(np.ascontiguousarray(cumulative[:, -1])),
        probability_alive=read_only(purchases.probability_alive(summary)),
        expected_spend=read_only(amount),
        months=months,
        discount_rate=float(discount_rate),
        month=month,
        time_unit=summary.time_unit,
        as_of=summary.as_of,
        horizon_end=end,
        month_lengths=tuple(float(b - a) for a, b in itertools.pairwise(steps)),
        purchase_model=purchases.params,
        spend_model=spend_params,
        data=summary.data,
    )


__getattr__ = renamed(
    globals(),
    {
        "CLVReport": "PredictedClv",
    },
)
"""Names before 0.2, kept for one release."""
