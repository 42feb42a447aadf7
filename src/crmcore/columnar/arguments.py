"""Array arguments checked where they enter: integers, numbers, texts, times, codes.

The batch functions and column reports of the sales and marketing areas take their columns as
numpy arrays, lists, or another library's array-likes (a pandas Series, an Arrow array). Each
check here turns one into an array of the kind the function computes with, or raises a
[`ValidationError`][crmcore.kernel.errors.ValidationError] naming the argument (and, for a
value that is not whole or not finite, its position), so a wrong column is refused where it
enters rather than failing later inside numpy. Each runs once per call: most look at the dtype
and shape only; a range or wholeness check is one vectorised pass, and only an object array (of
texts or numbers) is looked at item by item.
"""

from __future__ import annotations

import numbers
from typing import Final

import numpy as np

from crmcore.columnar.columns import STRING_DTYPE
from crmcore.kernel.arrays import AnyArray, Float64Array, Int64Array
from crmcore.kernel.errors import ValidationError

__all__ = [
    "codes_in",
    "float_column",
    "int_column",
    "same_length",
    "text_column",
    "time_column",
]

_INT64_MAX: Final = np.iinfo(np.int64).max


def _shown(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def _array(value: object, field: str, what: str, ndim: int) -> AnyArray:
    """``value`` as an array of ``ndim`` dimensions: an array, a list, a tuple, a range or an
    array-like of another library (anything numpy converts through ``__array__``); not a
    scalar, a string, a mapping, a set or an iterator."""
    shape = "one-dimensional" if ndim == 1 else f"{ndim}-dimensional"
    array: AnyArray
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, list | tuple | range) or hasattr(value, "__array__"):
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # a ragged nested list
            raise ValidationError(field, _shown(value), f"must be an array of {what}") from None
    else:
        raise ValidationError(field, _shown(value), f"must be a {shape} array of {what}")
    if array.ndim != ndim:
        raise ValidationError(field, _shown(value), f"must be a {shape} array of {what}")
    return array


def _all_of(array: AnyArray, kind: type) -> bool:
    """Whether every item of an object array is a ``kind`` (and no bool)."""
    return all(isinstance(v, kind) and not isinstance(v, bool) for v in array.flat)


def _first(ok: AnyArray) -> int:
    return int(np.argmin(ok.ravel()))


def int_column(
    value: object,
    field: str,
    *,
    what: str = "integers",
    ndim: int = 1,
    width: int | None = None,
) -> Int64Array:
    """``value`` as an int64 array of ``ndim`` dimensions (``width`` columns if given).

    Integer arrays (signed, or unsigned within the int64 range), lists of ints and float arrays
    of whole finite numbers (a pandas column that went through a float) are taken; an empty
    list is an empty column. A fraction, NaN or infinity is refused naming its position;
    bools, strings and other objects are refused.
    """
    if isinstance(value, np.ndarray) and value.dtype == np.int64 and value.ndim == ndim:
        array: AnyArray = value  # the common case, without a copy
    else:
        array = _array(value, field, what, ndim)
    kind = array.dtype.kind
    if kind == "O" and array.size:
        if not _all_of(array, numbers.Integral):
            raise ValidationError(field, _shown(value), f"must be an array of {what}")
        try:
            array, kind = array.astype(np.int64), "i"
        except OverflowError:  # a Python int beyond int64
            raise ValidationError(field, _shown(value), f"must be {what} within int64") from None
    if array.size == 0 and kind in "fbO":  # np.asarray([]) is float64: an empty list is fine
        kind = "i"
    if kind == "f":
        whole = np.isfinite(array) & (array == np.round(array)) & (np.abs(array) < 2.0**63)
        if not whole.all():
            i = _first(whole)
            raise ValidationError(
                field,
                float(array.ravel()[i]),
                f"must be an array of {what} (position {i} is not a whole number)",
            )
        kind = "i"
    if kind not in "iu":
        raise ValidationError(field, _shown(value), f"must be an array of {what}")
    if kind == "u" and array.size and int(array.max()) > _INT64_MAX:
        raise ValidationError(field, int(array.max()), f"must be {what} within int64")
    if width is not None and array.shape[-1] != width:
        raise ValidationError(field, _shown(value), f"must have {width} columns")
    out: Int64Array = array.astype(np.int64, copy=False)
    return out


def float_column(
    value: object, field: str, *, what: str = "numbers", finite: bool = False
) -> Float64Array:
    """``value`` as a one-dimensional float64 array (integers are converted); with ``finite``
    a NaN or an infinity is refused naming its position, else NaN is kept (a missing value)."""
    array = _array(value, field, what, 1)
    if array.dtype.kind == "O" and array.size:
        if not _all_of(array, numbers.Real):
            raise ValidationError(field, _shown(value), f"must be an array of {what}")
        array = array.astype(np.float64)  # e.g. a list mixing ints and floats beyond int64
    if array.dtype.kind not in "fiu" and array.size:
        raise ValidationError(field, _shown(value), f"must be an array of {what}")
    out: Float64Array = array.astype(np.float64, copy=False)
    if finite:
        ok = np.isfinite(out)
        if not ok.all():
            i = _first(ok)
            raise ValidationError(
                field, float(out[i]), f"must be an array of {what} (position {i} is not finite)"
            )
    return out


def same_length(first: str, length: int, **others: AnyArray) -> None:
    """Every array of ``others`` has ``length`` rows, like the column named ``first``."""
    for name, array in others.items():
        if len(array) != length:
            raise ValidationError(
                name, f"{len(array)} rows", f"must have as many rows as {first} ({length})"
            )


def text_column(value: object, field: str, *, what: str = "texts") -> AnyArray:
    """``value`` as a one-dimensional array of strings (``StringDType``; numpy ``str`` arrays and
    lists or object arrays of ``str`` are converted, nothing else)."""
    array = _array(value, field, what, 1)
    if array.dtype.kind == "O" and not all(isinstance(v, str) for v in array.tolist()):
        raise ValidationError(field, _shown(value), f"must be an array of {what}")
    if array.dtype.kind not in "UTO" and array.size:
        raise ValidationError(field, _shown(value), f"must be an array of {what}")
    try:
        return array.astype(STRING_DTYPE, copy=False)
    except (TypeError, UnicodeEncodeError):  # a lone surrogate is no valid code point
        raise ValidationError(field, _shown(value), "must not hold a lone surrogate") from None


def time_column(value: object, field: str, unit: str) -> AnyArray:
    """``value`` as a one-dimensional ``datetime64[unit]`` array."""
    array = _array(value, field, "datetime64 values", 1)
    if array.dtype.kind != "M" and array.size:
        raise ValidationError(field, _shown(value), "must be an array of datetime64 values")
    return array.astype(f"datetime64[{unit}]", copy=False)


def codes_in(array: Int64Array, field: str, low: int, high: int) -> Int64Array:
    """``array`` if every value lies in ``low..high`` (codes into a table of ``high + 1``)."""
    if len(array) and (int(array.min()) < low or int(array.max()) > high):
        raise ValidationError(field, _shown(array), f"must hold codes in {low}..{high}")
    return array
