"""Features for predictive lead scoring: columns read, levels learned, values encoded.

The predictive models ([`crmcore.sales.predictive`][crmcore.sales.predictive]) learn from columns
of many leads — a [`CustomerFrame`][crmcore.columnar.frame.CustomerFrame] (leads as records:
[`lead_frame()`][crmcore.sales.lead_columns.lead_frame]) or a plain mapping of column name to
array — and predict for one lead's record or for many. What a feature *is* is learned once, at
fit, and kept with the model so that every later prediction encodes values the same way:

* a [`CategoricalFeature`][crmcore.sales.predictive_features.CategoricalFeature] (text,
  categories, booleans as ``"true"``/``"false"``) keeps its most frequent levels (at most
  ``max_levels``, each seen at least ``min_count`` times); other values, also those first seen
  after the fit, share the code ``(other)``, and a missing value has its own code ``(missing)``;
* a [`NumericFeature`][crmcore.sales.predictive_features.NumericFeature] (int and float columns)
  keeps its quantile edges (the naive Bayes model counts it by bins) and its mean and spread (the
  logistic model uses it standardised, with a missing-value indicator).

Dates are not features: derive a number (days since creation, say) first.

Examples:
    >>> import numpy as np
    >>> column = read_column({"source": ["web", "web", "ads", None]}, "source")
    >>> feature = CategoricalFeature.learn(column, max_levels=5)
    >>> feature.levels, feature.labels
    (('web', 'ads'), ('web', 'ads', '(other)', '(missing)'))
    >>> feature.codes(read_column({"source": ["ads", "tv", None]}, "source")).tolist()
    [1, 2, 3]
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias

import attrs
import numpy as np

from crmcore.columnar import STRING_DTYPE, CustomerFrame
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import instance_of, integer

__all__ = [
    "MISSING_LABEL",
    "OTHER_LABEL",
    "CategoricalFeature",
    "Feature",
    "FeatureColumn",
    "FeatureData",
    "NumericFeature",
    "learn_features",
    "read_column",
    "value_of",
]

OTHER_LABEL: Final = "(other)"
"""The label of a categorical value outside the learned levels."""
MISSING_LABEL: Final = "(missing)"
"""The label of a missing value."""
_MAX_BINS: Final = 10_000  # quantile bins of one number: far beyond any useful model

FeatureData: TypeAlias = CustomerFrame | Mapping[str, object]
"""Where features are read from: a frame, or a mapping of column name to array-like."""


@attrs.frozen(eq=False)
class FeatureColumn:
    """One column read for the models: text values (``numeric`` false) or floats, and missing."""

    name: str
    numeric: bool
    values: AnyArray
    missing: BoolArray


def _text(values: AnyArray, missing: BoolArray) -> AnyArray:
    out = np.full(len(values), "", dtype=STRING_DTYPE)
    if (~missing).any():
        out[~missing] = np.asarray(values[~missing]).astype(STRING_DTYPE)
    return out


def read_column(data: FeatureData, name: str) -> FeatureColumn:
    """Column ``name`` of ``data``, read for the models.

    Text and categories read as text, booleans as ``"true"``/``"false"``, ints and floats as
    floats (``NaN`` missing); ``None`` (and ``NaN``) are missing values.
    """
    if isinstance(data, CustomerFrame):
        if name not in data:
            raise ValidationError("features", name, "is not a column of the frame")
        column = data.column(name)
        missing = np.asarray(column.missing, dtype=bool)
        if column.kind in ("int", "float"):
            values = column.values.astype(np.float64)
            values[missing] = np.nan
            return FeatureColumn(name, True, values, missing)
        if column.kind == "category":
            labels = np.array([*column.categories, ""], dtype=STRING_DTYPE)
            return FeatureColumn(name, False, labels[column.codes], missing)
        if column.kind == "string":
            return FeatureColumn(name, False, _text(column.values, missing), missing)
        if column.kind == "bool":
            text = np.where(column.values, "true", "false").astype(STRING_DTYPE)
            return FeatureColumn(name, False, text, missing)
        raise ValidationError("features", name, f"is a {column.kind} column: derive a number")
    if not isinstance(data, Mapping):
        raise ValidationError("data", data, "must be a CustomerFrame or a mapping of columns")
    if name not in data:
        raise ValidationError("features", name, "is not a column of the data")
    raw = np.asarray(data[name])
    if raw.ndim != 1:
        raise ValidationError(name, raw.shape, "must be one-dimensional")
    if raw.dtype.kind in "iuf":
        values = raw.astype(np.float64)
        return FeatureColumn(name, True, values, np.isnan(values))
    if raw.dtype.kind == "b":
        text = np.where(raw, "true", "false").astype(STRING_DTYPE)
        return FeatureColumn(name, False, text, np.zeros(len(raw), dtype=bool))
    if raw.dtype.kind == "O":
        missing = np.array(
            [v is None or (isinstance(v, float) and v != v) for v in raw.tolist()], dtype=bool
        )
        if any(isinstance(v, bool) for v in raw[~missing].tolist()):
            raw = np.array(
                [("true" if v else "false") if isinstance(v, bool) else v for v in raw.tolist()],
                dtype=object,
            )
        return FeatureColumn(name, False, _text(raw, missing), missing)
    if raw.dtype.kind in "UT":
        return FeatureColumn(name, False, raw.astype(STRING_DTYPE), np.zeros(len(raw), bool))
    raise ValidationError(name, str(raw.dtype), "must hold text, booleans or numbers")


def value_of(record: Mapping[str, object], name: str) -> object:
    """The value of feature ``name`` in one record (``None`` if absent)."""
    if not isinstance(record, Mapping):
        raise ValidationError("record", record, "must be a mapping of field to value")
    return record.get(name)


def _column(value: object) -> FeatureColumn:
    return instance_of(value, FeatureColumn, "column", "a FeatureColumn (see read_column)")


@attrs.frozen
class CategoricalFeature:
    """A text-like feature: its kept ``levels``; codes ``0..k-1`` are the levels, ``k`` is
    ``(other)`` and ``k + 1`` ``(missing)``."""

    name: str
    levels: tuple[str, ...]

    @classmethod
    def learn(
        cls, column: FeatureColumn, *, max_levels: int = 30, min_count: int = 1
    ) -> CategoricalFeature:
        """The levels of ``column``: the most frequent values (ties by text), at most
        ``max_levels``, each seen at least ``min_count`` times."""
        column = _column(column)
        max_levels = integer(max_levels, "max_levels", low=1)
        integer(min_count, "min_count", low=1)
        present = column.values[~column.missing]
        if not len(present):
            return cls(column.name, ())
        unique, counts = np.unique(present, return_counts=True)
        order = np.lexsort((unique, -counts))
        kept = [str(unique[i]) for i in order[:max_levels] if counts[i] >= min_count]
        return cls(column.name, tuple(kept))

    @property
    def labels(self) -> tuple[str, ...]:
        """The label of every code: the levels, then ``(other)`` and ``(missing)``."""
        return (*self.levels, OTHER_LABEL, MISSING_LABEL)

    @property
    def size(self) -> int:
        """The number of codes."""
        return len(self.levels) + 2

    def codes(self, column: FeatureColumn) -> Int64Array:
        """The code of each value (vectorised: one lookup per distinct value)."""
        if _column(column).numeric:
            raise ValidationError("features", self.name, "was text at fit, is numeric now")
        unique, inverse = np.unique(column.values, return_inverse=True)
        index = {level: i for i, level in enumerate(self.levels)}
        table = np.array([index.get(str(u), len(self.levels)) for u in unique.tolist()], np.int64)
        out: Int64Array = table[inverse.reshape(-1)] if len(unique) else np.zeros(0, np.int64)
        out[column.missing] = len(self.levels) + 1
        return out

    def code_of(self, value: object) -> int:
        """The code of one value."""
        if value is None or (isinstance(value, float) and value != value):
            return len(self.levels) + 1
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        try:
            return self.levels.index(text)
        except ValueError:
            return len(self.levels)


@attrs.frozen
class NumericFeature:
    """A number: quantile ``edges`` (bins for naive Bayes), ``mean`` and ``scale`` (for the
    logistic model, which uses ``(x - mean) / scale`` and a missing indicator)."""

    name: str
    edges: tuple[float, ...]
    mean: float
    scale: float

    @classmethod
    def learn(cls, column: FeatureColumn, *, bins: int = 5) -> NumericFeature:
        """Edges at the ``1/bins ... (bins-1)/bins`` quantiles of the present values (distinct),
        and their mean and standard deviation (1 when they do not vary)."""
        column = _column(column)
        bins = integer(bins, "bins", low=2, high=_MAX_BINS)
        present = column.values[~column.missing]
        if not len(present):
            return cls(column.name, (), 0.0, 1.0)
        cuts = np.quantile(present, np.arange(1, bins) / bins)
        edges = tuple(float(e) for e in np.unique(cuts))
        spread = float(present.std())
        return cls(column.name, edges, float(present.mean()), spread if spread > 0 else 1.0)

    @property
    def labels(self) -> tuple[str, ...]:
        """The label of every bin code, then ``(missing)``."""
        e = [f"{x:g}" for x in self.edges]
        if not e:
            return ("(any)", MISSING_LABEL)
        inner = [f"[{a}, {b})" for a, b in itertools.pairwise(e)]
        return (f"< {e[0]}", *inner, f">= {e[-1]}", MISSING_LABEL)

    @property
    def size(self) -> int:
        """The number of bin codes (the bins and the missing code)."""
        return len(self.edges) + 2

    def codes(self, column: FeatureColumn) -> Int64Array:
        """The bin code of each value."""
        if not _column(column).numeric:
            raise ValidationError("features", self.name, "was numeric at fit, is text now")
        out: Int64Array = np.searchsorted(np.array(self.edges), column.values, side="right")
        out = out.astype(np.int64)
        out[column.missing] = len(self.edges) + 1
        return out

    def code_of(self, value: object) -> int:
        """The bin code of one value."""
        number = _number(value, self.name)
        if number is None:
            return len(self.edges) + 1
        return int(np.searchsorted(np.array(self.edges), number, side="right"))

    def standardized(self, column: FeatureColumn) -> tuple[Float64Array, Float64Array]:
        """``((x - mean) / scale`` with 0 where missing, and the missing indicator)``."""
        if not _column(column).numeric:
            raise ValidationError("features", self.name, "was numeric at fit, is text now")
        z = (column.values - self.mean) / self.scale
        z[column.missing] = 0.0
        return z, column.missing.astype(np.float64)

    def standardized_one(self, value: object) -> tuple[float, float]:
        """[`standardized()`][crmcore.sales.predictive_features.NumericFeature.standardized] of
        one value."""
        number = _number(value, self.name)
        if number is None:
            return 0.0, 1.0
        return (number - self.mean) / self.scale, 0.0


def _number(value: object, name: str) -> float | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(name, value, "must be a number (the feature is numeric)")
    return float(value)


Feature: TypeAlias = CategoricalFeature | NumericFeature
"""A learned feature."""


def learn_features(
    data: FeatureData,
    names: Sequence[str],
    *,
    bins: int = 5,
    max_levels: int = 30,
    min_count: int = 1,
) -> tuple[tuple[Feature, ...], tuple[FeatureColumn, ...]]:
    """Learn each named feature from ``data``; also return the columns read."""
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise ValidationError("features", names, "must be a non-empty sequence of column names")
    if len(set(names)) != len(names):
        raise ValidationError("features", names, "must not repeat a name")
    columns = tuple(read_column(data, name) for name in names)
    features: list[Feature] = []
    for column in columns:
        if column.numeric:
            features.append(NumericFeature.learn(column, bins=bins))
        else:
            features.append(
                CategoricalFeature.learn(column, max_levels=max_levels, min_count=min_count)
            )
    return tuple(features), columns
