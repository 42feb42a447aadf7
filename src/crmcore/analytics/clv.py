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
with it.

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

import math
from decimal import Decimal
from typing import Final

import attrs
import numpy as np

from crmcore.analytics.bgnbd import BgNbdModel
from crmcore.analytics.btyd import BtydSummary
from crmcore.analytics.gamma_gamma import GammaGammaModel
from crmcore.kernel.arrays import AnyArray, Float64Array, read_only
from crmcore.kernel.deprecation import renamed
from crmcore.kernel.errors import ModelFitError, ValidationError
from crmcore.kernel.money import Money, currency_code
from crmcore.kernel.reports import html_table, json_number

__all__ = ["MONTH_LENGTH", "PredictedClv", "customer_lifetime_value"]


MONTH_LENGTH: Final[dict[str, float]] = {"h": 30 * 24.0, "D": 30.0, "W": 4.345, "M": 1.0}
"""One month in each time unit, as in ``lifetimes`` (``_customer_lifetime_value``)."""
_HTML_ROWS: Final = 10


@attrs.frozen(kw_only=True, eq=False)
class PredictedClv:
    """Predicted CLV per customer, with the pieces it is made of (aligned arrays).

    ``clv`` is the discounted value over ``months``; ``expected_purchases``
    the undiscounted expected repeat purchases over the same horizon;
    ``probability_alive`` today's P(alive); ``expected_spend`` the expected
    spend per purchase. All arrays are read-only floats.
    """

    customer_ids: AnyArray
    clv: Float64Array
    expected_purchases: Float64Array
    probability_alive: Float64Array
    expected_spend: Float64Array
    months: int
    discount_rate: float

    def __len__(self) -> int:
        return len(self.customer_ids)

    def __repr__(self) -> str:
        return (
            f"PredictedClv({len(self)} customers, {self.months} months at "
            f"{self.discount_rate:.2%}/month, total {float(self.clv.sum()):,.2f})"
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
        """Settings, total and one list per column, JSON-compatible."""
        return {
            "months": self.months,
            "discount_rate": self.discount_rate,
            "customers": len(self),
            "total_clv": json_number(self.clv.sum()),
            "customer_ids": self.customer_ids.tolist(),
            "clv": [json_number(v) for v in self.clv],
            "expected_purchases": [json_number(v) for v in self.expected_purchases],
            "probability_alive": [json_number(v) for v in self.probability_alive],
            "expected_spend": [json_number(v) for v in self.expected_spend],
        }

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
        caption = (
            f"{len(self):,} customers; {self.months} months discounted at "
            f"{self.discount_rate:.2%} per month; total {float(self.clv.sum()):,.2f}"
        )
        return html_table(
            "Predicted customer lifetime value (top customers)",
            ["customer", "CLV", "exp. purchases", "P(alive)", "exp. spend"],
            rows,
            kinds=["auto", "float", "float", "pct", "float"],
            bars={1: top},
            caption=caption,
        )


def customer_lifetime_value(
    purchases: BgNbdModel,
    spend: GammaGammaModel,
    summary: BtydSummary,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
) -> PredictedClv:
    """Discounted CLV of every customer in ``summary`` over the next ``months`` months.

    ``discount_rate`` is per month (0.01 = 1 % a month, about 12.7 % a
    year). The summary's ``time_unit`` must be the one ``purchases`` was
    fitted in. Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for bad
    arguments and [`ModelFitError`][crmcore.kernel.errors.ModelFitError] if a model cannot
    give a finite prediction (e.g. a spend model with ``q <= 1``).
    """
    if not isinstance(summary, BtydSummary):
        raise ValidationError("summary", type(summary).__name__, "must be an BtydSummary")
    if not isinstance(purchases, BgNbdModel):
        raise ValidationError("purchases", type(purchases).__name__, "must be a BgNbdModel")
    if not isinstance(spend, GammaGammaModel):
        raise ValidationError("spend", type(spend).__name__, "must be a GammaGammaModel")
    if not isinstance(months, int) or isinstance(months, bool) or months < 1:
        raise ValidationError("months", months, "must be an int >= 1")
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
    month = MONTH_LENGTH[summary.time_unit]
    steps = np.arange(months + 1, dtype=np.float64)
    cumulative = purchases.expected_purchases_path(summary, (steps * month).tolist())
    per_month = np.diff(cumulative, axis=1)
    discount = (1.0 + float(discount_rate)) ** -steps[1:]
    amount = spend.expected_spend(summary)
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
    )


__getattr__ = renamed(
    globals(),
    {
        "CLVReport": "PredictedClv",
    },
)
"""Names before 0.2, kept for one release."""
