"""The numpy layout of each column kind, and the arrays that make up one column.

[`crmcore.columnar.schema`][crmcore.columnar.schema] documents the layout of each kind
(``StringDType`` plus a mask, ``float64`` with ``NaN``, ``datetime64[us]``
with ``NaT``, integer codes into sorted categories, CSR offsets for tag
sets, ...); this module holds the dtypes and markers that layout is made of,
and `ColumnLayout`, the arrays of one column as the builders hand
them to [`Column`][crmcore.columnar.columns.Column].
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, NamedTuple

import numpy as np

from crmcore.columnar.schema import COLUMN_KINDS, ColumnKind
from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array
from crmcore.kernel.clock import EPOCH, MICROSECOND

__all__ = [
    "DT_D",
    "DT_US",
    "MAX_US",
    "MIN_US",
    "NAT",
    "SCALAR_KINDS",
    "STRING_DTYPE",
    "ColumnLayout",
    "narrowest_int",
]

STRING_DTYPE: Final = np.dtypes.StringDType()
"""numpy's variable-width UTF-8 string dtype (numpy >= 2), used for string columns."""

NAT: Final = np.iinfo(np.int64).min
"""``NaT`` as an ``int64`` (the missing marker of datetime and date columns)."""
DT_US: Final = np.dtype("datetime64[us]")
"""The dtype of datetime columns (UTC)."""
DT_D: Final = np.dtype("datetime64[D]")
"""The dtype of date columns."""
MIN_US: Final = (datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // MICROSECOND
"""The range of a datetime column, in microseconds since the epoch: years 1 to 9999."""
MAX_US: Final = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - EPOCH) // MICROSECOND

SCALAR_KINDS: Final[frozenset[ColumnKind]] = frozenset(COLUMN_KINDS) - {"tags"}
"""Kinds that hold one scalar per row (everything except ``tags``)."""


class ColumnLayout(NamedTuple):
    """The arrays of one column, already in its kind's layout (not yet frozen).

    The fields are the arguments of ``Column._new``, in its order.
    """

    kind: ColumnKind
    values: AnyArray
    mask: BoolArray | None = None
    categories: tuple[str, ...] = ()
    offsets: Int64Array | None = None
    vocabulary: AnyArray | None = None


_WIDTHS: Final = (np.int8, np.int16, np.int32, np.int64)


def narrowest_int(values: AnyArray) -> AnyArray:
    """``values`` (integers) in the narrowest signed dtype that holds them all.

    Int columns keep their memory to what their data needs (a column of small
    counts costs one byte a row, not eight); readers that do arithmetic on them
    widen first.
    """
    if not values.size:
        return values.astype(np.int8)
    low, high = int(values.min()), int(values.max())
    for dtype in _WIDTHS:
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return values.astype(dtype, copy=False)
    return values  # pragma: no cover - int64 holds every int64
