"""Kind inference for custom attribute columns: from Python values or CSV cells.

A [`CustomerFrame`][crmcore.columnar.frame.CustomerFrame] takes custom attributes as
``attr.<name>`` columns that no schema describes; their kind comes from the
values (`infer_kind()`, for records) or the cells (`infer_text_kind()`,
for CSV files).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import NoneType
from typing import Final

import numpy as np

from crmcore.columnar._cells import Cells
from crmcore.columnar._text_numbers import parse_bools, parse_floats, parse_ints, plain_ints
from crmcore.columnar._text_times import parse_dates, parse_datetimes
from crmcore.columnar._timestamps import TimeReading
from crmcore.columnar._validation import (
    is_bool,
    is_date,
    is_datetime,
    is_int,
    is_number,
    is_str,
    row_error,
)
from crmcore.columnar.schema import ColumnKind
from crmcore.kernel.errors import ValidationError

__all__ = ["infer_kind", "infer_text_kind"]

_SAMPLE: Final = 256


def _value_kind(t: type) -> ColumnKind | None:
    if is_bool(t):
        return "bool"
    if is_int(t):
        return "int"
    if is_number(t):
        return "float"
    if is_str(t):
        return "string"
    if is_datetime(t):
        return "datetime"
    if is_date(t):
        return "date"
    return None


def infer_kind(values: Sequence[object], name: str) -> ColumnKind:
    """The column kind of Python attribute values.

    str → string, bool → bool, int → int, float/Decimal → float (int and
    float mixed → float), datetime → datetime, date → date; all missing →
    string. Any other type or mix raises a
    [`ValidationError`][crmcore.columnar._kind_inference.ValidationError] naming the first row that
    does not fit.
    """
    kinds: dict[type, ColumnKind | None] = {
        t: _value_kind(t) for t in set(map(type, values)) if t is not NoneType
    }
    found = set(kinds.values())
    if not found:
        return "string"
    if found == {"int", "float"}:
        return "float"
    if len(found) == 1 and None not in found:
        (kind,) = found
        assert kind is not None
        return kind
    first: ColumnKind | None = None
    for i, value in enumerate(values):
        if value is None:
            continue
        kind = kinds[type(value)]
        if kind is None:
            raise row_error(i, name, value, "must be a str, int, float, bool, date or datetime")
        if first is None:
            first = kind
        elif kind != first and {kind, first} != {"int", "float"}:
            raise row_error(i, name, value, f"is a {kind} in a column of {first} values")
    raise AssertionError("unreachable")  # pragma: no cover


def infer_text_kind(cells: Cells, reading: TimeReading | None = None) -> ColumnKind:
    """The kind of a CSV attribute column from its cells.

    All ints (``[+-]?[0-9]+`` within int64) → int; all numbers → float; all
    ``true``/``false`` in any case → bool; all ``YYYY-MM-DD`` or other dates →
    date; all timestamps (with an offset, or naive when ``reading`` names a
    zone) → datetime; else (or all empty) string.
    """
    reading = reading or TimeReading()
    present = cells.take(np.flatnonzero(~cells.missing))
    if not len(present):
        return "string"
    sample = present.take(np.arange(min(len(present), _SAMPLE), dtype=np.int64))
    if plain_ints(sample) and plain_ints(present):
        try:
            parse_ints(present, 0, "")
        except ValidationError:
            return "float"
        return "int"
    attempts: tuple[tuple[ColumnKind, Callable[[Cells], object]], ...] = (
        ("float", lambda c: parse_floats(c, 0, "")),
        ("bool", _booleans),
        ("date", lambda c: _dates(c, reading)),
        ("datetime", lambda c: parse_datetimes(c, 0, "", reading)),
    )
    for kind, attempt in attempts:
        try:  # the first rows refuse most kinds at once; then every row
            attempt(sample)
            attempt(present)
        except ValidationError:
            continue
        return kind
    return "string"


def _booleans(cells: Cells) -> None:
    parse_bools(cells, 0, "")  # the spellings the bool builder reads, no others


def _dates(cells: Cells, reading: TimeReading) -> None:
    if not (cells.lengths == 10).all():
        raise ValidationError("cells", None, "not dates")
    parse_dates(cells, 0, "", reading.dayfirst)
