"""Shared maximum-likelihood machinery for the BTYD models (BG/NBD, Gamma-Gamma).

Both models are fitted the same way: the parameters are all positive, so the
optimiser works on their logarithms (unconstrained, well scaled); the caller
supplies the negative log-likelihood and its analytic gradient with respect
to the log-parameters; `maximise()` runs L-BFGS-B from
`scipy.optimize` within wide box bounds (so an unidentified parameter
stops at a bound instead of overflowing), then checks the result and refuses
it with [`ModelFitError`][crmcore.kernel.errors.ModelFitError] if it did not converge, is not
finite, sits on a bound, or stops where the likelihood is flat (Hessian not
positive definite). Standard errors come from that central-difference
Hessian of the analytic gradient (delta method back to the natural scale).

`scipy` is an optional extra (``crmcore[models]``): it is imported
lazily, and `load_scipy()` raises
[`MissingDependencyError`][crmcore.kernel.errors.MissingDependencyError] when it is absent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.kernel.arrays import Float64Array
from crmcore.kernel.errors import MissingDependencyError, ModelFitError

__all__ = ["FitInfo", "compress_rows", "load_scipy", "maximise", "require_variety"]

Objective: TypeAlias = Callable[[Float64Array], tuple[float, Float64Array]]

LOG_BOUND: Final = 18.0
"""Box bounds on each log-parameter: e^-18 .. e^18 (about 1.5e-8 .. 6.6e7)."""
_AT_BOUND: Final = 1e-3  # a log-parameter within this of a bound is "on the bound"


def load_scipy(feature: str) -> tuple[Any, Any]:
    """``(scipy.optimize, scipy.special)``, or
    [`MissingDependencyError`][crmcore.analytics._optimize.MissingDependencyError] for ``feature``.
    """
    try:
        import scipy.optimize as optimize
        import scipy.special as special
    except ImportError:
        raise MissingDependencyError("scipy", "models", feature) from None
    return optimize, special


@attrs.frozen(kw_only=True)
class FitInfo:
    """How a maximum-likelihood fit went.

    ``params`` are on the natural scale, ``standard_errors`` too (a fit whose
    Hessian is not positive definite is refused), ``log_likelihood`` is the
    maximised (weighted) log-likelihood, ``iterations`` the optimiser's
    iteration count and ``message`` its final message.
    """

    params: tuple[float, ...]
    log_likelihood: float
    standard_errors: tuple[float, ...]
    iterations: int
    evaluations: int
    message: str


def require_variety(model: str, weights: Float64Array, parameters: int) -> None:
    """Refuse data with fewer distinct rows than ``parameters`` (nothing to tell them apart)."""
    if len(weights) < parameters:
        what = "identical" if len(weights) == 1 else f"only {len(weights)} distinct"
        raise ModelFitError(
            model,
            f"the customers' histories are {what}: {parameters} parameters need more variation",
        )


def compress_rows(
    *columns: npt.NDArray[Any],
) -> tuple[tuple[Float64Array, ...], Float64Array]:
    """Distinct rows of the stacked ``columns`` and how often each occurs.

    Customers with identical sufficient statistics contribute identical
    likelihood terms, so the fit evaluates each distinct row once, weighted
    by its count (exact, and much faster on period-aggregated data).
    """
    stacked = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    if stacked.shape[0] == 0:
        return tuple(np.empty(0) for _ in columns), np.empty(0)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return tuple(np.ascontiguousarray(unique[:, i]) for i in range(len(columns))), counts.astype(
        np.float64
    )


def _hessian(objective: Objective, x: Float64Array) -> Float64Array:
    """Central-difference Hessian of the objective from its analytic gradient."""
    k = x.size
    hess = np.empty((k, k))
    for i in range(k):
        step = 1e-5 * max(1.0, abs(float(x[i])))
        up = x.copy()
        down = x.copy()
        up[i] += step
        down[i] -= step
        hess[i] = (objective(up)[1] - objective(down)[1]) / (2 * step)
    return (hess + hess.T) / 2


def _standard_errors(objective: Objective, log_params: Float64Array) -> tuple[float, ...] | None:
    hess = _hessian(objective, log_params)
    if not np.all(np.isfinite(hess)):
        return None
    try:
        chol = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return None
    inverse = np.linalg.inv(chol)
    covariance = inverse.T @ inverse
    # delta method: se(theta) = theta * se(log theta)
    se = np.exp(log_params) * np.sqrt(np.diag(covariance))
    return tuple(float(v) for v in se)


def maximise(
    model: str,
    objective: Objective,
    start: Float64Array,
    *,
    max_iterations: int,
    tolerance: float,
) -> FitInfo:
    """Maximise a log-likelihood over log-parameters with L-BFGS-B.

    ``objective(log_params)`` returns the *negative* log-likelihood and its
    gradient. Raises [`ModelFitError`][crmcore.analytics._optimize.ModelFitError] (naming ``model``)
    when the optimiser fails, runs out of iterations, ends on a bound of the parameter box, returns
    a non-finite likelihood, or stops where the likelihood is flat (Hessian not positive definite:
    parameters not identified, e.g. a limit at infinity).
    """
    optimize, _ = load_scipy(f"fitting the {model} model")
    bounds = [(-LOG_BOUND, LOG_BOUND)] * start.size

    def safe(x: Float64Array) -> tuple[float, Float64Array]:
        value, grad = objective(x)
        if not (math.isfinite(value) and np.all(np.isfinite(grad))):
            # Steer L-BFGS-B's line search away from overflowing regions.
            return 1e300, np.zeros_like(x)
        return value, grad

    result = optimize.minimize(
        safe,
        np.clip(start, -LOG_BOUND + 1, LOG_BOUND - 1),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iterations, "ftol": tolerance, "gtol": 1e-7},
    )
    x = np.asarray(result.x, dtype=np.float64)
    value = float(result.fun)
    message = str(result.message)
    if not math.isfinite(value) or value >= 1e300:
        raise ModelFitError(model, "the log-likelihood is not finite at any point tried")
    if not result.success:
        raise ModelFitError(
            model, f"the optimiser did not converge after {int(result.nit)} iterations: {message}"
        )
    on_bound = np.abs(np.abs(x) - LOG_BOUND) < _AT_BOUND
    if on_bound.any():
        raise ModelFitError(
            model,
            "the maximum likelihood lies on the edge of the parameter space "
            f"(a parameter reached {math.exp(float(x[on_bound][0])):.3g}); the data do not "
            "identify the model (too few customers or no variation)",
        )
    errors = _standard_errors(objective, x)
    if errors is None:
        raise ModelFitError(
            model,
            "the likelihood is flat or not concave at the optimum (its Hessian is not "
            "positive definite): the data do not identify the parameters",
        )
    return FitInfo(
        params=tuple(float(v) for v in np.exp(x)),
        log_likelihood=-value,
        standard_errors=errors,
        iterations=int(result.nit),
        evaluations=int(result.nfev),
        message=message,
    )
