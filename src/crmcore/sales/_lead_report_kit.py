"""What the lead reports share: checked input, group codes, percentiles, rates, pandas.

The inside of [`crmcore.sales.lead_reports`][crmcore.sales.lead_reports] and
[`crmcore.sales.lead_conversion_report`][crmcore.sales.lead_conversion_report].
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np

from crmcore.kernel.arrays import Float64Array, Int64Array
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.validators import choice
from crmcore.sales.lead_columns import LeadColumns

__all__ = [
    "NO_GROUP",
    "TOTAL",
    "LeadGrouping",
    "checked_columns",
    "import_pandas",
    "lead_groups",
    "median_of",
    "percentiles",
    "ratio",
]

LeadGrouping = Literal["source", "channel", "owner"]
"""How leads are grouped: by source, channel or (current) owner."""
NO_GROUP: Final = "(none)"
"""The label of the leads with no value to group by."""
TOTAL: Final = "(all)"
"""The label of a report's total row."""


def checked_columns(value: object) -> LeadColumns:
    """``value`` if it is [`LeadColumns`][crmcore.sales.lead_columns.LeadColumns]."""
    if not isinstance(value, LeadColumns):
        raise ValidationError("columns", value, "must be LeadColumns")
    return value


def lead_groups(columns: LeadColumns, by: str) -> tuple[Int64Array, tuple[str, ...]]:
    """Group code of each lead (the last code is "(none)"), and the labels."""
    by = choice(by, "by", ("source", "channel", "owner"))
    codes = {"source": columns.source, "channel": columns.channel, "owner": columns.owner}[by]
    labels = {"source": columns.sources, "channel": columns.channels, "owner": columns.owners}[by]
    out = codes.astype(np.int64)
    out[out < 0] = len(labels)
    return out, (*labels, NO_GROUP)


def import_pandas(feature: str) -> object:
    """The pandas module; MissingDependencyError naming ``feature`` when it is absent."""
    try:
        import pandas
    except ImportError:
        raise MissingDependencyError("pandas", "pandas", feature) from None
    return pandas


def percentiles(values: Float64Array, groups: Int64Array, size: int, q: float) -> Float64Array:
    """The ``q``-th percentile (numpy's linear method) of ``values`` per group; NaN when empty."""
    out = np.full(size, np.nan)
    if not len(values):
        return out
    order = np.lexsort((values, groups))
    sorted_values, sorted_groups = values[order], groups[order]
    counts = np.bincount(sorted_groups, minlength=size)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    for g in np.flatnonzero(counts).tolist():  # one step per group, not per lead
        chunk = sorted_values[starts[g] : starts[g] + counts[g]]
        out[g] = float(np.percentile(chunk, q))
    return out


def ratio(top: object, bottom: object) -> float | None:
    """``top / bottom`` as a float (``None`` when ``bottom`` is 0)."""
    a, b = float(top), float(bottom)  # type: ignore[arg-type]
    return a / b if b else None


def median_of(values: Float64Array) -> float | None:
    """The median of ``values`` (``None`` when empty)."""
    return float(np.percentile(values, 50.0)) if len(values) else None
