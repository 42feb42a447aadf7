"""The array arguments of the sales functions, checked once where they enter.

Each check turns a collection into a one-dimensional array of the kind the function computes
with, or raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the argument:
a bare string, bytes or a mapping is not a column, a NaN is not a number of minor units, and
a lone surrogate cannot become a numpy string.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from crmcore.columnar import STRING_DTYPE
from crmcore.kernel.arrays import AnyArray, Float64Array, Int64Array
from crmcore.kernel.errors import ValidationError

__all__ = ["float_array", "id_array", "int_array"]


def _shown(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def _raw(values: object, field: str, what: str) -> AnyArray:
    if isinstance(values, str | bytes | bytearray | Mapping):
        raise ValidationError(field, _shown(values), f"must be a one-dimensional array of {what}")
    try:
        raw: AnyArray = np.asarray(values)
    except (TypeError, ValueError):  # ragged nested lists
        raise ValidationError(field, _shown(values), f"must be an array of {what}") from None
    if raw.ndim != 1:
        raise ValidationError(field, raw.shape, f"must be a one-dimensional array of {what}")
    return raw


def int_array(values: object, field: str, *, what: str = "whole numbers") -> Int64Array:
    """``values`` as a one-dimensional ``int64`` array.

    Integers (numpy or Python, within ``int64``) and whole finite floats are taken; NaN,
    infinities, fractions, bools, strings and objects are refused.
    """
    if isinstance(values, np.ndarray) and values.dtype == np.int64 and values.ndim == 1:
        return values  # the common case, without a copy
    raw = _raw(values, field, what)
    kind = raw.dtype.kind
    if kind == "f":
        whole = np.isfinite(raw) & (raw == np.round(raw)) & (np.abs(raw) < 2.0**63)
        if not whole.all():
            i = int(np.argmin(whole))
            raise ValidationError(
                field,
                float(raw[i]),
                f"must be an array of {what} (position {i} is not a whole number)",
            )
    elif kind == "O":
        try:
            raw = np.array(values, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            raise ValidationError(field, _shown(values), f"must be an array of {what}") from None
    elif kind == "u" and len(raw) and int(raw.max()) >= 2**63:
        raise ValidationError(field, int(raw.max()), f"must be {what} within int64")
    elif kind not in "iu" and len(raw):
        raise ValidationError(field, raw.dtype, f"must be an array of {what}")
    out: Int64Array = raw.astype(np.int64)
    return out


def float_array(values: object, field: str, *, what: str = "finite numbers") -> Float64Array:
    """``values`` as a one-dimensional ``float64`` array of finite numbers."""
    raw = _raw(values, field, what)
    if raw.dtype.kind == "O":
        try:
            raw = np.array(values, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise ValidationError(field, _shown(values), f"must be an array of {what}") from None
    elif raw.dtype.kind not in "iuf" and len(raw):
        raise ValidationError(field, raw.dtype, f"must be an array of {what}")
    out: Float64Array = raw.astype(np.float64)
    finite = np.isfinite(out)
    if not finite.all():
        i = int(np.argmin(finite))
        raise ValidationError(
            field, float(out[i]), f"must be an array of {what} (position {i} is not finite)"
        )
    return out


def id_array(values: object, field: str) -> AnyArray:
    """``values`` (ids) as a one-dimensional numpy string array."""
    if isinstance(values, str | bytes | bytearray | Mapping):
        raise ValidationError(field, _shown(values), "must be a collection of ids")
    try:
        out: AnyArray = np.asarray(values, dtype=STRING_DTYPE)
    except UnicodeEncodeError:
        raise ValidationError(field, _shown(values), "must not contain a lone surrogate") from None
    except (TypeError, ValueError):
        raise ValidationError(field, _shown(values), "must be a collection of ids") from None
    if out.ndim != 1:
        raise ValidationError(field, out.shape, "must be a one-dimensional collection of ids")
    return out
