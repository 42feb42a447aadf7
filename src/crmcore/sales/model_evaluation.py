"""How good are predicted conversion probabilities: ranking, calibration and lift.

[`evaluate()`][crmcore.sales.model_evaluation.evaluate] compares probabilities with what happened
(held-out leads, ideally) and returns a
[`ModelEvaluation`][crmcore.sales.model_evaluation.ModelEvaluation] report:

* **ROC AUC** ([`roc_auc()`][crmcore.sales.model_evaluation.roc_auc]): the chance that a random
  won lead scores above a random lost one (ties count half), computed from average ranks
  (Mann-Whitney U / (won · lost); Hanley & McNeil 1982);
* **Brier score** ([`brier_score()`][crmcore.sales.model_evaluation.brier_score]): the mean
  squared error of the probabilities (Brier 1950; 0 is perfect, a constant base rate scores
  ``p(1-p)``), and the **log loss**;
* the **reliability table**: predictions binned by probability (``[0, 0.1)``, ... ``[0.9, 1]``),
  each bin's mean prediction against its observed conversion rate (a calibrated model has them
  equal);
* **lift by decile**: leads ranked by probability, cut into ten groups of (nearly) equal size;
  per decile the conversion rate, the lift over the base rate and the cumulative share of all
  conversions captured.

Examples:
    >>> import numpy as np
    >>> won = np.array([True, False, True, False, False])
    >>> p = np.array([0.9, 0.2, 0.6, 0.6, 0.1])
    >>> roc_auc(won, p)
    0.9166666666666666
    >>> report = evaluate(won, p, bins=5)
    >>> report.auc == roc_auc(won, p), report.lift[0].decile, report.lift[0].positives
    (True, 1, 1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np

from crmcore.columnar.arguments import float_column
from crmcore.kernel.arrays import BoolArray, Float64Array
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import integer

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LiftRow",
    "ModelEvaluation",
    "ReliabilityBin",
    "brier_score",
    "evaluate",
    "roc_auc",
]
_MAX_BINS = 10_000  # reliability bins: more than any table can show


def _inputs(won: object, probability: object) -> tuple[BoolArray, Float64Array]:
    y = np.asarray(won)
    if y.dtype != np.bool_ or y.ndim != 1:
        raise ValidationError("won", y.dtype, "must be a one-dimensional bool array")
    p = float_column(probability, "probability", finite=True, what="probabilities in [0, 1]")
    if p.shape != y.shape:
        raise ValidationError("probability", p.shape, f"must have one value per lead {y.shape}")
    if not len(y):
        raise ValidationError("won", 0, "needs at least one lead")
    if not np.all((p >= 0) & (p <= 1)):
        raise ValidationError("probability", p, "must be probabilities in [0, 1]")
    return y, p


def roc_auc(won: object, probability: object) -> float:
    """The area under the ROC curve (ties between a won and a lost lead count half).

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] when only one class is
    present (the AUC is undefined).
    """
    y, p = _inputs(won, probability)
    n_won, n_lost = int(y.sum()), int((~y).sum())
    if not n_won or not n_lost:
        raise ValidationError("won", n_won, "the AUC needs both won and lost leads")
    order = np.argsort(p, kind="stable")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    # average ranks over ties: the mean of each run of equal values
    sorted_p = p[order]
    starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])
    ends = np.r_[starts[1:], len(p)]
    mean_rank = (starts + 1 + ends) / 2.0
    ranks[order] = np.repeat(mean_rank, ends - starts)
    u = ranks[y].sum() - n_won * (n_won + 1) / 2.0
    return float(u / (n_won * n_lost))


def brier_score(won: object, probability: object) -> float:
    """The mean squared difference between the probabilities and the outcomes (0 is perfect)."""
    y, p = _inputs(won, probability)
    return float(np.mean((p - y) ** 2))


@attrs.frozen
class ReliabilityBin:
    """Predictions in ``[lower, upper)`` (the last bin includes 1): how many, their mean, and how
    many converted."""

    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None


@attrs.frozen
class LiftRow:
    """One decile of leads ranked by probability (1 = the most likely)."""

    decile: int
    count: int
    positives: int
    rate: float
    lift: float | None
    cumulative_capture: float | None


@attrs.frozen(kw_only=True)
class ModelEvaluation:
    """Ranking, calibration and lift of predicted probabilities (a report object)."""

    leads: int
    positives: int
    auc: float | None
    brier: float
    log_loss: float
    reliability: tuple[ReliabilityBin, ...]
    lift: tuple[LiftRow, ...]

    @property
    def base_rate(self) -> float:
        """The share of leads that converted."""
        return self.positives / self.leads

    def to_dict(self) -> dict[str, object]:
        """The report as JSON data."""
        return {
            "leads": self.leads,
            "positives": self.positives,
            "base_rate": self.base_rate,
            "auc": self.auc,
            "brier": self.brier,
            "log_loss": self.log_loss,
            "reliability": [attrs.asdict(b) for b in self.reliability],
            "lift": [attrs.asdict(r) for r in self.lift],
        }

    def to_pandas(self) -> pd.DataFrame:
        """The lift table, one row per decile (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "ModelEvaluation.to_pandas") from None
        return pd.DataFrame([attrs.asdict(r) for r in self.lift])

    def _repr_html_(self) -> str:
        auc = "-" if self.auc is None else f"{self.auc:.3f}"
        lift = html_table(
            f"Lift by decile: AUC {auc}, Brier {self.brier:.4f}, base rate {self.base_rate:.1%}",
            ["decile", "leads", "converted", "rate", "lift", "captured"],
            [
                (r.decile, r.count, r.positives, r.rate, r.lift, r.cumulative_capture)
                for r in self.lift
            ],
            kinds=["int", "int", "int", "pct", "float", "pct"],
            bars={4: max((r.lift or 0.0 for r in self.lift), default=0.0)},
        )
        reliability = html_table(
            "Reliability",
            ["predicted", "leads", "mean predicted", "observed"],
            [
                (f"{b.lower:.1f}-{b.upper:.1f}", b.count, b.mean_predicted, b.observed_rate)
                for b in self.reliability
                if b.count
            ],
            kinds=["auto", "int", "pct", "pct"],
        )
        return lift + reliability


def evaluate(won: object, probability: object, *, bins: int = 10) -> ModelEvaluation:
    """AUC, Brier score, log loss, a ``bins``-bin reliability table and lift by decile.

    The AUC is ``None`` when only one class is present.
    """
    y, p = _inputs(won, probability)
    bins = integer(bins, "bins", low=2, high=_MAX_BINS)
    n, positives = len(y), int(y.sum())
    auc = roc_auc(y, p) if 0 < positives < n else None
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    log_loss = float(-np.mean(np.where(y, np.log(clipped), np.log1p(-clipped))))
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    sums = np.bincount(which, weights=p, minlength=bins)
    hits = np.bincount(which, weights=y.astype(np.float64), minlength=bins)
    reliability = tuple(
        ReliabilityBin(
            b / bins,
            (b + 1) / bins,
            int(counts[b]),
            float(sums[b] / counts[b]) if counts[b] else None,
            float(hits[b] / counts[b]) if counts[b] else None,
        )
        for b in range(bins)
    )
    order = np.argsort(-p, kind="stable")
    ranked = y[order]
    base = positives / n
    lift: list[LiftRow] = []
    captured = 0
    for d, chunk in enumerate(np.array_split(ranked, min(10, n)), start=1):
        k = int(chunk.sum())
        captured += k
        rate = k / len(chunk)
        lift.append(
            LiftRow(
                d,
                len(chunk),
                k,
                rate,
                rate / base if base else None,
                captured / positives if positives else None,
            )
        )
    return ModelEvaluation(
        leads=n,
        positives=positives,
        auc=auc,
        brier=float(np.mean((p - y) ** 2)),
        log_loss=log_loss,
        reliability=reliability,
        lift=tuple(lift),
    )
