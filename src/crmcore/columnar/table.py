"""The frame base class: a table of equal-length, immutable columns following a schema.

A frame is a schema plus one [`Column`][crmcore.columnar.columns.Column] per
schema column, all of one length. It is the batch half of "two speeds, one
rule": analytics take frames and compute over whole columns at once.
[`Frame`][crmcore.columnar.table.Frame] holds what every frame type of
[`crmcore.columnar.frame`][crmcore.columnar.frame] shares: selection, equality, display, and
building from and writing to records (dicts), CSV and pandas; a round trip gives an equal frame.
Input is validated at that boundary and errors name the row and column (``"row 17: at"``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import date
from itertools import islice, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, ClassVar, Final, Self, cast

import numpy as np
import numpy.typing as npt

from crmcore.columnar._builders import make_builder
from crmcore.columnar._ids import normalize_float_ids
from crmcore.columnar._kind_inference import infer_kind
from crmcore.columnar._layout import SCALAR_KINDS
from crmcore.columnar._pandas import from_pandas, import_pandas, pandas_kind, to_pandas
from crmcore.columnar._timestamps import TimeReading
from crmcore.columnar._validation import row_error
from crmcore.columnar.columns import Column, empty_column
from crmcore.columnar.csvio import CsvEngine, CsvSource, read_csv, write_csv
from crmcore.columnar.reading import (
    ExtraColumns,
    GuestRows,
    ReadOptions,
    SkippedRows,
    read_options,
)
from crmcore.columnar.schema import ColumnSpec, Schema
from crmcore.kernel.arrays import Int64Array
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.validators import mapping_of

if TYPE_CHECKING:
    import re
    from datetime import tzinfo

    import pandas as pd

__all__ = ["Frame"]

_CHUNK: Final = 1 << 12  # records per chunk: small enough to stay in cache across column passes
_HTML_ROWS: Final = 10


class Frame:
    """A table of equal-length, immutable numpy columns following a schema.

    Concrete frames ([`CustomerFrame`][crmcore.columnar.frame.CustomerFrame],
    [`TransactionLog`][crmcore.columnar.frame.TransactionLog],
    [`EventLog`][crmcore.columnar.frame.EventLog]) fix the schema and add
    domain helpers; this base class holds the columns and everything that
    works the same for all of them: selection ([`take()`][crmcore.columnar.table.Frame.take],
    [`filter()`][crmcore.columnar.table.Frame.filter]), conversion
    ([`to_records()`][crmcore.columnar.table.Frame.to_records],
    [`to_csv()`][crmcore.columnar.table.Frame.to_csv],
    [`to_pandas()`][crmcore.columnar.table.Frame.to_pandas]), equality and display.

    Columns are in schema order, then any extra columns (``attr.*`` for
    customers) sorted by name.
    """

    SCHEMA: ClassVar[Schema]
    """The columns every frame of this type has."""
    EXTRA_PREFIX: ClassVar[str | None] = None
    """Prefix of the extra columns this frame type accepts (``None``: no extras)."""
    ENCODED: ClassVar[frozenset[str]] = frozenset()
    """String columns held dictionary-encoded (int64 codes into a vocabulary)."""
    ID_COLUMNS: ClassVar[frozenset[str]] = frozenset()
    """String columns of ids, where ids a spreadsheet wrote as floats (``17850.0``) are fixed."""
    DERIVED: ClassVar[frozenset[str]] = frozenset()
    """Required columns that loaders may find missing and ``_assemble`` fills or refuses."""
    ALTERNATIVES: ClassVar[tuple[tuple[str, ...], ...]] = ()
    """Groups of columns of which a file must hold one (e.g. amount, or quantity and price)."""

    __slots__ = ("_cache", "_columns", "_length", "_skipped")

    _columns: dict[str, Column]
    _length: int
    _cache: dict[str, object]
    _skipped: tuple[SkippedRows, ...]

    def __init__(self, columns: Mapping[str, Column]) -> None:
        """Assemble a frame from columns, checking names, kinds, lengths and required values.

        Absent nullable schema columns are filled as missing; a string column
        for an encoded name is encoded. The rules of the default
        [`ReadOptions`][crmcore.columnar.reading.ReadOptions] apply (e.g. log rows
        without a customer are left out and counted in
        [`skipped`][crmcore.columnar.table.Frame.skipped]).
        """
        schema = self._schema_of()
        columns = cast(dict[str, Column], mapping_of(columns, "columns", str))  # values: below
        lengths = {len(c) for c in columns.values() if isinstance(c, Column)}
        if len(lengths) > 1:
            raise ValidationError("columns", sorted(lengths), "must all have the same length")
        length = lengths.pop() if lengths else 0
        result: dict[str, Column] = {}
        for spec in schema.columns:
            column = columns.get(spec.name)
            if column is None:
                if not spec.nullable and spec.name not in self.DERIVED:
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
        result, length, skipped = self._assemble(result, length, ReadOptions(float_ids=False))
        self._init(result, length, skipped)
        self._validate()

    def _checked(self, spec: ColumnSpec, column: object) -> Column:
        if not isinstance(column, Column):
            raise ValidationError(spec.name, column, "must be a Column")
        if column.kind != spec.kind:
            raise ValidationError(spec.name, column.kind, f"must be a {spec.kind} column")
        if not spec.nullable and spec.name not in self.DERIVED and column.missing.any():
            i = int(np.argmax(column.missing))
            raise row_error(i, spec.name, None, "is required (column is not nullable)")
        if spec.name in self.ENCODED and column.vocabulary is None:
            builder = make_builder("string", spec.name, spec.nullable, encoded=True)
            builder.add_objects(column.to_list(), 0)
            column = Column._new(*builder.finish())
        return column

    def _init(
        self, columns: dict[str, Column], length: int, skipped: tuple[SkippedRows, ...] = ()
    ) -> None:
        self._columns = columns
        self._length = length
        self._cache = {}
        self._skipped = skipped

    @classmethod
    def _trusted(
        cls, columns: dict[str, Column], length: int, skipped: tuple[SkippedRows, ...] = ()
    ) -> Self:
        """A frame over columns already in layout and order (no checks)."""
        frame = object.__new__(cls)
        frame._init(columns, length, skipped)
        return frame

    @classmethod
    def _assemble(
        cls, columns: dict[str, Column], length: int, options: ReadOptions
    ) -> tuple[dict[str, Column], int, tuple[SkippedRows, ...]]:
        """Complete freshly read columns: the rules of ``options`` and the required values.

        Every loader and the constructor end here, so the rules hold however a
        frame is built. The base fixes float ids; subclasses add their rules
        (guests, order lines) and complete or refuse the required columns that
        the loaders read leniently (`DERIVED`).
        """
        for name in cls.ID_COLUMNS:
            if options.float_ids and name in columns:
                columns[name] = normalize_float_ids(columns[name], name)
        return columns, length, ()

    def _validate(self) -> None:
        """Frame-wide invariants beyond single columns (a hook for subclasses)."""

    @classmethod
    def _schema_of(cls) -> Schema:
        schema: Schema | None = getattr(cls, "SCHEMA", None)
        if schema is None:
            raise ValidationError(
                "frame",
                cls.__name__,
                "has no schema: use CustomerFrame, TransactionLog or EventLog",
            )
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
        except TypeError:  # unhashable: no column's name
            raise ValidationError("name", name, "must be a column name (a str)") from None

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

    @property
    def skipped(self) -> tuple[SkippedRows, ...]:
        """Rows the loader left out, and why (e.g. log rows without a customer: guests).

        Empty when nothing was left out. Selections keep it: it describes the
        source the frame was read from.
        """
        return self._skipped

    def take(self, indices: npt.ArrayLike) -> Self:
        """The rows at ``indices`` (int positions, in that order), as a new frame."""
        idx = self._indices(indices)
        columns = {name: column._take(idx) for name, column in self._columns.items()}
        return self._trusted(columns, len(idx), self._skipped)

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
    def from_records(
        cls,
        records: Iterable[Mapping[str, object]],
        *,
        columns: Mapping[str, str] | None = None,
        tz: str | tzinfo | None = None,
        extra: ExtraColumns = "error",
        guests: GuestRows = "exclude",
        cancellations: str | re.Pattern[str] | None = None,
    ) -> Self:
        """Build a frame from mappings of column name to Python value.

        Missing keys and ``None`` are missing values; a tags column takes a
        set (or list/tuple) of strings. Datetimes must be timezone-aware
        (stored in UTC) unless ``tz`` names the zone of naive ones, dates
        ``date``, numbers for float columns ``int``, ``float`` or ``Decimal``.
        Unknown keys are errors unless ``extra`` says otherwise (custom
        attribute columns are allowed where the frame type has them). The
        other options are those of [`ReadOptions`][crmcore.columnar.reading.ReadOptions];
        ids are kept as given (``float_ids`` is for files).
        Records are consumed in chunks, so a generator is never materialised whole.
        """
        options = read_options(
            columns=columns, tz=tz, extra=extra, guests=guests, float_ids=False,
            cancellations=cancellations,
        )  # fmt: skip
        schema = cls._schema_of()
        if isinstance(records, str | bytes | Mapping) or not isinstance(records, Iterable):
            raise ValidationError(
                "records", type(records).__name__, "must be a collection of mappings (dicts)"
            )
        names = schema.names
        known = frozenset(names)
        reading = TimeReading(options.tz, options.dayfirst)
        builders = {}
        for spec in schema.columns:
            lenient = spec.nullable or spec.name in cls.DERIVED
            encoded = spec.name in cls.ENCODED
            builders[spec.name] = make_builder(spec.kind, spec.name, lenient, encoded, reading)
        if options.columns:
            records = cls._renamed_records(records, options, known)
        getters = [(name, itemgetter(name)) for name in names]
        extras: dict[str, list[object]] = {}
        kept: dict[object, str | None] = {}
        start = 0
        iterator = iter(records)
        while chunk := list(islice(iterator, _CHUNK)):
            cls._check_mappings(chunk, start)
            keys: set[object] = set().union(*chunk)
            for key in keys - known:
                if key not in kept:
                    kept[key] = cls._extra_name(key, options, chunk, start)
                target = kept[key]
                if target is not None and target not in extras:
                    extras[target] = [None] * start
            for name, getter in getters:
                try:  # one C-level pass per column, no per-row tuples
                    values: list[object] = list(map(getter, chunk))
                except KeyError:
                    values = [record.get(name) for record in chunk]
                builders[name].add_objects(values, start)
            for key, target in kept.items():
                if target is not None:
                    extras[target].extend([record.get(key) for record in chunk])  # type: ignore[call-overload]
            for values in extras.values():
                if len(values) < start + len(chunk):
                    values.extend([None] * (start + len(chunk) - len(values)))
            start += len(chunk)
        result = {name: Column._new(*builder.finish()) for name, builder in builders.items()}
        for key in sorted(extras):
            values = extras[key]
            builder = make_builder(infer_kind(values, key), key, True, reading=reading)
            builder.add_objects(values, 0)
            result[key] = Column._new(*builder.finish())
        return cls._built(result, start, options)

    @classmethod
    def _built(cls, columns: dict[str, Column], length: int, options: ReadOptions) -> Self:
        columns, length, skipped = cls._assemble(columns, length, options)
        frame = cls._trusted(columns, length, skipped)
        frame._validate()
        return frame

    @staticmethod
    def _renamed_records(
        records: Iterable[Mapping[str, object]], options: ReadOptions, known: frozenset[str]
    ) -> Iterable[Mapping[str, object]]:
        back = {theirs: ours for ours, theirs in options.columns}
        for ours, theirs in options.columns:
            if ours not in known and not ours.startswith("attr."):
                raise ValidationError(
                    f"columns[{ours!r}]", theirs,
                    f"{ours!r} is not a column of this frame; ours are {', '.join(sorted(known))}",
                )  # fmt: skip
        filled = set(back.values())
        for record in records:
            if not isinstance(record, Mapping):
                yield record
                continue
            out: dict[str, object] = {}
            for key, value in record.items():
                if key in back:
                    out[back[key]] = value
                elif key in filled:  # one of ours that a mapped key replaces: an extra
                    out[f"\x00{key}"] = value
                else:
                    out[key] = value
            yield out

    @classmethod
    def _extra_name(
        cls, key: object, options: ReadOptions, chunk: list[Mapping[str, object]], start: int
    ) -> str | None:
        """The column an unknown key fills (``None``: ignored), or the error for it."""
        name = str(key).removeprefix("\x00")
        if isinstance(key, str) and cls._is_extra(key):
            return key
        if options.extra == "ignore":
            return None
        if options.extra == "keep" and isinstance(key, str):
            return name if name.startswith("attr.") else f"attr.{name}"
        row = next(i for i, record in enumerate(chunk) if key in record)
        value = chunk[row][cast(str, key)]
        raise row_error(start + row, name, value, cls._unknown(key))

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
        what = "unknown column; pass extra='ignore' to skip it, extra='keep' to keep it"
        if cls.EXTRA_PREFIX is not None:
            return f"{what} (custom columns are named {cls.EXTRA_PREFIX}<name>)"
        return f"{what}, or map it with columns={{...}}; expected {', '.join(cls.SCHEMA.names)}"

    # -- CSV -------------------------------------------------------------------------------------
    @classmethod
    def from_csv(
        cls,
        source: CsvSource,
        *,
        columns: Mapping[str, str] | None = None,
        tz: str | tzinfo | None = None,
        dayfirst: bool = False,
        extra: ExtraColumns = "error",
        guests: GuestRows = "exclude",
        float_ids: bool = True,
        cancellations: str | re.Pattern[str] | None = None,
        engine: CsvEngine = "auto",
    ) -> Self:
        """Read a CSV: one written by [`to_csv()`][crmcore.columnar.table.Frame.to_csv], or yours.

        The header must name every required column (through ``columns`` when
        your names differ); absent nullable columns are missing. ``source`` is a
        path or a text stream opened with ``newline=""``. The options are those
        of [`ReadOptions`][crmcore.columnar.reading.ReadOptions]; ``engine``
        ``"auto"`` uses pyarrow's CSV reader for a path when pyarrow is installed
        (the same frame, faster), ``"python"`` never does, ``"pyarrow"`` always
        (an error without it).

        Examples:
            >>> import io
            >>> from crmcore.columnar import TransactionLog
            >>> text = "CustomerID,InvoiceDate,Total,Country\\n17850.0,12/1/2010 8:26,15.3,UK\\n"
            >>> log = TransactionLog.from_csv(
            ...     io.StringIO(text),
            ...     columns={"customer_id": "CustomerID", "at": "InvoiceDate", "amount": "Total"},
            ...     tz="Europe/London", extra="ignore")
            >>> log.customer_ids.tolist(), str(log.at[0])
            (['17850'], '2010-12-01T08:26:00.000000')
        """
        options = read_options(
            columns=columns, tz=tz, dayfirst=dayfirst, extra=extra, guests=guests,
            float_ids=float_ids, cancellations=cancellations,
        )  # fmt: skip
        schema = cls._schema_of()
        read = read_csv(
            source, schema, options,
            extra_prefix=cls.EXTRA_PREFIX, encoded=cls.ENCODED, lenient=cls.DERIVED,
            alternatives=cls.ALTERNATIVES, engine=engine,
        )  # fmt: skip
        length = len(next(iter(read.values())))
        return cls._built(read, length, options)

    def to_csv(self, target: CsvSource) -> None:
        """Write the frame as CSV: a header row, then one row per record (UTF-8).

        ``target`` is a path or a text stream open for writing.
        """
        write_csv(target, self.names, list(self._columns.values()))

    # -- pandas ----------------------------------------------------------------------------------
    def to_pandas(self) -> pd.DataFrame:
        """A pandas DataFrame with a column per frame column (needs the ``pandas`` extra).

        string → ``string``; float → ``float64``; int → ``int64`` (``Int64``
        when nullable); bool → ``bool`` (``boolean`` when nullable); datetime
        → ``datetime64[us, UTC]``; date → object of ``date``; category →
        ``category``; tags → object of ``frozenset``. Arrays are copied.
        """
        pandas = import_pandas(f"{type(self).__name__}.to_pandas")
        schema = self.schema
        data = {
            name: to_pandas(pandas, column, schema[name].nullable)
            for name, column in self._columns.items()
        }
        frame: pd.DataFrame = pandas.DataFrame(data, index=pandas.RangeIndex(self._length))
        return frame

    @classmethod
    def from_pandas(
        cls,
        df: pd.DataFrame,
        *,
        columns: Mapping[str, str] | None = None,
        tz: str | tzinfo | None = None,
        dayfirst: bool = False,
        extra: ExtraColumns = "error",
        guests: GuestRows = "exclude",
        float_ids: bool = True,
        cancellations: str | re.Pattern[str] | None = None,
    ) -> Self:
        """Build a frame from a pandas DataFrame (the index is ignored).

        Takes what [`to_pandas()`][crmcore.columnar.table.Frame.to_pandas] writes and what
        ``pd.read_csv`` gives: object, ``str`` and numpy columns, integer or float
        ids (``17850.0`` becomes ``"17850"``), nanosecond timestamps (kept to the
        microsecond), text timestamps (read as in CSV). Naive timestamps need
        ``tz``. The options are those of
        [`ReadOptions`][crmcore.columnar.reading.ReadOptions].
        """
        options = read_options(
            columns=columns, tz=tz, dayfirst=dayfirst, extra=extra, guests=guests,
            float_ids=float_ids, cancellations=cancellations,
        )  # fmt: skip
        schema = cls._schema_of()
        pd = import_pandas(f"{cls.__name__}.from_pandas")
        if not isinstance(df, pd.DataFrame):
            raise ValidationError("df", type(df).__name__, "must be a pandas DataFrame")
        names = [str(name) for name in df.columns]
        if len(set(names)) != len(names):
            raise ValidationError("columns", names, "column names must be distinct")
        targets = options.targets(names, frozenset(schema.names))
        reading = TimeReading(options.tz, options.dayfirst)
        built: dict[str, Column] = {}
        length = len(df)
        for position, (name, target) in enumerate(zip(names, targets, strict=True)):
            series = df.iloc[:, position]
            if target is not None:
                spec = schema[target]
                built[target] = from_pandas(
                    pd, series, spec.kind, target, spec.nullable or target in cls.DERIVED,
                    target in cls.ENCODED, reading,
                )  # fmt: skip
                continue
            if cls._is_extra(name):
                extra_name = name
            elif options.extra == "ignore":
                continue
            elif options.extra == "keep":
                extra_name = name if name.startswith("attr.") else f"attr.{name}"
            else:
                raise ValidationError(name, None, cls._unknown(name))
            kind = pandas_kind(pd, series, extra_name)
            built[extra_name] = from_pandas(pd, series, kind, extra_name, True, False, reading)
        result: dict[str, Column] = {}
        for spec in schema.columns:
            if spec.name in built:
                result[spec.name] = built.pop(spec.name)
            elif not spec.nullable and spec.name not in cls.DERIVED:
                raise ValidationError(spec.name, None, cls._missing_hint(spec.name, options, names))
            else:
                result[spec.name] = empty_column(spec.kind, length, spec.name in cls.ENCODED)
        for name in sorted(built):
            result[name] = built[name]
        return cls._built(result, length, options)

    @classmethod
    def _missing_hint(cls, name: str, options: ReadOptions, names: list[str]) -> str:
        del options
        return (
            f"required column is missing: map one of yours to it with "
            f"columns={{{name!r}: ...}} (you have {', '.join(map(repr, names))})"
        )


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
