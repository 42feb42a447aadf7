"""Predictive lead scoring: P(conversion) learned from won and lost history, and explained.

Two transparent models, numpy only (no new dependency), each with ``fit`` / ``predict_proba`` /
``predict_one`` / ``explain``, and the same explanation: a base log-odds plus one contribution per
feature, which add up to the lead's log-odds (``p = 1 / (1 + exp(-log_odds))``):

* [`NaiveBayesModel`][crmcore.sales.predictive.NaiveBayesModel], Odoo CRM's "probability of
  winning" (PEERS.md §1.2): per feature and value, how often won and lost leads had it, with
  Laplace smoothing ``alpha`` (Odoo adds 0.1); numbers count by quantile bins. A feature's
  contribution is ``log P(value | won) - log P(value | lost)``, the base ``log(won / lost)``.
* [`LogisticModel`][crmcore.sales.predictive.LogisticModel], L2-regularised logistic regression
  fitted by Newton's method (iteratively reweighted least squares with step halving; the
  intercept is not penalised): text features one-hot over their levels, numbers standardised with
  a missing indicator. A feature's contribution is its coefficients times its encoded value.

Training data is a [`CustomerFrame`][crmcore.columnar.frame.CustomerFrame] of leads
([`lead_frame()`][crmcore.sales.lead_columns.lead_frame]; outcomes from
[`conversion_outcomes()`][crmcore.sales.predictive.conversion_outcomes]) or a mapping of column
name to array, with ``won`` one boolean per row. A fit that cannot succeed (no rows, one class
only, no convergence) raises [`ModelFitError`][crmcore.kernel.errors.ModelFitError]. Batch and
single predictions add the same numbers in the same order, so they agree to the last bit.
[`evaluate()`][crmcore.sales.model_evaluation.evaluate] reports how good the probabilities are.

Examples:
    >>> import numpy as np
    >>> data = {"source": np.array(["ads", "referral"] * 50),
    ...         "visits": np.arange(100) % 7}
    >>> won = (data["source"] == "referral") & (data["visits"] > 2)
    >>> model = NaiveBayesModel.fit(data, won, ["source", "visits"])
    >>> p = model.predict_proba(data)
    >>> bool(p[won].mean() > p[~won].mean())
    True
    >>> model.predict_one({"source": "referral", "visits": 6}) == float(p[5])
    True
    >>> [c.feature for c in model.explain({"source": "ads", "visits": 1}).contributions]
    ['source', 'visits']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.kernel.arrays import BoolArray, Float64Array, read_only
from crmcore.kernel.errors import ModelFitError, ValidationError
from crmcore.kernel.reports import html_table, records_frame
from crmcore.kernel.validators import integer, items_of, number
from crmcore.sales.lead_columns import STATUSES, LeadColumns
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.predictive_features import (
    CategoricalFeature,
    Feature,
    FeatureColumn,
    FeatureData,
    NumericFeature,
    learn_features,
    read_column,
    value_of,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FeatureContribution",
    "LogisticModel",
    "NaiveBayesModel",
    "PredictionExplanation",
    "conversion_outcomes",
    "sigmoid",
]

_MAX_ITER: Final = 100
_ITER_LIMIT: Final = 100_000  # Newton steps: convergence takes tens; more is a runaway loop


def sigmoid(log_odds: Float64Array) -> Float64Array:
    """``1 / (1 + exp(-z))`` without overflow (both paths call it, so they agree exactly)."""
    z = np.asarray(log_odds, dtype=np.float64)
    e = np.exp(-np.abs(z))
    out: Float64Array = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out


def conversion_outcomes(columns: LeadColumns) -> tuple[BoolArray, BoolArray]:
    """Which leads are decided (converted or disqualified, and not merged) and which were won.

    Returns ``(decided, won)``, one boolean per lead: train on ``decided`` rows with
    ``won[decided]``; open leads are what the model then scores.
    """
    if not isinstance(columns, LeadColumns):
        raise ValidationError("columns", columns, "must be LeadColumns")
    won = columns.status == STATUSES.index(LeadStatus.CONVERTED)
    lost = columns.status == STATUSES.index(LeadStatus.DISQUALIFIED)
    decided = (won | lost) & ~columns.merged
    return read_only(decided), read_only(won & decided)


@attrs.frozen
class FeatureContribution:
    """What one feature adds to a lead's log-odds: the value seen and its contribution."""

    feature: str
    value: str
    log_odds: float


@attrs.frozen
class PredictionExplanation:
    """A prediction explained: ``probability`` = sigmoid(``base`` + the contributions' sum)."""

    probability: float
    log_odds: float
    base: float
    contributions: tuple[FeatureContribution, ...]

    def strongest(self, n: int = 3) -> tuple[FeatureContribution, ...]:
        """The ``n`` contributions largest in size."""
        n = integer(n, "n", low=0)
        return tuple(sorted(self.contributions, key=lambda c: -abs(c.log_odds))[:n])

    def to_dict(self) -> dict[str, object]:
        """The explanation as JSON data."""
        return {
            "probability": self.probability,
            "log_odds": self.log_odds,
            "base": self.base,
            "contributions": [attrs.asdict(c) for c in self.contributions],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per term of the log-odds, the base first (feature ``"(base)"``, value
        ``None``): ``feature``, ``value``, ``log_odds``."""
        rows = [{"feature": "(base)", "value": None, "log_odds": self.base}]
        rows += [attrs.asdict(c) for c in self.contributions]
        return records_frame(rows, "PredictionExplanation.to_pandas")

    def _repr_html_(self) -> str:
        rows = [(c.feature, c.value, c.log_odds) for c in self.contributions]
        return html_table(
            f"P(conversion) = {self.probability:.1%}",
            ["feature", "value", "log-odds"],
            [("(base)", "", self.base), *rows],
            kinds=["auto", "auto", "float"],
            caption=f"log-odds {self.log_odds:.3f} = base + contributions",
        )


def _labels(won: object, n: int) -> BoolArray:
    y = np.asarray(won)
    if y.dtype != np.bool_ or y.shape != (n,):
        raise ValidationError("won", y.shape, f"must be {n} booleans, one per row")
    return y


def _rows(columns: Sequence[FeatureColumn]) -> int:
    sizes = {len(c.values) for c in columns}
    if len(sizes) != 1:
        raise ValidationError("data", sorted(sizes), "columns must have the same length")
    return sizes.pop()


def _classes(model: str, y: BoolArray) -> tuple[int, int]:
    won, lost = int(y.sum()), int((~y).sum())
    if not len(y):
        raise ModelFitError(model, "no rows to learn from")
    if not won or not lost:
        raise ModelFitError(model, "needs both won and lost leads")
    return won, lost


def _columns_for(features: Sequence[Feature], data: FeatureData) -> list[FeatureColumn]:
    return [read_column(data, f.name) for f in features]


def _explained(base: float, parts: list[FeatureContribution]) -> PredictionExplanation:
    log_odds = base
    for part in parts:
        log_odds += part.log_odds
    p = float(sigmoid(np.array([log_odds]))[0])
    return PredictionExplanation(p, log_odds, base, tuple(parts))


@attrs.frozen(kw_only=True)
class NaiveBayesModel:
    """Naive Bayes over categorical (and binned numeric) features, Odoo-style.

    ``tables[i][code]`` is feature ``i``'s log-likelihood ratio for that code; ``base`` the prior
    log-odds. Fit with [`fit()`][crmcore.sales.predictive.NaiveBayesModel.fit].
    """

    features: tuple[Feature, ...]
    base: float
    tables: tuple[tuple[float, ...], ...]
    alpha: float
    won: int
    lost: int

    def __attrs_post_init__(self) -> None:
        features = _features_of(self.features)
        sizes = [feature.size for feature in features]
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "tables", _tables_of(self.tables, "tables", sizes))

    @classmethod
    def fit(
        cls,
        data: FeatureData,
        won: object,
        features: Sequence[str],
        *,
        alpha: float = 1.0,
        bins: int = 5,
        max_levels: int = 30,
        min_count: int = 1,
    ) -> NaiveBayesModel:
        """Learn from ``data`` with outcomes ``won`` (one bool per row).

        ``alpha`` is the Laplace smoothing added to every count (> 0); numeric features are cut
        into ``bins`` quantile bins; text features keep at most ``max_levels`` levels.
        """
        alpha = number(alpha, "alpha")
        if not alpha > 0:
            raise ValidationError("alpha", alpha, "must be a number greater than 0")
        learned, columns = learn_features(
            data, features, bins=bins, max_levels=max_levels, min_count=min_count
        )
        y = _labels(won, _rows(columns))
        n_won, n_lost = _classes("naive Bayes", y)
        tables = []
        for feature, column in zip(learned, columns, strict=True):
            codes = feature.codes(column)
            k = feature.size
            on_won = np.bincount(codes[y], minlength=k) + alpha
            on_lost = np.bincount(codes[~y], minlength=k) + alpha
            ratio = np.log(on_won / (n_won + alpha * k)) - np.log(on_lost / (n_lost + alpha * k))
            tables.append(tuple(float(v) for v in ratio))
        return cls(
            features=learned,
            base=math.log(n_won / n_lost),
            tables=tuple(tables),
            alpha=float(alpha),
            won=n_won,
            lost=n_lost,
        )

    def log_odds(self, data: FeatureData) -> Float64Array:
        """Each row's log-odds of conversion."""
        columns = _columns_for(self.features, data)
        out = np.full(_rows(columns), self.base)
        for feature, column, table in zip(self.features, columns, self.tables, strict=True):
            out += np.array(table)[feature.codes(column)]
        return out

    def predict_proba(self, data: FeatureData) -> Float64Array:
        """Each row's probability of conversion."""
        return sigmoid(self.log_odds(data))

    def explain(self, record: Mapping[str, object]) -> PredictionExplanation:
        """One lead's probability, with each feature's contribution to its log-odds."""
        parts = []
        for feature, table in zip(self.features, self.tables, strict=True):
            code = feature.code_of(value_of(record, feature.name))
            parts.append(FeatureContribution(feature.name, feature.labels[code], table[code]))
        return _explained(self.base, parts)

    def predict_one(self, record: Mapping[str, object]) -> float:
        """One lead's probability of conversion (equal to its row's in ``predict_proba``)."""
        return self.explain(record).probability


def _features_of(values: object) -> tuple[Feature, ...]:
    found = items_of(values, "features", "features")
    for i, feature in enumerate(found):
        if not isinstance(feature, CategoricalFeature | NumericFeature):
            raise ValidationError(f"features[{i}]", feature, "must be a learned feature")
    return found  # type: ignore[return-value]  # every item checked above


def _tables_of(values: object, field: str, sizes: list[int]) -> tuple[tuple[float, ...], ...]:
    """One row of finite numbers per feature, as long as that feature's codes."""
    rows = items_of(values, field, "rows of numbers")
    if len(rows) != len(sizes):
        raise ValidationError(field, len(rows), f"must be one row per feature ({len(sizes)})")
    out = []
    for i, (row, size) in enumerate(zip(rows, sizes, strict=True)):
        numbers = tuple(number(x, f"{field}[{i}]") for x in items_of(row, f"{field}[{i}]"))
        if len(numbers) != size:
            raise ValidationError(f"{field}[{i}]", len(numbers), f"must hold {size} numbers")
        out.append(numbers)
    return tuple(out)


def _design(
    features: Sequence[Feature], columns: Sequence[FeatureColumn], n: int
) -> tuple[Float64Array, list[tuple[int, int]]]:
    """The model matrix (intercept first) and each feature's column span."""
    blocks: list[Float64Array] = [np.ones((n, 1))]
    spans = []
    start = 1
    for feature, column in zip(features, columns, strict=True):
        if isinstance(feature, CategoricalFeature):
            block = np.zeros((n, feature.size))
            block[np.arange(n), feature.codes(column)] = 1.0
        else:
            z, missing = feature.standardized(column)
            block = np.column_stack([z, missing])
        blocks.append(block)
        spans.append((start, start + block.shape[1]))
        start += block.shape[1]
    return np.hstack(blocks), spans


@attrs.frozen(kw_only=True)
class LogisticModel:
    """L2-regularised logistic regression, fitted by Newton's method.

    ``coefficients[i]`` are feature ``i``'s: one per code for a text feature, ``(slope,
    missing)`` for a number (on its standardised value). Fit with
    [`fit()`][crmcore.sales.predictive.LogisticModel.fit].
    """

    features: tuple[Feature, ...]
    intercept: float
    coefficients: tuple[tuple[float, ...], ...]
    l2: float
    iterations: int

    def __attrs_post_init__(self) -> None:
        features = _features_of(self.features)
        sizes = [f.size if isinstance(f, CategoricalFeature) else 2 for f in features]
        object.__setattr__(self, "features", features)
        object.__setattr__(
            self, "coefficients", _tables_of(self.coefficients, "coefficients", sizes)
        )

    @classmethod
    def fit(
        cls,
        data: FeatureData,
        won: object,
        features: Sequence[str],
        *,
        l2: float = 1.0,
        max_levels: int = 30,
        min_count: int = 1,
        tol: float = 1e-8,
        max_iter: int = _MAX_ITER,
    ) -> LogisticModel:
        """Learn from ``data`` with outcomes ``won`` (one bool per row).

        Minimises the negative log-likelihood plus ``l2 / 2`` times the squared coefficients
        (not the intercept); stops when no coefficient moves more than ``tol``.
        """
        l2 = number(l2, "l2", low=0.0)
        tol = number(tol, "tol", low=0.0)
        max_iter = integer(max_iter, "max_iter", low=1, high=_ITER_LIMIT)
        learned, columns = learn_features(
            data, features, max_levels=max_levels, min_count=min_count
        )
        n = _rows(columns)
        y = _labels(won, n).astype(np.float64)
        _classes("logistic regression", y.astype(bool))
        x, spans = _design(learned, columns, n)
        beta, iterations = _newton(x, y, float(l2), tol, max_iter)
        return cls(
            features=learned,
            intercept=float(beta[0]),
            coefficients=tuple(tuple(float(b) for b in beta[a:b]) for a, b in spans),
            l2=float(l2),
            iterations=iterations,
        )

    def _parts(
        self, feature: Feature, coefficients: tuple[float, ...], column: FeatureColumn
    ) -> Float64Array:
        if isinstance(feature, CategoricalFeature):
            out: Float64Array = np.array(coefficients)[feature.codes(column)]
            return out
        z, missing = feature.standardized(column)
        return coefficients[0] * z + coefficients[1] * missing

    def log_odds(self, data: FeatureData) -> Float64Array:
        """Each row's log-odds of conversion."""
        columns = _columns_for(self.features, data)
        out = np.full(_rows(columns), self.intercept)
        for feature, column, beta in zip(self.features, columns, self.coefficients, strict=True):
            out += self._parts(feature, beta, column)
        return out

    def predict_proba(self, data: FeatureData) -> Float64Array:
        """Each row's probability of conversion."""
        return sigmoid(self.log_odds(data))

    def explain(self, record: Mapping[str, object]) -> PredictionExplanation:
        """One lead's probability, with each feature's contribution to its log-odds."""
        parts = []
        for feature, beta in zip(self.features, self.coefficients, strict=True):
            value = value_of(record, feature.name)
            if isinstance(feature, CategoricalFeature):
                code = feature.code_of(value)
                parts.append(FeatureContribution(feature.name, feature.labels[code], beta[code]))
                continue
            z, missing = feature.standardized_one(value)
            shown = "(missing)" if missing else f"{value:g}"
            parts.append(FeatureContribution(feature.name, shown, beta[0] * z + beta[1] * missing))
        return _explained(self.intercept, parts)

    def predict_one(self, record: Mapping[str, object]) -> float:
        """One lead's probability of conversion (equal to its row's in ``predict_proba``)."""
        return self.explain(record).probability


def _penalised_loss(x: Float64Array, y: Float64Array, beta: Float64Array, l2: float) -> float:
    eta = x @ beta
    # log(1 + e^eta) - y * eta, computed without overflow
    loss = np.logaddexp(0.0, eta) - y * eta
    return float(loss.sum() + 0.5 * l2 * np.dot(beta[1:], beta[1:]))


def _newton(
    x: Float64Array, y: Float64Array, l2: float, tol: float, max_iter: int
) -> tuple[Float64Array, int]:
    """Newton-Raphson on the penalised log-likelihood, halving a step that does not improve it."""
    p = x.shape[1]
    penalty = np.full(p, l2)
    penalty[0] = 0.0
    beta = np.zeros(p)
    beta[0] = math.log(y.mean() / (1 - y.mean()))
    loss = _penalised_loss(x, y, beta, l2)
    for iteration in range(1, max_iter + 1):
        mu = sigmoid(x @ beta)
        gradient = x.T @ (y - mu) - penalty * beta
        weights = mu * (1 - mu)
        hessian = (x * weights[:, None]).T @ x + np.diag(penalty)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            raise ModelFitError(
                "logistic regression", "the Hessian is singular: use l2 > 0"
            ) from None
        for _ in range(30):
            trial = beta + step
            trial_loss = _penalised_loss(x, y, trial, l2)
            if trial_loss <= loss + 1e-12 * abs(loss):
                break
            step = step / 2
        else:
            raise ModelFitError("logistic regression", "no step improves the fit")
        beta, loss = trial, trial_loss
        if float(np.max(np.abs(step))) < tol:
            return beta, iteration
    raise ModelFitError("logistic regression", f"did not converge in {max_iter} iterations")
