"""The builder protocol: a column accumulated chunk by chunk, from values or from text cells.

A `Builder` accumulates one column: `add_objects()` takes Python values (from
records), `add_cells()` text cells (from CSV files, pyarrow or pandas, as
[`Cells`][crmcore.columnar._cells.Cells]), and `finish()` returns the arrays
in the kind's layout (a [`ColumnLayout`][crmcore.columnar._layout.ColumnLayout],
which [`Column`][crmcore.columnar.columns.Column] wraps).

Text is read in two steps, so that a reader can parse several chunks at once
on other threads and still append them in order: `prepare()` parses a chunk
(all the work, and every error, which names its row) and returns the append,
which the reader calls in row order. `add_cells()` does both at once. A
builder says how to parse (`_parse()`), what a required column refuses
(`_check()`) and how to append (`_append()`); `prepare()` makes the error the
one of the chunk's first bad row, whichever rule that row breaks.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, ClassVar

import numpy as np

from crmcore.columnar._cells import Cells
from crmcore.columnar._layout import ColumnLayout
from crmcore.columnar._validation import row_error, row_of
from crmcore.columnar.schema import ColumnKind
from crmcore.kernel.arrays import AnyArray, BoolArray
from crmcore.kernel.errors import ValidationError

__all__ = ["Append", "Builder", "concat"]

Append = Callable[[], None]
"""Appends a prepared chunk to its builder."""


def concat(pieces: list[AnyArray], dtype: np.dtype[Any] | type[Any]) -> AnyArray:
    """The pieces end to end (no copy for one piece)."""
    if not pieces:
        return np.empty(0, dtype=dtype)
    if len(pieces) == 1:
        return pieces[0]
    return np.concatenate(pieces)


class Builder(abc.ABC):
    """Accumulates one column from chunks of Python values or text cells.

    ``start`` is the row number of a chunk's first value, for error messages.
    An empty cell means missing.
    """

    kind: ClassVar[ColumnKind]

    def __init__(self, name: str, nullable: bool) -> None:
        self.name = name
        self.nullable = nullable

    @abc.abstractmethod
    def add_objects(self, values: Sequence[object], start: int) -> None:
        """Append Python values (``None`` = missing)."""

    def prepare(self, cells: Cells, start: int) -> Append:
        """Parse text cells (an empty cell is missing); the result appends them.

        Safe to call for several chunks at once from other threads; the
        appends must then be called in row order. The error is the one of the
        first bad row, whether the cell does not parse or is missing where the
        column is required.
        """
        try:
            parsed = self._parse(cells, start)
        except ValidationError as error:
            row = row_of(error)
            if row is not None and row > start:  # a required cell may be missing above it
                head = cells.take(np.arange(row - start, dtype=np.int64))
                self._check(self._parse(head, start), head, start)
            raise
        self._check(parsed, cells, start)
        return partial(self._append, parsed)

    @abc.abstractmethod
    def _parse(self, cells: Cells, start: int) -> Any:
        """The chunk's values (raising for the first cell that does not parse)."""

    def _check(self, parsed: Any, cells: Cells, start: int) -> None:
        """Refuse the first missing value of a required column."""
        del parsed
        self._require_cells(cells.missing, start)

    @abc.abstractmethod
    def _append(self, parsed: Any) -> None:
        """Append a parsed chunk."""

    def add_cells(self, cells: Cells, start: int) -> None:
        """Append text cells (an empty cell is missing)."""
        self.prepare(cells, start)()

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        """Append text cells given as Python strings (``""`` = missing)."""
        self.add_cells(Cells.from_strings(cells, start, self.name), start)

    @abc.abstractmethod
    def finish(self) -> ColumnLayout:
        """The arrays of everything appended, in the kind's layout."""

    def _require(self, missing: BoolArray, start: int, values: Sequence[object]) -> None:
        if not self.nullable and missing.any():
            i = int(np.argmax(missing))
            raise row_error(start + i, self.name, values[i], "is required (column is not nullable)")

    def _require_cells(self, missing: BoolArray, start: int) -> None:
        if not self.nullable and missing.any():
            i = int(np.argmax(missing))
            raise row_error(start + i, self.name, "", "is required (column is not nullable)")
