"""Builders: Python values or CSV cells, chunk by chunk, into a column's arrays.

A `Builder` accumulates one column: `add_objects()`
takes Python values (from records), `add_strings()` CSV cells,
and `finish()` returns the arrays in the kind's layout (a
`ColumnLayout`, which
[`Column`][crmcore.columnar.columns.Column] wraps). Each chunk is converted in
one linear pass with the per-value work done inside numpy or C-implemented
builtins (``map`` over ``operator`` functions, ``set``, ``dict`` lookups)
rather than in Python loops; a per-value Python loop runs only to find and
name a bad value. Errors name the row (``"row 17: at"``).
"""

from __future__ import annotations

import abc
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from itertools import chain, compress, count, islice, repeat
from typing import Any, ClassVar, Final, cast

import numpy as np

from crmcore.columnar._layout import DT_D, DT_US, NAT, STRING_DTYPE, ColumnLayout
from crmcore.columnar._timestamps import aware_micros, parse_iso_micros
from crmcore.columnar._validation import (
    check_types,
    empty_mask,
    is_bool,
    is_date,
    is_int,
    is_number,
    is_str,
    is_tag_collection,
    none_mask,
    present_cells,
    row_error,
)
from crmcore.columnar.schema import ColumnKind
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int32Array, Int64Array

__all__ = ["Builder", "make_builder"]

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


def _concat(pieces: list[AnyArray], dtype: np.dtype[Any] | type[Any]) -> AnyArray:
    if not pieces:
        return np.empty(0, dtype=dtype)
    if len(pieces) == 1:
        return pieces[0]
    return np.concatenate(pieces)


class Builder(abc.ABC):
    """Accumulates one column from chunks of Python values or CSV cells.

    ``start`` is the row number of a chunk's first value, for error messages.
    A CSV cell that is empty means missing.
    """

    kind: ClassVar[ColumnKind]

    def __init__(self, name: str, nullable: bool) -> None:
        self.name = name
        self.nullable = nullable

    @abc.abstractmethod
    def add_objects(self, values: Sequence[object], start: int) -> None:
        """Append Python values (``None`` = missing)."""

    @abc.abstractmethod
    def add_strings(self, cells: Sequence[str], start: int) -> None:
        """Append CSV cells (``""`` = missing)."""

    @abc.abstractmethod
    def finish(self) -> ColumnLayout:
        """The arrays of everything appended, in the kind's layout."""

    def _require(self, missing: BoolArray, start: int, values: Sequence[object]) -> None:
        if not self.nullable and missing.any():
            i = int(np.argmax(missing))
            raise row_error(start + i, self.name, values[i], "is required (column is not nullable)")


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
        self._values.append(np.array(values, dtype=STRING_DTYPE))
        self._masks.append(missing)

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        missing = empty_mask(cells)
        self._require(missing, start, cells)
        self._values.append(np.array(cells, dtype=STRING_DTYPE))
        self._masks.append(missing)

    def finish(self) -> ColumnLayout:
        return ColumnLayout(
            "string", _concat(self._values, STRING_DTYPE), _concat(self._masks, np.bool_)
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

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        # numpy parses a list of str straight into float64 (Python's float() grammar).
        filled = [c or "nan" for c in cells] if "" in cells else cells
        try:
            parsed = np.array(filled, dtype=np.float64)
        except ValueError:
            parsed = np.empty(len(cells), dtype=np.float64)
            for i, cell in enumerate(cells):
                try:
                    parsed[i] = float(cell) if cell else np.nan
                except ValueError:
                    raise row_error(start + i, self.name, cell, "must be a number") from None
        self._check_nan(parsed, start, cells)
        self._values.append(parsed)

    def finish(self) -> ColumnLayout:
        return ColumnLayout("float", _concat(self._values, np.float64))


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

    def finish(self) -> ColumnLayout:
        return ColumnLayout(
            self.kind, _concat(self._values, self._dtype), _concat(self._masks, np.bool_)
        )


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

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        missing = empty_mask(cells)
        self._require(missing, start, cells)
        filled = [c or "0" for c in cells] if missing.any() else cells
        try:
            parsed = np.array(filled, dtype=np.int64)
        except (ValueError, OverflowError):
            parsed = np.zeros(len(cells), dtype=np.int64)
            for i, cell in enumerate(cells):
                if cell:
                    try:
                        parsed[i] = int(cell)
                    except (ValueError, OverflowError):
                        raise row_error(start + i, self.name, cell, "must be an int64") from None
        self._add(parsed, missing)


_BOOL_CELLS: Final[dict[str, int]] = {
    **dict.fromkeys(("true", "True", "TRUE", "1"), 1),
    **dict.fromkeys(("false", "False", "FALSE", "0"), 0),
    "": 2,
}
"""CSV spellings of booleans: 1 true, 0 false, 2 missing."""


class _BoolBuilder(_IntLikeBuilder):
    kind = "bool"

    def add_objects(self, values: Sequence[object], start: int) -> None:
        check_types(values, is_bool, start, self.name, "a bool")
        missing = none_mask(values)
        self._require(missing, start, values)
        filled = [False if v is None else v for v in values] if missing.any() else values
        self._add(np.array(filled, dtype=np.bool_), missing)

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        states = np.fromiter(
            map(_BOOL_CELLS.get, cells, repeat(-1)), dtype=np.int8, count=len(cells)
        )
        missing = states == 2
        self._require(missing, start, cells)
        if (states < 0).any():
            i = int(np.argmax(states < 0))
            raise row_error(start + i, self.name, cells[i], "must be true or false")
        self._add(states == 1, missing)


class _DatetimeBuilder(Builder):
    kind = "datetime"

    def __init__(self, name: str, nullable: bool) -> None:
        super().__init__(name, nullable)
        self._values: list[AnyArray] = []

    def _add(self, micros: Int64Array, start: int, values: Sequence[object]) -> None:
        self._require(micros == NAT, start, values)
        self._values.append(micros)

    def add_objects(self, values: Sequence[object], start: int) -> None:
        self._add(aware_micros(values, start, self.name), start, values)

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        self._add(parse_iso_micros(cells, start, self.name), start, cells)

    def finish(self) -> ColumnLayout:
        return ColumnLayout("datetime", _concat(self._values, np.int64).view(DT_US))


class _DateBuilder(Builder):
    kind = "date"

    def __init__(self, name: str, nullable: bool) -> None:
        super().__init__(name, nullable)
        self._values: list[AnyArray] = []

    def add_objects(self, values: Sequence[object], start: int) -> None:
        check_types(values, is_date, start, self.name, "a date (not a datetime)")
        missing = none_mask(values)
        self._require(missing, start, values)
        days = np.full(len(values), NAT, dtype=np.int64)
        present = list(compress(values, (~missing).tolist()))
        ordinals = map(date.toordinal, cast(list[date], present))
        days[~missing] = np.fromiter(ordinals, np.int64) - _EPOCH_ORDINAL
        self._values.append(days)

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        missing = empty_mask(cells)
        self._require(missing, start, cells)
        present = present_cells(cells, missing)
        days: Int64Array | None = None
        if set(map(len, present)) <= {10} and "\n".join(present).count("-") == 2 * len(present):
            try:
                days = np.array(cells, dtype=DT_D).view(np.int64)
            except ValueError:
                days = None
        if days is None:
            days = np.full(len(cells), NAT, dtype=np.int64)
            for i, cell in enumerate(cells):
                if cell:
                    try:
                        parsed = date.fromisoformat(cell)
                    except ValueError:
                        raise row_error(start + i, self.name, cell, "must be YYYY-MM-DD") from None
                    days[i] = parsed.toordinal() - _EPOCH_ORDINAL
        self._values.append(days)

    def finish(self) -> ColumnLayout:
        return ColumnLayout("date", _concat(self._values, np.int64).view(DT_D))


class _CodesBuilder(Builder):
    """Shared by category, tags and encoded strings: a dict of labels to codes.

    The dict is a ``defaultdict`` whose factory is a counter, so looking a
    label up hands out the next code when it is new: one C-level lookup per
    value, codes in first-seen order, linear. Category and tags columns
    renumber the codes into sorted order at the end; an encoded string column
    keeps first-seen order.
    """

    _code_dtype: ClassVar[type[np.signedinteger[Any]]] = np.int32

    def __init__(self, name: str, nullable: bool) -> None:
        super().__init__(name, nullable)
        self._counter = count()
        # label -> code; the missing markers (None, and "" for CSV cells) -> -1
        self._lookup: defaultdict[object, int] = defaultdict(self._counter.__next__)
        self._lookup[None] = -1
        self._pieces: list[AnyArray] = []

    def _codes(self, values: Sequence[object]) -> AnyArray:
        return np.fromiter(
            map(self._lookup.__getitem__, values), dtype=self._code_dtype, count=len(values)
        )

    def _add(self, values: Sequence[object], start: int) -> None:
        codes = self._codes(values)
        self._require(codes < 0, start, values)
        self._pieces.append(codes)

    def add_objects(self, values: Sequence[object], start: int) -> None:
        # Type-check only labels seen for the first time (few), not every value.
        known = len(self._lookup)
        try:
            self._add(values, start)
        except TypeError:  # an unhashable value
            check_types(values, is_str, start, self.name, "a str")
            raise
        if len(self._lookup) > known:
            new = list(islice(reversed(self._lookup), len(self._lookup) - known))
            if not all(isinstance(label, str) for label in new):
                check_types(values, is_str, start, self.name, "a str")

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        self._lookup.setdefault("", -1)
        self._add(cells, start)

    def _labels(self) -> list[str]:
        """Labels in code order (missing markers excluded)."""
        return [str(label) for label, code in self._lookup.items() if code >= 0]

    def _sorted_lut(self) -> tuple[tuple[str, ...], Int32Array]:
        """Sorted categories and the table mapping builder codes (and -1) to sorted codes."""
        labels = self._labels()
        order = sorted(range(len(labels)), key=labels.__getitem__)
        rank = np.empty(len(labels) + 1, dtype=np.int32)
        rank[np.array(order, dtype=np.int64)] = np.arange(len(labels), dtype=np.int32)
        rank[-1] = -1
        return tuple(labels[i] for i in order), rank


class _CategoryBuilder(_CodesBuilder):
    kind = "category"

    def finish(self) -> ColumnLayout:
        categories, lut = self._sorted_lut()
        codes = lut[_concat(self._pieces, np.int32)]
        return ColumnLayout("category", codes, categories=categories)


class _EncodedStringBuilder(_CodesBuilder):
    """A string column held as int64 codes into a first-seen vocabulary."""

    kind = "string"
    _code_dtype = np.int64

    def finish(self) -> ColumnLayout:
        codes = _concat(self._pieces, np.int64)
        vocabulary = np.array(self._labels(), dtype=STRING_DTYPE)
        mask = codes < 0
        return ColumnLayout("string", codes, mask if mask.any() else None, (), None, vocabulary)


class _TagsBuilder(_CodesBuilder):
    kind = "tags"

    def __init__(self, name: str, nullable: bool) -> None:
        super().__init__(name, nullable)
        self._lengths: list[Int64Array] = []

    def _add_flat(
        self, flat: list[Any], lengths: Int64Array, start: int, rows: Callable[[], Sequence[Any]]
    ) -> None:
        """Append tags ``flat`` (all rows back to back) with ``lengths`` tags per row."""
        known = len(self._lookup)
        try:
            codes = self._codes(flat)
        except TypeError:  # an unhashable tag
            bad = next(t for t in flat if not isinstance(t, str))
            i = next(i for i, tags in enumerate(rows()) if any(t is bad for t in tags))
            raise row_error(start + i, self.name, bad, "tags must be str") from None
        if len(self._lookup) > known:  # validate only the tags seen for the first time
            for tag in islice(reversed(self._lookup), len(self._lookup) - known):
                if isinstance(tag, str) and tag and "|" not in tag:
                    continue
                i = next(i for i, tags in enumerate(rows()) if tag in tags)
                reason = "tags must be str"
                if isinstance(tag, str):
                    reason = "a tag must be non-empty and must not contain '|'"
                raise row_error(start + i, self.name, tag, reason)
        self._pieces.append(codes)
        self._lengths.append(lengths)

    def add_objects(self, values: Sequence[object], start: int) -> None:
        check_types(values, is_tag_collection, start, self.name, "a set of str tags")
        sets: Sequence[Any] = values
        if none_mask(values).any():
            sets = [() if v is None else v for v in values]
        flat = list(chain.from_iterable(sets))
        lengths = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
        self._add_flat(flat, lengths, start, lambda: sets)

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        # "a|b" holds 2 tags, "" none: one join and one split for the chunk, no per-row lists.
        bars = np.fromiter(map(str.count, cells, repeat("|")), dtype=np.int64, count=len(cells))
        present = np.fromiter(map(bool, cells), dtype=bool, count=len(cells))
        lengths = np.where(present, bars + 1, 0)
        filled = list(compress(cells, present.tolist()))
        flat = "|".join(filled).split("|") if filled else []
        self._add_flat(flat, lengths, start, lambda: [c.split("|") for c in cells])

    def finish(self) -> ColumnLayout:
        categories, lut = self._sorted_lut()
        codes = lut[_concat(self._pieces, np.int32)].astype(np.int64)
        lengths = _concat(self._lengths, np.int64)
        return _tags_layout(codes, lengths, categories)


def _tags_layout(
    codes: Int64Array, lengths: Int64Array, categories: tuple[str, ...]
) -> ColumnLayout:
    """The arrays of a canonical tags column: each row's codes sorted and distinct."""
    n = len(lengths)
    k = max(len(categories), 1)
    if codes.size:
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        key = rows * k + codes
        if not (np.diff(key) > 0).all():
            # Rows are already in order, only codes within a row may not be: timsort
            # ("stable") runs in near-linear time on such data (3x quicksort here).
            key = np.sort(key, kind="stable")
            key = key[np.append(True, np.diff(key) > 0)]
            codes = key % k
            lengths = np.bincount(key // k, minlength=n).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return ColumnLayout("tags", codes.astype(np.int32), None, categories, offsets)


_BUILDERS: Final[dict[ColumnKind, type[Builder]]] = {
    "string": _StringBuilder,
    "float": _FloatBuilder,
    "int": _IntBuilder,
    "bool": _BoolBuilder,
    "datetime": _DatetimeBuilder,
    "date": _DateBuilder,
    "category": _CategoryBuilder,
    "tags": _TagsBuilder,
}


def make_builder(kind: ColumnKind, name: str, nullable: bool, encoded: bool = False) -> Builder:
    """A builder for a column of ``kind`` (``encoded``: a dictionary-encoded string column)."""
    if encoded:
        return _EncodedStringBuilder(name, nullable)
    return _BUILDERS[kind](name, nullable)
