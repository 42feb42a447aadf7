"""Frames: customers, transactions and events as immutable numpy columns.

A frame is a schema plus one :class:`~crmcore.columnar._columns.Column` per
schema column, all of one length. It is the batch half of "two speeds, one
rule": analytics take frames and compute over whole columns at once.

* :class:`CustomerFrame`: :data:`~crmcore.columnar.schema.CUSTOMER_SCHEMA`
  plus custom attribute columns ``attr.<name>`` (kind inferred from values).
* :class:`TransactionLog`: :data:`~crmcore.columnar.schema.TRANSACTION_SCHEMA`.
* :class:`EventLog`: :data:`~crmcore.columnar.schema.EVENT_SCHEMA`.

In the logs the ``customer_id`` column is dictionary-encoded: ``int64``
:attr:`~TransactionLog.customer_codes` into a first-seen
:attr:`~TransactionLog.customer_ids` vocabulary, so grouping by customer is
an integer operation. Records, CSV and pandas still see the id string.

Every frame builds from records (dicts), CSV and pandas, and writes back to
all three; a round trip gives an equal frame. Input is validated at that
boundary and errors name the row and column (``"row 17: at"``).

>>> from datetime import datetime, UTC
>>> t = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
>>> log = TransactionLog.from_records([
...     {"customer_id": "c-1", "at": t, "amount": 19.5},
...     {"customer_id": "c-2", "at": t, "amount": 5.0},
...     {"customer_id": "c-1", "at": t, "amount": 7.25},
... ])
>>> log.customer_codes.tolist(), log.customer_ids.tolist()
([0, 1, 0], ['c-1', 'c-2'])
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import date
from itertools import islice, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self, cast

import numpy as np
import numpy.typing as npt

from crmcore.columnar._columns import (
    SCALAR_KINDS,
    STRING_DTYPE,
    Builder,
    Column,
    empty_column,
    infer_kind,
    make_builder,
    row_error,
)
from crmcore.columnar.csvio import CsvSource, read_csv, write_csv
from crmcore.columnar.schema import (
    CUSTOMER_SCHEMA,
    EVENT_SCHEMA,
    TRANSACTION_SCHEMA,
    ColumnKind,
    ColumnSpec,
    Schema,
    customer_record,
)
from crmcore.customers.customer import Customer
from crmcore.customers.records import Interaction, Purchase
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array
from crmcore.kernel.clock import ensure_date
from crmcore.kernel.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CustomerFrame", "EventLog", "Frame", "TransactionLog", "ages_on"]

_CHUNK: Final = 1 << 12  # records per chunk: small enough to stay in cache across column passes
_HTML_ROWS: Final = 10
_PANDAS_MISSING: Final = "pandas is not installed: pip install 'crmcore[pandas]'"


def _import_pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ModuleNotFoundError(_PANDAS_MISSING, name="pandas") from None
    return pandas


class Frame:
    """A table of equal-length, immutable numpy columns following a schema.

    Concrete frames (:class:`CustomerFrame`, :class:`TransactionLog`,
    :class:`EventLog`) fix the schema and add domain helpers; this base class
    holds the columns and everything that works the same for all of them:
    selection (:meth:`take`, :meth:`filter`), conversion (:meth:`to_records`,
    :meth:`to_csv`, :meth:`to_pandas`), equality and display.

    Columns are in schema order, then any extra columns (``attr.*`` for
    customers) sorted by name.
    """

    #: The columns every frame of this type has.
    SCHEMA: ClassVar[Schema]
    #: Prefix of the extra columns this frame type accepts (``None``: no extras).
    EXTRA_PREFIX: ClassVar[str | None] = None
    #: String columns held dictionary-encoded (int64 codes into a vocabulary).
    ENCODED: ClassVar[frozenset[str]] = frozenset()

    __slots__ = ("_cache", "_columns", "_length")

    _columns: dict[str, Column]
    _length: int
    _cache: dict[str, object]

    def __init__(self, columns: Mapping[str, Column]) -> None:
        """Assemble a frame from columns, checking names, kinds, lengths and required values.

        Absent nullable schema columns are filled as missing; a string column
        for an encoded name is encoded.
        """
        schema = self._schema_of()
        lengths = {len(c) for c in columns.values() if isinstance(c, Column)}
        if len(lengths) > 1:
            raise ValidationError("columns", sorted(lengths), "must all have the same length")
        length = lengths.pop() if lengths else 0
        result: dict[str, Column] = {}
        for spec in schema.columns:
            column = columns.get(spec.name)
            if column is None:
                if not spec.nullable:
                    raise ValidationError(spec.name, None, "required column is missing")
                column = empty_column(spec.kind, length, spec.name in self.ENCODED)
            result[spec.name] = self._checked(spec, column)
        for name in sorted(set(columns) - set(schema.names)):
            column = columns[name]
            if not self._is_extra(name):
                raise ValidationError(name, None, "unknown column")
            if not isinstance(column, Column) or column.kind not in SCALAR_KINDS:
                raise ValidationError(name, column, "an extra column must be a scalar Column")
            result[name] = column
        self._init(result, length)
        self._validate()

    def _checked(self, spec: ColumnSpec, column: object) -> Column:
        if not isinstance(column, Column):
            raise ValidationError(spec.name, column, "must be a Column")
        if column.kind != spec.kind:
            raise ValidationError(spec.name, column.kind, f"must be a {spec.kind} column")
        if not spec.nullable and column.missing.any():
            i = int(np.argmax(column.missing))
            raise row_error(i, spec.name, None, "is required (column is not nullable)")
        if spec.name in self.ENCODED and column.vocabulary is None:
            builder = make_builder("string", spec.name, spec.nullable, encoded=True)
            builder.add_objects(column.to_list(), 0)
            column = builder.finish()
        return column

    def _init(self, columns: dict[str, Column], length: int) -> None:
        self._columns = columns
        self._length = length
        self._cache = {}

    @classmethod
    def _trusted(cls, columns: dict[str, Column], length: int) -> Self:
        """A frame over columns already in layout and order (no checks)."""
        frame = object.__new__(cls)
        frame._init(columns, length)
        return frame

    def _validate(self) -> None:
        """Frame-wide invariants beyond single columns (a hook for subclasses)."""

    @classmethod
    def _schema_of(cls) -> Schema:
        schema: Schema | None = getattr(cls, "SCHEMA", None)
        if schema is None:
            raise TypeError(f"{cls.__name__} has no schema: use CustomerFrame, TransactionLog, ...")
        return schema

    @classmethod
    def _is_extra(cls, name: object) -> bool:
        prefix = cls.EXTRA_PREFIX
        return (
            prefix is not None
            and isinstance(name, str)
            and name.startswith(prefix)
            and len(name) > len(prefix)
        )

    # -- shape and access -----------------------------------------------------------------
    def __len__(self) -> int:
        return self._length

    @property
    def names(self) -> tuple[str, ...]:
        """Column names, in order."""
        return tuple(self._columns)

    @property
    def schema(self) -> Schema:
        """This frame's schema: the type's columns plus its extra columns (nullable)."""
        extras = tuple(
            ColumnSpec(name, column.kind, True, "custom attribute")
            for name, column in self._columns.items()
            if name not in self.SCHEMA
        )
        return Schema(self.SCHEMA.columns + extras) if extras else self.SCHEMA

    def column(self, name: str) -> Column:
        """The column called ``name``; `NotFoundError` if there is none."""
        try:
            return self._columns[name]
        except KeyError:
            raise NotFoundError("column", name) from None

    def __getitem__(self, name: str) -> Column:
        return self.column(name)

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    # -- selection ------------------------------------------------------------------------------
    def _indices(self, indices: npt.ArrayLike) -> Int64Array:
        idx = np.asarray(indices)
        if idx.size == 0:
            return np.empty(0, dtype=np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValidationError("indices", idx.dtype, "must be a 1-d array of int positions")
        bad = (idx < 0) | (idx >= self._length)
        if bad.any():
            raise ValidationError(
                "indices", idx[bad][0], f"must lie in 0..{self._length - 1} (no negatives)"
            )
        return idx.astype(np.int64, copy=False)

    def take(self, indices: npt.ArrayLike) -> Self:
        """The rows at ``indices`` (int positions, in that order), as a new frame."""
        idx = self._indices(indices)
        columns = {name: column.take(idx) for name, column in self._columns.items()}
        return self._trusted(columns, len(idx))

    def filter(self, mask: npt.ArrayLike) -> Self:
        """The rows where the boolean ``mask`` is true, as a new frame."""
        keep = np.asarray(mask)
        if keep.dtype != np.bool_ or keep.shape != (self._length,):
            raise ValidationError(
                "mask", keep.shape, f"must be a bool array of length {self._length}"
            )
        return self.take(np.flatnonzero(keep))

    # -- conversion ----------------------------------------------------------------------
    def to_records(self) -> list[dict[str, object]]:
        """One dict per row with every column: ``None`` for missing, Python values.

        ``type(frame).from_records(frame.to_records()) == frame``.
        """
        names = self.names
        values = [column.to_list() for column in self._columns.values()]
        return list(map(dict, map(zip, repeat(names), zip(*values, strict=True))))

    def memory_bytes(self) -> int:
        """Bytes held by the frame's arrays (what a row costs: ``memory_bytes() / len``)."""
        return sum(column.memory_bytes() for column in self._columns.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        if type(other) is not type(self) or other.names != self.names:
            return False
        return all(column.equals(other._columns[name]) for name, column in self._columns.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._length} rows x {len(self._columns)} columns)"

    def _repr_html_(self) -> str:
        """A small HTML table of the first rows, for Jupyter (every cell escaped)."""
        head = self.take(np.arange(min(self._length, _HTML_ROWS)))
        names = self.names
        cells = [_html_cells(head._columns[name]) for name in names]
        header = "".join(f"<th>{html.escape(name)}</th>" for name in names)
        body = "".join(
            "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
            for row in zip(*cells, strict=True)
        )
        shape = f"{self._length} rows \N{MULTIPLICATION SIGN} {len(names)} columns"
        return (
            f"<div><p>{html.escape(type(self).__name__)}: {shape}</p>"
            f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>"
        )

    # -- records --------------------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, object]]) -> Self:
        """Build a frame from mappings of column name to Python value.

        Missing keys and ``None`` are missing values; a tags column takes a
        set (or list/tuple) of strings. Datetimes must be timezone-aware
        (stored in UTC), dates ``date``, numbers for float columns ``int``,
        ``float`` or ``Decimal``. Unknown keys are errors, except custom
        attribute columns where the frame type allows them. Records are
        consumed in chunks, so a generator is never materialised whole.
        """
        schema = cls._schema_of()
        names = schema.names
        known = frozenset(names)
        builders = {
            spec.name: make_builder(spec.kind, spec.name, spec.nullable, spec.name in cls.ENCODED)
            for spec in schema.columns
        }
        getters = [(name, itemgetter(name)) for name in names]
        extras: dict[str, list[object]] = {}
        start = 0
        iterator = iter(records)
        while chunk := list(islice(iterator, _CHUNK)):
            cls._check_mappings(chunk, start)
            keys: set[object] = set().union(*chunk)
            for key in keys - known:
                if not cls._is_extra(key):
                    row = next(i for i, record in enumerate(chunk) if key in record)
                    value = chunk[row][cast(str, key)]
                    raise row_error(start + row, str(key), value, cls._unknown(key))
                if key not in extras:
                    extras[key] = [None] * start  # type: ignore[index]
            for name, getter in getters:
                try:  # one C-level pass per column, no per-row tuples
                    values: list[object] = list(map(getter, chunk))
                except KeyError:
                    values = [record.get(name) for record in chunk]
                builders[name].add_objects(values, start)
            for key, values in extras.items():
                values.extend([record.get(key) for record in chunk])
            start += len(chunk)
        result = {name: builder.finish() for name, builder in builders.items()}
        for key in sorted(extras):
            values = extras[key]
            builder = make_builder(infer_kind(values, key), key, True)
            builder.add_objects(values, 0)
            result[key] = builder.finish()
        frame = cls._trusted(result, start)
        frame._validate()
        return frame

    @staticmethod
    def _check_mappings(chunk: list[Mapping[str, object]], start: int) -> None:
        bad = {t for t in set(map(type, chunk)) if not issubclass(t, Mapping)}
        if bad:
            i = next(i for i, record in enumerate(chunk) if type(record) in bad)
            raise ValidationError(
                f"row {start + i}", chunk[i], "must be a mapping of column name to value"
            )

    @classmethod
    def _unknown(cls, key: object) -> str:
        if cls.EXTRA_PREFIX is not None:
            return f"unknown column; custom columns must be named {cls.EXTRA_PREFIX}<name>"
        return f"unknown column; expected {', '.join(cls.SCHEMA.names)}"

    # -- CSV -------------------------------------------------------------------------------------
    @classmethod
    def from_csv(cls, source: CsvSource) -> Self:
        """Read a CSV written by :meth:`to_csv` (or by hand; see :mod:`~crmcore.columnar.csvio`).

        The header must name every required column; absent nullable columns
        are missing. ``source`` is a path or a text stream opened with
        ``newline=""``.
        """
        schema = cls._schema_of()
        columns = read_csv(source, schema, extra_prefix=cls.EXTRA_PREFIX, encoded=cls.ENCODED)
        length = len(next(iter(columns.values())))
        frame = cls._trusted(columns, length)
        frame._validate()
        return frame

    def to_csv(self, target: CsvSource) -> None:
        """Write the frame as CSV: a header row, then one row per record (UTF-8)."""
        write_csv(target, self.names, list(self._columns.values()))

    # -- pandas ----------------------------------------------------------------------------------
    def to_pandas(self) -> pd.DataFrame:
        """A pandas DataFrame with a column per frame column (needs the ``pandas`` extra).

        string → ``string``; float → ``float64``; int → ``int64`` (``Int64``
        when nullable); bool → ``bool`` (``boolean`` when nullable); datetime
        → ``datetime64[us, UTC]``; date → object of ``date``; category →
        ``category``; tags → object of ``frozenset``. Arrays are copied.
        """
        pandas = _import_pandas()
        schema = self.schema
        data = {
            name: _to_pandas(pandas, column, schema[name].nullable)
            for name, column in self._columns.items()
        }
        frame: pd.DataFrame = pandas.DataFrame(data, index=pandas.RangeIndex(self._length))
        return frame

    @classmethod
    def from_pandas(cls, df: pd.DataFrame) -> Self:
        """Build a frame from a pandas DataFrame (the index is ignored).

        Takes what :meth:`to_pandas` writes and the usual alternatives
        (object columns of Python values, ``str`` columns, numpy dtypes).
        Datetime columns must be timezone-aware.
        """
        schema = cls._schema_of()
        pd = _import_pandas()
        names = list(df.columns)
        for name in names:
            if name not in schema and not cls._is_extra(name):
                raise ValidationError(str(name), None, cls._unknown(name))
        if len(set(names)) != len(names):
            raise ValidationError("columns", names, "column names must be distinct")
        columns: dict[str, Column] = {}
        length = len(df)
        for spec in schema.columns:
            if spec.name in df.columns:
                encoded = spec.name in cls.ENCODED
                columns[spec.name] = _from_pandas(
                    pd, df[spec.name], spec.kind, spec.name, spec.nullable, encoded
                )
            elif not spec.nullable:
                raise ValidationError(spec.name, None, "required column is missing")
            else:
                columns[spec.name] = empty_column(spec.kind, length, spec.name in cls.ENCODED)
        for name in sorted(set(names) - set(schema.names)):
            series = df[name]
            kind = _pandas_kind(pd, series, name)
            columns[name] = _from_pandas(pd, series, kind, name, True, False)
        frame = cls._trusted(columns, length)
        frame._validate()
        return frame


def _html_cells(column: Column) -> list[str]:
    out: list[str] = []
    for value in column.to_list():
        if value is None:
            out.append("")
        elif isinstance(value, frozenset):
            out.append(html.escape(", ".join(sorted(value))))
        elif isinstance(value, date):
            out.append(html.escape(value.isoformat()))
        else:
            out.append(html.escape(str(value)))
    return out


# ---------------------------------------------------------------------------------------
# pandas conversion (pandas is imported lazily by the callers)
# ---------------------------------------------------------------------------------------


def _to_pandas(pd: Any, column: Column, nullable: bool) -> Any:
    kind = column.kind
    if kind == "string":
        values = column.values.astype(object)
        values[column.missing] = None
        return pd.array(values, dtype=pd.StringDtype())
    if kind == "float":
        return column.values.copy()
    if kind in ("int", "bool"):
        if not nullable:
            return column.values.copy()
        array_type = pd.arrays.IntegerArray if kind == "int" else pd.arrays.BooleanArray
        return array_type(column.values.copy(), column.missing.copy())
    if kind == "datetime":
        return pd.Series(column.values.copy()).dt.tz_localize("UTC").array
    if kind == "category":
        return pd.Categorical.from_codes(
            column.values.copy(), categories=pd.Index(list(column.categories), dtype=object)
        )
    values = np.empty(len(column), dtype=object)
    values[:] = column.to_list()
    return values


def _pandas_kind(pd: Any, series: Any, name: str) -> ColumnKind:
    """The kind of a custom attribute column from its pandas dtype (or its values)."""
    dtype = series.dtype
    api = pd.api.types
    if api.is_bool_dtype(dtype):
        return "bool"
    if api.is_integer_dtype(dtype):
        return "int"
    if api.is_float_dtype(dtype):
        return "float"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime"
    return infer_kind(series.to_numpy(dtype=object, na_value=None).tolist(), name)


def _first_row(mask: BoolArray) -> int:
    return int(np.argmax(mask)) if mask.any() else 0


def _from_pandas(
    pd: Any, series: Any, kind: ColumnKind, name: str, nullable: bool, encoded: bool
) -> Column:
    """One pandas Series as a column of ``kind``: vectorised where the dtype allows."""
    dtype = series.dtype
    api = pd.api.types
    missing = series.isna().to_numpy()
    numeric = api.is_numeric_dtype(dtype) and not api.is_bool_dtype(dtype)
    if kind == "float" and numeric:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if not nullable and np.isnan(values).any():
            i = _first_row(np.isnan(values))
            raise row_error(i, name, series.iloc[i], "is required and must not be NaN")
        return Column.from_numpy("float", values)
    if kind == "int" and api.is_integer_dtype(dtype):
        return _pandas_masked(series, "int", np.int64, 0, missing, name, nullable)
    if kind == "bool" and api.is_bool_dtype(dtype):
        return _pandas_masked(series, "bool", np.bool_, False, missing, name, nullable)
    if kind in ("datetime", "date") and api.is_datetime64_any_dtype(dtype):
        aware = isinstance(dtype, pd.DatetimeTZDtype)
        if kind == "datetime" and not aware:
            raise row_error(_first_row(~missing), name, str(dtype), _NAIVE_DTYPE)
        if kind == "date" and aware:
            raise row_error(0, name, str(dtype), "a date column needs dates, not timestamps")
        if aware:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        raw = series.to_numpy()
        if kind == "datetime":
            lost = (raw.astype("datetime64[us]") != raw) & ~missing
            if lost.any():
                i = _first_row(lost)
                raise row_error(i, name, str(series.iloc[i]), "has sub-microsecond precision")
        try:
            column = Column.from_numpy(kind, raw, missing=missing)
        except ValidationError as error:
            raise row_error(_first_row(~missing), name, error.value, error.reason) from None
        if not nullable and missing.any():
            raise row_error(_first_row(missing), name, None, "is required")
        return column
    if kind == "category" and isinstance(dtype, pd.CategoricalDtype):
        labels = list(dtype.categories)
        if all(isinstance(label, str) for label in labels):
            codes = series.cat.codes.to_numpy().astype(np.int64)
            order = sorted(range(len(labels)), key=labels.__getitem__)
            rank = np.empty(len(labels) + 1, dtype=np.int64)
            rank[np.array(order, dtype=np.int64)] = np.arange(len(labels))
            rank[-1] = -1
            sorted_labels = [labels[i] for i in order]
            column = Column.from_numpy("category", rank[codes], categories=sorted_labels)
            if not nullable and column.missing.any():
                raise row_error(_first_row(column.missing), name, None, "is required")
            return column
    values_list = series.to_numpy(dtype=object, na_value=None).tolist()
    builder: Builder = make_builder(kind, name, nullable, encoded)
    builder.add_objects(values_list, 0)
    return builder.finish()


_NAIVE_DTYPE: Final = "must be timezone-aware (naive datetimes are ambiguous)"


def _pandas_masked(
    series: Any,
    kind: ColumnKind,
    dtype: type[np.generic],
    fill: object,
    missing: BoolArray,
    name: str,
    nullable: bool,
) -> Column:
    if not nullable and missing.any():
        raise row_error(_first_row(missing), name, None, "is required (column is not nullable)")
    try:
        values = series.to_numpy(dtype=dtype, na_value=fill)
    except (OverflowError, ValueError, TypeError):
        raise row_error(0, name, str(series.dtype), f"cannot be read as {kind}") from None
    return Column.from_numpy(kind, values, missing=missing)


# ---------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------


def ages_on(born: AnyArray, day: date) -> Float64Array:
    """Whole years from each birth date (``datetime64[D]``) to ``day``; ``NaN`` where missing.

    Born 29 February: a year older on 1 March in common years. A birth date
    after ``day`` gives a negative age (:meth:`CustomerFrame.age_at` refuses it).
    """
    missing = np.isnat(born)
    month_start = born.astype("datetime64[M]")
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month = month_start.astype(np.int64) % 12 + 1
    dom = (born - month_start).astype(np.int64) + 1
    before_birthday = (day.month * 100 + day.day) < (month * 100 + dom)
    ages: Float64Array = (day.year - year - before_birthday).astype(np.float64)
    ages[missing] = np.nan
    return ages


class CustomerFrame(Frame):
    """Customers as columns: :data:`~crmcore.columnar.schema.CUSTOMER_SCHEMA` plus ``attr.*``.

    Custom attributes become ``attr.<name>`` columns whose kind is inferred
    from the values (str, bool, int, float/Decimal, datetime, date; ints
    mixed with floats make a float column). Customer ids are unique.
    """

    SCHEMA = CUSTOMER_SCHEMA
    EXTRA_PREFIX = "attr."

    __slots__ = ()

    @classmethod
    def from_customers(cls, customers: Iterable[Customer]) -> Self:
        """The frame of ``customers``, one row each (via :func:`customer_record`)."""
        return cls.from_records(map(customer_record, customers))

    def _validate(self) -> None:
        ids = self._columns["id"].values.tolist()
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            for i, value in enumerate(ids):
                if value in seen:
                    raise row_error(i, "id", value, "duplicate customer id")
                seen.add(value)

    def take(self, indices: npt.ArrayLike) -> Self:
        """The rows at ``indices``; a position may appear once (ids stay unique)."""
        idx = self._indices(indices)
        if idx.size and np.bincount(idx, minlength=self._length).max() > 1:
            raise ValidationError("indices", indices, "repeat a row (customer ids must be unique)")
        return super().take(idx)

    @property
    def ids(self) -> AnyArray:
        """The customer ids (``StringDType``), in row order."""
        return self._columns["id"].values

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """Names of the custom attribute columns (``attr.`` prefix included)."""
        return tuple(name for name in self._columns if name not in self.SCHEMA)

    def _positions(self, ids: AnyArray) -> Int64Array:
        """Row of each id in ``ids`` (a StringDType array); -1 for unknown ids."""
        cached = self._cache.get("id_order")
        if cached is None:
            by_id = np.argsort(self.ids, kind="stable")
            cached = (by_id, self.ids[by_id])
            self._cache["id_order"] = cached
        order, sorted_ids = cast(tuple[Int64Array, AnyArray], cached)
        if not len(sorted_ids):
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
        found = sorted_ids[at] == ids
        return np.where(found, order[at], -1).astype(np.int64)

    def index_of(self, ids: Iterable[str]) -> Int64Array:
        """Row positions of ``ids``; a :class:`ValidationError` names the first unknown id."""
        wanted = list(ids)
        for i, value in enumerate(wanted):
            if not isinstance(value, str):
                raise ValidationError(f"ids[{i}]", value, "must be a str")
        positions = self._positions(np.array(wanted, dtype=STRING_DTYPE))
        if (positions < 0).any():
            i = int(np.argmax(positions < 0))
            raise ValidationError(f"ids[{i}]", wanted[i], "is not a customer in this frame")
        return positions

    def age_at(self, on: date) -> Float64Array:
        """Age in whole years on ``on`` for every customer (``NaN`` without a birth date).

        The same rule as :meth:`~crmcore.customers.profile.Demographics.age_at`
        (born 29 February: a year older on 1 March in common years), and like
        it a :class:`ValidationError` when a birth date is after ``on``.
        """
        day = ensure_date(on, "on")
        born = self._columns["birth_date"].values
        missing = np.isnat(born)
        after = (born > np.datetime64(day, "D")) & ~missing
        if after.any():
            i = int(np.argmax(after))
            raise row_error(i, "birth_date", str(born[i]), f"is after {day.isoformat()}")
        return ages_on(born, day)


# ---------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------


class _Log(Frame):
    """Shared by the transaction and event logs: customer codes and time ordering."""

    ENCODED = frozenset({"customer_id"})

    __slots__ = ()

    @property
    def customer_codes(self) -> Int64Array:
        """Each row's customer as an ``int64`` code into :attr:`customer_ids`."""
        codes: Int64Array = self._columns["customer_id"].codes
        return codes

    @property
    def customer_ids(self) -> AnyArray:
        """The distinct customer ids (``StringDType``), in order of first appearance."""
        vocabulary = self._columns["customer_id"].vocabulary
        assert vocabulary is not None
        return vocabulary

    @property
    def at(self) -> AnyArray:
        """The ``at`` column (``datetime64[us]``, UTC)."""
        return self._columns["at"].values

    def with_customer_index(self, customers: CustomerFrame) -> Int64Array:
        """For each row, the row of its customer in ``customers`` (-1 where absent)."""
        vocabulary_rows = customers._positions(self.customer_ids)
        return vocabulary_rows[self.customer_codes]

    def sort_by_customer_time(self) -> Self:
        """A copy sorted by customer code, then time (stable: ties keep their order)."""
        order = np.lexsort((self.at.view(np.int64), self.customer_codes))
        return self.take(order)


class TransactionLog(_Log):
    """Purchases as columns (:data:`~crmcore.columnar.schema.TRANSACTION_SCHEMA`)."""

    SCHEMA = TRANSACTION_SCHEMA

    __slots__ = ()

    @classmethod
    def from_purchases(cls, purchases: Iterable[Purchase]) -> Self:
        """The log of ``purchases``, one row each (amounts as float)."""
        return cls.from_records(
            {
                "customer_id": p.customer_id,
                "at": p.at,
                "amount": float(p.amount.amount),
                "currency": p.amount.currency,
                "order_id": p.order_id,
                "items": p.items,
                "channel": p.channel,
                "category": p.category,
            }
            for p in purchases
        )


class EventLog(_Log):
    """Customer events as columns (:data:`~crmcore.columnar.schema.EVENT_SCHEMA`)."""

    SCHEMA = EVENT_SCHEMA

    __slots__ = ()

    @classmethod
    def from_interactions(cls, interactions: Iterable[Interaction]) -> Self:
        """The log of ``interactions``: kind, channel and funnel stage label (if any)."""
        return cls.from_records(
            {
                "customer_id": i.customer_id,
                "at": i.at,
                "kind": i.kind,
                "channel": i.channel,
                "stage": None if i.stage is None else i.stage.label,
            }
            for i in interactions
        )
