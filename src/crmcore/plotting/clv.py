"""CLV and P(alive) plots, after ``lifetimes.plotting``.

For a fitted [`BgNbdModel`][crmcore.analytics.bgnbd.BgNbdModel] and the
[`BtydSummary`][crmcore.analytics.btyd.BtydSummary] it was fitted on:

* [`plot_frequency_recency_matrix()`][crmcore.plotting.clv.plot_frequency_recency_matrix]:
  expected purchases in the next ``t`` time units for a customer of each (frequency,
  recency), aged the summary's largest ``T`` (lifetimes' ``plot_frequency_recency_matrix``);
* [`plot_probability_alive_matrix()`][crmcore.plotting.clv.plot_probability_alive_matrix]:
  P(alive) on the same grid (``plot_probability_alive_matrix``);
* the mean purchases customers actually made in the holdout against the model's prediction,
  grouped by their calibration frequency (the model check of Fader, Hardie & Lee 2005,
  lifetimes' ``plot_calibration_purchases_vs_holdout_purchases``):
  [`plot_calibration_purchases_vs_holdout_purchases()`][crmcore.plotting.clv.plot_calibration_purchases_vs_holdout_purchases].

And for a [`PredictedClv`][crmcore.analytics.clv.PredictedClv],
[`plot_clv()`][crmcore.plotting.clv.plot_clv]: how concentrated the predicted value is
(the share of it held by the top x % of customers).

The grids follow lifetimes: frequency ``0..max_frequency`` across, recency
``0..max_recency`` down (most recent customers at the bottom), every cell aged
``T = max_recency``; the frequency-0 column does not depend on recency (a customer who
never came back has no recency), so it is computed once and repeated.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final, Literal, Protocol, TypeAlias

import numpy as np

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import choice
from crmcore.plotting._figure import ACCENT, BLUE, GREY, axes_for, finish, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmcore.analytics.btyd import BtydSummary
    from crmcore.analytics.clv import PredictedClv
    from crmcore.kernel.arrays import Float64Array

__all__ = [
    "CalibrationKind",
    "ModelPlot",
    "PurchaseModel",
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_clv",
    "plot_frequency_recency_matrix",
    "plot_probability_alive_matrix",
    "plot_purchase_model",
]

CalibrationKind: TypeAlias = Literal["frequency", "recency", "T", "time_since_last_purchase"]
"""What groups customers in the calibration-vs-holdout plot (lifetimes' ``kind``)."""
ModelPlot: TypeAlias = Literal["probability_alive", "frequency_recency", "calibration"]
"""The plots of a purchase model over a summary (lifetimes' three model plots)."""
_KINDS: Final = {
    "frequency": "purchases in the calibration period",
    "recency": "age of the customer at the last purchase",
    "T": "age of the customer at the end of the calibration period",
    "time_since_last_purchase": "time since the last purchase",
}
_UNITS: Final = {"h": "hour", "D": "day", "W": "week", "M": "month"}
_MAX_CELLS: Final = 250_000


class PurchaseModel(Protocol):
    """What the plots need of a purchase model (e.g. a fitted ``BgNbdModel``)."""

    def probability_alive(self, summary: BtydSummary, t: float = 0.0) -> Float64Array:
        """P(alive) of every customer of ``summary``."""
        ...

    def expected_purchases(self, summary: BtydSummary, t: float) -> Float64Array:
        """Expected purchases of every customer of ``summary`` in the next ``t`` time units."""
        ...


def _whole(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field, value, "must be a whole number >= 0")
    return value


def _check(model: object, summary: object) -> None:
    require(model, ("probability_alive", "expected_purchases"), "fitted BgNbdModel", "model")
    require(summary, ("frequency", "recency", "T", "time_unit"), "BtydSummary", "summary")


def _grid(
    model: PurchaseModel,
    summary: BtydSummary,
    max_frequency: int | None,
    max_recency: int | None,
    what: Literal["alive", "purchases"],
    t: float,
) -> Float64Array:
    """The (recency, frequency) grid of P(alive) or expected purchases, lifetimes' layout."""
    if not len(summary):
        raise ValidationError("summary", 0, "has no customers")
    top_f = _whole(max_frequency, "max_frequency")
    top_r = _whole(max_recency, "max_recency")
    top_f = int(summary.frequency.max()) if top_f is None else top_f
    top_r = math.ceil(float(summary.T.max())) if top_r is None else top_r
    if (top_f + 1) * (top_r + 1) > _MAX_CELLS:
        raise ValidationError("max_recency", top_r, "makes a grid of over 250,000 cells")
    f, r = np.meshgrid(np.arange(1, top_f + 1), np.arange(top_r + 1))
    frequency = np.r_[0, f.ravel()]
    recency = np.r_[0.0, r.ravel().astype(np.float64)]
    n = len(frequency)
    grid = type(summary)(
        customer_ids=[str(i) for i in range(n)],
        frequency=frequency,
        recency=recency,
        T=np.full(n, float(top_r)),
        monetary=np.where(frequency > 0, 1.0, 0.0),
        time_unit=summary.time_unit,
    )
    values = model.probability_alive(grid) if what == "alive" else model.expected_purchases(grid, t)
    out = np.empty((top_r + 1, top_f + 1))
    out[:, 0] = values[0]  # frequency 0: the same for every recency
    out[:, 1:] = values[1:].reshape(top_r + 1, top_f)
    return out


def _matrix(ax: Axes, z: Float64Array, title: str, unit: str, label: str) -> Axes:
    image = ax.imshow(z, cmap="viridis", aspect="auto", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03).set_label(label)
    return finish(
        ax,
        title,
        "customer's historical frequency (repeat purchases)",
        f"customer's recency ({unit}s)",
        grid="",
    )


def plot_frequency_recency_matrix(
    model: PurchaseModel,
    summary: BtydSummary,
    *,
    t: float = 1.0,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Expected purchases in the next ``t`` time units for each (frequency, recency).

    The grid runs to ``max_frequency`` (default: the summary's largest
    frequency) and ``max_recency`` (default: its largest ``T``, rounded up),
    in the summary's time unit. Returns the `Axes`; the image holds the grid
    (``ax.images[0]``, row = recency, column = frequency).
    """
    _check(model, summary)
    if isinstance(t, bool) or not isinstance(t, int | float) or not t > 0:
        raise ValidationError("t", t, "must be a number of time units > 0")
    ax = axes_for(ax, "plot_frequency_recency_matrix", (6.5, 5.5))
    z = _grid(model, summary, max_frequency, max_recency, "purchases", float(t))
    unit = _UNITS.get(summary.time_unit, summary.time_unit)
    title = (
        f"Expected purchases in the next {t:g} {unit}{'s' if t != 1 else ''},\n"
        "by frequency and recency of a customer"
    )
    return _matrix(ax, z, title, unit, "expected purchases")


def plot_probability_alive_matrix(
    model: PurchaseModel,
    summary: BtydSummary,
    *,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """P(alive) for each (frequency, recency), on the grid of
    [`plot_frequency_recency_matrix()`][crmcore.plotting.clv.plot_frequency_recency_matrix]."""
    _check(model, summary)
    ax = axes_for(ax, "plot_probability_alive_matrix", (6.5, 5.5))
    z = _grid(model, summary, max_frequency, max_recency, "alive", 0.0)
    unit = _UNITS.get(summary.time_unit, summary.time_unit)
    title = "Probability the customer is alive,\nby frequency and recency of a customer"
    return _matrix(ax, z, title, unit, "P(alive)")


def plot_calibration_purchases_vs_holdout_purchases(
    model: PurchaseModel,
    summary: BtydSummary,
    *,
    kind: CalibrationKind = "frequency",
    n: int = 7,
    ax: Axes | None = None,
) -> Axes:
    """Mean actual holdout purchases against the model's prediction, per calibration group.

    ``summary`` needs a holdout (``summary_from_transactions(..., holdout_end=...)``)
    and ``model`` must be fitted on its calibration part. Customers are grouped
    by ``kind``: their calibration frequency, or their recency, ``T`` or time
    since the last purchase in whole time units; the first ``n`` groups are
    drawn, as lifetimes does. Returns the `Axes`: line 0 is the actual mean,
    line 1 the model's.
    """
    _check(model, summary)
    choice(kind, "kind", tuple(_KINDS))
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValidationError("n", n, "must be a whole number >= 1")
    if summary.holdout_frequency is None or summary.holdout_duration is None:
        raise ValidationError(
            "summary", "no holdout", "needs a holdout: summary_from_transactions(..., holdout_end=)"
        )
    if not len(summary):
        raise ValidationError("summary", 0, "has no customers")
    ax = axes_for(ax, "plot_calibration_purchases_vs_holdout_purchases")
    predicted = model.expected_purchases(summary, float(summary.holdout_duration))
    if kind == "frequency":
        key = summary.frequency.astype(np.int64)
    else:
        value = {"recency": summary.recency, "T": summary.T}.get(kind, summary.T - summary.recency)
        key = np.floor(value).astype(np.int64)
    groups, codes = np.unique(key, return_inverse=True)
    count = np.bincount(codes)
    actual = np.bincount(codes, weights=summary.holdout_frequency) / count
    expected = np.bincount(codes, weights=predicted) / count
    shown = slice(0, min(n, len(groups)))
    x = groups[shown]
    ax.plot(x, actual[shown], marker="o", color=BLUE, label="actual in the holdout")
    ax.plot(x, expected[shown], marker="s", linestyle="--", color=ACCENT, label="model")
    ax.legend(frameon=False, fontsize=8)
    unit = _UNITS.get(summary.time_unit, summary.time_unit)
    duration = f"{summary.holdout_duration:g} {unit}s"
    return finish(
        ax,
        f"Actual purchases in the holdout ({duration}) vs predicted",
        _KINDS[kind] + ("" if kind == "frequency" else f" ({unit}s)"),
        "mean purchases in the holdout",
    )


def plot_clv(clv: PredictedClv, *, ax: Axes | None = None) -> Axes:
    """The concentration of predicted CLV: the share of it held by the top x % of customers.

    Customers are ranked by CLV (highest first); the curve climbs fast when a
    few customers hold most of the value, the grey diagonal is an even
    spread, and the top 20 % is marked. Returns the `Axes` (line 0 is the
    curve, in percent).
    """
    require(clv, ("clv", "probability_alive", "horizon"), "PredictedClv", "clv")
    ax = axes_for(ax, "plot_clv")
    values = np.sort(np.clip(np.asarray(clv.clv, dtype=np.float64), 0.0, None))[::-1]
    total = float(values.sum())
    n = len(values)
    x = np.r_[0.0, 100.0 * np.arange(1, n + 1) / max(n, 1)]
    y = np.r_[0.0, 100.0 * np.cumsum(values) / total] if total > 0 else np.zeros(n + 1)
    ax.plot(x, y, color=BLUE, linewidth=2, label="predicted CLV")
    ax.plot([0, 100], [0, 100], color=GREY, linestyle="--", linewidth=1, label="even spread")
    if n:
        top = max(1, math.ceil(0.2 * n))
        held = float(y[top])
        ax.axvline(100.0 * top / n, color=GREY, linewidth=0.8)
        ax.annotate(f"top 20% hold {held:.0f}%", (100.0 * top / n, held), xytext=(8, -14),
                    textcoords="offset points", fontsize=9, color=ACCENT)  # fmt: skip
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 102)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    currency = None if clv.data is None else clv.data.currency
    money = f" {currency}" if currency else ""
    return finish(
        ax,
        f"Predicted CLV: {total:,.0f}{money} over {clv.months} months, {n:,} customers",
        "% of customers (highest CLV first)",
        "% of predicted CLV",
    )


def plot_purchase_model(
    model: PurchaseModel,
    summary: BtydSummary,
    *,
    kind: ModelPlot = "probability_alive",
    ax: Axes | None = None,
) -> Axes:
    """One of the model plots by name, with their defaults (what ``BgNbdModel.plot()`` draws).

    ``kind`` is ``"probability_alive"``
    ([`plot_probability_alive_matrix()`][crmcore.plotting.clv.plot_probability_alive_matrix]),
    ``"frequency_recency"``
    ([`plot_frequency_recency_matrix()`][crmcore.plotting.clv.plot_frequency_recency_matrix])
    or ``"calibration"``
    ([`plot_calibration_purchases_vs_holdout_purchases()`][crmcore.plotting.clv.plot_calibration_purchases_vs_holdout_purchases],
    which needs a summary with a holdout). Returns the `Axes`.
    """
    kind = choice(kind, "kind", ("probability_alive", "frequency_recency", "calibration"))
    if kind == "probability_alive":
        return plot_probability_alive_matrix(model, summary, ax=ax)
    if kind == "frequency_recency":
        return plot_frequency_recency_matrix(model, summary, ax=ax)
    return plot_calibration_purchases_vs_holdout_purchases(model, summary, ax=ax)
