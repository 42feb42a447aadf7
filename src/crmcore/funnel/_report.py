"""Funnel report objects (reports, breakdowns, per-customer outcomes) and the aggregations.

`aggregate()` turns per-customer outcomes into step counts and
time-to-convert statistics for many groups at once with numpy (one sort per
step for all groups); `aggregate_python()` does the same for one group
in plain Python, for the reference paths. Both use numpy's default
("linear") percentile definition, computed the same way, so their numbers
agree exactly apart from the mean's summation order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, get_args

import attrs
import numpy as np

from crmcore.funnel._steps import (
    Exclusion,
    FunnelCounting,
    FunnelMode,
    FunnelStep,
    Plan,
    describe,
    label,
)
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import html_table, json_number, records_frame
from crmcore.kernel.validators import choice
from crmcore.plotting.funnel import plot_funnel, plot_funnel_breakdown

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "ConversionTime",
    "FunnelBreakdown",
    "FunnelCustomers",
    "FunnelReport",
    "FunnelStepStats",
    "TimeStat",
    "aggregate",
    "aggregate_python",
]

TimeStat: TypeAlias = Literal["mean", "median", "p25", "p75", "p90"]
"""The statistics of a [`ConversionTime`][crmcore.funnel._report.ConversionTime]."""
_QUANTILES: Final = (("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9))
_US_PER_S: Final = 1e6


@attrs.frozen
class ConversionTime:
    """Time to convert into a step from the previous one, over the customers who did (seconds).

    Percentiles use linear interpolation between order statistics (numpy's
    default), so ``median`` is the 50th percentile. PostHog reports the
    median beside the mean because "mean is skewed by long tails"; p25, p75
    and p90 show the spread.
    """

    count: int
    mean: float | None
    median: float | None
    p25: float | None
    p75: float | None
    p90: float | None

    def timedelta(self, stat: TimeStat = "median") -> timedelta | None:
        """One statistic as a `timedelta` (rounded to the microsecond)."""
        value: float | None = getattr(self, choice(stat, "stat", get_args(TimeStat)))
        return None if value is None else timedelta(seconds=value)

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible: the count and each statistic in seconds."""
        return {
            "count": self.count,
            **{f"{stat}_seconds": json_number(getattr(self, stat)) for stat in _STATS},
        }


_STATS: Final[tuple[TimeStat, ...]] = ("mean", "median", "p25", "p75", "p90")


@attrs.frozen
class FunnelStepStats:
    """One step of a funnel report.

    ``customers`` reached this step; ``conversion`` is the share of the
    previous step's customers who did (step-to-step), ``overall`` the share
    of step 1's; ``dropped`` and ``drop_rate`` are those who reached the
    previous step but not this one (PostHog's definitions; ``None`` where a
    rate has no denominator, and for step 1). In an ``"any"``-order funnel
    step ``k`` means "any ``k`` of the steps", so ``step`` is ``None``.
    """

    number: int
    step: FunnelStep | None
    label: str
    customers: int
    conversion: float | None
    overall: float | None
    dropped: int | None
    drop_rate: float | None
    time: ConversionTime | None

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible data."""
        return {
            "number": self.number,
            "step": None if self.step is None else describe(self.step),
            "label": self.label,
            "customers": self.customers,
            "conversion": json_number(self.conversion),
            "overall": json_number(self.overall),
            "dropped": json_number(self.dropped),
            "drop_rate": json_number(self.drop_rate),
            "time_to_convert": None if self.time is None else self.time.to_dict(),
        }


def _step_record(step: FunnelStepStats) -> dict[str, object]:
    """One step as a flat table row: counts, rates and time to convert in seconds."""
    time = step.time
    return {
        "number": step.number,
        "label": step.label,
        "customers": step.customers,
        "conversion": step.conversion,
        "overall": step.overall,
        "dropped": step.dropped,
        "drop_rate": step.drop_rate,
        "timed": None if time is None else time.count,
        **{f"{stat}_seconds": None if time is None else getattr(time, stat) for stat in _STATS},
    }


_STEP_COLUMNS: Final = (
    "number",
    "label",
    "customers",
    "conversion",
    "overall",
    "dropped",
    "drop_rate",
    "timed",
    *(f"{stat}_seconds" for stat in _STATS),
)


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def duration(seconds: float | None) -> str:
    """A short human duration: ``45 s``, ``12.5 min``, ``3.2 h``, ``2.1 d`` (``-`` if unknown)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


@attrs.frozen
class FunnelReport:
    """Customers reaching each step of a funnel, conversion, drop-off and time to convert.

    ``customers`` is how many customers the input had (with any event);
    ``excluded`` how many were left out because an exclusion hit every one
    of their trials (they are in no step). ``steps[0].customers`` entered
    the funnel. ``counting`` says which attempts counted
    ([`FunnelCounting`][crmcore.funnel._steps.FunnelCounting]). Render it in Jupyter
    (``_repr_html_``) or serialise it with
    [`to_dict()`][crmcore.funnel._report.FunnelReport.to_dict].
    """

    steps: tuple[FunnelStepStats, ...]
    definition: tuple[FunnelStep, ...]
    mode: FunnelMode
    window: timedelta | None
    exclusions: tuple[Exclusion, ...]
    customers: int
    excluded: int
    counting: FunnelCounting = "trials"

    @property
    def counts(self) -> tuple[int, ...]:
        """Customers reaching each step, in order."""
        return tuple(step.customers for step in self.steps)

    @property
    def entered(self) -> int:
        """Customers who reached step 1."""
        return self.steps[0].customers

    @property
    def converted(self) -> int:
        """Customers who reached the last step."""
        return self.steps[-1].customers

    @property
    def conversion(self) -> float | None:
        """Overall conversion: last step over first (``None`` if nobody entered)."""
        return _rate(self.converted, self.entered)

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-compatible data (``None`` for undefined rates and times)."""
        return {
            "mode": self.mode,
            "counting": self.counting,
            "window_seconds": None if self.window is None else self.window.total_seconds(),
            "definition": [describe(step) for step in self.definition],
            "exclusions": [e.to_dict() for e in self.exclusions],
            "customers": self.customers,
            "entered": self.entered,
            "converted": self.converted,
            "conversion": json_number(self.conversion),
            "excluded": self.excluded,
            "steps": [step.to_dict() for step in self.steps],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per step: customers, conversion, drop-off and time to convert in seconds."""
        rows = [_step_record(step) for step in self.steps]
        return records_frame(rows, "FunnelReport.to_pandas", _STEP_COLUMNS)

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """Bars per step with drop-off and conversion:
        [`plot_funnel()`][crmcore.plotting.funnel.plot_funnel]."""
        return plot_funnel(self, ax=ax)

    def _settings(self) -> str:
        window = (
            "no window"
            if self.window is None
            else f"window {duration(self.window.total_seconds())}"
        )
        counting = "max-step chains" if self.counting == "max_step" else "trials"
        return f"{self.mode} mode; {counting}; {window}"

    def _caption(self) -> str:
        parts = [self._settings(), f"{self.customers:,} customers in the input"]
        if self.exclusions:
            parts.append(f"{self.excluded:,} excluded")
        return "; ".join(parts)

    def _repr_html_(self) -> str:
        """An HTML table: one row per step, with a bar for its customers."""
        rows = [
            [
                s.number,
                s.label,
                s.customers,
                s.conversion,
                s.overall,
                s.dropped,
                duration(None if s.time is None else s.time.median),
                duration(None if s.time is None else s.time.p90),
            ]
            for s in self.steps
        ]
        conversion = "-" if self.conversion is None else f"{self.conversion:.1%}"
        return html_table(
            f"Funnel: {self.entered:,} entered, {conversion} converted",
            ["#", "step", "customers", "of previous", "of first", "dropped", "median time",
             "p90 time"],
            rows,
            kinds=["int", "auto", "int", "pct", "pct", "int", "auto", "auto"],
            bars={2: float(max(self.entered, 1))},
            caption=self._caption(),
        )  # fmt: skip


@attrs.frozen
class FunnelBreakdown(Mapping[str | None, FunnelReport]):
    """One funnel report per group: a read-only mapping of group key to
    [`FunnelReport`][crmcore.funnel._report.FunnelReport].

    ``by`` says what the groups are (a column name, ``"segments"``,
    ``"cohort:week"`` or ``"cohort:month"``); the key ``None`` is the group
    of customers whose value is missing. As for any mapping, an unknown key
    raises ``KeyError`` (``get`` and ``in`` rely on it).
    """

    by: str
    groups: tuple[tuple[str | None, FunnelReport], ...]

    def __getitem__(self, key: str | None) -> FunnelReport:
        for name, report in self.groups:
            if name == key:
                return report
        raise KeyError(key)

    def __iter__(self) -> Iterator[str | None]:
        return (name for name, _ in self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible: ``{"by": ..., "groups": [{"group": key, ...report}, ...]}``."""
        return {
            "by": self.by,
            "groups": [{"group": name, **report.to_dict()} for name, report in self.groups],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per group and step (``group`` first, then the columns of
        [`FunnelReport.to_pandas()`][crmcore.funnel._report.FunnelReport.to_pandas])."""
        rows = [
            {"group": name, **_step_record(step)}
            for name, report in self.groups
            for step in report.steps
        ]
        return records_frame(rows, "FunnelBreakdown.to_pandas", ("group", *_STEP_COLUMNS))

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """One line per group:
        [`plot_funnel_breakdown()`][crmcore.plotting.funnel.plot_funnel_breakdown]."""
        return plot_funnel_breakdown(self, ax=ax)

    def _repr_html_(self) -> str:
        """One row per group: customers per step and overall conversion (with bars)."""
        if not self.groups:
            return html_table(f"Funnel by {self.by}: no groups", ["group"], [])
        first = self.groups[0][1]
        names = [s.label for s in first.steps]
        rows = [
            [("(missing)" if name is None else name), *report.counts, report.conversion]
            for name, report in self.groups
        ]
        top = max(max(r.entered for _, r in self.groups), 1)
        return html_table(
            f"Funnel by {self.by}",
            ["group", *names, "conversion"],
            rows,
            kinds=["auto", *(["int"] * len(names)), "pct"],
            bars={1: float(top), len(names) + 1: 1.0},
            caption=first._settings(),
        )


@attrs.frozen(eq=False)
class FunnelCustomers:
    """Who reached what: one row per customer who started at least one trial.

    ``reached[i]`` is the number of steps customer ``customer_ids[i]``
    reached on their chosen trial (``0`` when an exclusion hit every trial,
    ``excluded[i]``); ``entered_at`` is that trial's start and
    ``step_at[i, k]`` the instant of step ``k + 1`` (``NaT`` beyond
    ``reached``). All arrays are numpy (``datetime64[us]`` in UTC).
    """

    customer_ids: AnyArray
    reached: Int64Array
    excluded: BoolArray
    entered_at: AnyArray
    step_at: AnyArray

    def __len__(self) -> int:
        return len(self.customer_ids)

    def dropped_after(self, step: int) -> AnyArray:
        """Ids of the customers whose furthest step is ``step`` (1-based): the drop-off list."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ValidationError("step", step, "must be a step number (1 is the first step)")
        ids: AnyArray = self.customer_ids[self.reached == step]
        return ids


# ---------------------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------------------


def _lerp(a: Float64Array, b: Float64Array, t: Float64Array) -> Float64Array:
    """numpy's interpolation step for percentiles (exact at both ends)."""
    diff = b - a
    out: Float64Array = np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
    return out


def _lerp_py(a: float, b: float, t: float) -> float:
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


@attrs.frozen(eq=False)
class GroupCounts:
    """Step counts and timing statistics for ``G`` groups (arrays of shape ``(G, ...)``)."""

    customers: Int64Array  # (G,)
    counts: Int64Array  # (G, K): customers reaching each step
    excluded: Int64Array  # (G,)
    times: list[dict[str, Float64Array]]  # per step k >= 1: stat -> (G,) values in seconds
    timed: list[Int64Array]  # per step k >= 1: (G,) number of customers timed


def aggregate(
    reached: Int64Array,
    times_us: Int64Array,
    group: Int64Array,
    customers: Int64Array,
    steps: int,
) -> GroupCounts:
    """Counts and time statistics per group; ``group`` is ``-1`` for customers in none.

    ``customers[g]`` (how many input customers group ``g`` has) is passed
    through, as it also counts customers who never entered.
    """
    n_groups = len(customers)
    keep = group >= 0
    g, r = group[keep], reached[keep]
    t = times_us[keep]
    flat = np.bincount(g * (steps + 1) + r, minlength=n_groups * (steps + 1))
    table = flat.reshape(n_groups, steps + 1)
    at_least = np.cumsum(table[:, ::-1], axis=1)[:, ::-1]  # at_least[:, j] = reached >= j
    counts = at_least[:, 1:].astype(np.int64)
    stats: list[dict[str, Float64Array]] = []
    timed: list[Int64Array] = []
    for k in range(1, steps):
        sel = r > k
        delta = t[sel, k] - t[sel, k - 1]
        gk = g[sel]
        values = (np.sort(delta) if n_groups == 1 else delta[np.lexsort((delta, gk))]).astype(
            np.float64
        )
        n = np.bincount(gk, minlength=n_groups).astype(np.int64)
        first = np.cumsum(n) - n
        has = n > 0
        out: dict[str, Float64Array] = {}
        total = np.bincount(gk, weights=delta.astype(np.float64), minlength=n_groups)
        out["mean"] = np.where(has, total / np.maximum(n, 1), np.nan) / _US_PER_S
        for name, q in _QUANTILES:
            virtual = q * (np.maximum(n, 1) - 1).astype(np.float64)
            lo = np.floor(virtual).astype(np.int64)
            hi = np.minimum(lo + 1, np.maximum(n, 1) - 1)
            safe = np.where(has, first, 0)
            if len(values):
                a = values[np.minimum(safe + lo, len(values) - 1)]
                b = values[np.minimum(safe + hi, len(values) - 1)]
                value = _lerp(a, b, virtual - lo)
            else:
                value = np.zeros(n_groups)
            out[name] = np.where(has, value, np.nan) / _US_PER_S
        stats.append(out)
        timed.append(n)
    return GroupCounts(customers, counts, table[:, 0].astype(np.int64), stats, timed)


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def group_report(plan: Plan, counts: GroupCounts, g: int) -> FunnelReport:
    """The report of group ``g``."""
    times: list[ConversionTime | None] = [None]
    for k in range(1, plan.size):
        stat = counts.times[k - 1]
        times.append(
            ConversionTime(
                count=int(counts.timed[k - 1][g]),
                mean=_optional(stat["mean"][g]),
                median=_optional(stat["median"][g]),
                p25=_optional(stat["p25"][g]),
                p75=_optional(stat["p75"][g]),
                p90=_optional(stat["p90"][g]),
            )
        )
    return build_report(
        plan,
        int(counts.customers[g]),
        [int(c) for c in counts.counts[g]],
        int(counts.excluded[g]),
        times,
    )


def aggregate_python(
    plan: Plan,
    customers: int,
    outcomes: Sequence[tuple[int, Sequence[int]]],
) -> FunnelReport:
    """The report of per-customer outcomes ``(reached, step instants in µs)``, in plain Python."""
    steps = plan.size
    counts = [sum(1 for reached, _ in outcomes if reached > k) for k in range(steps)]
    excluded = sum(1 for reached, _ in outcomes if reached == 0)
    times: list[ConversionTime | None] = [None]
    for k in range(1, steps):
        deltas = sorted(t[k] - t[k - 1] for reached, t in outcomes if reached > k)
        n = len(deltas)
        if not n:
            times.append(ConversionTime(0, None, None, None, None, None))
            continue
        quantiles: dict[str, float] = {}
        for name, q in _QUANTILES:
            virtual = q * float(n - 1)
            lo = math.floor(virtual)
            hi = min(lo + 1, n - 1)
            quantiles[name] = (
                _lerp_py(float(deltas[lo]), float(deltas[hi]), virtual - lo) / _US_PER_S
            )
        mean = math.fsum(float(d) for d in deltas) / n / _US_PER_S
        times.append(ConversionTime(n, mean, **quantiles))
    return build_report(plan, customers, counts, excluded, times)


def build_report(
    plan: Plan,
    customers: int,
    counts: Sequence[int],
    excluded: int,
    times: Sequence[ConversionTime | None],
) -> FunnelReport:
    """Assemble a report from step counts (derives the rates and drop-offs)."""
    rows = []
    for k, count in enumerate(counts):
        previous = counts[k - 1] if k else None
        step = None if plan.mode == "any" else plan.steps[k]
        name = (f"{k + 1} step" + ("s" if k else "")) if step is None else label(step)
        rows.append(
            FunnelStepStats(
                number=k + 1,
                step=step,
                label=name,
                customers=count,
                conversion=None if previous is None else _rate(count, previous),
                overall=_rate(count, counts[0]),
                dropped=None if previous is None else previous - count,
                drop_rate=None if previous is None else _rate(previous - count, previous),
                time=times[k],
            )
        )
    return FunnelReport(
        steps=tuple(rows),
        definition=plan.steps,
        mode=plan.mode,
        window=plan.window,
        exclusions=plan.exclusions,
        customers=customers,
        excluded=excluded,
        counting=plan.counting,
    )
