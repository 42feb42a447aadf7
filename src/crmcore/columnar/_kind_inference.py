"""Kind inference for custom attribute columns: from Python values or CSV cells.

A [`CustomerFrame`][crmcore.columnar.frame.CustomerFrame] takes custom attributes as
``attr.<name>`` columns that no schema describes; their kind comes from the
values (`infer_kind()`, for records) or the cells (`infer_text_kind()`,
for CSV files).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import NoneType
from typing import Final

import numpy as np

from crmcore.columnar._builders import make_builder
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
from crmcore.kernel.arrays import AnyArray
from crmcore.kernel.errors import ValidationError

__all__ = ["infer_kind", "infer_text_kind"]


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


_INT_TEXT: Final = re.compile(r"[+-]?\d+\Z")


def infer_text_kind(cells: AnyArray) -> ColumnKind:
    """The kind of a CSV attribute column from its cells (a StringDType array).

    All ints → int; all numbers → float; all ``true``/``false`` → bool; all
    ``YYYY-MM-DD`` → date; all ISO 8601 timestamps with an offset →
    datetime; else (or all empty) string.
    """
    present = cells[cells != ""]
    if not present.size:
        return "string"
    sample = present.tolist()
    if all(_INT_TEXT.match(c) for c in sample):
        try:
            present.astype(np.int64)
        except (ValueError, OverflowError):
            return "float"
        return "int"
    try:
        present.astype(np.float64)
    except ValueError:
        pass
    else:
        return "float"
    lower = np.strings.lower(present)
    if ((lower == "true") | (lower == "false")).all():
        return "bool"
    if (np.strings.str_len(present) == 10).all():
        try:
            make_builder("date", "", True).add_strings(sample, 0)
        except ValidationError:
            pass
        else:
            return "date"
    try:
        make_builder("datetime", "", True).add_strings(sample, 0)
    except ValidationError:
        return "string"
    return "datetime"
