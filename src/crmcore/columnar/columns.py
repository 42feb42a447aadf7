"""Columns: one immutable numpy array per column, plus what its kind needs.

A [`Column`][crmcore.columnar.columns.Column] holds the values of one column of a frame in the
layout that [`crmcore.columnar.schema`][crmcore.columnar.schema] documents for its kind
(``StringDType`` plus a mask, ``float64`` with ``NaN``, ``datetime64[us]`` with ``NaT``, integer
codes into sorted categories, CSR offsets for tag sets, ...). Its arrays are read-only, so a frame
built from columns cannot change under its readers.

Python values become a column through the builders of
`crmcore.columnar._builders`, which validate them and name the row of a
bad value (``"row 17: at"``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from itertools import pairwise, repeat
from operator import is_
from typing import Final

import numpy as np
import numpy.typing as npt

from crmcore.columnar._builders import make_builder
from crmcore.columnar._layout import (
    DT_D,
    DT_US,
    MAX_US,
    MIN_US,
    NAT,
    SCALAR_KINDS,
    STRING_DTYPE,
    narrowest_int,
)
from crmcore.columnar._validation import check_types, is_str, strings_of
from crmcore.columnar.schema import COLUMN_KINDS, ColumnKind
from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array, read_only
from crmcore.kernel.clock import EPOCH
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import boolean, instance_of, instances_of, items_of, text

__all__ = ["STRING_DTYPE", "Column"]

_STRING_INLINE: Final = 15  # StringDType keeps strings up to 15 bytes inside the array


class Column:
    """One column of a frame: its kind, values, missing mask and (codes) categories.

    ``values`` is the numpy array of the kind's layout (for ``category`` and
    ``tags`` the integer codes into [`categories`][crmcore.columnar.columns.Column.categories],
    in the narrowest signed width that holds them;
    for ``tags`` the codes of all rows back to back, delimited by
    [`offsets`][crmcore.columnar.columns.Column.offsets]). ``missing`` is a boolean mask for every
    kind (all ``False`` for ``tags``, where an empty set is a value). A string column may be
    *dictionary-encoded* (narrowest integer codes into a
    [`vocabulary`][crmcore.columnar.columns.Column.vocabulary], as the customer column of the logs
    is); its ``values`` then decode on access.

    All arrays are read-only. Build columns with
    [`from_values()`][crmcore.columnar.columns.Column.from_values] (Python values) or
    [`from_numpy()`][crmcore.columnar.columns.Column.from_numpy] (arrays); frames build them for
    you.
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
        column._values = read_only(values)
        column._mask = None if mask is None else read_only(mask)
        column._categories = categories
        column._offsets = None if offsets is None else read_only(offsets)
        column._vocabulary = None if vocabulary is None else read_only(vocabulary)
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
        if not isinstance(kind, str) or kind not in COLUMN_KINDS:
            raise ValidationError("kind", kind, f"must be one of {', '.join(COLUMN_KINDS)}")
        name = text(name, "name", limit=200)
        builder = make_builder(kind, name, boolean(nullable, "nullable"))
        builder.add_objects(items_of(values, "values"), 0)
        return cls._new(*builder.finish())

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
        built with [`from_values()`][crmcore.columnar.columns.Column.from_values].
        """
        if not isinstance(kind, str) or kind not in SCALAR_KINDS:
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
                check_types(list(raw), is_str, 0, "values", "a str")
                mask |= np.fromiter(map(is_, raw, repeat(None)), dtype=bool, count=n)
                raw = np.where(mask, "", raw)
            arr = np.array(raw, dtype=STRING_DTYPE)
            arr[mask] = ""
            return cls._new(kind, arr, mask if mask.any() else None)
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
            if kind == "int":
                arr = narrowest_int(arr)
            return cls._new(kind, arr, mask if mask.any() else None)
        if kind in ("datetime", "date"):
            target = DT_US if kind == "datetime" else DT_D
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
                present = ints[ints != NAT]
                if present.size and (present.min() < MIN_US or present.max() > MAX_US):
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
        codes = raw.astype(np.int64)
        codes[mask] = -1
        return cls._new(kind, narrowest_int(codes), categories=cats)

    # -- properties -------------------------------------------------------------------
    @property
    def kind(self) -> ColumnKind:
        """The column kind (see `ColumnKind`)."""
        return self._kind

    @property
    def values(self) -> AnyArray:
        """The values array (codes for category and tags columns).

        A dictionary-encoded string column decodes here, on every access; use
        [`codes`][crmcore.columnar.columns.Column.codes] and
        [`vocabulary`][crmcore.columnar.columns.Column.vocabulary] to work on the codes instead.
        """
        if self._vocabulary is not None:
            return read_only(_decode(self._vocabulary, self._values))
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
            self._missing = read_only(mask)
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
        instance_of(tag, str, "tag")
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
        instance_of(value, str, "value")
        i = bisect.bisect_left(self._categories, value)
        if i < len(self._categories) and self._categories[i] == value:
            return i
        return None

    def isin(self, values: Iterable[str]) -> BoolArray:
        """Mask of rows whose category or string value is in ``values`` (missing never is)."""
        wanted = list(instances_of(values, str, "values"))
        if self._kind == "category":
            codes = [c for c in map(self.code_of, wanted) if c is not None]
            return np.isin(self._values, np.array(codes, dtype=np.int64))
        if self._kind == "string":
            strings = strings_of(wanted, "values")
            if self._vocabulary is not None:
                hit = np.isin(self._vocabulary, strings)
                return np.append(hit, False)[self._values]
            mask = np.isin(self._values, strings)
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
        """The rows at ``indices`` (a 1-d integer array of positions in bounds), as a new column."""
        idx = (
            np.asarray(indices) if isinstance(indices, np.ndarray | list | tuple | range) else None
        )
        if idx is None or idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            shown = type(indices).__name__ if idx is None else f"{idx.dtype} of shape {idx.shape}"
            raise ValidationError("indices", shown, "must be a 1-d array of int positions")
        bad = (idx < 0) | (idx >= len(self)) if idx.size else None
        if bad is not None and bad.any():
            first = int(idx[int(np.argmax(bad))])
            raise ValidationError("indices", first, f"must lie in 0..{len(self) - 1}")
        return self._take(idx.astype(np.int64, copy=False))

    def _take(self, indices: Int64Array) -> Column:
        """`take()` of positions already checked."""
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


def empty_column(kind: ColumnKind, length: int, encoded: bool = False) -> Column:
    """A column of ``length`` missing values (empty sets for tags)."""
    missing = np.ones(length, dtype=bool)
    if encoded:
        codes = np.full(length, -1, dtype=np.int8)
        return Column._new("string", codes, missing, (), None, np.empty(0, dtype=STRING_DTYPE))
    if kind == "string":
        return Column._new(kind, np.full(length, "", dtype=STRING_DTYPE), missing)
    if kind == "float":
        return Column._new(kind, np.full(length, np.nan))
    if kind == "int":
        return Column._new(kind, np.zeros(length, dtype=np.int8), missing)
    if kind == "bool":
        return Column._new(kind, np.zeros(length, dtype=bool), missing)
    if kind == "datetime":
        return Column._new(kind, np.full(length, NAT, dtype=np.int64).view(DT_US))
    if kind == "date":
        return Column._new(kind, np.full(length, NAT, dtype=np.int64).view(DT_D))
    if kind == "category":
        return Column._new(kind, np.full(length, -1, dtype=np.int8))
    return Column._new(kind, np.empty(0, dtype=np.int8), None, (), np.zeros(length + 1, np.int64))
