"""The BG/NBD purchase model: how many times will each customer buy again, and are they alive?

Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An
Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284.
While alive, a customer buys as a Poisson process with rate
``lambda ~ Gamma(r, alpha)``; after each repeat purchase they drop out with
probability ``p ~ Beta(a, b)``. Everything depends on a customer's history
only through the [`BtydSummary`][crmcore.analytics.btyd.BtydSummary] statistics
``x`` (frequency), ``t_x`` (recency) and ``T``.

Formulas, all computed in log space and vectorised over customers:

* log-likelihood, the paper's eq. (6) (Hardie's note 004 form):

    L = B(a, b+x)/B(a, b) * G(r+x)/G(r) * alpha^r / (alpha+T)^(r+x)
      + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x)/G(r) * alpha^r / (alpha+t_x)^(r+x)

  summed with ``logaddexp`` so large ``x`` cannot overflow;
* P(alive | x, t_x, T), Fader, Hardie & Lee (2008), "Computing P(alive)
  using the BG/NBD model" (note 021):

    1 / (1 + [x > 0] a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x))

* expected repeat purchases in ``(T, T+t]``, eq. (10):

    (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x)
        * 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] * P(alive)

  evaluated through Euler's transformation
  ``(1-z)^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z)``
  (``c = a+b+x-1``, ``1-z = (alpha+T)/(alpha+T+t)``), whose parameters stay
  small however large ``x`` is, so the Gauss series neither overflows nor
  loses its digits for frequent buyers; for large ``a`` (above 10: a fit that
  runs towards the edge reaches a = 829, b = 6,309, where that 2F1 overflows) it
  is the printed form ``(1-z)^(r+x) 2F1(r+x, b+x; c; z)`` summed as a negative
  binomial mixture with log-scaled terms, each at most a probability, which also
  gives ``1 - tail`` without cancellation (relative error below 1e-11 against a
  60-digit evaluation, ``tests/analytics/test_bgnbd_gauss.py``);
* expected purchases of a new customer in ``(0, t]``, eq. (7): the same
  expression at ``x = t_x = T = 0``;
* P(alive) ``t`` time units ahead (derived here, see
  [`BgNbdModel.probability_alive()`][crmcore.analytics.bgnbd.BgNbdModel.probability_alive]):
  ``P(alive) * 2F1(r+x, a; a+b+x; -t/(alpha+T))``.

The model is fitted by maximum likelihood with [`fit_bgnbd()`][crmcore.analytics.bgnbd.fit_bgnbd]
(L-BFGS-B on the log-parameters with the analytic gradient; `scipy` is the optional extra
``crmcore[models]``). On the CDNOW sample it reproduces the published estimates r = 0.243, alpha =
4.414, a = 0.793, b = 2.426, LL = -9582.4.

Examples:
    >>> model = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> round(float(model.expected_purchases_new(39.0)), 3)
    1.197
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.analytics._bgnbd_likelihood import (
    MIN_TABLE,
    hessian,
    objective,
    per_customer,
    rows_of,
)
from crmcore.analytics._optimize import (
    FitInfo,
    compress_rows,
    fit_options,
    load_scipy,
    maximise,
    positive_numbers,
    require_variety,
)
from crmcore.analytics.btyd import BtydSummary
from crmcore.kernel.arrays import Float64Array, Int64Array
from crmcore.kernel.deprecation import renamed
from crmcore.kernel.errors import ModelFitError, ValidationError
from crmcore.kernel.reports import html_table, json_number, records_frame
from crmcore.plotting.clv import ModelPlot, plot_purchase_model

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["BgNbdModel", "bgnbd_log_likelihood", "fit_bgnbd"]


_MODEL: Final = "BG/NBD"
_NAMES: Final = ("r", "alpha", "a", "b")


def _positive(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValidationError(attribute.name, value, "must be a finite number > 0")


def _to_float(value: object) -> object:
    return float(value) if isinstance(value, int | float | np.floating | np.integer) else value


def _horizon(t: npt.ArrayLike, field: str = "t") -> Float64Array:
    arr = np.asarray(t, dtype=np.float64) if _numeric(t) else None
    if arr is None or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValidationError(field, t, "must be finite numbers >= 0")
    return arr


def _scalar(t: object) -> float:
    if isinstance(t, bool) or not _numeric(t) or np.ndim(t) != 0:  # type: ignore[arg-type]
        raise ValidationError("t", t, "must be one number >= 0")
    value = float(t)  # type: ignore[arg-type]
    if not (math.isfinite(value) and value >= 0):
        raise ValidationError("t", t, "must be a finite number >= 0")
    return value


def _numeric(value: object) -> bool:
    try:
        return np.asarray(value).dtype.kind in "fiu"
    except (TypeError, ValueError):
        return False


def _finite(values: Float64Array, what: str) -> Float64Array:
    if not np.all(np.isfinite(values)):
        raise ModelFitError(_MODEL, f"{what} is not finite for these parameters")
    return values


@attrs.frozen(kw_only=True)
class BgNbdModel:
    """A BG/NBD model: the four parameters, plus how they were fitted.

    Build one with [`fit_bgnbd()`][crmcore.analytics.bgnbd.fit_bgnbd], or from known parameters
    (e.g. the published CDNOW ones) to predict without fitting. Times (``t``, and the summary's
    ``recency`` and ``T``) are in ``time_unit``. ``standard_errors`` (same order as the parameters)
    come from the observed information (the Hessian of the log-likelihood) and are ``None`` when it
    is not positive definite.
    """

    r: float = attrs.field(converter=_to_float, validator=_positive)
    alpha: float = attrs.field(converter=_to_float, validator=_positive)
    a: float = attrs.field(converter=_to_float, validator=_positive)
    b: float = attrs.field(converter=_to_float, validator=_positive)
    time_unit: str = "W"
    log_likelihood: float | None = None
    n_customers: int = 0
    iterations: int = 0
    converged: bool = True
    standard_errors: tuple[float, float, float, float] | None = None

    @property
    def params(self) -> dict[str, float]:
        """The parameters by name: ``{"r": ..., "alpha": ..., "a": ..., "b": ...}``."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    # -- predictions -----------------------------------------------------------------
    def probability_alive(self, summary: BtydSummary, t: float = 0.0) -> Float64Array:
        """P(alive) of every customer in ``summary`` now, or ``t`` time units from now.

        At ``t = 0`` this is P(alive | x, t_x, T) (Fader, Hardie & Lee 2008).
        For ``t > 0`` it is the probability of still being alive at ``T + t``
        given the history up to ``T`` (and nothing known after it): alive
        now, the posteriors of the purchase rate and the dropout probability
        are independent ``Gamma(r+x, alpha+T)`` and ``Beta(a, b+x)``, and a
        customer survives ``(T, T+t]`` with probability ``exp(-lambda p t)``
        (dropouts are purchases thinned by ``p``), which integrates to
        ``P(alive) * 2F1(r+x, a; a+b+x; -t/(alpha+T))``, evaluated by Pfaff's
        transformation as ``(1+t/(alpha+T))^-a * 2F1(a, a+b-r; a+b+x; t/(alpha+T+t))``.
        """
        _, special = load_scipy("BG/NBD predictions")
        horizon = _scalar(t)
        _check_summary(summary)
        big_t = summary.T
        alive = _alive(self, summary.frequency, summary.recency, big_t)
        if horizon > 0:
            x = summary.frequency.astype(np.float64)
            a, b, r = self.a, self.b, self.r
            z = horizon / (self.alpha + big_t + horizon)
            log_one_minus_z = -np.log1p(horizon / (self.alpha + big_t))
            if a > _SERIES_A:  # the other Pfaff form, (1-z)^(r+x) 2F1(r+x, b+x; a+b+x; z)
                survive, _ = _gauss_mixture(r + x, b + x, a + b + x, log_one_minus_z, z, a)
            else:
                survive = np.exp(a * log_one_minus_z) * _hyp2f1(special, a + b - r, a, a + b + x, z)
                bad = ~np.isfinite(survive)
                if bad.any():  # scipy failed: the series there
                    survive[bad], _ = _gauss_mixture(
                        r + x[bad], b + x[bad], a + b + x[bad], log_one_minus_z[bad], z[bad], a
                    )
            alive = alive * survive
        return _finite(alive, "P(alive)")

    def expected_purchases(self, summary: BtydSummary, t: float) -> Float64Array:
        """Expected repeat purchases of each customer in the next ``t`` time units (eq. 10)."""
        _, special = load_scipy("BG/NBD predictions")
        horizon = _scalar(t)
        x, t_x, big_t = _stats(summary)
        alive = _alive(self, summary.frequency, t_x, big_t)
        return _finite(_unconditional(self, special, x, big_t, horizon) * alive, "E[purchases]")

    def expected_purchases_path(self, summary: BtydSummary, times: Sequence[float]) -> Float64Array:
        """Expected cumulative repeat purchases at each of ``times``: shape (customers, times)."""
        _, special = load_scipy("BG/NBD predictions")
        if not _numeric(times):
            raise ValidationError("times", times, "must be a sequence of numbers")
        horizons = _horizon(np.asarray(times, dtype=np.float64), "times")
        if horizons.ndim != 1:
            raise ValidationError("times", times, "must be a sequence of numbers")
        x, t_x, big_t = _stats(summary)
        alive = _alive(self, summary.frequency, t_x, big_t)
        out = _unconditional(self, special, x[:, None], big_t[:, None], horizons[None, :])
        return _finite(out * alive[:, None], "E[purchases]")

    def expected_purchases_new(self, t: npt.ArrayLike) -> Float64Array:
        """E[X(t)]: expected repeat purchases of a newly acquired customer in ``(0, t]`` (eq. 7)."""
        _, special = load_scipy("BG/NBD predictions")
        horizon = _horizon(t)
        zero = np.zeros_like(horizon)
        return _finite(_unconditional(self, special, zero, zero, horizon), "E[X(t)]")

    # -- reports ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, object]:
        """Parameters, fit statistics and standard errors as JSON-compatible data."""
        se = self.standard_errors
        return {
            "model": _MODEL,
            "params": {k: json_number(v) for k, v in self.params.items()},
            "standard_errors": None
            if se is None
            else {k: json_number(v) for k, v in zip(_NAMES, se, strict=True)},
            "time_unit": self.time_unit,
            "log_likelihood": json_number(self.log_likelihood),
            "n_customers": self.n_customers,
            "iterations": self.iterations,
            "converged": self.converged,
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per parameter: ``parameter``, ``estimate``, ``standard_error``."""
        se = self.standard_errors or (None, None, None, None)
        rows = [
            {"parameter": k, "estimate": v, "standard_error": e}
            for (k, v), e in zip(self.params.items(), se, strict=True)
        ]
        return records_frame(rows, "BgNbdModel.to_pandas")

    def plot(
        self, summary: BtydSummary, *, kind: ModelPlot = "probability_alive", ax: Axes | None = None
    ) -> Axes:
        """P(alive) or expected purchases by frequency and recency, or the calibration vs
        holdout check, for ``summary``:
        [`plot_purchase_model()`][crmcore.plotting.clv.plot_purchase_model]."""
        return plot_purchase_model(self, summary, kind=kind, ax=ax)

    def _repr_html_(self) -> str:
        """The parameters with their standard errors as an HTML table."""
        se = self.standard_errors or (None, None, None, None)
        rows = [[k, v, s] for (k, v), s in zip(self.params.items(), se, strict=True)]
        ll = "-" if self.log_likelihood is None else f"{self.log_likelihood:,.1f}"
        caption = f"{self.n_customers:,} customers, log-likelihood {ll}, times in {self.time_unit}"
        return html_table(
            "BG/NBD model", ["parameter", "estimate", "std. error"], rows, caption=caption
        )


# -- formulas ------------------------------------------------------------------------------


def _stats(summary: BtydSummary) -> tuple[Float64Array, Float64Array, Float64Array]:
    _check_summary(summary)
    return summary.frequency.astype(np.float64), summary.recency, summary.T


def _check_summary(summary: object) -> None:
    if not isinstance(summary, BtydSummary):
        raise ValidationError("summary", type(summary).__name__, "must be an BtydSummary")


def _alive(
    m: BgNbdModel, frequency: Int64Array, t_x: Float64Array, big_t: Float64Array
) -> Float64Array:
    """P(alive | x, t_x, T) = 1 / (1 + odds): 1 when x = 0, else the odds of having dropped out
    are ``a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)`` (note 021).

    ``log(a/(b+x-1))`` depends on the whole number x only: it is computed once per frequency
    and gathered (-inf at x = 0, where the odds are 0), so a customer costs one logarithm (of
    the ratio, as in the note and ``lifetimes``) and one exponential, in two buffers: the
    numbers of ``scipy.special.expit(-log odds)`` at half the cost (odds beyond 1e308 give 0,
    as there).
    """
    x = frequency.astype(np.intp, copy=False)
    top = int(x.max()) if len(x) else 0
    if top < max(len(x), MIN_TABLE):
        table = np.empty(top + 1)
        table[0] = -np.inf
        table[1:] = math.log(m.a) - np.log(m.b + np.arange(1, top + 1, dtype=np.float64) - 1)
        log_ratio = np.take(table, x)
    else:  # a huge frequency: no table
        safe = np.where(x > 0, x, 1).astype(np.float64)
        log_ratio = np.where(x > 0, math.log(m.a) - np.log(m.b + safe - 1), -np.inf)
    log_odds = np.add(big_t, m.alpha)
    other = np.add(t_x, m.alpha)
    log_odds /= other
    np.log(log_odds, out=log_odds)
    log_odds *= np.add(x, m.r, out=other)
    log_odds += log_ratio
    with np.errstate(over="ignore"):
        alive = np.exp(log_odds, out=log_ratio)
    alive += 1.0
    return np.reciprocal(alive, out=alive)


def _hyp2f1(special: Any, a: Any, b: float, c: Any, z: Any) -> Float64Array:
    """Gauss's 2F1 via scipy, with a guard for its failures.

    scipy's ``hyp2f1`` (1.17) returns ``inf`` for some finite cases where
    ``c - a - b`` is an integer and ``z`` is near 1 (e.g. ``2F1(1, 1; 101;
    0.91)``, which is 1.0092). The function is analytic in ``a``, so such
    entries are recomputed at ``a (1 + 1e-9)``: a relative error of the
    order of 1e-9 instead of a wrong infinity.
    """
    value: Float64Array = np.asarray(special.hyp2f1(a, b, c, z), dtype=np.float64)
    bad = ~np.isfinite(value)
    if bad.any():
        shifted = np.asarray(a, dtype=np.float64)
        shifted = shifted + 1e-9 * np.maximum(1.0, np.abs(shifted))
        value = np.where(bad, special.hyp2f1(shifted, b, c, z), value)
    return value


def _unconditional(
    m: BgNbdModel, special: Any, x: Float64Array, big_t: Float64Array, t: Float64Array | float
) -> Float64Array:
    """Eq. (10) without its P(alive) factor: ``c/(a-1) * (1 - tail)``, ``c = a+b+x-1``.

    For ``a <= _SERIES_A`` the tail is Euler's transform evaluated by scipy; beyond it (where
    scipy's 2F1 overflows or loses its digits: a fit that runs to a = 829, b = 6309) it is
    `_gauss_mixture()` on the printed form ``(1-z)^(r+x) 2F1(r+x, b+x; c; z)``, which also
    gives ``1 - tail`` without cancellation: so it is used, too, where scipy's value is not
    finite or ``1 - tail`` is below 1e-3 (``c/(a-1)`` large, e.g. b = 1e6: digits lost).
    """
    a, b, r, alpha = m.a, m.b, m.r, m.alpha
    if abs(a - 1) < 1e-10:
        # a = 1 is a removable singularity of (1 - (1-z)^(a-1) F) / (a-1): step off it
        # (the error is of the order of the step).
        return _unconditional(attrs.evolve(m, a=a + 2e-10), special, x, big_t, t)
    c = a + b + x - 1
    z = t / (alpha + big_t + t)
    log_one_minus_z = np.log(alpha + big_t) - np.log(alpha + big_t + t)
    if a > _SERIES_A:
        _, rest = _gauss_mixture(r + x, b + x, c, log_one_minus_z, z, a - 1)
        series: Float64Array = c / (a - 1) * rest
        return series
    tail = np.exp((a - 1) * log_one_minus_z) * _hyp2f1(special, a + b - 1 - r, a - 1, c, z)
    result: Float64Array = c / (a - 1) * (1 - tail)
    # the series where scipy failed, or where 1 - tail lost more than three digits
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(1 - tail) >= 1e-3) & (c > 0) & (z > 0)
    if bad.any():
        shape = np.broadcast_shapes(np.shape(c), np.shape(z))
        pick = [np.broadcast_to(v, shape)[bad] for v in (x, c, z, log_one_minus_z)]
        _, rest = _gauss_mixture(r + pick[0], b + pick[0], pick[1], pick[3], pick[2], a - 1)
        result = np.array(np.broadcast_to(result, shape))
        result[bad] = pick[1] / (a - 1) * rest
    return result


_SERIES_A: Final = 10.0
"""Above this ``a`` the 2F1 of the predictions is summed by `_gauss_mixture()`, not scipy."""

_SERIES_LIMIT: Final = 1 << 26
"""Terms a 2F1 series may take. The weights' bulk lies near ``s z/(1-z)`` with a spread of
``sqrt(s z)/(1-z)``: a long horizon after a short history (``z`` near 1) and many purchases
(``s``) take millions of terms (x = 2,000 purchases in 0.1 weeks, 500 weeks ahead: 10 to 12
million, about half a second); beyond this limit a `ModelFitError` says so."""


def _gauss_mixture(
    s: npt.ArrayLike,
    big_b: npt.ArrayLike,
    c: npt.ArrayLike,
    log_one_minus_z: npt.ArrayLike,
    z: npt.ArrayLike,
    gap: npt.ArrayLike | None = None,
) -> tuple[Float64Array, Float64Array]:
    """``tail = (1-z)^s 2F1(s, B; c; z)`` and ``1 - tail``, for ``s, B, c > 0``, ``0 <= z < 1``.

    The Gauss series times ``(1-z)^s`` is a mixture: ``tail = sum_k NB(k) rho_k`` with the
    negative binomial weights ``NB(k) = (s)_k/k! z^k (1-z)^s`` (they sum to 1) and
    ``rho_k = (B)_k/(c)_k``, in (0, 1] when ``B < c`` (then every term is at most a
    probability). The terms are summed log-scaled (no overflow however large ``s``, ``B``,
    ``c``), all of one sign (no cancellation), and ``1 - tail = sum_k NB(k) (1 - rho_k)`` is
    summed too, with ``1 - rho_k = -expm1(log rho_k)``, so a tail close to 1 keeps its digits.
    ``gap`` is ``c - B`` when the caller knows it exactly (``a`` or ``a - 1`` in the model's
    formulas): ``c - B`` formed from the sums loses digits when it is small next to them
    (``a = 1 + 2e-10`` beside ``b + x = 774`` kept only 3 of them).

    The logarithms of the terms are running sums of the logarithms of the ratios of
    consecutive terms (in chunks of terms that double in length, vectorised over the
    entries, which leave as they converge). A sum stops when a bound on the rest is below
    1e-17 of it: for ``j >= k`` every ratio of terms is at most ``zeta = z max(1,
    (s+k)/(k+1)) max(1, (B+k)/(c+k))``, so the rest is at most the last term times
    ``zeta/(1-zeta)`` (geometric); when ``c - B > 1`` the ratios are also at most
    ``zeta (B+j)/(c+j)``, so with ``zeta <= 1`` the rest is at most the last term times
    ``(B+k)/(c-B-1)`` (Gauss's sum ``2F1(1, B+k; c+k; 1) - 1``); and when ``c + 1 > s + B``
    the ratio ``z (s+j)(B+j)/((c+j)(j+1))`` is at most ``z`` for every ``j >= (sB-c)/(c+1-s-B)``,
    so from there on the rest is at most the last term times ``z/(1-z)``: whichever is smallest.
    """
    arrays = np.broadcast_arrays(
        *(
            np.asarray(v, dtype=np.float64)
            for v in (
                s,
                big_b,
                c,
                log_one_minus_z,
                z,
                np.subtract(c, big_b) if gap is None else gap,
            )
        )
    )
    shape = arrays[0].shape
    rows = np.stack([v.ravel() for v in arrays], axis=1)
    if len(rows) > 1:  # customers share (x, T) in real data: sum each distinct row once
        order = np.lexsort(rows.T[::-1])
        ranked = rows[order]
        starts = np.concatenate(([True], np.any(ranked[1:] != ranked[:-1], axis=1)))
        if not starts.all():
            inverse = np.empty(len(rows), dtype=np.intp)
            inverse[order] = np.cumsum(starts) - 1
            tail, rest = _mixture_sums(ranked[starts])
            pick = inverse.reshape(shape)
            return tail[pick], rest[pick]
    tail, rest = _mixture_sums(rows)
    return tail.reshape(shape), rest.reshape(shape)


def _mixture_sums(rows: Float64Array) -> tuple[Float64Array, Float64Array]:
    """[`_gauss_mixture()`][crmcore.analytics.bgnbd._gauss_mixture] of distinct rows
    ``(s, B, c, log(1-z), z, c - B)``: the tail alone (one logarithm and one exponential a term),
    then ``1 - tail`` summed on its own where the tail is 0.9 or more."""
    tail, _ = _series(rows, complement=False)
    rest = 1.0 - tail
    close = tail >= 0.9
    if close.any():
        tail[close], rest[close] = _series(rows[close], complement=True)
    return tail, rest


def _series(rows: Float64Array, *, complement: bool) -> tuple[Float64Array, Float64Array]:
    """The sums of [`_gauss_mixture()`][crmcore.analytics.bgnbd._gauss_mixture]: the tail and,
    with ``complement``, ``1 - tail`` (else zeros)."""
    sv, bv, cv, lv, zv, gap = (np.ascontiguousarray(rows[:, i]) for i in range(6))
    tail_out = np.empty(sv.shape)
    rest_out = np.zeros(sv.shape)
    idx = np.arange(len(sv))
    with np.errstate(divide="ignore"):  # z = 0 (t = 0): every later term is 0
        log_z = np.log(zv)
    gauss = np.where(gap > 1, 1.0 / np.maximum(gap - 1, 1e-300), 1e300)
    # the ratio of terms j+1 and j is at most z from j = settled on (when c + 1 > s + B)
    slack = cv + 1.0 - sv - bv
    settled = np.where(slack > 0, (sv * bv - cv) / np.where(slack > 0, slack, 1.0), np.inf)
    log_nb = sv * lv  # log NB(k) and log rho_k of the last term summed (k = 0)
    log_rho = np.zeros_like(sv)
    top_w, top_c = log_nb.copy(), log_nb.copy()  # the sums are exp(top) * total
    sum_w, sum_c = np.ones_like(sv), np.zeros_like(sv)
    k, size = 0, 16
    while len(idx):
        j = np.arange(k, k + size, dtype=np.float64)  # term j+1 = term j * ratio(j)
        s_j, c_j = sv[:, None] + j, cv[:, None] + j
        if complement:
            nb = log_nb[:, None] + np.cumsum(np.log(s_j / (j + 1.0)) + log_z[:, None], 1)
            rho = log_rho[:, None] + np.cumsum(np.log1p(-gap[:, None] / c_j), 1)
            log_w = nb + rho
            sum_c, top_c = _add_scaled(sum_c, top_c, nb, -np.expm1(rho))
            log_nb, log_rho = nb[:, -1], rho[:, -1]
            last = log_w[:, -1]
        else:  # one logarithm a term: of the whole ratio
            ratio = np.log(s_j * (bv[:, None] + j) / (c_j * (j + 1.0))) + log_z[:, None]
            log_w = (log_nb + log_rho)[:, None] + np.cumsum(ratio, 1)
            log_nb, log_rho = log_w[:, -1], np.zeros_like(log_rho)
            last = log_nb
        sum_w, top_w = _add_scaled(sum_w, top_w, log_w, None)
        k += size
        size = min(2 * size, 4096)
        zeta = zv * np.maximum(1.0, (sv + k) / (k + 1.0)) * np.maximum(1.0, (bv + k) / (cv + k))
        # no bound yet: 1e300, which no term makes small enough
        geometric = np.where(zeta < 1, zeta / np.maximum(1.0 - zeta, 1e-300), 1e300)
        by_gauss = np.where(zeta <= 1, np.minimum((bv + k) * gauss, 1e300), 1e300)
        by_z = np.where(k >= settled, zv / np.maximum(1.0 - zv, 1e-300), 1e300)
        bound = np.minimum(np.minimum(geometric, by_gauss), by_z)
        done = np.exp(last - top_w) * bound < 1e-17 * sum_w
        if complement:  # <=: nothing to add when z = 0
            done &= np.exp(log_nb - top_c) * geometric <= 1e-17 * np.abs(sum_c)
        if done.any():
            where = idx[done]
            tail_out[where] = np.exp(top_w[done]) * sum_w[done]
            rest_out[where] = np.exp(top_c[done]) * sum_c[done]
            keep = ~done
            idx, sv, bv, cv, zv, log_z, gap, gauss, settled = (
                v[keep] for v in (idx, sv, bv, cv, zv, log_z, gap, gauss, settled)
            )
            log_nb, log_rho, top_w, top_c, sum_w, sum_c = (
                v[keep] for v in (log_nb, log_rho, top_w, top_c, sum_w, sum_c)
            )
        if k > _SERIES_LIMIT and len(idx):
            raise ModelFitError(
                _MODEL, f"the 2F1 series did not converge in {_SERIES_LIMIT:,} terms"
            )
    return tail_out, rest_out


def _add_scaled(
    total: Float64Array, top: Float64Array, log_terms: Float64Array, factor: Float64Array | None
) -> tuple[Float64Array, Float64Array]:
    """``exp(top) * total + sum(factor * exp(log_terms))`` over a chunk (rows) as a new
    ``(total, top)``: the terms are scaled by their largest, so nothing overflows."""
    new_top = np.maximum(top, log_terms.max(axis=1))  # finite: top starts finite
    scaled = np.exp(log_terms - new_top[:, None])
    if factor is not None:
        scaled *= factor
    return total * np.exp(top - new_top) + scaled.sum(axis=1), new_top


def bgnbd_log_likelihood(
    params: tuple[float, float, float, float],
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803 - the literature's name
) -> Float64Array:
    """Each customer's BG/NBD log-likelihood at ``params = (r, alpha, a, b)`` (eq. 6).

    ``frequency``, ``recency`` and ``T`` are equally long sequences of finite numbers >= 0;
    anything else is a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming it.
    """
    _, special = load_scipy("the BG/NBD likelihood")
    theta = positive_numbers(params, 4, "params")
    columns = [_column(v, name) for v, name in ((frequency, "frequency"), (recency, "recency"))]
    columns.append(_column(T, "T"))
    if len({len(c) for c in columns}) > 1:
        raise ValidationError(
            "recency", [len(c) for c in columns], "frequency, recency and T must be equally long"
        )
    rows = rows_of(*columns)
    return per_customer(special, np.asarray(theta, dtype=np.float64), rows)


def _column(values: object, field: str) -> Float64Array:
    """One per-customer column of finite numbers >= 0, as float64."""
    if not _numeric(values) or np.asarray(values).dtype.kind == "b" or np.ndim(values) != 1:  # type: ignore[arg-type]
        raise ValidationError(field, values, "must be a sequence of numbers")
    column = np.asarray(values, dtype=np.float64)
    if not bool(np.all(np.isfinite(column)) and np.all(column >= 0)):
        raise ValidationError(field, values, "must hold finite numbers >= 0")
    return column


def fit_bgnbd(
    summary: BtydSummary,
    *,
    initial: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
    max_iterations: int = 1000,
    tolerance: float = 1e-12,
) -> BgNbdModel:
    """Fit a BG/NBD model to ``summary`` by maximum likelihood.

    Raises [`ModelFitError`][crmcore.kernel.errors.ModelFitError] when there is nothing to
    learn from (no customers, or no customer with a repeat purchase: the
    likelihood then grows without bound as ``r -> 0``), when the optimiser
    does not converge within ``max_iterations``, or when the optimum lies on
    the edge of the parameter space (e.g. a single customer);
    [`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] without `scipy`.
    """
    _, special = load_scipy("fitting the BG/NBD model")
    start = fit_options(initial, 4, max_iterations, tolerance)
    x, t_x, big_t = _stats(summary)
    if len(x) == 0:
        raise ModelFitError(_MODEL, "the summary has no customers")
    if not np.any(x > 0):
        raise ModelFitError(
            _MODEL, "no customer made a repeat purchase, so the purchase rate cannot be estimated"
        )
    if not np.any(big_t > 0):
        raise ModelFitError(_MODEL, "every customer has T = 0 (no time observed)")
    (ux, utx, ut), weights = compress_rows(x, t_x, big_t)
    require_variety(_MODEL, weights, 4)
    rows = rows_of(ux, utx, ut, weights)
    total = rows.total

    # the mean over customers, so that the tolerances do not depend on n
    with np.errstate(all="ignore"):  # the optimiser may probe extreme values; checked below
        info: FitInfo = maximise(
            _MODEL,
            functools.partial(objective, special, rows=rows),
            np.log(np.asarray(start, dtype=np.float64)),
            max_iterations=max_iterations,
            tolerance=tolerance,
            names=_NAMES,
            hessian=functools.partial(hessian, special, rows=rows),
        )
    scale = math.sqrt(total)  # the objective is the mean log-likelihood per customer
    se = tuple(v / scale for v in info.standard_errors)
    return BgNbdModel(
        r=info.params[0],
        alpha=info.params[1],
        a=info.params[2],
        b=info.params[3],
        time_unit=summary.time_unit,
        log_likelihood=info.log_likelihood * total,
        n_customers=len(x),
        iterations=info.iterations,
        converged=True,
        standard_errors=(se[0], se[1], se[2], se[3]),
    )


__getattr__ = renamed(
    globals(),
    {
        "BGNBDModel": "BgNbdModel",
    },
)
"""Names before 0.2, kept for one release."""
