"""pandas conversion for frames: a column to a pandas array and a Series to a column.

pandas is an optional extra (``crmcore[pandas]``): nothing here imports it at
module load. `import_pandas()` imports it when a frame converts (or raises
[`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] naming the
extra), and the functions take the module as their first argument.

What ``pd.read_csv`` gives is read as it is meant: integer and float id
columns become id strings (``17850.0`` → ``"17850"``; ``NaN`` is missing),
nanosecond timestamps are kept to the microsecond, naive ones are placed in
the zone the caller names, and text timestamps are parsed as in CSV.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crmcore.columnar._builders import Builder, make_builder
from crmcore.columnar._kind_inference import infer_kind
from crmcore.columnar._layout import NAT
from crmcore.columnar._timestamps import TimeReading, localize, naive_error
from crmcore.columnar._validation import row_error
from crmcore.columnar.columns import Column
from crmcore.columnar.schema import ColumnKind
from crmcore.kernel.arrays import BoolArray
from crmcore.kernel.errors import MissingDependencyError, ValidationError

__all__ = ["from_pandas", "import_pandas", "pandas_kind", "to_pandas"]


def import_pandas(feature: str = "pandas conversion") -> Any:
    """The pandas module, or a
    [`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] naming the
    ``pandas`` extra and ``feature``."""
    try:
        import pandas
    except ImportError:
        raise MissingDependencyError("pandas", "pandas", feature) from None
    return pandas


def to_pandas(pd: Any, column: Column, nullable: bool) -> Any:
    """One column as a pandas array, its arrays copied (dtypes: see ``Frame.to_pandas``)."""
    kind = column.kind
    if kind == "string":
        values = column.values.astype(object)
        values[column.missing] = None
        return pd.array(values, dtype=pd.StringDtype())
    if kind == "float":
        return column.values.copy()
    if kind in ("int", "bool"):
        if not nullable:
            return column.values.astype(np.int64 if kind == "int" else np.bool_)
        if kind == "int":
            return pd.arrays.IntegerArray(column.values.astype(np.int64), column.missing.copy())
        return pd.arrays.BooleanArray(column.values.copy(), column.missing.copy())
    if kind == "datetime":
        return pd.Series(column.values.copy()).dt.tz_localize("UTC").array
    if kind == "category":
        return pd.Categorical.from_codes(
            column.values.copy(), categories=pd.Index(list(column.categories), dtype=object)
        )
    values = np.empty(len(column), dtype=object)
    values[:] = column.to_list()
    return values


def pandas_kind(pd: Any, series: Any, name: str) -> ColumnKind:
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


def from_pandas(
    pd: Any,
    series: Any,
    kind: ColumnKind,
    name: str,
    nullable: bool,
    encoded: bool,
    reading: TimeReading | None = None,
) -> Column:
    """One pandas Series as a column of ``kind``: vectorised where the dtype allows."""
    reading = reading or TimeReading()
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
    if kind == "string" and numeric:
        series = _id_strings(pd, series, name, missing)
    if kind in ("datetime", "date") and api.is_datetime64_any_dtype(dtype):
        return _pandas_times(pd, series, kind, name, nullable, missing, reading)
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
    builder: Builder = make_builder(kind, name, nullable, encoded, reading)
    if kind in ("datetime", "date") and all(isinstance(v, str | None) for v in values_list):
        builder.add_strings(["" if v is None else v for v in values_list], 0)
    else:
        builder.add_objects(values_list, 0)
    return Column._new(*builder.finish())


def _id_strings(pd: Any, series: Any, name: str, missing: BoolArray) -> Any:
    """Integer or float ids as strings: ``17850.0`` → ``"17850"``; others are an error."""
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    present = ~missing
    whole = np.isfinite(values) & (values == np.floor(values)) & (np.abs(values) < 2.0**53)
    if pd.api.types.is_integer_dtype(series.dtype):
        text = series.astype("Int64").astype(object)
    else:
        bad = present & ~whole
        if bad.any():
            i = _first_row(bad)
            raise row_error(
                i, name, series.iloc[i],
                "is a number that is not a whole number; ids must be text or whole numbers",
            )  # fmt: skip
        text = pd.Series(np.where(present, values, 0).astype(np.int64)).astype(object)
    strings = np.array([str(v) for v in text.tolist()], dtype=object)
    strings[missing] = None
    return pd.Series(strings, dtype=object)


def _pandas_times(
    pd: Any,
    series: Any,
    kind: ColumnKind,
    name: str,
    nullable: bool,
    missing: BoolArray,
    reading: TimeReading,
) -> Column:
    aware = isinstance(series.dtype, pd.DatetimeTZDtype)
    if kind == "date" and aware:
        raise row_error(0, name, str(series.dtype), "a date column needs dates, not timestamps")
    if aware:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    raw = series.to_numpy()
    if kind == "date":
        try:
            column = Column.from_numpy(kind, raw, missing=missing)
        except ValidationError as error:
            raise row_error(_first_row(~missing), name, error.value, error.reason) from None
    else:
        # nanosecond timestamps keep their microseconds (floored, as numpy casts)
        micros = raw.astype("datetime64[us]").view(np.int64).copy()
        micros[missing] = NAT
        if not aware:
            if reading.tz is None:
                if (~missing).any():
                    i = _first_row(~missing)
                    raise naive_error(i, name, str(series.iloc[i]))
            else:
                micros = localize(micros, reading.tz)
        try:
            column = Column.from_numpy(kind, micros.view("datetime64[us]"), missing=missing)
        except ValidationError as error:
            raise row_error(_first_row(~missing), name, error.value, error.reason) from None
    if not nullable and missing.any():
        raise row_error(_first_row(missing), name, None, "is required")
    return column


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
