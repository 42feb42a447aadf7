"""Type names for numpy arrays, and read-only results.

Batch code annotates its arrays with these aliases (``Int64Array`` rather
than ``npt.NDArray[np.int64]``) and hands results out read-only, so a report
cannot be changed behind its back.
"""

from __future__ import annotations

from typing import Any, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt

from crmcore.kernel.errors import ValidationError

__all__ = [
    "AnyArray",
    "BoolArray",
    "Float64Array",
    "Int8Array",
    "Int16Array",
    "Int32Array",
    "Int64Array",
    "UIntArray",
    "read_only",
]

AnyArray: TypeAlias = npt.NDArray[Any]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
Int8Array: TypeAlias = npt.NDArray[np.int8]
Int16Array: TypeAlias = npt.NDArray[np.int16]
Int32Array: TypeAlias = npt.NDArray[np.int32]
Int64Array: TypeAlias = npt.NDArray[np.int64]
Float64Array: TypeAlias = npt.NDArray[np.float64]
UIntArray: TypeAlias = npt.NDArray[np.unsignedinteger[Any]]
"""Any unsigned integer array (codes, counts)."""

A = TypeVar("A", bound=npt.NDArray[Any])


def read_only(array: A, *, copy: bool = False, field: str = "array") -> A:
    """``array`` marked read-only (a read-only copy with ``copy=True``), returned for chaining.

    Anything but a numpy array is a [`ValidationError`][crmcore.kernel.errors.ValidationError]
    naming ``field`` (a report passes its column's name).

    Examples:
        >>> a = read_only(np.arange(3))
        >>> a.flags.writeable
        False
        >>> read_only([1, 2], field="counts")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: counts: must be a numpy array (got [1, 2])
    """
    if not isinstance(array, np.ndarray):
        shown = repr(array)
        raise ValidationError(
            field, array if len(shown) <= 80 else shown[:77] + "...", "must be a numpy array"
        )
    out = np.array(array, copy=True) if copy else array
    out.setflags(write=False)
    return out  # type: ignore[return-value]
