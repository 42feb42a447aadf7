"""The history forecast: revenue per month or quarter from past orders, with a backtest.

Where the pipeline forecast ([`crmcore.sales.forecast`][crmcore.sales.forecast]) looks at open
deals, [`revenue_forecast()`][crmcore.sales.revenue_forecast.revenue_forecast] looks at what was
sold: the purchases of a [`TransactionLog`][crmcore.columnar.TransactionLog] are summed per UTC
month or quarter (vectorised, exact to 1/10,000), the complete periods before the one containing
``as_of`` are the history (periods without sales count as zero; the current period's revenue to
date is reported beside), and the next ``horizon`` periods are forecast, from the current one on,
by

* ``"holt_winters"``: exponential smoothing with trend and additive or multiplicative seasonality
  (optionally damped), [`crmcore.sales.holt_winters`][crmcore.sales.holt_winters], after FPP3 §8;
* ``"seasonal_naive"``: the last season repeated (FPP3 §5.2), the benchmark to beat.

The **backtest** holds out the last ``holdout`` complete periods, fits on the rest, forecasts them
and reports the errors of the method and of the seasonal naive benchmark on the same periods:
**MAPE** = mean of ``|actual - forecast| / |actual|`` over periods with a non-zero actual, and
**WAPE** = ``Σ |actual - forecast| / Σ |actual|`` (as fractions: 0.08 is 8 %).

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import TransactionLog
    >>> rows = [{"customer_id": f"c{i % 7}", "at": datetime(2023 + m // 12, m % 12 + 1, 10,
    ...          tzinfo=UTC), "amount": 1000.0 + 40 * m + (300.0 if m % 12 == 11 else 0.0)}
    ...         for m in range(36) for i in range(2)]
    >>> log = TransactionLog.from_records(rows)
    >>> f = revenue_forecast(log, datetime(2026, 1, 15, tzinfo=UTC), horizon=3, holdout=6)
    >>> [p.label for p in f.forecasts], round(f.backtest.wape, 3)
    (['2026-01', '2026-02', '2026-03'], 0.0)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Final, Literal, get_args

import attrs
import numpy as np

from crmcore.analytics.cohorts import period_index
from crmcore.analytics.kpis import exact_sums, read_purchases
from crmcore.columnar import TransactionLog
from crmcore.kernel.arrays import Float64Array
from crmcore.kernel.clock import from_micros
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.reports import html_table, json_number
from crmcore.kernel.validators import boolean, choice, integer
from crmcore.sales.forecast import ForecastPeriodKind
from crmcore.sales.holt_winters import HoltWintersFit, Seasonality, fit_holt_winters, seasonal_naive

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Backtest", "ForecastMethod", "ForecastPoint", "RevenueForecast", "revenue_forecast"]

ForecastMethod = Literal["holt_winters", "seasonal_naive"]
"""The history forecast's methods."""
_SEASON: Final = {"month": 12, "quarter": 4}
# Periods of history a fit may span: the smoothing runs one step per period, and two centuries
# are far beyond any sales history (a longer span is a mistyped ``as_of``).
_MAX_HISTORY: Final = {"month": 2400, "quarter": 800}
_MAX_HORIZON: Final = 1200  # periods ahead: a century of months


def _label(index: int, period: str) -> tuple[str, date]:
    """The label and first day of period ``index`` (months or quarters since 1970)."""
    months = index * 3 if period == "quarter" else index
    start = date(1970 + months // 12, months % 12 + 1, 1)
    if period == "quarter":
        return f"{start.year}-Q{start.month // 3 + 1}", start
    return start.strftime("%Y-%m"), start


@attrs.frozen
class ForecastPoint:
    """One forecast period: its label, first day, the point forecast and the 80 % interval
    (``None`` bounds where the method gives none)."""

    label: str
    start: date
    forecast: float
    lower: float | None
    upper: float | None


def _mape(actual: Float64Array, predicted: Float64Array) -> float | None:
    nonzero = actual != 0
    if not nonzero.any():
        return None
    return float(np.mean(np.abs(actual - predicted)[nonzero] / np.abs(actual[nonzero])))


def _wape(actual: Float64Array, predicted: Float64Array) -> float | None:
    total = float(np.sum(np.abs(actual)))
    return float(np.sum(np.abs(actual - predicted))) / total if total else None


@attrs.frozen(eq=False, kw_only=True)
class Backtest:
    """The held-out periods: actuals, the method's forecasts and the seasonal naive ones, with
    their MAPE and WAPE (fractions; ``None`` without a non-zero actual)."""

    labels: tuple[str, ...]
    actual: Float64Array
    forecast: Float64Array
    naive: Float64Array

    @property
    def mape(self) -> float | None:
        """Mean absolute percentage error of the method."""
        return _mape(self.actual, self.forecast)

    @property
    def wape(self) -> float | None:
        """Weighted absolute percentage error of the method (Σ|e| / Σ|y|)."""
        return _wape(self.actual, self.forecast)

    @property
    def naive_mape(self) -> float | None:
        """MAPE of the seasonal naive benchmark on the same periods."""
        return _mape(self.actual, self.naive)

    @property
    def naive_wape(self) -> float | None:
        """WAPE of the seasonal naive benchmark on the same periods."""
        return _wape(self.actual, self.naive)

    def to_dict(self) -> dict[str, object]:
        """JSON data: the periods and the four error measures."""
        return {
            "periods": list(self.labels),
            "actual": [json_number(v) for v in self.actual],
            "forecast": [json_number(v) for v in self.forecast],
            "naive": [json_number(v) for v in self.naive],
            "mape": self.mape,
            "wape": self.wape,
            "naive_mape": self.naive_mape,
            "naive_wape": self.naive_wape,
        }


@attrs.frozen(eq=False, kw_only=True)
class RevenueForecast:
    """Revenue history per period, the forecast of the next periods, and the backtest."""

    as_of: datetime
    period: ForecastPeriodKind
    method: ForecastMethod
    seasonality: Seasonality
    season_length: int
    currency: str | None
    history_labels: tuple[str, ...]
    history: Float64Array
    current_to_date: float
    forecasts: tuple[ForecastPoint, ...]
    parameters: dict[str, float]
    backtest: Backtest | None

    def to_dict(self) -> dict[str, object]:
        """JSON data: history, forecasts, parameters and backtest."""
        return {
            "as_of": self.as_of.isoformat(),
            "period": self.period,
            "method": self.method,
            "seasonality": self.seasonality,
            "season_length": self.season_length,
            "currency": self.currency,
            "history": [
                {"period": label, "revenue": json_number(value)}
                for label, value in zip(self.history_labels, self.history, strict=True)
            ],
            "current_to_date": json_number(self.current_to_date),
            "forecasts": [
                {
                    "period": p.label,
                    "forecast": json_number(p.forecast),
                    "lower": json_number(p.lower),
                    "upper": json_number(p.upper),
                }
                for p in self.forecasts
            ],
            "parameters": dict(self.parameters),
            "backtest": None if self.backtest is None else self.backtest.to_dict(),
        }

    def to_pandas(self) -> pd.DataFrame:
        """History and forecast as one table: period, kind (actual / forecast), value, bounds."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "RevenueForecast.to_pandas") from None
        rows = [
            {"period": label, "kind": "actual", "value": float(v), "lower": None, "upper": None}
            for label, v in zip(self.history_labels, self.history, strict=True)
        ]
        rows += [
            {
                "period": p.label,
                "kind": "forecast",
                "value": p.forecast,
                "lower": p.lower,
                "upper": p.upper,
            }
            for p in self.forecasts
        ]
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        rows = [[p.label, p.forecast, p.lower, p.upper] for p in self.forecasts]
        b = self.backtest
        note = ""
        if b is not None and b.wape is not None:
            naive = f"{b.naive_wape:.1%}" if b.naive_wape is not None else "-"
            note = (
                f"; backtest on {len(b.labels)} periods: WAPE {b.wape:.1%} (seasonal naive {naive})"
            )
        top = max((p.forecast for p in self.forecasts), default=0.0)
        return html_table(
            f"Revenue forecast by {self.period} ({self.method}, {self.seasonality})",
            ["period", "forecast", "lower 80%", "upper 80%"],
            rows,
            kinds=["auto", "float", "float", "float"],
            bars={1: top},
            caption=f"history: {len(self.history)} {self.period}s{note}",
        )


def revenue_forecast(
    log: TransactionLog,
    as_of: datetime,
    *,
    period: ForecastPeriodKind = "month",
    horizon: int = 6,
    method: ForecastMethod = "holt_winters",
    seasonality: Seasonality = "additive",
    damped: bool = False,
    season_length: int | None = None,
    holdout: int | None = None,
) -> RevenueForecast:
    """Forecast revenue for the ``horizon`` periods from the one containing ``as_of``.

    ``season_length`` defaults to 12 months or 4 quarters; ``holdout`` (default ``horizon``; 0
    for none) is the number of last complete periods the backtest holds out. Raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``period`` or ``method``
    for an unknown one and ``log`` when the history is too short for the method and the backtest.
    """
    period = choice(period, "period", get_args(ForecastPeriodKind))
    method = choice(method, "method", get_args(ForecastMethod))
    seasonality = choice(seasonality, "seasonality", get_args(Seasonality))
    damped = boolean(damped, "damped")
    h = integer(horizon, "horizon", low=1, high=_MAX_HORIZON)
    m = (
        _SEASON[period]
        if season_length is None
        else integer(season_length, "season_length", low=1, high=_MAX_HISTORY[period])
    )
    held = h if holdout is None else integer(holdout, "holdout", low=0, high=_MAX_HISTORY[period])
    p = read_purchases(log, as_of)
    months = period_index(p.t, "month")
    now_month = int(period_index(np.array([p.as_us], dtype=np.int64), "month")[0])
    index = months // 3 if period == "quarter" else months
    now = now_month // 3 if period == "quarter" else now_month
    first = int(index.min()) if len(index) else now
    if now - first > _MAX_HISTORY[period]:
        raise ValidationError(
            "as_of", as_of, "is more than 200 years after the first purchase of the log"
        )
    sums = exact_sums(index - first, p.amount, now - first + 1)
    history, current = sums[:-1], float(sums[-1])
    needed = (m if method == "seasonal_naive" else (3 if seasonality == "none" else 2 * m)) + held
    if len(history) < needed:
        raise ValidationError(
            "log",
            len(history),
            f"needs at least {needed} complete {period}s of history for "
            f"{method} with a {held}-period backtest",
        )
    points, parameters = _forecast(history, m, h, method, seasonality, damped)
    labels = [_label(first + k, period) for k in range(len(history) + h)]
    backtest = None
    if held:
        train, test = history[:-held], history[-held:]
        predicted, _ = _forecast(train, m, held, method, seasonality, damped)
        backtest = Backtest(
            labels=tuple(label for label, _ in labels[len(train) : len(history)]),
            actual=test,
            forecast=predicted[0],
            naive=seasonal_naive(train, m, held),
        )
    currency = log["currency"].categories
    return RevenueForecast(
        as_of=from_micros(p.as_us),
        period=period,
        method=method,
        seasonality=seasonality,
        season_length=m,
        currency=str(currency[0]) if len(currency) == 1 else None,
        history_labels=tuple(label for label, _ in labels[: len(history)]),
        history=history,
        current_to_date=current,
        forecasts=tuple(
            ForecastPoint(
                label=labels[len(history) + k][0],
                start=labels[len(history) + k][1],
                forecast=float(points[0][k]),
                lower=None if points[1] is None else float(points[1][k]),
                upper=None if points[2] is None else float(points[2][k]),
            )
            for k in range(h)
        ),
        parameters=parameters,
        backtest=backtest,
    )


def _forecast(
    y: Float64Array, m: int, h: int, method: str, seasonality: Seasonality, damped: bool
) -> tuple[tuple[Float64Array, Float64Array | None, Float64Array | None], dict[str, float]]:
    if method == "seasonal_naive":
        point = seasonal_naive(y, m, h)
        residuals = y[m:] - y[:-m]
        sigma = float(np.sqrt(np.mean(residuals**2))) if len(residuals) else 0.0
        # FPP3 §5.5: the seasonal naive h-step sd is sigma √(k + 1), k = ⌊(h - 1)/m⌋
        half = 1.2815515655446004 * sigma * np.sqrt((np.arange(1, h + 1) - 1) // m + 1)
        return (point, point - half, point + half), {}
    fit: HoltWintersFit = fit_holt_winters(y, m, seasonality=seasonality, damped=damped)
    bounds = fit.interval(h)
    point = fit.forecast(h)
    parameters = {"alpha": fit.alpha, "beta": fit.beta, "gamma": fit.gamma, "phi": fit.phi}
    if bounds is None:
        return (point, None, None), parameters
    return (point, bounds[0], bounds[1]), parameters
