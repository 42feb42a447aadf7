"""pandas conversion for frames: a column to a pandas array and a Series to a column.

pandas is an optional extra (``crmcore[pandas]``): nothing here imports it at
module load. `import_pandas()` imports it when a frame converts, and the
functions take the module as their first argument.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from crmcore.columnar._builders import Builder, make_builder
from crmcore.columnar._kind_inference import infer_kind
from crmcore.columnar._validation import row_error
from crmcore.columnar.columns import Column
from crmcore.columnar.schema import ColumnKind
from crmcore.kernel.arrays import BoolArray
from crmcore.kernel.errors import ValidationError

__all__ = ["from_pandas", "import_pandas", "pandas_kind", "to_pandas"]

_PANDAS_MISSING: Final = "pandas is not installed: pip install 'crmcore[pandas]'"


def import_pandas() -> Any:
    """The pandas module, or a `ModuleNotFoundError` that names the ``pandas`` extra."""
    try:
        import pandas
    except ImportError:
        raise ModuleNotFoundError(_PANDAS_MISSING, name="pandas") from None
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
    return Column._new(*builder.finish())


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
