"""The pipeline forecast: per month or quarter, closed-won to date, commit, best case, and the
expected revenue with its distribution.

[`pipeline_forecast()`][crmcore.sales.forecast.pipeline_forecast] looks at the pipeline as of
``as_of`` and, for the period containing it and the ``periods - 1`` after it (UTC calendar months or
quarters), reports what a forecast call reviews (Salesforce's forecast categories, PEERS.md §1):

* **closed won**: deals won in the period up to ``as_of``, at their amount then;
* **commit**, **best case**, **pipeline**: the open deals expected to close in the period, by the
  forecast category of their stage (*omitted* deals are left out of the forecast entirely), and
  the cumulative calls **commit forecast** = closed won + commit and **best-case forecast** =
  commit forecast + best case;
* **expected** = closed won + Σ p x amount over the open deals: exact, to the last digit;
* its **distribution**: each open deal a Bernoulli with its probability, independent of the others,
  convolved exactly over the amount grid where feasible, else simulated with a seed, or for
  thousands of deals none of which dominates, the normal approximation
  ([`crmcore.sales.forecast_distribution`][crmcore.sales.forecast_distribution]): P10, P50, P90;
* with ``quotas`` per period: **attainment** (closed won / quota) and **coverage** (open pipeline /
  the quota still to go).

Deals whose expected close date is before the first period (overdue) count in the first period
(``include_overdue=False`` leaves them out). The ``total`` line covers all the periods, with its
own distribution.

Examples:
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from crmcore.kernel.money import Money
    >>> from crmcore.sales.opportunities import Opportunity
    >>> from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
    >>> t = datetime(2026, 4, 2, tzinfo=UTC)
    >>> def deal(i, amount, stage, day):
    ...     return Opportunity.open(f"o{i}", P, owner="ann", amount=Money(amount, "EUR"),
    ...                             close_date=day, at=t, stage=stage).value
    >>> won = deal(1, 5000, "contract_sent", date(2026, 4, 20)).win(t + timedelta(days=1), P).value
    >>> deals = [won, deal(2, 10000, "contract_sent", date(2026, 5, 15)),
    ...          deal(3, 4000, "qualified_to_buy", date(2026, 6, 30))]
    >>> f = pipeline_forecast(deals, t + timedelta(days=5), pipeline=P, period="quarter")
    >>> q = f.periods[0]
    >>> q.label, q.closed_won, q.commit, q.expected
    ('2026-Q2', Money('5000.00', 'EUR'), Money('10000.00', 'EUR'), Money('15600.00', 'EUR'))
    >>> q.p10, q.p50, q.p90
    (Money('9000.00', 'EUR'), Money('15000.00', 'EUR'), Money('19000.00', 'EUR'))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Final, Literal, get_args

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import DAY_US, from_micros, to_micros
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.money import Money, minor_units
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import boolean, choice, instance_of, integer, mapping_of
from crmcore.sales._exact import PROBABILITY_DIGITS, exact_money, group_sums
from crmcore.sales._reports import money_text, optional_money_text
from crmcore.sales.exchange_rates import ExchangeRates
from crmcore.sales.forecast_distribution import (
    DEFAULT_EXACT_LIMIT,
    DEFAULT_SIMULATION_LIMIT,
    DEFAULT_SIMULATIONS,
    bernoulli_sum,
)
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.opportunity_frame import OpportunityFrame, day_number
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_reports_batch import as_frame, closed_as_of, row_probability_units
from crmcore.sales.pipeline_stages import ForecastCategory

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ForecastLine",
    "ForecastPeriodKind",
    "PipelineForecast",
    "period_bounds",
    "pipeline_forecast",
]

ForecastPeriodKind = Literal["month", "quarter"]
"""The calendar periods of a forecast (UTC)."""
_MONTHS: Final = {"month": 1, "quarter": 3}
_COMMIT: Final = ForecastCategory.COMMIT.code
_BEST: Final = ForecastCategory.BEST_CASE.code
_PIPELINE: Final = ForecastCategory.PIPELINE.code
_OMITTED: Final = ForecastCategory.OMITTED.code


def _period_kind(value: object) -> ForecastPeriodKind:
    kind: ForecastPeriodKind = choice(value, "period", get_args(ForecastPeriodKind))
    return kind


def period_bounds(
    day: date, period: ForecastPeriodKind, count: int
) -> list[tuple[str, date, date]]:
    """The ``count`` periods from the one containing ``day``: ``(label, first day, first day of
    the next period)``.

    Examples:
        >>> [p[0] for p in period_bounds(date(2026, 11, 3), "quarter", 3)]
        ['2026-Q4', '2027-Q1', '2027-Q2']

    Raises:
        ValidationError: ``day`` is not a date, ``period`` not a period kind, ``count`` not a
            non-negative integer, or the periods end after the year 9999.
    """
    if not isinstance(day, date):
        raise ValidationError("day", day, "must be a date")
    months = _MONTHS[_period_kind(period)]
    count = integer(count, "count", low=0)
    index = (day.year * 12 + day.month - 1) // months * months
    if (index + count * months) // 12 > date.max.year:
        raise ValidationError("day", day, f"{count} periods from it end after the year 9999")
    out = []
    for k in range(count):
        first = index + k * months
        start = date(first // 12, first % 12 + 1, 1)
        end = date((first + months) // 12, (first + months) % 12 + 1, 1)
        label = f"{start.year}-Q{start.month // 3 + 1}" if months == 3 else start.strftime("%Y-%m")
        out.append((label, start, end))
    return out


@attrs.frozen(kw_only=True)
class ForecastLine:
    """The forecast of one period (or of all of them: ``label`` ``"total"``).

    ``expected`` is exact; ``p10``/``p50``/``p90`` are quantiles of closed won plus the revenue of
    the open deals (``method`` says how they were computed). ``deals`` counts the open deals in
    the period's forecast.
    """

    label: str
    start: date
    end: date
    closed_won: Money
    commit: Money
    best_case: Money
    pipeline: Money
    expected: Money
    p10: Money
    p50: Money
    p90: Money
    deals: int
    method: str
    quota: Money | None = None

    @property
    def commit_forecast(self) -> Money:
        """Closed won + commit."""
        return self.closed_won + self.commit

    @property
    def best_case_forecast(self) -> Money:
        """Closed won + commit + best case."""
        return self.commit_forecast + self.best_case

    @property
    def open_amount(self) -> Money:
        """The open deals in the forecast: commit + best case + pipeline."""
        return self.commit + self.best_case + self.pipeline

    @property
    def attainment(self) -> float | None:
        """Closed won / quota (``None`` without a positive quota)."""
        if self.quota is None or not self.quota.amount:
            return None
        return float(self.closed_won.amount / self.quota.amount)

    @property
    def coverage(self) -> float | None:
        """Open pipeline / the quota still to go (``None`` without a quota, or when it is met)."""
        if self.quota is None:
            return None
        gap = self.quota.amount - self.closed_won.amount
        return float(self.open_amount.amount / gap) if gap > 0 else None

    def to_dict(self) -> dict[str, object]:
        """JSON data: amounts as exact decimal strings."""
        return {
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "closed_won": money_text(self.closed_won),
            "commit": money_text(self.commit),
            "best_case": money_text(self.best_case),
            "pipeline": money_text(self.pipeline),
            "commit_forecast": money_text(self.commit_forecast),
            "best_case_forecast": money_text(self.best_case_forecast),
            "expected": money_text(self.expected),
            "p10": money_text(self.p10),
            "p50": money_text(self.p50),
            "p90": money_text(self.p90),
            "deals": self.deals,
            "method": self.method,
            "quota": optional_money_text(self.quota),
            "attainment": self.attainment,
            "coverage": self.coverage,
        }


@attrs.frozen(kw_only=True)
class PipelineForecast:
    """The forecast per period as of ``as_of``, and over all the periods (``total``)."""

    pipeline_id: str
    as_of: datetime
    period: ForecastPeriodKind
    currency: str
    probabilities: str
    periods: tuple[ForecastLine, ...]
    total: ForecastLine

    def line(self, label: str) -> ForecastLine:
        """The line of the period ``label`` (``"2026-Q2"``, ``"2026-05"``) or ``"total"``."""
        instance_of(label, str, "label", "a period label")
        for line in (*self.periods, self.total):
            if line.label == label:
                return line
        known = ", ".join(line.label for line in self.periods)
        raise ValidationError("label", label, f"must be one of {known} or total")

    def to_dict(self) -> dict[str, object]:
        """JSON data: every period and the total."""
        return {
            "pipeline_id": self.pipeline_id,
            "as_of": self.as_of.isoformat(),
            "period": self.period,
            "currency": self.currency,
            "probabilities": self.probabilities,
            "periods": [line.to_dict() for line in self.periods],
            "total": self.total.to_dict(),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per period and the total (amounts as floats; needs ``pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "PipelineForecast.to_pandas") from None
        rows = []
        for line in (*self.periods, self.total):
            data = line.to_dict()
            for key, value in data.items():
                if isinstance(value, str) and key not in ("label", "start", "end", "method"):
                    data[key] = float(value)
            rows.append(data)
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        rows = [
            [
                line.label,
                float(line.closed_won.amount),
                float(line.commit_forecast.amount),
                float(line.best_case_forecast.amount),
                float(line.expected.amount),
                float(line.p10.amount),
                float(line.p50.amount),
                float(line.p90.amount),
                line.deals,
            ]
            for line in (*self.periods, self.total)
        ]
        return html_table(
            f"Forecast by {self.period} as of {self.as_of.date().isoformat()} ({self.currency})",
            [
                "period",
                "closed won",
                "commit",
                "best case",
                "expected",
                "P10",
                "P50",
                "P90",
                "open deals",
            ],
            rows,
            kinds=["auto", *["float"] * 7, "int"],
            bars={4: max(float(r[4]) for r in rows) or 1.0},  # type: ignore[arg-type]
            caption=f"distribution: {self.total.method}; expected = closed won + Σ p x amount",
        )


def _quota(quotas: Mapping[str, Money] | None, label: str, currency: str) -> Money | None:
    if quotas is None:
        return None
    found = quotas.get(label)
    if found is not None and (not isinstance(found, Money) or found.currency != currency):
        raise ValidationError(f"quotas[{label}]", found, f"must be a Money in {currency}")
    return found


def pipeline_forecast(
    data: OpportunityFrame | Iterable[Opportunity],
    as_of: datetime,
    *,
    pipeline: Pipeline | None = None,
    period: ForecastPeriodKind = "quarter",
    periods: int = 1,
    probabilities: npt.ArrayLike | None = None,
    quotas: Mapping[str, Money] | None = None,
    include_overdue: bool = True,
    rates: ExchangeRates | None = None,
    simulations: int = DEFAULT_SIMULATIONS,
    seed: int = 0,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    simulation_limit: int = DEFAULT_SIMULATION_LIMIT,
) -> PipelineForecast:
    """The forecast for ``periods`` months or quarters from the one containing ``as_of``.

    ``simulations``, ``seed``, ``exact_limit`` and ``simulation_limit`` choose how the
    distribution is computed
    ([`bernoulli_sum()`][crmcore.sales.forecast_distribution.bernoulli_sum]).
    ``probabilities`` (one float per deal, e.g. a predictive model's) replace the stages'
    defaults and the deals' overrides; ``quotas`` map period labels to Money. Raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``period`` for a period
    kind other than month or quarter, ``periods`` for a count outside 1..60.
    """
    kind = _period_kind(period)
    if isinstance(periods, bool) or not isinstance(periods, int) or not 1 <= periods <= 60:
        raise ValidationError("periods", periods, "must be a whole number in 1..60")
    include_overdue = boolean(include_overdue, "include_overdue")
    if quotas is not None:
        mapping_of(quotas, "quotas", str, Money)
    frame = as_frame(data, pipeline)
    t = to_micros(as_of, "as_of")
    currency, _ = frame.report_currency(rates)
    amounts = (frame if rates is None else frame.in_currency(rates)).amount_at(t)
    stage = frame.stage_at(t).astype(np.int64)
    units = row_probability_units(frame, probabilities, stage)
    category = frame.pipeline.category_codes[stage]
    status, closed = closed_as_of(frame, t)
    exists = frame.exists_at(t)
    open_now = exists & (status == 0) & (category != _OMITTED)
    close_day = frame.close_day_at(t)
    bounds = period_bounds(from_micros(t).date(), kind, periods)
    first_day, last_day = day_number(bounds[0][1]), day_number(bounds[-1][2])
    if include_overdue:
        close_day = np.maximum(close_day, first_day)
    won_day = np.where(status == 1, closed // DAY_US, -(2**62))
    context = _Context(
        amounts, units, category, currency, simulations, seed, exact_limit, simulation_limit
    )
    lines = []
    for label, start, end in bounds:
        lo, hi = day_number(start), day_number(end)
        in_open = open_now & (close_day >= lo) & (close_day < hi)
        in_won = exists & (won_day >= lo) & (won_day < hi)
        lines.append(
            context.line(label, start, end, in_open, in_won, _quota(quotas, label, currency))
        )
    in_open = open_now & (close_day >= first_day) & (close_day < last_day)
    in_won = exists & (won_day >= first_day) & (won_day < last_day)
    total = context.line("total", bounds[0][1], bounds[-1][2], in_open, in_won, None)
    return PipelineForecast(
        pipeline_id=frame.pipeline.id,
        as_of=from_micros(t),
        period=kind,
        currency=currency,
        probabilities="stage" if probabilities is None else "given",
        periods=tuple(lines),
        total=total,
    )


@attrs.frozen(eq=False)
class _Context:
    amounts: Int64Array
    units: Int64Array
    category: npt.NDArray[np.int8]
    currency: str
    simulations: int
    seed: int
    exact_limit: int
    simulation_limit: int

    def line(
        self,
        label: str,
        start: date,
        end: date,
        in_open: BoolArray,
        in_won: BoolArray,
        quota: Money | None,
    ) -> ForecastLine:
        digits = minor_units(self.currency)
        keys = np.zeros(int(in_won.sum()), dtype=np.intp)
        won = group_sums(keys, self.amounts[in_won], 1)[0]
        by_category = np.where(in_open, self.category, -1)
        sums = {}
        for code in (_COMMIT, _BEST, _PIPELINE):
            mask = by_category == code
            sums[code] = group_sums(
                np.zeros(int(mask.sum()), dtype=np.intp), self.amounts[mask], 1
            )[0]
        d = bernoulli_sum(
            self.amounts[in_open],
            self.units[in_open],
            exact_limit=self.exact_limit,
            simulations=self.simulations,
            seed=self.seed,
            simulation_limit=self.simulation_limit,
        )
        expected = won * 10**PROBABILITY_DIGITS + d.mean * 10**PROBABILITY_DIGITS
        money = self.currency

        def at(units: int) -> Money:
            return exact_money(won + units, digits, money)

        return ForecastLine(
            label=label,
            start=start,
            end=end,
            closed_won=exact_money(won, digits, money),
            commit=exact_money(sums[_COMMIT], digits, money),
            best_case=exact_money(sums[_BEST], digits, money),
            pipeline=exact_money(sums[_PIPELINE], digits, money),
            expected=exact_money(int(expected), digits + PROBABILITY_DIGITS, money),
            p10=at(d.quantile(0.1)),
            p50=at(d.quantile(0.5)),
            p90=at(d.quantile(0.9)),
            deals=int(in_open.sum()),
            method=d.method,
            quota=quota,
        )
