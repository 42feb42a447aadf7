"""Columns: one immutable numpy array per column, plus what its kind needs.

A :class:`Column` holds the values of one column of a frame in the layout
that :mod:`crmcore.columnar.schema` documents for its kind (``StringDType``
plus a mask, ``float64`` with ``NaN``, ``datetime64[us]`` with ``NaT``, integer
codes into sorted categories, CSR offsets for tag sets, ...). Its arrays are
read-only, so a frame built from columns cannot change under its readers.

The builders further down turn Python values (from records) and CSV cells
(strings) into columns chunk by chunk, in one linear pass with the per-value
work done inside numpy or C-implemented builtins (``map`` over ``operator``
functions, ``set``, ``dict`` lookups) rather than in Python loops; a
per-value Python loop runs only to find and name a bad value. Errors name
the row (``"row 17: at"``).
"""

from __future__ import annotations

import abc
import bisect
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import chain, compress, count, islice, pairwise, repeat
from operator import attrgetter, floordiv, is_, itemgetter, not_, sub
from types import NoneType
from typing import Any, ClassVar, Final, cast

import numpy as np
import numpy.typing as npt

from crmcore.columnar.schema import COLUMN_KINDS, ColumnKind
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int32Array, Int64Array
from crmcore.kernel.clock import EPOCH
from crmcore.kernel.errors import ValidationError

__all__ = [
    "BoolArray",
    "Column",
    "Float64Array",
    "Int64Array",
    "STRING_DTYPE",
]

#: numpy's variable-width UTF-8 string dtype (numpy >= 2), used for string columns.
STRING_DTYPE: Final = np.dtypes.StringDType()


_NAT: Final = np.iinfo(np.int64).min
_US: Final = timedelta(microseconds=1)
_EPOCHS: Final = repeat(EPOCH)
_USES: Final = repeat(_US)
_MIN_US: Final = (datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // _US
_MAX_US: Final = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - EPOCH) // _US
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_DT_US: Final = np.dtype("datetime64[us]")
_DT_D: Final = np.dtype("datetime64[D]")
_STRING_INLINE: Final = 15  # StringDType keeps strings up to 15 bytes inside the array

#: Kinds that hold one scalar per row (everything except ``tags``).
SCALAR_KINDS: Final[frozenset[ColumnKind]] = frozenset(COLUMN_KINDS) - {"tags"}


def freeze(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Make an array we own read-only and return it."""
    array.flags.writeable = False
    return array


def row_error(row: int, name: str, value: object, reason: str) -> ValidationError:
    """The error for a bad value at ``row`` of column ``name``."""
    return ValidationError(f"row {row}: {name}", value, reason)


class Column:
    """One column of a frame: its kind, values, missing mask and (codes) categories.

    ``values`` is the numpy array of the kind's layout (for ``category`` and
    ``tags`` the ``int32`` codes into :attr:`categories`; for ``tags`` the
    codes of all rows back to back, delimited by :attr:`offsets`). ``missing``
    is a boolean mask for every kind (all ``False`` for ``tags``, where an
    empty set is a value). A string column may be *dictionary-encoded*
    (``int64`` codes into a :attr:`vocabulary`, as the customer column of the
    logs is); its ``values`` then decode on access.

    All arrays are read-only. Build columns with :meth:`from_values` (Python
    values) or :meth:`from_numpy` (arrays); frames build them for you.
    """

    __slots__ = ("_categories", "_kind", "_mask", "_missing", "_offsets", "_values", "_vocabulary")

    _kind: ColumnKind
    _values: AnyArray
    _mask: BoolArray | None
    _categories: tuple[str, ...]
    _offsets: Int64Array | None
    _vocabulary: AnyArray | None
    _missing: BoolArray | None

    def __init__(self) -> None:
        raise TypeError("build a Column with Column.from_values() or Column.from_numpy()")

    @classmethod
    def _new(
        cls,
        kind: ColumnKind,
        values: AnyArray,
        mask: BoolArray | None = None,
        categories: tuple[str, ...] = (),
        offsets: Int64Array | None = None,
        vocabulary: AnyArray | None = None,
    ) -> Column:
        """Wrap arrays that already satisfy the layout invariants (no checks, no copies)."""
        column = object.__new__(cls)
        column._kind = kind
        column._values = freeze(values)
        column._mask = None if mask is None else freeze(mask)
        column._categories = categories
        column._offsets = None if offsets is None else freeze(offsets)
        column._vocabulary = None if vocabulary is None else freeze(vocabulary)
        column._missing = None
        return column

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_values(
        cls,
        kind: ColumnKind,
        values: Iterable[object],
        *,
        name: str = "values",
        nullable: bool = True,
    ) -> Column:
        """Build a column of ``kind`` from Python values (``None`` = missing).

        The values are validated as a frame's records are: e.g. datetimes must
        be timezone-aware, a ``float`` column takes ``int``/``float``/``Decimal``.
        ``name`` is used in error messages (``"row 3: name"``).
        """
        if kind not in COLUMN_KINDS:
            raise ValidationError("kind", kind, f"must be one of {', '.join(COLUMN_KINDS)}")
        builder = make_builder(kind, name, nullable)
        builder.add_objects(list(values), 0)
        return builder.finish()

    @classmethod
    def from_numpy(
        cls,
        kind: ColumnKind,
        values: npt.ArrayLike,
        *,
        missing: npt.ArrayLike | None = None,
        categories: Sequence[str] = (),
    ) -> Column:
        """Build a scalar column from a numpy array (copied, then frozen).

        ``missing`` marks missing rows for any kind (``NaN``/``NaT``/code
        ``-1`` also count as missing). For ``category`` pass ``int`` codes and
        the sorted, distinct ``categories`` they index. ``tags`` columns are
        built with :meth:`from_values`.
        """
        if kind not in SCALAR_KINDS:
            raise ValidationError("kind", kind, "from_numpy builds scalar kinds; use from_values")
        raw = np.asarray(values)
        n = len(raw) if raw.ndim == 1 else -1
        if n < 0:
            raise ValidationError("values", raw.shape, "must be a one-dimensional array")
        mask = np.zeros(n, dtype=bool)
        if missing is not None:
            given = np.asarray(missing)
            if given.dtype != np.bool_ or given.shape != (n,):
                raise ValidationError("missing", given.shape, f"must be a bool array of length {n}")
            mask |= given
        if kind == "string":
            if raw.dtype != STRING_DTYPE and raw.dtype.kind not in "UO":
                raise ValidationError("values", raw.dtype, "a string column needs string values")
            if raw.dtype.kind == "O":
                _check_types(list(raw), _is_str, 0, "values", "a str")
                mask |= np.fromiter(map(is_, raw, repeat(None)), dtype=bool, count=n)
                raw = np.where(mask, "", raw)
            arr = np.array(raw, dtype=STRING_DTYPE)
            arr[mask] = ""
            return cls._new(kind, arr, mask)
        if kind == "float":
            if raw.dtype.kind not in "fiu":
                raise ValidationError("values", raw.dtype, "a float column needs numbers")
            arr = np.array(raw, dtype=np.float64)
            arr[mask] = np.nan
            return cls._new(kind, arr)
        if kind in ("int", "bool"):
            ok = "iu" if kind == "int" else "b"
            if raw.dtype.kind not in ok:
                raise ValidationError("values", raw.dtype, f"an {kind} column needs {kind} values")
            arr = np.array(raw, dtype=np.int64 if kind == "int" else np.bool_)
            arr[mask] = 0
            return cls._new(kind, arr, mask)
        if kind in ("datetime", "date"):
            target = _DT_US if kind == "datetime" else _DT_D
            if raw.dtype.kind != "M":
                raise ValidationError(
                    "values", raw.dtype, f"a {kind} column needs datetime64 values"
                )
            arr = raw.astype(target)
            lost = (arr.astype(raw.dtype) != raw) & ~np.isnat(raw)
            if lost.any():
                raise ValidationError("values", raw[lost][0], f"does not fit a {kind} column")
            arr[mask] = np.datetime64("NaT")
            if kind == "datetime":
                ints = arr.view(np.int64)
                present = ints[ints != _NAT]
                if present.size and (present.min() < _MIN_US or present.max() > _MAX_US):
                    raise ValidationError("values", kind, "must lie within years 1 to 9999")
            return cls._new(kind, arr)
        # category
        cats = tuple(categories)
        if list(cats) != sorted(set(cats)) or not all(isinstance(c, str) for c in cats):
            raise ValidationError("categories", cats, "must be distinct strings in sorted order")
        if raw.dtype.kind not in "iu":
            raise ValidationError("values", raw.dtype, "a category column needs integer codes")
        if raw.size and (raw.min() < -1 or raw.max() >= len(cats)):
            raise ValidationError("values", raw.dtype, f"codes must lie in -1..{len(cats) - 1}")
        codes = raw.astype(np.int32)
        codes[mask] = -1
        return cls._new(kind, codes, categories=cats)

    # -- properties -------------------------------------------------------------------
    @property
    def kind(self) -> ColumnKind:
        """The column kind (see :data:`~crmcore.columnar.schema.ColumnKind`)."""
        return self._kind

    @property
    def values(self) -> AnyArray:
        """The values array (codes for category and tags columns).

        A dictionary-encoded string column decodes here, on every access; use
        :attr:`codes` and :attr:`vocabulary` to work on the codes instead.
        """
        if self._vocabulary is not None:
            return freeze(_decode(self._vocabulary, self._values))
        return self._values

    @property
    def missing(self) -> BoolArray:
        """Boolean mask of missing rows (all ``False`` for tags)."""
        if self._mask is not None:
            return self._mask
        if self._missing is None:
            v = self._values
            if self._kind == "float":
                mask = np.isnan(v)
            elif self._kind in ("datetime", "date"):
                mask = np.isnat(v)
            elif self._kind == "category":
                mask = v < 0
            else:  # tags
                mask = np.zeros(len(self), dtype=bool)
            self._missing = freeze(mask)
        return self._missing

    @property
    def categories(self) -> tuple[str, ...]:
        """Sorted categories that the codes of a category or tags column index."""
        return self._categories

    @property
    def codes(self) -> AnyArray:
        """Integer codes: of a category or tags column, or of an encoded string column."""
        if self._kind in ("category", "tags") or self._vocabulary is not None:
            return self._values
        raise ValidationError("column", self._kind, "has no codes (not category, tags or encoded)")

    @property
    def vocabulary(self) -> AnyArray | None:
        """The distinct strings an encoded string column's codes index (else ``None``)."""
        return self._vocabulary

    @property
    def offsets(self) -> Int64Array:
        """Tags only: row ``i`` holds ``values[offsets[i]:offsets[i + 1]]`` (CSR layout)."""
        if self._offsets is None:
            raise ValidationError("column", self._kind, "only a tags column has offsets")
        return self._offsets

    @property
    def lengths(self) -> Int64Array:
        """Tags only: the number of tags on each row."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        if self._offsets is not None:
            return len(self._offsets) - 1
        return len(self._values)

    def __repr__(self) -> str:
        extra = f", {len(self._categories)} categories" if self._categories else ""
        return f"Column({self._kind}, {len(self)} rows{extra})"

    # -- queries ---------------------------------------------------------------------------
    def has(self, tag: str) -> BoolArray:
        """Tags only: mask of rows whose set contains ``tag``."""
        offsets = self.offsets
        result = np.zeros(len(self), dtype=bool)
        code = self.code_of(tag)
        if code is None:
            return result
        hits = np.flatnonzero(self._values == code)
        result[np.searchsorted(offsets, hits, side="right") - 1] = True
        return result

    def code_of(self, value: str) -> int | None:
        """The code of ``value`` in a category or tags column, ``None`` when it is absent."""
        if self._kind not in ("category", "tags"):
            raise ValidationError("column", self._kind, "code_of needs a category or tags column")
        i = bisect.bisect_left(self._categories, value)
        if i < len(self._categories) and self._categories[i] == value:
            return i
        return None

    def isin(self, values: Iterable[str]) -> BoolArray:
        """Mask of rows whose category or string value is in ``values`` (missing never is)."""
        wanted = list(values)
        if self._kind == "category":
            codes = [c for c in map(self.code_of, wanted) if c is not None]
            return np.isin(self._values, np.array(codes, dtype=np.int32))
        if self._kind == "string":
            if self._vocabulary is not None:
                hit = np.isin(self._vocabulary, np.array(wanted, dtype=STRING_DTYPE))
                return np.append(hit, False)[self._values]
            mask = np.isin(self._values, np.array(wanted, dtype=STRING_DTYPE))
            return mask & ~self.missing
        raise ValidationError("column", self._kind, "isin needs a category or string column")

    # -- conversion --------------------------------------------------------------------------
    def to_list(self) -> list[object]:
        """Python values, ``None`` for missing.

        Datetimes come back as aware UTC ``datetime``, dates as ``date``,
        tags as ``frozenset[str]``, categories as ``str``, ints as ``int``.
        """
        kind = self._kind
        v = self._values
        if kind == "tags":
            flat = np.array(self._categories, dtype=object)[v].tolist() if len(v) else []
            bounds = self.offsets.tolist()
            return [frozenset(flat[a:b]) for a, b in pairwise(bounds)]
        if kind == "category" or self._vocabulary is not None:
            vocabulary = self._vocabulary
            labels: list[object] = (
                list(self._categories) if vocabulary is None else vocabulary.tolist()
            )
            lookup = np.empty(len(labels) + 1, dtype=object)
            lookup[:-1] = labels
            return list(lookup[v].tolist())
        missing = self.missing
        if kind == "datetime":
            out = np.empty(len(v), dtype=object)
            present = ~missing
            deltas = (v[present] - np.datetime64(0, "us")).astype(object)
            out[present] = list(map(EPOCH.__add__, deltas))
            return list(out.tolist())
        objs = v.astype(object)
        if missing.any():
            objs[missing] = None
        return list(objs.tolist())

    def take(self, indices: Int64Array) -> Column:
        """The rows at ``indices`` (int64, in bounds), as a new column."""
        if self._kind == "tags":
            offsets = self.offsets
            lengths = np.diff(offsets)[indices]
            new_offsets = np.zeros(len(indices) + 1, dtype=np.int64)
            np.cumsum(lengths, out=new_offsets[1:])
            starts = np.repeat(offsets[:-1][indices] - new_offsets[:-1], lengths)
            gather = starts + np.arange(new_offsets[-1], dtype=np.int64)
            return Column._new("tags", self._values[gather], None, self._categories, new_offsets)
        return Column._new(
            self._kind,
            self._values[indices],
            None if self._mask is None else self._mask[indices],
            self._categories,
            None,
            self._vocabulary,
        )

    def equals(self, other: object) -> bool:
        """Same kind, length, missing rows and values (categories compared by label)."""
        if not isinstance(other, Column) or other._kind != self._kind or len(other) != len(self):
            return False
        kind = self._kind
        if kind == "tags":
            a, b = _common_codes(self, other)
            return bool(np.array_equal(self.offsets, other.offsets) and np.array_equal(a, b))
        if not np.array_equal(self.missing, other.missing):
            return False
        if kind == "category":
            a, b = _common_codes(self, other)
            return bool(np.array_equal(a, b))
        if kind == "string":
            if (
                self._vocabulary is not None
                and other._vocabulary is not None
                and np.array_equal(self._vocabulary, other._vocabulary)
            ):
                return bool(np.array_equal(self._values, other._values))
            return bool(np.array_equal(self.values, other.values))
        if kind == "float":
            return bool(np.array_equal(self._values, other._values, equal_nan=True))
        if kind in ("datetime", "date"):
            return bool(np.array_equal(self._values.view(np.int64), other._values.view(np.int64)))
        return bool(np.array_equal(self._values, other._values))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Column):
            return NotImplemented
        return self.equals(other)

    __hash__ = None  # type: ignore[assignment]

    def memory_bytes(self) -> int:
        """Bytes held by the column's arrays (string payloads beyond the inline size included)."""
        total = self._values.nbytes
        for extra in (self._mask, self._offsets, self._vocabulary):
            if extra is not None:
                total += extra.nbytes
        for strings in (self._values, self._vocabulary):
            if strings is not None and strings.dtype == STRING_DTYPE and strings.size:
                lengths = np.strings.str_len(strings)
                total += int(lengths[lengths > _STRING_INLINE].sum())
        return total + sum(len(c) + 8 for c in self._categories)


def _decode(vocabulary: AnyArray, codes: AnyArray) -> AnyArray:
    if not len(vocabulary):
        return np.full(len(codes), "", dtype=STRING_DTYPE)
    out: AnyArray = vocabulary[np.maximum(codes, 0)]
    if (codes < 0).any():
        out[codes < 0] = ""
    return out


def _common_codes(a: Column, b: Column) -> tuple[AnyArray, AnyArray]:
    """Both columns' codes re-expressed over the union of their sorted categories."""
    if a.categories == b.categories:
        return a.codes, b.codes
    union = np.array(sorted(set(a.categories) | set(b.categories)), dtype=object)

    def remap(column: Column) -> AnyArray:
        # A monotone map (sorted into sorted), so rows of tags stay sorted; -1 stays -1.
        rank = np.searchsorted(union, np.array(column.categories, dtype=object))
        lut = np.append(rank, -1).astype(np.int64)
        return lut[column.codes]

    return remap(a), remap(b)


# ---------------------------------------------------------------------------------------
# Type checks on Python values
# ---------------------------------------------------------------------------------------


def _is_str(t: type) -> bool:
    return issubclass(t, str)


def _is_int(t: type) -> bool:
    return issubclass(t, int | np.integer) and not issubclass(t, bool | np.bool_)


def _is_number(t: type) -> bool:
    return _is_int(t) or issubclass(t, float | Decimal | np.floating)


def _is_bool(t: type) -> bool:
    return issubclass(t, bool | np.bool_)


def _is_datetime(t: type) -> bool:
    return issubclass(t, datetime)


def _is_date(t: type) -> bool:
    return issubclass(t, date) and not issubclass(t, datetime)


def _is_tag_collection(t: type) -> bool:
    return issubclass(t, frozenset | set | list | tuple)


def _check_types(
    values: Sequence[object], ok: Callable[[type], bool], start: int, name: str, expected: str
) -> None:
    """Raise for the first value (not ``None``) whose type fails ``ok``."""
    bad = {t for t in set(map(type, values)) if t is not NoneType and not ok(t)}
    if bad:
        for i, value in enumerate(values):
            if type(value) in bad:
                raise row_error(start + i, name, value, f"must be {expected}")


def _none_mask(values: Sequence[object]) -> BoolArray:
    """Mask of ``None`` values (a cheap identity scan first: most columns have none)."""
    if not any(map(is_, values, repeat(None))):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(map(is_, values, repeat(None)), dtype=bool, count=len(values))


def _concat(pieces: list[AnyArray], dtype: np.dtype[Any] | type[Any]) -> AnyArray:
    if not pieces:
        return np.empty(0, dtype=dtype)
    if len(pieces) == 1:
        return pieces[0]
    return np.concatenate(pieces)


# ---------------------------------------------------------------------------------------
# Builders: Python values or CSV cells, chunk by chunk, into a Column
# ---------------------------------------------------------------------------------------


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
    def finish(self) -> Column:
        """The column of everything appended."""

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
        _check_types(values, _is_str, start, self.name, "a str")
        missing = _none_mask(values)
        self._require(missing, start, values)
        if missing.any():
            values = ["" if v is None else v for v in values]
        self._values.append(np.array(values, dtype=STRING_DTYPE))
        self._masks.append(missing)

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        missing = _empty_mask(cells)
        self._require(missing, start, cells)
        self._values.append(np.array(cells, dtype=STRING_DTYPE))
        self._masks.append(missing)

    def finish(self) -> Column:
        return Column._new(
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
        _check_types(values, _is_number, start, self.name, "a number (float, int or Decimal)")
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

    def finish(self) -> Column:
        return Column._new("float", _concat(self._values, np.float64))


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

    def finish(self) -> Column:
        return Column._new(
            self.kind, _concat(self._values, self._dtype), _concat(self._masks, np.bool_)
        )


class _IntBuilder(_IntLikeBuilder):
    kind = "int"

    def add_objects(self, values: Sequence[object], start: int) -> None:
        _check_types(values, _is_int, start, self.name, "an int")
        missing = _none_mask(values)
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
        missing = _empty_mask(cells)
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


#: CSV spellings of booleans: 1 true, 0 false, 2 missing.
_BOOL_CELLS: Final[dict[str, int]] = {
    **dict.fromkeys(("true", "True", "TRUE", "1"), 1),
    **dict.fromkeys(("false", "False", "FALSE", "0"), 0),
    "": 2,
}


class _BoolBuilder(_IntLikeBuilder):
    kind = "bool"

    def add_objects(self, values: Sequence[object], start: int) -> None:
        _check_types(values, _is_bool, start, self.name, "a bool")
        missing = _none_mask(values)
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


def _aware_micros(values: Sequence[object], start: int, name: str) -> Int64Array:
    """Microseconds since the epoch of aware datetimes; ``NaT`` for ``None``.

    No separate type check: a value without ``tzinfo``, a naive one, or one
    that does not subtract from a datetime sends the chunk down the per-value
    path, which names the row.
    """
    missing = _none_mask(values)
    present = list(compress(values, (~missing).tolist())) if missing.any() else values
    out = np.full(len(values), _NAT, dtype=np.int64)
    try:
        zones = set(map(attrgetter("tzinfo"), present))
    except AttributeError:
        zones = {None}
    if None not in zones:
        try:
            # (dt - EPOCH) // 1us is exact; both steps run as C slot calls via map().
            micros = np.fromiter(map(floordiv, map(sub, present, _EPOCHS), _USES), np.int64)
        except (TypeError, OverflowError, ValueError):
            pass
        else:
            out[~missing] = micros
            return out
    # Slow path, only to find and name the offending row.
    for i, value in enumerate(values):
        if value is not None:
            out[i] = _one_micros(value, start + i, name)
    return out


_NAIVE: Final = "must be a timezone-aware datetime (naive datetimes are ambiguous)"


def _one_micros(value: object, row: int, name: str) -> int:
    if not isinstance(value, datetime):
        raise row_error(row, name, value, "must be a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise row_error(row, name, value, _NAIVE)
    try:
        return (value - EPOCH) // _US
    except (TypeError, OverflowError, ValueError):
        raise row_error(row, name, value, _NAIVE) from None


_LAST_1: Final = itemgetter(slice(-1, None))
_LAST_6: Final = itemgetter(slice(-6, None))
_BUT_LAST_1: Final = itemgetter(slice(None, -1))
_BUT_LAST_6: Final = itemgetter(slice(None, -6))


def _empty_mask(cells: Sequence[str]) -> BoolArray:
    """Mask of empty cells (cheap when there are none)."""
    if "" not in cells:
        return np.zeros(len(cells), dtype=bool)
    return np.fromiter(map(not_, cells), dtype=bool, count=len(cells))


def _present(cells: Sequence[str], missing: BoolArray) -> list[str]:
    if not missing.any():
        return list(cells)
    return list(compress(cells, (~missing).tolist()))


def _utc_bodies(cells: Sequence[str], present: list[str]) -> list[str] | None:
    """The cells without their UTC suffix when all end in ``Z`` or all in ``+00:00``.

    Also checks the shape numpy's parser needs (so it never sees an offset,
    which it would warn about): one ``T``/space separator, two ``-`` (a
    4-digit year), no ``+``/``Z`` left and at least ``YYYY-MM-DDTHH:MM``.
    """
    if not present:
        return list(cells)
    if set(map(_LAST_1, present)) == {"Z"}:
        strip = _BUT_LAST_1
    elif set(map(_LAST_6, present)) == {"+00:00"}:
        strip = _BUT_LAST_6
    else:
        return None
    bodies = list(map(strip, cells))
    text = "\n".join(map(strip, present))
    m = len(present)
    if (
        "+" in text
        or "Z" in text
        or text.count("-") != 2 * m
        or text.count("T") + text.count(" ") != m
        or min(map(len, present)) < 17
    ):
        return None
    return bodies


def _parse_iso_micros(cells: Sequence[str], start: int, name: str) -> Int64Array:
    """ISO 8601 timestamps with an offset (``""`` = missing) to UTC microseconds.

    Fast path: every present cell ends in ``Z`` (or every one in ``+00:00``)
    and numpy parses the rest as UTC; otherwise each cell goes through
    :meth:`datetime.fromisoformat` and must carry an offset.
    """
    missing = _empty_mask(cells)
    bodies = _utc_bodies(cells, _present(cells, missing))
    if bodies is not None:
        try:
            ints = np.array(bodies, dtype=_DT_US).view(np.int64)
        except ValueError:
            pass
        else:
            present = ints[~missing]
            if not present.size or (present.min() >= _MIN_US and present.max() <= _MAX_US):
                return ints
    out = np.full(len(cells), _NAT, dtype=np.int64)
    for i, cell in enumerate(cells):
        if cell:
            try:
                parsed = datetime.fromisoformat(cell)
            except ValueError:
                raise row_error(start + i, name, cell, "must be an ISO 8601 timestamp") from None
            out[i] = _one_micros(parsed, start + i, name)
    return out


class _DatetimeBuilder(Builder):
    kind = "datetime"

    def __init__(self, name: str, nullable: bool) -> None:
        super().__init__(name, nullable)
        self._values: list[AnyArray] = []

    def _add(self, micros: Int64Array, start: int, values: Sequence[object]) -> None:
        self._require(micros == _NAT, start, values)
        self._values.append(micros)

    def add_objects(self, values: Sequence[object], start: int) -> None:
        self._add(_aware_micros(values, start, self.name), start, values)

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        self._add(_parse_iso_micros(cells, start, self.name), start, cells)

    def finish(self) -> Column:
        return Column._new("datetime", _concat(self._values, np.int64).view(_DT_US))


class _DateBuilder(Builder):
    kind = "date"

    def __init__(self, name: str, nullable: bool) -> None:
        super().__init__(name, nullable)
        self._values: list[AnyArray] = []

    def add_objects(self, values: Sequence[object], start: int) -> None:
        _check_types(values, _is_date, start, self.name, "a date (not a datetime)")
        missing = _none_mask(values)
        self._require(missing, start, values)
        days = np.full(len(values), _NAT, dtype=np.int64)
        present = list(compress(values, (~missing).tolist()))
        ordinals = map(date.toordinal, cast(list[date], present))
        days[~missing] = np.fromiter(ordinals, np.int64) - _EPOCH_ORDINAL
        self._values.append(days)

    def add_strings(self, cells: Sequence[str], start: int) -> None:
        missing = _empty_mask(cells)
        self._require(missing, start, cells)
        present = _present(cells, missing)
        days: Int64Array | None = None
        if set(map(len, present)) <= {10} and "\n".join(present).count("-") == 2 * len(present):
            try:
                days = np.array(cells, dtype=_DT_D).view(np.int64)
            except ValueError:
                days = None
        if days is None:
            days = np.full(len(cells), _NAT, dtype=np.int64)
            for i, cell in enumerate(cells):
                if cell:
                    try:
                        parsed = date.fromisoformat(cell)
                    except ValueError:
                        raise row_error(start + i, self.name, cell, "must be YYYY-MM-DD") from None
                    days[i] = parsed.toordinal() - _EPOCH_ORDINAL
        self._values.append(days)

    def finish(self) -> Column:
        return Column._new("date", _concat(self._values, np.int64).view(_DT_D))


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
            _check_types(values, _is_str, start, self.name, "a str")
            raise
        if len(self._lookup) > known:
            new = list(islice(reversed(self._lookup), len(self._lookup) - known))
            if not all(isinstance(label, str) for label in new):
                _check_types(values, _is_str, start, self.name, "a str")

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

    def finish(self) -> Column:
        categories, lut = self._sorted_lut()
        codes = lut[_concat(self._pieces, np.int32)]
        return Column._new("category", codes, categories=categories)


class _EncodedStringBuilder(_CodesBuilder):
    """A string column held as int64 codes into a first-seen vocabulary."""

    kind = "string"
    _code_dtype = np.int64

    def finish(self) -> Column:
        codes = _concat(self._pieces, np.int64)
        vocabulary = np.array(self._labels(), dtype=STRING_DTYPE)
        mask = codes < 0
        return Column._new("string", codes, mask if mask.any() else None, (), None, vocabulary)


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
        _check_types(values, _is_tag_collection, start, self.name, "a set of str tags")
        sets: Sequence[Any] = values
        if _none_mask(values).any():
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

    def finish(self) -> Column:
        categories, lut = self._sorted_lut()
        codes = lut[_concat(self._pieces, np.int32)].astype(np.int64)
        lengths = _concat(self._lengths, np.int64)
        return tags_column(codes, lengths, categories)


def tags_column(codes: Int64Array, lengths: Int64Array, categories: tuple[str, ...]) -> Column:
    """A canonical tags column: each row's codes sorted and distinct."""
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
    return Column._new("tags", codes.astype(np.int32), None, categories, offsets)


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


def empty_column(kind: ColumnKind, length: int, encoded: bool = False) -> Column:
    """A column of ``length`` missing values (empty sets for tags)."""
    missing = np.ones(length, dtype=bool)
    if encoded:
        codes = np.full(length, -1, dtype=np.int64)
        return Column._new("string", codes, missing, (), None, np.empty(0, dtype=STRING_DTYPE))
    if kind == "string":
        return Column._new(kind, np.full(length, "", dtype=STRING_DTYPE), missing)
    if kind == "float":
        return Column._new(kind, np.full(length, np.nan))
    if kind == "int":
        return Column._new(kind, np.zeros(length, dtype=np.int64), missing)
    if kind == "bool":
        return Column._new(kind, np.zeros(length, dtype=bool), missing)
    if kind == "datetime":
        return Column._new(kind, np.full(length, _NAT, dtype=np.int64).view(_DT_US))
    if kind == "date":
        return Column._new(kind, np.full(length, _NAT, dtype=np.int64).view(_DT_D))
    if kind == "category":
        return Column._new(kind, np.full(length, -1, dtype=np.int32))
    return Column._new(kind, np.empty(0, dtype=np.int32), None, (), np.zeros(length + 1, np.int64))


# ---------------------------------------------------------------------------------------
# Kind inference for custom attribute columns
# ---------------------------------------------------------------------------------------


def _value_kind(t: type) -> ColumnKind | None:
    if _is_bool(t):
        return "bool"
    if _is_int(t):
        return "int"
    if _is_number(t):
        return "float"
    if _is_str(t):
        return "string"
    if _is_datetime(t):
        return "datetime"
    if _is_date(t):
        return "date"
    return None


def infer_kind(values: Sequence[object], name: str) -> ColumnKind:
    """The column kind of Python attribute values.

    str → string, bool → bool, int → int, float/Decimal → float (int and
    float mixed → float), datetime → datetime, date → date; all missing →
    string. Any other type or mix raises a :class:`ValidationError` naming
    the first row that does not fit.
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
            _DateBuilder("", True).add_strings(sample, 0)
        except ValidationError:
            pass
        else:
            return "date"
    try:
        _DatetimeBuilder("", True).add_strings(sample, 0)
    except ValidationError:
        return "string"
    return "datetime"
