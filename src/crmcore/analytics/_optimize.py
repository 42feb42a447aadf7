"""Shared maximum-likelihood machinery for the BTYD models (BG/NBD, Gamma-Gamma).

Both models are fitted the same way: the parameters are all positive, so the
optimiser works on their logarithms (unconstrained, well scaled); the caller
supplies the negative log-likelihood and its analytic gradient with respect
to the log-parameters; `maximise()` runs L-BFGS-B from
`scipy.optimize` within wide box bounds (so an unidentified parameter
stops at a bound instead of overflowing), then checks the result and refuses
it with [`ModelFitError`][crmcore.kernel.errors.ModelFitError] if it did not converge, is not
finite, sits on a bound, or stops where the likelihood is flat (Hessian not
positive definite). Standard errors come from that Hessian (analytic when the model supplies
it, else central differences of the analytic gradient), by the delta method back to the natural
scale.

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
from crmcore.kernel.errors import MissingDependencyError, ModelFitError, ValidationError
from crmcore.kernel.validators import integer, number

__all__ = [
    "FitInfo",
    "compress_rows",
    "fit_options",
    "load_scipy",
    "maximise",
    "positive_numbers",
    "require_variety",
]

Objective: TypeAlias = Callable[[Float64Array], tuple[float, Float64Array]]
Hessian: TypeAlias = Callable[[Float64Array], Float64Array]

LOG_BOUND: Final = 18.0
"""Box bounds on each log-parameter: e^-18 .. e^18 (about 1.5e-8 .. 6.6e7)."""
_AT_BOUND: Final = 1e-3  # a log-parameter within this of a bound is "on the bound"
_MAX_DISTINCT_SHARE: Final = 0.5  # compress only when a column repeats at least twice on average
_RUNAWAY: Final = 12.0  # a failed line search beyond e^+-12 is a run towards a limit
_MIN_ROWS_TO_SKIP: Final = 50_000  # below this the sorts cost nothing: always compress (and order)
_SAMPLE: Final = 8192  # values sampled to judge whether a large column repeats
_MAX_KEY: Final = 1 << 62
_EXACT_WHOLE: Final = float(1 << 52)  # whole numbers below this in magnitude are their own codes


def fit_options(
    initial: object, count: int, max_iterations: object, tolerance: object
) -> tuple[float, ...]:
    """The checked starting point (``count`` finite numbers > 0, as floats) of a fit.

    ``max_iterations`` must be an integer from 1 to 10**7 and ``tolerance`` a finite number
    > 0; each refusal is a [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the
    argument.
    """
    integer(max_iterations, "max_iterations", low=1, high=10**7)
    if number(tolerance, "tolerance", low=0.0) <= 0:
        raise ValidationError("tolerance", tolerance, "must be a finite number > 0")
    return positive_numbers(initial, count, "initial")


def positive_numbers(values: object, count: int, field: str) -> tuple[float, ...]:
    """``count`` finite numbers > 0 (a tuple or list) as floats, else a ValidationError."""
    if not isinstance(values, tuple | list) or len(values) != count:
        raise ValidationError(field, values, f"must be {count} finite numbers > 0")
    found = tuple(number(v, f"{field}[{i}]") for i, v in enumerate(values))
    if not all(v > 0 for v in found):
        raise ValidationError(field, values, f"must be {count} finite numbers > 0")
    return found


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
    by its count (exact, and much faster on period-aggregated data). Each
    column is coded by one sort of its values, the codes are combined into
    one integer per row and the rows are counted by one integer sort (a sort
    of whole rows costs several times as much).

    Compression pays only when rows repeat: when one column alone has more
    than half as many distinct values as there are rows (continuous times or
    amounts), the rows of a large input are returned as they are, each with
    weight 1. A sample of each column tells that before any sort, and the
    codes of the columns check it again. Otherwise the distinct rows come
    in sorted order, so a fit does not depend on the order of the customers.
    """
    floats = [np.asarray(c, dtype=np.float64) for c in columns]
    n = len(floats[0]) if floats else 0
    if n == 0:
        return tuple(np.empty(0) for _ in columns), np.empty(0)
    if n >= _MIN_ROWS_TO_SKIP and any(_mostly_distinct(column) for column in floats):
        return tuple(floats), np.ones(n)
    values: list[Float64Array] = []
    codes: list[npt.NDArray[np.intp]] = []
    for column in floats:
        distinct, code, used = _codes(column)
        if used > n * _MAX_DISTINCT_SHARE and n >= _MIN_ROWS_TO_SKIP:
            return tuple(floats), np.ones(n)
        values.append(distinct)
        codes.append(code)
    key = codes[0].astype(np.int64)
    size = len(values[0])
    renumbered = False
    for distinct, code in zip(values[1:], codes[1:], strict=True):
        if size * len(distinct) >= _MAX_KEY:  # keep the combined key in int64: renumber first
            present, inverse = np.unique(key, return_inverse=True)
            key, size, renumbered = inverse.reshape(-1).astype(np.int64), len(present), True
        key = key * len(distinct) + code
        size *= len(distinct)
    if renumbered:  # rows from a representative of each distinct key
        rows, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        first = np.empty(len(rows), dtype=np.int64)
        first[inverse.reshape(-1)] = np.arange(n)
        return tuple(column[first] for column in floats), counts.astype(np.float64)
    rows, counts = np.unique(key, return_counts=True)
    out: list[Float64Array] = []
    for distinct in reversed(values):  # mixed radix: the last column varies fastest
        out.append(distinct[rows % len(distinct)])
        rows //= len(distinct)
    return tuple(reversed(out)), counts.astype(np.float64)


def _mostly_distinct(column: Float64Array) -> bool:
    """Whether ``column`` has more than ``_MAX_DISTINCT_SHARE`` as many distinct values as rows,
    judged from a sample of ``_SAMPLE`` values without sorting the column.

    The birthday estimate: among ``m`` values drawn with replacement from ``D`` equally
    likely ones, about ``m (m - 1) / (2 D)`` pairs are equal, so ``D`` is estimated from the
    equal pairs of the sample (sorted: runs of equal values). At a million rows with every
    value distinct some 30 pairs are expected against a threshold of 60 or more, several
    standard deviations apart; uneven value frequencies only lower the estimate, towards
    compressing, which is exact either way.
    """
    n = len(column)
    rng = np.random.default_rng(0)  # a fixed sample: the same data take the same path
    sample = np.sort(column[rng.integers(0, n, _SAMPLE)])
    starts = np.flatnonzero(np.concatenate(([True], sample[1:] != sample[:-1])))
    runs = np.diff(np.append(starts, _SAMPLE))
    pairs = float(np.sum(runs * (runs - 1))) / 2
    if not pairs:
        return True
    estimate = _SAMPLE * (_SAMPLE - 1) / 2 / pairs  # distinct values
    return estimate > n * _MAX_DISTINCT_SHARE


def _codes(column: Float64Array) -> tuple[Float64Array, npt.NDArray[np.intp], int]:
    """Values that cover ``column``, each row's position among them, and how many occur.

    Whole numbers in a range not much wider than the column (counts, times in
    whole periods) are their own codes, found without a sort; anything else is
    coded by ``np.unique``.
    """
    low, high = float(column.min()), float(column.max())
    if (
        low > -_EXACT_WHOLE
        and high < _EXACT_WHOLE
        and high - low < len(column)
        and np.all(column == np.floor(column))
    ):
        code = (column - low).astype(np.intp)
        span = np.arange(low, high + 1.0)
        return span, code, int(np.count_nonzero(np.bincount(code, minlength=len(span))))
    distinct, inverse = np.unique(column, return_inverse=True)
    return distinct, inverse.reshape(-1), len(distinct)


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


def _standard_errors(
    objective: Objective, log_params: Float64Array, hessian: Hessian | None
) -> tuple[float, ...] | None:
    hess = _hessian(objective, log_params) if hessian is None else hessian(log_params)
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
    names: tuple[str, ...] = (),
    explain: Callable[[tuple[float, ...]], str] | None = None,
    hessian: Hessian | None = None,
) -> FitInfo:
    """Maximise a log-likelihood over log-parameters with L-BFGS-B.

    ``objective(log_params)`` returns the *negative* log-likelihood and its
    gradient. Raises [`ModelFitError`][crmcore.analytics._optimize.ModelFitError] (naming ``model``)
    when the optimiser fails, runs out of iterations, ends on a bound of the parameter box, returns
    a non-finite likelihood, or stops where the likelihood is flat (Hessian not positive definite:
    parameters not identified, e.g. a limit at infinity). Each message names the cause and the
    next step; ``explain`` (given the parameters where the optimiser stopped) adds what the data
    say about the cause, ``names`` name the parameters. ``hessian(log_params)``, when given, is the
    objective's analytic Hessian; otherwise central differences of the gradient stand in for it
    (one pair of gradient evaluations per parameter).
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
    stopped = tuple(float(v) for v in np.exp(x))
    where = ", ".join(f"{n} = {v:.4g}" for n, v in zip(names, stopped, strict=False))
    cause = "" if explain is None else explain(stopped)
    if not math.isfinite(value) or value >= 1e300:
        raise ModelFitError(
            model,
            "the log-likelihood is not finite at any point tried: check the data for "
            "impossible values, or pass initial= nearer the answer",
        )
    if not result.success:
        if int(result.nit) >= max_iterations or "ITERATIONS" in message.upper():
            raise ModelFitError(
                model,
                f"the optimiser stopped after {int(result.nit)} iterations without converging "
                f"(at {where}){cause}: pass a larger max_iterations (now {max_iterations}), "
                "or initial= nearer the answer",
            )
        if np.any(np.abs(x) > _RUNAWAY):
            i = int(np.argmax(np.abs(x)))
            name = names[i] if i < len(names) else f"parameter {i}"
            raise ModelFitError(
                model,
                f"the likelihood keeps rising towards the edge of the parameter space ({name} "
                f"ran to {stopped[i]:.3g} before the line search failed){cause}: the data do not "
                "identify the model. Next step: fit on more customers, or check the data for "
                "too little variation",
            )
        raise ModelFitError(
            model,
            f"the optimiser could not improve the likelihood after {int(result.nit)} "
            f"iterations (its line search failed at {where}): the likelihood is flat in some "
            f"direction, so the data barely identify a parameter{cause}. Next step: check the "
            "data for too little variation, or pass initial= nearer the answer",
        )
    on_bound = np.abs(np.abs(x) - LOG_BOUND) < _AT_BOUND
    if on_bound.any():
        i = int(np.argmax(on_bound))
        name = names[i] if i < len(names) else f"parameter {i}"
        raise ModelFitError(
            model,
            "the maximum likelihood lies on the edge of the parameter space "
            f"({name} reached {stopped[i]:.3g}){cause}: the data do not identify the model. "
            "Next step: fit on more customers, or check the data for too little variation",
        )
    errors = _standard_errors(objective, x, hessian)
    if errors is None:
        raise ModelFitError(
            model,
            "the likelihood is flat or not concave at the optimum (its Hessian is not "
            f"positive definite at {where}){cause}: the data do not identify the parameters. "
            "Next step: fit on more customers, or check the data for too little variation",
        )
    return FitInfo(
        params=stopped,
        log_likelihood=-value,
        standard_errors=errors,
        iterations=int(result.nit),
        evaluations=int(result.nfev),
        message=message,
    )
