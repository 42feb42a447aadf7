"""CLV at scale: fit on the grouped summary, score every customer back inside the engine.

Fitting BG/NBD and Gamma-Gamma needs only the distinct rows of the summary
(the fits compress identical rows into weights anyway), so the engine groups
them, ``(frequency, recency, T)`` and ``(frequency, monetary)`` with their
counts, and numpy/scipy fit on that: the same rows, the same weights, the
same optimisation as [`fit_bgnbd()`][crmcore.analytics.bgnbd.fit_bgnbd] and
[`fit_gamma_gamma()`][crmcore.analytics.gamma_gamma.fit_gamma_gamma] on the full summary.

Scoring runs [`customer_lifetime_value()`][crmcore.analytics.clv.customer_lifetime_value] itself on
each batch of rows the engine hands over (DuckDB: a vectorised Arrow UDF; Spark: ``mapInArrow``):
every customer's numbers are computed by the numpy code, row by row independent of the batch, so
they equal a numpy run (within 1e-9; matrix products may round the last bit differently). The
report's settings (horizon, month lengths, both models' parameters) come from the same function
run on no customer first, which also checks every argument before the engine runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.analytics.bgnbd import BgNbdModel, fit_bgnbd
from crmcore.analytics.btyd import BtydSummary
from crmcore.analytics.clv import PredictedClv, customer_lifetime_value
from crmcore.analytics.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from crmcore.columnar import STRING_DTYPE
from crmcore.engines._runner import ColumnNeed, Runner, check_columns
from crmcore.kernel.arrays import Float64Array, read_only
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "SCORES",
    "check_summary",
    "clv_template",
    "fit_models",
    "predicted_clv",
    "score_arrays",
]

SCORES: Final = ("clv", "expected_purchases", "probability_alive", "expected_spend")
"""The columns scoring adds, in order."""
_NUMBERS: Final = ("float", "integer", "decimal")
_SUMMARY: Final = (
    ColumnNeed("frequency", ("integer", "float", "decimal"), meaning="a number column"),
    ColumnNeed("recency", _NUMBERS, meaning="a number column"),
    ColumnNeed("T", _NUMBERS, meaning="a number column"),
    ColumnNeed("monetary", _NUMBERS, meaning="a number column"),
)


def check_summary(runner: Runner, view: str) -> None:
    """Raise unless ``view`` has the summary's number columns."""
    found = runner.columns(view)
    check_columns(found, _SUMMARY, "summary")
    for name in SCORES:
        if name in found:
            raise ValidationError(name, None, "is a column scoring adds; drop it from the summary")


def _summary(
    template: PredictedClv, columns: tuple[Float64Array, Float64Array, Float64Array, Float64Array]
) -> BtydSummary:
    frequency, recency, age, monetary = columns
    return BtydSummary(
        customer_ids=np.full(len(frequency), "", dtype=STRING_DTYPE),
        frequency=frequency,
        recency=recency,
        T=age,
        monetary=monetary,
        time_unit=template.time_unit,
        as_of=template.as_of,
    )


def clv_template(
    purchases: object,
    spend: object,
    months: object,
    discount_rate: object,
    month: object,
    as_of: object,
) -> PredictedClv:
    """The report of no customer: every argument checked by numpy, the settings filled in.

    ``spend`` is a [`GammaGammaModel`][crmcore.analytics.gamma_gamma.GammaGammaModel] or
    one number (a spend per customer would have to travel with the summary rows).
    """
    if not isinstance(purchases, BgNbdModel):
        raise ValidationError("purchases", type(purchases).__name__, "must be a BgNbdModel")
    if isinstance(spend, GammaGammaModel):
        spend.mean_spend  # noqa: B018 - raises ModelFitError for q <= 1, before the engine runs
    elif isinstance(spend, bool) or not isinstance(spend, int | float):
        raise ValidationError(
            "spend", type(spend).__name__,
            "must be a GammaGammaModel or one expected spend for everyone",
        )  # fmt: skip
    month = choice(month, "month", ("30-day", "calendar"))
    moment = None if as_of is None else to_utc(as_of, "as_of")
    if moment is not None and isinstance(months, int) and 1 <= months <= 120_000:
        try:
            _ = moment + timedelta(days=31 * months)  # the horizon's end, at most 31 days a month
        except OverflowError:  # from this addition only
            raise ValidationError(
                "as_of", as_of, f"must leave {months} months before the year 10000"
            ) from None
    if month == "calendar" and moment is None:
        raise ValidationError(
            "as_of", None, "calendar months are counted from the summary's as_of: pass it"
        )
    empty = np.zeros(0)
    blank = PredictedClv(
        customer_ids=np.zeros(0, dtype=STRING_DTYPE), clv=empty, expected_purchases=empty,
        probability_alive=empty, expected_spend=empty, months=1, discount_rate=0.0,
        time_unit=purchases.time_unit, as_of=moment,
    )  # fmt: skip
    return customer_lifetime_value(
        purchases,
        spend,
        _summary(blank, (empty, empty, empty, empty)),
        months=months,  # type: ignore[arg-type]
        discount_rate=discount_rate,  # type: ignore[arg-type]
        month=month,  # type: ignore[arg-type]
    )


def _expand(table: pa.Table, columns: tuple[str, ...]) -> list[Float64Array]:
    counts = np.asarray(table.column("n").to_numpy(zero_copy_only=False), dtype=np.int64)
    return [
        np.repeat(np.asarray(table.column(c).to_numpy(zero_copy_only=False), np.float64), counts)
        for c in columns
    ]


def fit_models(runner: Runner, view: str, time_unit: str) -> tuple[BgNbdModel, GammaGammaModel]:
    """Fit both models on the engine's summary ``view`` (see the module docs)."""
    check_summary(runner, view)
    rows = runner.fetch(
        f"SELECT frequency, recency, T, count(*) AS n FROM {view} GROUP BY frequency, recency, T"
    )
    x, t_x, big_t = _expand(rows, ("frequency", "recency", "T"))
    blank = np.full(len(x), "", dtype=STRING_DTYPE)
    zeros = np.zeros(len(x))
    purchases = fit_bgnbd(
        BtydSummary(customer_ids=blank, frequency=x, recency=t_x, T=big_t, monetary=zeros,
                    time_unit=time_unit)
    )  # fmt: skip
    spends = runner.fetch(
        f"SELECT frequency, monetary, count(*) AS n FROM {view} WHERE frequency > 0 "
        "GROUP BY frequency, monetary"
    )
    fx, money = _expand(spends, ("frequency", "monetary"))
    blank = np.full(len(fx), "", dtype=STRING_DTYPE)
    zeros = np.zeros(len(fx))
    spend = fit_gamma_gamma(
        BtydSummary(customer_ids=blank, frequency=fx, recency=zeros, T=zeros, monetary=money,
                    time_unit=time_unit)
    )  # fmt: skip
    return purchases, spend


def score_arrays(
    template: PredictedClv,
    purchases: BgNbdModel,
    spend: GammaGammaModel | float,
    frequency: Float64Array,
    recency: Float64Array,
    age: Float64Array,
    monetary: Float64Array,
) -> tuple[Float64Array, ...]:
    """The four scores of one batch of summary rows, by the numpy CLV itself."""
    if not len(frequency):
        return tuple(np.zeros(0) for _ in SCORES)
    clv = customer_lifetime_value(
        purchases,
        spend,
        _summary(template, (frequency, recency, age, monetary)),
        months=template.months,
        discount_rate=template.discount_rate,
        month=template.month,
    )
    return clv.clv, clv.expected_purchases, clv.probability_alive, clv.expected_spend


def predicted_clv(table: pa.Table, template: PredictedClv) -> PredictedClv:
    """The [`PredictedClv`][crmcore.analytics.clv.PredictedClv] of fetched scores."""

    def column(name: str) -> Float64Array:
        values = table.column(name).to_numpy(zero_copy_only=False)
        return read_only(np.asarray(values, dtype=np.float64))

    ids = np.array(table.column("customer_id").to_pylist(), dtype=STRING_DTYPE)
    return attrs.evolve(
        template,
        customer_ids=read_only(ids),
        clv=column("clv"),
        expected_purchases=column("expected_purchases"),
        probability_alive=column("probability_alive"),
        expected_spend=column("expected_spend"),
    )
