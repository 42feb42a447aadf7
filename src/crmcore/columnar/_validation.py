"""Checking input values for columns: missing values, type checks per kind, the row error.

A Python value is missing when it is ``None``, a CSV cell when it is empty.
The type checks take a value's *type*, so a chunk of values is checked once per
distinct type (``set(map(type, values))``) rather than once per value; a
per-value loop runs only to find and name the first bad value. Errors name
the row and column (``"row 17: at"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import compress, repeat
from operator import is_, not_
from types import NoneType
from typing import TypeVar

import numpy as np

from crmcore.columnar._layout import STRING_DTYPE
from crmcore.kernel.arrays import AnyArray, BoolArray
from crmcore.kernel.errors import ValidationError

T = TypeVar("T")

__all__ = [
    "check_types",
    "each_of",
    "first_unencodable",
    "empty_mask",
    "first_error",
    "is_bool",
    "is_date",
    "is_datetime",
    "is_int",
    "is_number",
    "is_str",
    "is_tag_collection",
    "none_mask",
    "present_cells",
    "row_error",
    "row_of",
    "strings_of",
]


def each_of(values: object, cls: type[T], field: str) -> Iterator[T]:
    """The items of ``values``, each checked to be a ``cls``, one at a time (never all at once).

    A str, bytes, a mapping or anything not iterable is refused at once; an item of
    another type when it is reached, naming its position (``field[3]``).
    """
    if isinstance(values, str | bytes | bytearray | Mapping) or not isinstance(values, Iterable):
        raise ValidationError(
            field, type(values).__name__, f"must be a collection of {cls.__name__}"
        )
    return _checked_items(values, cls, field)


def _checked_items(values: Iterable[object], cls: type[T], field: str) -> Iterator[T]:
    for i, value in enumerate(values):
        if not isinstance(value, cls):
            raise ValidationError(
                f"{field}[{i}]", type(value).__name__, f"must be a {cls.__name__}"
            )
        yield value


def first_unencodable(values: Sequence[str]) -> int:
    """The position of the first text holding a lone surrogate (not UTF-8 encodable), or -1."""
    for i, value in enumerate(values):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return i
    return -1


def strings_of(values: list[str], field: str) -> AnyArray:
    """``values`` as a ``StringDType`` array; a lone surrogate raises a
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``field[i]``."""
    try:
        return np.array(values, dtype=STRING_DTYPE)
    except UnicodeEncodeError:
        i = first_unencodable(values)
        reason = "is not valid text (a lone surrogate)"
        raise ValidationError(f"{field}[{i}]", values[i], reason) from None


def row_error(row: int, name: str, value: object, reason: str) -> ValidationError:
    """The error for a bad value at ``row`` of column ``name``."""
    return ValidationError(f"row {row}: {name}", value, reason)


def row_of(error: ValidationError) -> int | None:
    """The row an error of `row_error()` names (``None`` for other errors)."""
    head, _, rest = error.field.partition(" ")
    number = rest.partition(":")[0]
    return int(number) if head == "row" and number.isdigit() else None


def first_error(errors: Sequence[ValidationError]) -> ValidationError:
    """The error of the first row among ``errors`` (the earliest given on a tie).

    Errors that name no row come first: they are about the whole file.
    """
    return min(errors, key=lambda error: -1 if (row := row_of(error)) is None else row)


def none_mask(values: Sequence[object]) -> BoolArray:
    """Mask of ``None`` values (a cheap identity scan first: most columns have none)."""
    if not any(map(is_, values, repeat(None))):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(map(is_, values, repeat(None)), dtype=bool, count=len(values))


def empty_mask(cells: Sequence[str]) -> BoolArray:
    """Mask of empty cells (cheap when there are none)."""
    if "" not in cells:
        return np.zeros(len(cells), dtype=bool)
    return np.fromiter(map(not_, cells), dtype=bool, count=len(cells))


def present_cells(cells: Sequence[str], missing: BoolArray) -> list[str]:
    """The cells that are not ``missing``, in order."""
    if not missing.any():
        return list(cells)
    return list(compress(cells, (~missing).tolist()))


def is_str(t: type) -> bool:
    return issubclass(t, str)


def is_int(t: type) -> bool:
    return issubclass(t, int | np.integer) and not issubclass(t, bool | np.bool_)


def is_number(t: type) -> bool:
    return is_int(t) or issubclass(t, float | Decimal | np.floating)


def is_bool(t: type) -> bool:
    return issubclass(t, bool | np.bool_)


def is_datetime(t: type) -> bool:
    return issubclass(t, datetime)


def is_date(t: type) -> bool:
    return issubclass(t, date) and not issubclass(t, datetime)


def is_tag_collection(t: type) -> bool:
    return issubclass(t, frozenset | set | list | tuple)


def check_types(
    values: Sequence[object], ok: Callable[[type], bool], start: int, name: str, expected: str
) -> None:
    """Raise for the first value (not ``None``) whose type fails ``ok``."""
    bad = {t for t in set(map(type, values)) if t is not NoneType and not ok(t)}
    if bad:
        for i, value in enumerate(values):
            if type(value) in bad:
                raise row_error(start + i, name, value, f"must be {expected}")
