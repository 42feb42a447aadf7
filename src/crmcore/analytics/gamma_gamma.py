"""The Gamma-Gamma spend model: what will each customer spend per purchase?

Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430,
and Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value"
(brucehardie.com note 025). A customer's spends per transaction are
``Gamma(p, nu)`` around their own mean ``p/nu``, and ``nu ~ Gamma(q, v)``
across customers. The model uses only repeat customers (``frequency > 0``)
and their mean repeat spend ``zbar`` over ``x`` transactions:

* log-likelihood (note 025, eq. 1), summed over repeat customers:

    log G(px+q) - log G(px) - log G(q) + q log v + px log x
        + (px-1) log zbar - (px+q) log(v + x zbar)

* conditional expected spend per transaction (note 025, eq. 5), a weighted
  mean of the population mean ``p v / (q-1)`` and the customer's own
  ``zbar``:

    (q-1)/(px+q-1) * p v/(q-1) + px/(px+q-1) * zbar

It assumes spend is independent of purchase frequency; the fitted model
reports the correlation of ``frequency`` and ``monetary`` among repeat
customers (`GammaGammaModel.frequency_spend_correlation`) so the
assumption can be checked (Fader & Hardie report 0.11 on CDNOW). Spend must
be positive: net values with refunds are refused.

On CDNOW's 946 repeat customers [`fit_gamma_gamma()`][crmcore.analytics.gamma_gamma.fit_gamma_gamma]
reproduces the published p = 6.25, q = 3.74, v = 15.44.

Examples:
    >>> from crmcore.analytics.btyd import BtydSummary
    >>> s = BtydSummary(customer_ids=["a", "b"], frequency=[0, 4], recency=[0, 20],
    ...                T=[30, 30], monetary=[0.0, 50.0])
    >>> m = GammaGammaModel(p=6.25, q=3.74, v=15.44)
    >>> [round(float(v), 2) for v in m.expected_spend(s)]
    [35.22, 48.54]
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import attrs
import numpy as np

from crmcore.analytics._optimize import (
    compress_rows,
    fit_options,
    load_scipy,
    maximise,
    require_variety,
)
from crmcore.analytics.btyd import BtydSummary
from crmcore.kernel.arrays import Float64Array
from crmcore.kernel.errors import ModelFitError, ValidationError
from crmcore.kernel.reports import html_table, json_number, records_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["GammaGammaModel", "fit_gamma_gamma"]


_MODEL: Final = "Gamma-Gamma"
_NAMES: Final = ("p", "q", "v")


def _positive(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValidationError(attribute.name, value, "must be a finite number > 0")


def _to_float(value: object) -> object:
    return float(value) if isinstance(value, int | float | np.floating | np.integer) else value


@attrs.frozen(kw_only=True)
class GammaGammaModel:
    """A Gamma-Gamma spend model: parameters ``p``, ``q``, ``v`` and how they were fitted.

    Build one with [`fit_gamma_gamma()`][crmcore.analytics.gamma_gamma.fit_gamma_gamma] or from
    known parameters. The population mean spend ``p v / (q - 1)`` exists only for ``q > 1``;
    predictions need it and raise [`ModelFitError`][crmcore.kernel.errors.ModelFitError] otherwise.
    """

    p: float = attrs.field(converter=_to_float, validator=_positive)
    q: float = attrs.field(converter=_to_float, validator=_positive)
    v: float = attrs.field(converter=_to_float, validator=_positive)
    log_likelihood: float | None = None
    n_customers: int = 0
    iterations: int = 0
    converged: bool = True
    standard_errors: tuple[float, float, float] | None = None
    frequency_spend_correlation: float | None = None

    @property
    def params(self) -> dict[str, float]:
        """The parameters by name: ``{"p": ..., "q": ..., "v": ...}``."""
        return {"p": self.p, "q": self.q, "v": self.v}

    @property
    def mean_spend(self) -> float:
        """The population mean spend per transaction, ``p v / (q - 1)``."""
        if self.q <= 1:
            raise ModelFitError(
                _MODEL, f"q = {self.q:.4g} <= 1: the mean spend per transaction is infinite"
            )
        return self.p * self.v / (self.q - 1)

    def expected_spend(self, summary: BtydSummary) -> Float64Array:
        """Conditional expected spend per transaction of each customer (note 025, eq. 5).

        Customers without repeat purchases get the population mean.
        """
        if not isinstance(summary, BtydSummary):
            raise ValidationError("summary", type(summary).__name__, "must be an BtydSummary")
        mean = self.mean_spend
        x = summary.frequency.astype(np.float64)
        weight = self.p * x / (self.p * x + self.q - 1)
        result: Float64Array = (1 - weight) * mean + weight * summary.monetary
        return result

    def to_dict(self) -> dict[str, object]:
        """Parameters, fit statistics and standard errors as JSON-compatible data."""
        se = self.standard_errors
        return {
            "model": _MODEL,
            "params": {k: json_number(v) for k, v in self.params.items()},
            "standard_errors": None
            if se is None
            else {k: json_number(v) for k, v in zip(_NAMES, se, strict=True)},
            "log_likelihood": json_number(self.log_likelihood),
            "n_customers": self.n_customers,
            "iterations": self.iterations,
            "converged": self.converged,
            "frequency_spend_correlation": json_number(self.frequency_spend_correlation),
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per parameter: ``parameter``, ``estimate``, ``standard_error``."""
        se = self.standard_errors or (None, None, None)
        rows = [
            {"parameter": k, "estimate": v, "standard_error": e}
            for (k, v), e in zip(self.params.items(), se, strict=True)
        ]
        return records_frame(rows, "GammaGammaModel.to_pandas")

    def _repr_html_(self) -> str:
        """The parameters with their standard errors as an HTML table."""
        se = self.standard_errors or (None, None, None)
        rows = [[k, v, s] for (k, v), s in zip(self.params.items(), se, strict=True)]
        corr = self.frequency_spend_correlation
        caption = f"{self.n_customers:,} repeat customers" + (
            "" if corr is None else f"; corr(frequency, spend) = {corr:.3f}"
        )
        return html_table(
            "Gamma-Gamma model", ["parameter", "estimate", "std. error"], rows, caption=caption
        )


def _log_likelihood(
    special: Any, log_params: Float64Array, x: Float64Array, z: Float64Array, *, gradient: bool
) -> tuple[Float64Array, Float64Array | None]:
    p, q, v = np.exp(log_params)
    gammaln, psi = special.gammaln, special.digamma
    px = p * x
    log_x = np.log(x)
    log_z = np.log(z)
    log_vxz = np.log(v + x * z)
    ll: Float64Array = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * math.log(v)
        + px * log_x
        + (px - 1) * log_z
        - (px + q) * log_vxz
    )
    if not gradient:
        return ll, None
    psi_all = psi(px + q)
    d_p = x * (psi_all - psi(px) + log_x + log_z - log_vxz)
    d_q = psi_all - psi(q) + math.log(v) - log_vxz
    d_v = q / v - (px + q) / (v + x * z)
    return ll, np.stack([d_p * p, d_q * q, d_v * v])


def _correlation(x: Float64Array, z: Float64Array) -> float | None:
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(z) == 0:
        return None
    return float(np.corrcoef(x, z)[0, 1])


_SAME: Final = 1e-6  # relative spread of mean spends below which they are all the same
_RUNAWAY: Final = 1e4  # p or q beyond this: the data push the model to a limit
_LITTLE: Final = 0.05  # coefficient of variation of mean spends below which a fit rarely holds


def _explain(params: tuple[float, ...], centre: float, spread: float) -> str:
    """What a fit that failed says about the data, and what to do instead."""
    p, q = params[0], params[1]
    if p > _RUNAWAY and q > _RUNAWAY:
        return (
            f" (p and q ran off to {p:.3g} and {q:.3g}: spend barely varies at all, between "
            "customers or from purchase to purchase; use one spend for everyone, "
            f"customer_lifetime_value(..., spend={centre:.6g}))"
        )
    if q > _RUNAWAY:
        return (
            f" (q ran off to {q:.3g}: customers do not differ in what they spend per purchase "
            "beyond chance; use one spend for everyone, "
            f"customer_lifetime_value(..., spend={centre:.6g}))"
        )
    if p > _RUNAWAY:
        return (
            f" (p ran off to {p:.3g}: each customer spends about the same every time; use each "
            "customer's own mean spend, customer_lifetime_value(..., spend=summary.monetary))"
        )
    if spread < _LITTLE:
        return (
            f" (the mean spends of repeat customers vary by only {spread:.2%}: too little to "
            "tell customers apart; use one spend for everyone, "
            f"customer_lifetime_value(..., spend={centre:.6g}))"
        )
    return ""


def fit_gamma_gamma(
    summary: BtydSummary,
    *,
    initial: tuple[float, float, float] = (1.0, 1.0, 1.0),
    max_iterations: int = 1000,
    tolerance: float = 1e-12,
) -> GammaGammaModel:
    """Fit the Gamma-Gamma model to the repeat customers of ``summary`` by maximum likelihood.

    Only customers with ``frequency > 0`` enter the fit. Raises
    [`ValidationError`][crmcore.kernel.errors.ValidationError] when a repeat customer's
    ``monetary`` is not positive, and [`ModelFitError`][crmcore.kernel.errors.ModelFitError]
    when there are fewer than two repeat customers, when every repeat
    customer has the same mean spend (no spend variation: checked before fitting,
    the message says what to use instead), when the optimiser does not converge,
    or when the optimum lies on the edge of the parameter space (the message
    names the parameter that ran off and what that says about the data).
    """
    _, special = load_scipy("fitting the Gamma-Gamma model")
    start = fit_options(initial, 3, max_iterations, tolerance)
    if not isinstance(summary, BtydSummary):
        raise ValidationError("summary", type(summary).__name__, "must be an BtydSummary")
    repeat = summary.frequency > 0
    x = summary.frequency[repeat].astype(np.float64)
    z = summary.monetary[repeat]
    if len(x) < 2:
        raise ModelFitError(_MODEL, f"needs at least 2 repeat customers, got {len(x)}")
    if np.any(z <= 0):
        i = int(np.flatnonzero(repeat)[np.argmax(z <= 0)])
        raise ValidationError(
            f"monetary[{i}]", float(summary.monetary[i]), "must be > 0 for a repeat customer"
        )
    centre = float(np.mean(z))
    if np.ptp(z) <= _SAME * centre:
        raise ModelFitError(
            _MODEL,
            f"there is no spend variation: every repeat customer spends {centre:.4g} per "
            "purchase on average (to one part in a million), so the model has nothing to learn "
            f"and its fit would run off to infinity. Next step: use that spend for everyone, "
            f"customer_lifetime_value(..., spend={centre:.6g})",
        )
    (ux, uz), weights = compress_rows(x, z)
    require_variety(_MODEL, weights, 3)
    total = float(weights.sum())

    def objective(log_params: Float64Array) -> tuple[float, Float64Array]:
        ll, grad = _log_likelihood(special, log_params, ux, uz, gradient=True)
        assert grad is not None
        return -float(weights @ ll) / total, -(grad @ weights) / total

    with np.errstate(all="ignore"):  # the optimiser may probe extreme values; checked below
        info = maximise(
            _MODEL,
            objective,
            np.log(np.asarray(start, dtype=np.float64)),
            max_iterations=max_iterations,
            tolerance=tolerance,
            names=_NAMES,
            explain=lambda params: _explain(params, centre, float(np.std(z)) / centre),
        )
    se = info.standard_errors
    scale = math.sqrt(total)
    return GammaGammaModel(
        p=info.params[0],
        q=info.params[1],
        v=info.params[2],
        log_likelihood=info.log_likelihood * total,
        n_customers=len(x),
        iterations=info.iterations,
        converged=True,
        standard_errors=(se[0] / scale, se[1] / scale, se[2] / scale),
        frequency_spend_correlation=_correlation(x, z),
    )
