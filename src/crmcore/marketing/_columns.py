"""Checks of the array arguments of marketing's reports and batch functions.

A report constructor or a batch function takes its columns as numpy arrays (or lists, or another
library's array-likes such as a pandas Series). Each
check here turns one into an array of the expected kind and number of dimensions, or raises a
[`ValidationError`][crmcore.kernel.errors.ValidationError] naming the argument, so a wrong column
is refused where it enters rather than failing later inside numpy. Each runs once per call: most
look at the dtype and shape only; a range check (``codes_in``, an unsigned array's maximum) is one
vectorised pass, and only an object array (of texts or numbers) is looked at item by item.
"""

from __future__ import annotations

import numbers
from typing import Final

import numpy as np

from crmcore.columnar import STRING_DTYPE
from crmcore.kernel.arrays import AnyArray, Float64Array, Int64Array
from crmcore.kernel.errors import ValidationError

__all__ = ["codes_in", "float_column", "int_column", "same_length", "text_column", "time_column"]

_INT64_MAX: Final = np.iinfo(np.int64).max


def _shown(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def _array(value: object, field: str, what: str) -> AnyArray:
    if isinstance(value, np.ndarray):
        return value
    # A list, a tuple, a range, or an array-like of another library (a pandas Series, an Arrow
    # array: anything numpy converts through ``__array__``); not a scalar, a string or a set.
    if not isinstance(value, list | tuple | range) and not hasattr(value, "__array__"):
        raise ValidationError(field, _shown(value), f"must be an array of {what}")
    try:
        return np.asarray(value)
    except ValueError:  # a ragged nested list
        raise ValidationError(field, _shown(value), f"must be an array of {what}") from None


def _all_of(array: AnyArray, kind: type) -> bool:
    """Whether every item of an object array is a ``kind`` (and no bool)."""
    return all(isinstance(v, kind) and not isinstance(v, bool) for v in array.flat)


def _dimensions(array: AnyArray, value: object, field: str, ndim: int, what: str) -> None:
    if array.ndim != ndim:
        shape = "one-dimensional" if ndim == 1 else f"{ndim}-dimensional"
        raise ValidationError(field, _shown(value), f"must be a {shape} array of {what}")


def int_column(value: object, field: str, *, ndim: int = 1, width: int | None = None) -> Int64Array:
    """``value`` as an int64 array of ``ndim`` dimensions (``width`` columns if given).

    Integer arrays (signed or unsigned up to the int64 range), lists of ints and float arrays
    of whole numbers (a pandas column that went through a float) are accepted; an empty list
    is an empty column. Fractions, NaN, bools, strings and other objects are refused.
    """
    array = _array(value, field, "integers")
    _dimensions(array, value, field, ndim, "integers")
    kind = array.dtype.kind
    if kind == "O" and array.size and _all_of(array, numbers.Integral):
        try:
            array, kind = array.astype(np.int64), "i"
        except OverflowError:  # a Python int beyond int64
            raise ValidationError(field, _shown(value), "must be integers within int64") from None
    if array.size == 0 and kind in "fbO":  # np.asarray([]) is float64: an empty list is fine
        kind = "i"
    if kind == "f" and np.all(np.isfinite(array) & (array == np.round(array))):
        kind = "f" if np.any(np.abs(array) >= 2.0**63) else "i"
    if kind not in "iu" or (kind == "u" and array.size and int(array.max()) > _INT64_MAX):
        raise ValidationError(field, _shown(value), "must be an array of integers")
    if width is not None and array.shape[-1] != width:
        raise ValidationError(field, _shown(value), f"must have {width} columns")
    return array.astype(np.int64, copy=False)


def float_column(value: object, field: str) -> Float64Array:
    """``value`` as a one-dimensional float64 array (integer arrays are converted; NaN is kept)."""
    array = _array(value, field, "numbers")
    _dimensions(array, value, field, 1, "numbers")
    if array.dtype.kind == "O" and _all_of(array, numbers.Real):
        array = array.astype(np.float64)  # e.g. a list mixing ints and floats beyond int64
    if array.dtype.kind not in "fiu" and array.size:
        raise ValidationError(field, _shown(value), "must be an array of numbers")
    return array.astype(np.float64, copy=False)


def same_length(first: str, length: int, **others: AnyArray) -> None:
    """Every array of ``others`` has ``length`` rows, like the column named ``first``."""
    for name, array in others.items():
        if len(array) != length:
            raise ValidationError(
                name, f"{len(array)} rows", f"must have as many rows as {first} ({length})"
            )


def text_column(value: object, field: str) -> AnyArray:
    """``value`` as a one-dimensional array of strings (``StringDType``; numpy ``str`` arrays and
    object arrays of ``str`` are converted)."""
    array = _array(value, field, "texts")
    _dimensions(array, value, field, 1, "texts")
    if array.dtype.kind == "O" and not all(isinstance(v, str) for v in array.tolist()):
        raise ValidationError(field, _shown(value), "must be an array of texts")
    if array.dtype.kind not in "UTO" and array.size:
        raise ValidationError(field, _shown(value), "must be an array of texts")
    try:
        return array.astype(STRING_DTYPE, copy=False)
    except TypeError:  # a lone surrogate is no valid code point
        raise ValidationError(field, _shown(value), "must not hold a lone surrogate") from None


def time_column(value: object, field: str, unit: str) -> AnyArray:
    """``value`` as a one-dimensional ``datetime64[unit]`` array."""
    array = _array(value, field, "datetime64 values")
    _dimensions(array, value, field, 1, "datetime64 values")
    if array.dtype.kind != "M" and array.size:
        raise ValidationError(field, _shown(value), "must be an array of datetime64 values")
    return array.astype(f"datetime64[{unit}]", copy=False)


def codes_in(array: Int64Array, field: str, low: int, high: int) -> Int64Array:
    """``array`` if every value lies in ``low..high`` (codes into a table of ``high + 1``)."""
    if len(array) and (int(array.min()) < low or int(array.max()) > high):
        raise ValidationError(field, _shown(array), f"must hold codes in {low}..{high}")
    return array
