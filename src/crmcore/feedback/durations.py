"""Duration statistics: how long first responses and resolutions take.

Count, mean, median, 90th percentile (linear interpolation between order
statistics, Hyndman & Fan type 7, NumPy's default) and maximum of
durations given as timedeltas, seconds or ``timedelta64``. Unfinished items
(``None``/``NaN``/``NaT``) are counted as ``pending``, never averaged in.
[`durations()`][crmcore.feedback.durations.durations] summarises one set,
[`duration_breakdown()`][crmcore.feedback.durations.duration_breakdown] one set per label (every
group in one numpy pass). The case report of [`case_metrics`][crmcore.feedback.case_metrics] is
built on them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Final, Literal

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.feedback.grouping import label_codes
from crmcore.kernel.arrays import Float64Array, Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import html_table, json_number, records_frame
from crmcore.kernel.validators import choice, text

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DurationStats",
    "duration_breakdown",
    "durations",
]

_STATISTICS: Final = ("mean", "median", "p90", "max")


def _seconds(values: object, field: str = "durations") -> Float64Array:
    """Durations as float seconds; ``None``/``NaN``/``NaT`` stay ``NaN`` (pending)."""
    if isinstance(values, str | bytes) or values is None:
        raise ValidationError(field, values, "must be a sequence of durations")
    if isinstance(values, np.ndarray) and values.dtype.kind == "m":
        if values.ndim != 1:
            raise ValidationError(field, values.shape, "must be one-dimensional")
        us = values.astype("timedelta64[us]")
        out: Float64Array = us.view(np.int64).astype(np.float64) / 1e6
        out[np.isnat(us)] = np.nan
    elif isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        if values.ndim != 1:
            raise ValidationError(field, values.shape, "must be one-dimensional")
        out = values.astype(np.float64)
        if np.isinf(out).any():
            i = int(np.argmax(np.isinf(out)))
            raise ValidationError(f"{field}[{i}]", float(out[i]), "must be finite")
    elif isinstance(values, Sequence | np.ndarray):
        items = list(values)
        out = np.empty(len(items), dtype=np.float64)
        for i, v in enumerate(items):
            if v is None:
                out[i] = np.nan
            elif isinstance(v, timedelta):
                out[i] = v.total_seconds()
            elif isinstance(v, int | float) and not isinstance(v, bool) and not math.isinf(v):
                out[i] = float(v)
            else:
                raise ValidationError(f"{field}[{i}]", v, "must be a timedelta, seconds or None")
    else:
        raise ValidationError(field, values, "must be a sequence of durations")
    negative = out < 0
    if negative.any():
        i = int(np.argmax(negative))
        raise ValidationError(f"{field}[{i}]", float(out[i]), "must not be negative")
    return out


@attrs.frozen
class DurationStats:
    """The distribution of finished durations (seconds), with unfinished ones counted apart.

    ``count`` finished items and ``pending`` unfinished ones (``None``,
    ``NaN`` or ``NaT`` in the input). Mean, median, 90th percentile
    (linear interpolation between order statistics, Hyndman & Fan type 7,
    NumPy's default) and maximum are ``None`` when ``count`` is 0.
    """

    name: str
    count: int
    pending: int
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None

    def as_timedelta(self, which: Literal["mean", "median", "p90", "max"]) -> timedelta | None:
        """One statistic as a `timedelta` (``None`` without data).

        ``which`` is one of ``"mean"``, ``"median"``, ``"p90"``, ``"max"`` (else a
        [`ValidationError`][crmcore.kernel.errors.ValidationError]).
        """
        value: float | None = getattr(self, choice(which, "which", _STATISTICS))
        return None if value is None else timedelta(seconds=value)

    def to_dict(self) -> dict[str, object]:
        """The statistics as JSON-compatible data (seconds)."""
        return {
            "name": self.name,
            "count": self.count,
            "pending": self.pending,
            "mean_seconds": json_number(self.mean),
            "median_seconds": json_number(self.median),
            "p90_seconds": json_number(self.p90),
            "max_seconds": json_number(self.max),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row: the columns of ``to_dict()``."""
        return records_frame([self.to_dict()], "DurationStats.to_pandas")

    def _repr_html_(self) -> str:
        def hours(v: float | None) -> float | None:
            return None if v is None else v / 3600

        return html_table(
            f"{self.name}: {self.count} finished, {self.pending} pending",
            ["mean (h)", "median (h)", "p90 (h)", "max (h)"],
            [[hours(self.mean), hours(self.median), hours(self.p90), hours(self.max)]],
            kinds=["float"] * 4,
        )


def _grouped_quantiles(
    values: Float64Array, codes: Int64Array, groups: int, q: float
) -> Float64Array:
    """The ``q`` quantile of each group (type 7); NaN for empty groups. Values must be finite."""
    order = np.lexsort((values, codes))
    sorted_values = values[order]
    counts = np.bincount(codes, minlength=groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    out = np.full(groups, np.nan)
    has = counts > 0
    h = (counts[has] - 1) * q
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    base = starts[has]
    below, above = sorted_values[base + lo], sorted_values[base + hi]
    out[has] = below + (h - lo) * (above - below)
    return out


def duration_rows(
    seconds: Float64Array, codes: Int64Array, keys: tuple[str, ...], name: str
) -> tuple[DurationStats, ...]:
    """Statistics per group of ``codes``, each named ``name`` or, if that is empty, its key."""
    groups = len(keys)
    done = ~np.isnan(seconds)
    pending = np.bincount(codes[~done], minlength=groups)
    values, vcodes = seconds[done], codes[done]
    counts = np.bincount(vcodes, minlength=groups)
    sums = np.bincount(vcodes, weights=values, minlength=groups)
    medians = _grouped_quantiles(values, vcodes, groups, 0.5)
    p90 = _grouped_quantiles(values, vcodes, groups, 0.9)
    maxima = np.full(groups, -np.inf)
    np.maximum.at(maxima, vcodes, values)
    rows = []
    for g, key in enumerate(keys):
        c = int(counts[g])
        rows.append(
            DurationStats(
                name=key if name == "" else name,
                count=c,
                pending=int(pending[g]),
                mean=float(sums[g] / c) if c else None,
                median=float(medians[g]) if c else None,
                p90=float(p90[g]) if c else None,
                max=float(maxima[g]) if c else None,
            )
        )
    return tuple(rows)


def durations(values: object, *, name: str = "duration") -> DurationStats:
    """Count, mean, median, p90 and maximum of durations (timedeltas, seconds or timedelta64).

    Unfinished items (``None``, ``NaN``, ``NaT``) are counted in
    ``pending``; negative durations raise a ValidationError naming the
    position.

    Examples:
        >>> from datetime import timedelta
        >>> d = durations([timedelta(hours=1), timedelta(hours=3), None], name="first response")
        >>> d.count, d.pending, d.as_timedelta("median")
        (2, 1, datetime.timedelta(seconds=7200))
    """
    seconds = _seconds(values)
    codes = np.zeros(len(seconds), dtype=np.int64)
    return duration_rows(seconds, codes, ("all",), text(name, "name", limit=200, empty=True))[0]


def duration_breakdown(
    values: object, labels: npt.ArrayLike | Sequence[object]
) -> dict[str, DurationStats]:
    """[`durations()`][crmcore.feedback.durations.durations] per distinct label (e.g. priority or
    channel), vectorised.

    Returns ``{label: stats}`` in sorted label order; each stats' ``name`` is the label.
    """
    seconds = _seconds(values)
    codes, keys = label_codes(labels, len(seconds))
    return dict(zip(keys, duration_rows(seconds, codes, keys, ""), strict=True))
