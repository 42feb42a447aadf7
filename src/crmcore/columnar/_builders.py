"""Builders of scalar columns (strings, numbers, booleans, times, dates), and `make_builder()`.

Each follows the protocol of [`Builder`][crmcore.columnar._builder_base.Builder].
Python values are converted with the per-value work done inside numpy or
C-implemented builtins (``map`` over ``operator`` functions, ``set``); text is
parsed in numpy (`crmcore.columnar._text_numbers`,
`crmcore.columnar._text_times`). A per-value Python loop runs only to find and
name a bad value. Errors name the row (``"row 17: at"``). The builders of coded
columns (categories, encoded strings, tags) are in
`crmcore.columnar._code_builders`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import compress
from typing import Final, cast

import numpy as np

from crmcore.columnar._builder_base import Builder, concat
from crmcore.columnar._cells import Cells
from crmcore.columnar._code_builders import CategoryBuilder, EncodedStringBuilder, TagsBuilder
from crmcore.columnar._layout import DT_D, DT_US, NAT, STRING_DTYPE, ColumnLayout, narrowest_int
from crmcore.columnar._text_numbers import parse_bools, parse_floats, parse_ints
from crmcore.columnar._text_times import parse_dates, parse_datetimes
from crmcore.columnar._timestamps import TimeReading, aware_micros
from crmcore.columnar._validation import (
    check_types,
    first_unencodable,
    is_bool,
    is_date,
    is_int,
    is_number,
    is_str,
    none_mask,
    row_error,
)
from crmcore.columnar.schema import ColumnKind
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array

__all__ = ["Builder", "make_builder"]

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


class _StringBuilder(Builder):
    kind = "string"

    def __init__(self, name: str, nullable: bool) -> None:
        super().__init__(name, nullable)
        self._values: list[AnyArray] = []
        self._masks: list[BoolArray] = []

    def add_objects(self, values: Sequence[object], start: int) -> None:
        check_types(values, is_str, start, self.name, "a str")
        missing = none_mask(values)
        self._require(missing, start, values)
        if missing.any():
            values = ["" if v is None else v for v in values]
        try:
            strings = np.array(values, dtype=STRING_DTYPE)
        except UnicodeEncodeError:  # a lone surrogate: name its row
            i = first_unencodable(cast(list[str], values))
            reason = "is not valid text (a lone surrogate)"
            raise row_error(start + i, self.name, values[i], reason) from None
        self._values.append(strings)
        self._masks.append(missing)

    def _parse(self, cells: Cells, start: int) -> tuple[AnyArray, BoolArray]:
        return cells.strings(start, self.name), cells.missing

    def _append(self, parsed: tuple[AnyArray, BoolArray]) -> None:
        strings, missing = parsed
        self._values.append(strings)
        self._masks.append(missing)

    def finish(self) -> ColumnLayout:
        mask = concat(self._masks, np.bool_)
        return ColumnLayout(
            "string", concat(self._values, STRING_DTYPE), mask if mask.any() else None
        )


class _FloatBuilder(Builder):
    kind = "float"

    def __init__(self, name: str, nullable: bool) -> None:
        super().__init__(name, nullable)
        self._values: list[AnyArray] = []

    def _check_nan(self, arr: Float64Array, start: int, values: Sequence[object]) -> None:
        if not self.nullable:
            nan = np.isnan(arr)
            if nan.any():
                i = int(np.argmax(nan))
                if values[i] is None or values[i] == "":
                    raise row_error(start + i, self.name, values[i], "is required")
                raise row_error(start + i, self.name, values[i], "must not be NaN")

    def add_objects(self, values: Sequence[object], start: int) -> None:
        check_types(values, is_number, start, self.name, "a number (float, int or Decimal)")
        try:
            arr = np.array(values, dtype=np.float64)
        except (OverflowError, ValueError, TypeError):
            arr = np.empty(len(values), dtype=np.float64)
            for i, v in enumerate(values):
                try:
                    arr[i] = np.nan if v is None else float(v)  # type: ignore[arg-type]
                except (OverflowError, ValueError, TypeError):
                    raise row_error(start + i, self.name, v, "is not a float64 number") from None
        self._check_nan(arr, start, values)
        self._values.append(arr)

    def _parse(self, cells: Cells, start: int) -> Float64Array:
        return parse_floats(cells, start, self.name)

    def _check(self, parsed: Float64Array, cells: Cells, start: int) -> None:
        if not self.nullable:
            nan = np.isnan(parsed)
            if nan.any():
                i = int(np.argmax(nan))
                if not cells.lengths[i]:
                    raise row_error(start + i, self.name, "", "is required")
                raise row_error(start + i, self.name, cells.text(i), "must not be NaN")

    def _append(self, parsed: Float64Array) -> None:
        self._values.append(parsed)

    def finish(self) -> ColumnLayout:
        return ColumnLayout("float", concat(self._values, np.float64))


class _IntLikeBuilder(Builder):
    """int and bool: values plus a mask, with 0 / False at missing rows."""

    def __init__(self, name: str, nullable: bool) -> None:
        super().__init__(name, nullable)
        self._values: list[AnyArray] = []
        self._masks: list[BoolArray] = []

    @property
    def _dtype(self) -> type[np.generic]:
        return np.int64 if self.kind == "int" else np.bool_

    def _add(self, arr: AnyArray, missing: BoolArray) -> None:
        self._values.append(arr)
        self._masks.append(missing)

    def _append(self, parsed: tuple[AnyArray, BoolArray]) -> None:
        self._add(*parsed)

    def finish(self) -> ColumnLayout:
        values = concat(self._values, self._dtype)
        if self.kind == "int":
            values = narrowest_int(values)
        mask = concat(self._masks, np.bool_)
        return ColumnLayout(self.kind, values, mask if mask.any() else None)


class _IntBuilder(_IntLikeBuilder):
    kind = "int"

    def add_objects(self, values: Sequence[object], start: int) -> None:
        check_types(values, is_int, start, self.name, "an int")
        missing = none_mask(values)
        self._require(missing, start, values)
        filled = [0 if v is None else v for v in values] if missing.any() else values
        try:
            arr = np.array(filled, dtype=np.int64)
        except OverflowError:
            for i, v in enumerate(filled):
                if not -(2**63) <= v < 2**63:  # type: ignore[operator]
                    raise row_error(start + i, self.name, v, "is out of the int64 range") from None
            raise row_error(start, self.name, None, "is out of the int64 range") from None
        self._add(arr, missing)

    def _parse(self, cells: Cells, start: int) -> tuple[Int64Array, BoolArray]:
        return parse_ints(cells, start, self.name)


class _BoolBuilder(_IntLikeBuilder):
    kind = "bool"

    def add_objects(self, values: Sequence[object], start: int) -> None:
        check_types(values, is_bool, start, self.name, "a bool")
        missing = none_mask(values)
        self._require(missing, start, values)
        filled = [False if v is None else v for v in values] if missing.any() else values
        self._add(np.array(filled, dtype=np.bool_), missing)

    def _parse(self, cells: Cells, start: int) -> tuple[BoolArray, BoolArray]:
        return parse_bools(cells, start, self.name)


class _DatetimeBuilder(Builder):
    kind = "datetime"

    def __init__(self, name: str, nullable: bool, reading: TimeReading | None = None) -> None:
        super().__init__(name, nullable)
        self._values: list[AnyArray] = []
        self._reading = reading or TimeReading()
        self._cache: dict[str, tuple[int, bool]] = {}

    def _add(self, micros: Int64Array, start: int, values: Sequence[object]) -> None:
        self._require(micros == NAT, start, values)
        self._values.append(micros)

    def add_objects(self, values: Sequence[object], start: int) -> None:
        self._add(aware_micros(values, start, self.name, self._reading), start, values)

    def _parse(self, cells: Cells, start: int) -> Int64Array:
        return parse_datetimes(cells, start, self.name, self._reading, self._cache)

    def _append(self, parsed: Int64Array) -> None:
        self._values.append(parsed)

    def finish(self) -> ColumnLayout:
        return ColumnLayout("datetime", concat(self._values, np.int64).view(DT_US))


class _DateBuilder(Builder):
    kind = "date"

    def __init__(self, name: str, nullable: bool, reading: TimeReading | None = None) -> None:
        super().__init__(name, nullable)
        self._values: list[AnyArray] = []
        self._dayfirst = reading.dayfirst if reading is not None else False

    def add_objects(self, values: Sequence[object], start: int) -> None:
        check_types(values, is_date, start, self.name, "a date (not a datetime)")
        missing = none_mask(values)
        self._require(missing, start, values)
        days = np.full(len(values), NAT, dtype=np.int64)
        present = list(compress(values, (~missing).tolist()))
        ordinals = map(date.toordinal, cast(list[date], present))
        days[~missing] = np.fromiter(ordinals, np.int64) - _EPOCH_ORDINAL
        self._values.append(days)

    def _parse(self, cells: Cells, start: int) -> Int64Array:
        return parse_dates(cells, start, self.name, self._dayfirst)

    def _append(self, parsed: Int64Array) -> None:
        self._values.append(parsed)

    def finish(self) -> ColumnLayout:
        return ColumnLayout("date", concat(self._values, np.int64).view(DT_D))


_BUILDERS: Final[dict[ColumnKind, type[Builder]]] = {
    "string": _StringBuilder,
    "float": _FloatBuilder,
    "int": _IntBuilder,
    "bool": _BoolBuilder,
    "datetime": _DatetimeBuilder,
    "date": _DateBuilder,
    "category": CategoryBuilder,
    "tags": TagsBuilder,
}


def make_builder(
    kind: ColumnKind,
    name: str,
    nullable: bool,
    encoded: bool = False,
    reading: TimeReading | None = None,
) -> Builder:
    """A builder for a column of ``kind`` (``encoded``: a dictionary-encoded string column).

    ``reading`` says how datetime and date text is read (zone of naive times, day order).
    """
    if encoded:
        return EncodedStringBuilder(name, nullable)
    if kind == "datetime":
        return _DatetimeBuilder(name, nullable, reading)
    if kind == "date":
        return _DateBuilder(name, nullable, reading)
    return _BUILDERS[kind](name, nullable)
