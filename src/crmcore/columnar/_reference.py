"""A plain-Python CSV reader, used only by tests as the reference of the fast ones.

The csv module splits the text into rows, every cell is read by Python's own
functions (``int()``, ``float()``, ``datetime.fromisoformat`` through
`crmcore.columnar._timestamps`, ``str.split`` for tags), and the columns are
built from those Python values by the builders' `add_objects()`, the path of
[`from_records()`][crmcore.columnar.table.Frame.from_records]. Nothing here
touches [`Cells`][crmcore.columnar._cells.Cells] or the numpy parsers, so a
differential test that reads one file both ways checks the tokenizer, the
numpy parsers and the pyarrow engine against rules written once, cell by
cell. It is slow (a Python object per cell) and never used by the library.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any, Final, TypeVar

import numpy as np

from crmcore.columnar._builders import make_builder
from crmcore.columnar._csv_columns import plan
from crmcore.columnar._layout import MAX_US, MIN_US
from crmcore.columnar._text_times import date_cell
from crmcore.columnar._timestamps import TimeReading, slow_times
from crmcore.columnar._validation import first_error, row_error
from crmcore.columnar.columns import Column, empty_column
from crmcore.columnar.reading import ReadOptions, read_options
from crmcore.columnar.schema import ColumnKind, Schema
from crmcore.columnar.table import Frame
from crmcore.kernel.clock import EPOCH
from crmcore.kernel.errors import ValidationError

__all__ = ["frame_from_csv", "read_csv"]

F = TypeVar("F", bound=Frame)

_INT: Final = re.compile(r"[+-]?[0-9]+\Z")
_TRUTH: Final = {
    **dict.fromkeys(("true", "True", "TRUE", "1"), True),
    **dict.fromkeys(("false", "False", "FALSE", "0"), False),
}
_BAD_TAG: Final = "a tag must be non-empty and must not contain '|'"


def frame_from_csv(frame_type: type[F], text: str, **options: Any) -> F:
    """The frame [`from_csv()`][crmcore.columnar.table.Frame.from_csv] gives for ``text``."""
    chosen = read_options(**options)
    columns = read_csv(
        text, frame_type.SCHEMA, chosen,
        extra_prefix=frame_type.EXTRA_PREFIX, encoded=frame_type.ENCODED,
        lenient=frame_type.DERIVED, alternatives=frame_type.ALTERNATIVES,
    )  # fmt: skip
    length = len(next(iter(columns.values())))
    return frame_type._built(columns, length, chosen)


def read_csv(
    text: str,
    schema: Schema,
    options: ReadOptions,
    *,
    extra_prefix: str | None = None,
    encoded: frozenset[str] = frozenset(),
    lenient: frozenset[str] = frozenset(),
    alternatives: tuple[tuple[str, ...], ...] = (),
) -> dict[str, Column]:
    """The columns of [`read_csv()`][crmcore.columnar.csvio.read_csv], cell by cell."""
    text = text.removeprefix("\ufeff")
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as error:
        raise ValidationError("row", "", f"is not valid CSV: {error}") from None
    if not rows:
        raise ValidationError("header", "", "the CSV has no header row")
    header, body = rows[0], rows[1:]
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ValidationError(
                f"row {i}", row, f"has {len(row)} cells, the header {len(header)}"
            )
    targets = plan(header, schema, options, extra_prefix, lenient, alternatives)
    reading = TimeReading(options.tz, options.dayfirst)
    built: dict[str, Column] = {}
    errors: list[ValidationError] = []
    for j, target in enumerate(targets):
        if target is None:
            continue
        cells = [row[j] for row in body]
        try:
            if target in schema:
                spec = schema[target]
                nullable = spec.nullable or target in lenient
                encoded_here = target in encoded
                built[target] = column(cells, spec.kind, target, nullable, encoded_here, reading)
            else:
                kind = infer_kind(cells, reading)
                built[target] = column(cells, kind, target, True, False, reading)
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise first_error(errors)
    result: dict[str, Column] = {}
    for spec in schema.columns:
        found = built.pop(spec.name, None)
        result[spec.name] = (
            found if found is not None else empty_column(spec.kind, len(body), spec.name in encoded)
        )
    for name in sorted(built):
        result[name] = built[name]
    return result


def column(
    cells: list[str],
    kind: ColumnKind,
    name: str,
    nullable: bool,
    encoded: bool,
    reading: TimeReading,
) -> Column:
    """A column of ``kind`` from its cells (``""``: missing), each read by Python in row order.

    The error is the one of the first bad row: a cell that does not parse, or a
    missing (for floats also a ``NaN``) value where the column is required.
    """
    parse = _PARSERS.get(kind, _text)
    values: list[object] = []
    for i, cell in enumerate(cells):
        if cell == "":
            if not nullable and kind != "tags":
                reason = (
                    "is required" if kind == "float" else "is required (column is not nullable)"
                )
                raise row_error(i, name, "", reason)
            values.append(float("nan") if kind == "float" else None)
            continue
        value = parse(cell, i, name, reading)
        if kind == "float" and value != value and not nullable:
            raise row_error(i, name, cell, "must not be NaN")
        values.append(value)
    if kind == "tags":
        values = [frozenset() if value is None else value for value in values]
    builder = make_builder(kind, name, nullable, encoded, reading)
    builder.add_objects(values, 0)
    return Column._new(*builder.finish())


def _text(cell: str, row: int, name: str, reading: TimeReading) -> object:
    return cell


def _float(cell: str, row: int, name: str, reading: TimeReading) -> object:
    return _number(float, cell, row, name, "must be a number")


def _date(cell: str, row: int, name: str, reading: TimeReading) -> object:
    return date.fromordinal(date_cell(cell, row, name, reading.dayfirst) + _EPOCH_ORDINAL)


_PARSERS: Final[dict[ColumnKind, Callable[[str, int, str, TimeReading], object]]] = {
    "float": _float,
    "int": lambda cell, row, name, reading: _int(cell, row, name),
    "bool": lambda cell, row, name, reading: _bool(cell, row, name),
    "date": _date,
    "datetime": lambda cell, row, name, reading: _instant(cell, row, name, reading),
    "tags": lambda cell, row, name, reading: _tags(cell, row, name),
}


_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


T = TypeVar("T")


def _number(parse: Callable[[str], T], cell: str, row: int, name: str, reason: str) -> T:
    try:
        return parse(cell)
    except ValueError:
        raise row_error(row, name, cell, reason) from None


def _int(cell: str, row: int, name: str) -> int:
    try:
        number = int(cell)
    except ValueError:
        number = None
    if number is None or not -(2**63) <= number < 2**63:
        raise row_error(row, name, cell, "must be an int64")
    return number


def _bool(cell: str, row: int, name: str) -> bool:
    if cell not in _TRUTH:
        raise row_error(row, name, cell, "must be true or false")
    return _TRUTH[cell]


def _instant(cell: str, row: int, name: str, reading: TimeReading) -> object:
    """The aware UTC datetime of one timestamp cell (naive ones placed in ``reading.tz``)."""
    (micros,) = slow_times([cell], np.array([row], dtype=np.int64), 0, name, reading).tolist()
    if not MIN_US <= micros <= MAX_US:  # pragma: no cover - slow_times refuses these
        raise row_error(row, name, cell, "must lie within years 1 to 9999")
    return EPOCH + timedelta(microseconds=micros)


def _tags(cell: str, row: int, name: str) -> frozenset[str]:
    tags = cell.split("|")
    if "" in tags:
        raise row_error(row, name, "", _BAD_TAG)
    return frozenset(tags)


def infer_kind(cells: list[str], reading: TimeReading) -> ColumnKind:
    """The kind of an extra column, by the rule of
    [`infer_text_kind()`][crmcore.columnar._kind_inference.infer_text_kind], cell by cell."""
    present = [cell for cell in cells if cell != ""]
    if not present:
        return "string"
    if all(_INT.match(cell) for cell in present):
        return "int" if all(-(2**63) <= int(cell) < 2**63 for cell in present) else "float"
    tries: Mapping[ColumnKind, Callable[[str, int], object]] = {
        "float": lambda cell, i: _number(float, cell, i, "", ""),
        "bool": lambda cell, i: _bool(cell, i, ""),
        "date": lambda cell, i: _ten(cell) and date_cell(cell, i, "", reading.dayfirst),
        "datetime": lambda cell, i: _instant(cell, i, "", reading),
    }
    for kind, attempt in tries.items():
        try:
            for i, cell in enumerate(present):
                attempt(cell, i)
        except ValidationError:
            continue
        return kind
    return "string"


def _ten(cell: str) -> bool:
    if len(cell.encode("utf-8")) != 10:
        raise ValidationError("cells", cell, "not a date")
    return True
