"""The BG/NBD log-likelihood, its gradient and its analytic Hessian, tabulated by frequency.

The inside of [`fit_bgnbd()`][crmcore.analytics.bgnbd.fit_bgnbd] and
[`bgnbd_log_likelihood()`][crmcore.analytics.bgnbd.bgnbd_log_likelihood]: eq. (6) of
Fader, Hardie & Lee (2005),

    LL = log G(r+x)/G(r) + r log(alpha) - log B(a, b)
       + log[ B(a, b+x) (alpha+T)^-(r+x) + [x > 0] B(a+1, b+x-1) (alpha+t_x)^-(r+x) ],

evaluated so that a customer costs a few logarithms and exponentials: every special
function (log-gamma, log-beta, digamma, trigamma) depends on the frequency x alone, and
frequencies are whole numbers with few distinct values, so they are computed once per
frequency and gathered (or summed per frequency with ``np.bincount``). The objective of
the fit is the mean negative log-likelihood in the log-parameters, with its analytic
gradient; its analytic Hessian gives the standard errors, computed once after the optimum
is found (checked against central differences of the gradient in the tests).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.kernel.arrays import Float64Array

__all__ = ["MIN_TABLE", "Rows", "hessian", "objective", "per_customer", "rows_of"]

MIN_TABLE: Final = 1024
"""Frequencies are tabulated from 0 up to the largest one when it is below max(customers, this)."""


@attrs.frozen(eq=False)
class Rows:
    """Customers as the likelihood reads them: rows ``(x, t_x, T)`` counted ``weights`` times.

    Every special function of the likelihood and its derivatives depends on the frequency x
    alone (the time terms are plain logarithms), and frequencies are whole numbers with few
    distinct values: ``values`` are the frequencies the tables cover, ``index`` each row's
    position there, ``per_value`` the customers per frequency, ``total`` all of them.
    """

    x: Float64Array
    t_x: Float64Array
    big_t: Float64Array
    weights: Float64Array
    values: Float64Array
    index: npt.NDArray[np.intp]
    per_value: Float64Array
    total: float


def rows_of(
    x: Float64Array, t_x: Float64Array, big_t: Float64Array, weights: Float64Array | None = None
) -> Rows:
    """Customers ``(x, t_x, T)``, each counted ``weights`` times (default once), as the
    likelihood reads them."""
    counts = np.ones(len(x)) if weights is None else weights
    top = float(x.max()) if len(x) else 0.0
    if len(x) and x.min() >= 0 and top < max(len(x), MIN_TABLE) and np.all(x == np.floor(x)):
        index, values = x.astype(np.intp), np.arange(int(top) + 1, dtype=np.float64)  # no sort
    else:
        values, inverse = np.unique(x, return_inverse=True)
        index = inverse.reshape(-1)
    per_value = _per_value(index, counts, len(values))
    return Rows(x, t_x, big_t, counts, values, index, per_value, float(counts.sum()))


@attrs.frozen(eq=False)
class _Tables:
    """The terms of eq. (6) that depend on the frequency only, one entry per frequency."""

    base: Float64Array  # log G(r+x)/G(r) + r log(alpha) - log B(a, b)
    beta_a: Float64Array  # log B(a, b+x)
    beta_b: Float64Array  # log B(a+1, b+x-1); -inf at x = 0 (no second term)


def _tables(special: Any, theta: Float64Array, values: Float64Array) -> _Tables:
    r, alpha, a, b = theta
    gammaln, betaln = special.gammaln, special.betaln
    repeat = values > 0
    values1 = np.where(repeat, values, 1.0)  # keeps B(a+1, b+x-1) defined where it is masked out
    base = gammaln(r + values) - gammaln(r) + r * math.log(alpha) - betaln(a, b)
    beta_a = betaln(a, b + values)
    beta_b = np.where(repeat, betaln(a + 1, b + values1 - 1), -np.inf)
    return _Tables(base, beta_a, beta_b)


@attrs.frozen(eq=False)
class _Terms:
    """Per row: the two terms of eq. (6), their log-sum ``mix`` and the time logarithms."""

    rx: Float64Array  # r + x
    at: Float64Array  # alpha + T
    atx: Float64Array  # alpha + t_x
    log_at: Float64Array
    log_atx: Float64Array
    term_a: Float64Array
    term_b: Float64Array
    mix: Float64Array


def _terms(theta: Float64Array, rows: Rows, tables: _Tables) -> _Terms:
    r, alpha = theta[0], theta[1]
    rx = r + rows.x
    at = alpha + rows.big_t
    atx = alpha + rows.t_x
    log_at = np.log(at)
    log_atx = np.log(atx)
    term_a = tables.beta_a[rows.index] - rx * log_at
    term_b = tables.beta_b[rows.index] - rx * log_atx
    # summed with logaddexp so that large x cannot overflow
    return _Terms(rx, at, atx, log_at, log_atx, term_a, term_b, np.logaddexp(term_a, term_b))


def _per_value(index: npt.NDArray[np.intp], weights: Float64Array, size: int) -> Float64Array:
    """``weights`` summed per frequency (``index`` into the table of ``size`` entries)."""
    sums: Float64Array = np.bincount(index, weights=weights, minlength=size).astype(
        np.float64, copy=False
    )
    return sums


def _dot(left: Float64Array, right: Float64Array) -> float:
    """The dot product, by ``np.einsum``'s own loop: BLAS would wake its threads for every
    long vector, and their spinning costs more CPU than the product on a busy machine."""
    return float(np.einsum("i,i->", left, right))


def objective(special: Any, log_params: Float64Array, rows: Rows) -> tuple[float, Float64Array]:
    """The mean negative log-likelihood and its gradient in the log-parameters."""
    theta = np.exp(log_params)
    tables = _tables(special, theta, rows.values)
    t = _terms(theta, rows, tables)
    total = rows.total
    value = _dot(rows.weights, tables.base[rows.index] + t.mix)
    grad = _gradient(special, theta, rows, t)
    return -value / total, -grad * theta / total


def _gradient(special: Any, theta: Float64Array, rows: Rows, t: _Terms) -> Float64Array:
    """The gradient of the summed log-likelihood in the natural parameters.

    Each customer's terms are combined before they are summed (the parts of one derivative
    nearly cancel where the data barely identify a parameter); the digamma terms, which depend
    on the frequency only, are combined per frequency with the customers' weights of the two
    terms of eq. (6) summed per frequency.
    """
    r, alpha, a, b = theta
    psi = special.digamma
    values, index = rows.values, rows.index
    w_a = np.exp(t.term_a - t.mix)  # each customer's weight of the two terms
    w_b = np.exp(t.term_b - t.mix)
    wa = _per_value(index, rows.weights * w_a, len(values))
    wb = _per_value(index, rows.weights * w_b, len(values))
    repeat = values > 0
    psi_abx = psi(a + b + values)
    per_x = (psi(r + values) - psi(r) + math.log(alpha))[index]
    d_r = _dot(rows.weights, per_x - w_a * t.log_at - w_b * t.log_atx)
    d_alpha = _dot(rows.weights, r / alpha - t.rx * (w_a / t.at + w_b / t.atx))
    d_a = float(
        np.sum(
            -rows.per_value * (psi(a) - psi(a + b))
            + wa * (psi(a) - psi_abx)
            + wb * (psi(a + 1) - psi_abx)
        )
    )
    psi_b1 = np.where(repeat, psi(b + np.where(repeat, values, 1.0) - 1) - psi_abx, 0.0)
    d_b = float(
        np.sum(
            -rows.per_value * (psi(b) - psi(a + b)) + wa * (psi(b + values) - psi_abx) + wb * psi_b1
        )
    )
    return np.array([d_r, d_alpha, d_a, d_b])


def hessian(special: Any, log_params: Float64Array, rows: Rows) -> Float64Array:
    """The analytic Hessian of the mean negative log-likelihood in the log-parameters.

    Per customer the log-likelihood is ``base + log(e^A + e^B)``; with ``w_A, w_B`` the weights
    of the two terms its Hessian is ``H_base + w_A H_A + w_B H_B + w_A w_B (g_A - g_B)(g_A -
    g_B)^T``. ``A`` and ``B`` separate into a part in (r, alpha) and a part in (a, b), and
    ``g_A - g_B`` has ``-1/a`` in ``a`` and ``1/(b+x-1)`` in ``b`` (digamma recurrences).
    In the log-parameters ``phi = log theta``: ``theta_i theta_j H_ij + [i = j] theta_i g_i``.
    """
    theta = np.exp(log_params)
    r, alpha, a, b = theta
    trigamma = functools.partial(special.polygamma, 1)
    tables = _tables(special, theta, rows.values)
    t = _terms(theta, rows, tables)
    values, index, total, size = rows.values, rows.index, rows.total, len(rows.values)
    w_a = np.exp(t.term_a - t.mix)
    w_b = np.exp(t.term_b - t.mix)
    cw_a = rows.weights * w_a
    cw_b = rows.weights * w_b
    cw_ab = cw_a * w_b
    wa = _per_value(index, cw_a, size)
    wb = _per_value(index, cw_b, size)
    wab = _per_value(index, cw_ab, size)
    u = 1.0 / t.at
    v = 1.0 / t.atx
    d_r = t.log_atx - t.log_at  # (g_A - g_B) in r, alpha, a, b
    d_alpha = t.rx * (v - u)
    d_a = -1.0 / a
    repeat = values > 0
    d_b = np.where(repeat, 1.0 / (b + np.where(repeat, values, 1.0) - 1), 0.0)
    tri_abx = trigamma(a + b + values)
    tri_b1 = np.where(repeat, trigamma(b + np.where(repeat, values, 1.0) - 1) - tri_abx, 0.0)
    cross_r = _dot(cw_ab, d_r)
    cross_alpha = _dot(cw_ab, d_alpha)
    h = np.empty((4, 4))
    h[0, 0] = _dot(rows.per_value, trigamma(r + values) - trigamma(r)) + _dot(cw_ab, d_r * d_r)
    h[0, 1] = total / alpha - (_dot(cw_a, u) + _dot(cw_b, v)) + _dot(cw_ab, d_r * d_alpha)
    h[1, 1] = (
        -total * r / alpha**2 + _dot(t.rx, cw_a * u * u + cw_b * v * v) + _dot(cw_ab, d_alpha**2)
    )
    h[0, 2] = d_a * cross_r
    h[0, 3] = _dot(_per_value(index, cw_ab * d_r, size), d_b)
    h[1, 2] = d_a * cross_alpha
    h[1, 3] = _dot(_per_value(index, cw_ab * d_alpha, size), d_b)
    h[2, 2] = (
        -total * (trigamma(a) - trigamma(a + b))
        + _dot(wa, trigamma(a) - tri_abx)
        + _dot(wb, trigamma(a + 1) - tri_abx)
        + d_a * d_a * wab.sum()
    )
    h[2, 3] = total * trigamma(a + b) - _dot(wa + wb, tri_abx) + d_a * _dot(wab, d_b)
    h[3, 3] = (
        -total * (trigamma(b) - trigamma(a + b))
        + _dot(wa, trigamma(b + values) - tri_abx)
        + _dot(wb, tri_b1)
        + _dot(wab, d_b * d_b)
    )
    h = np.triu(h) + np.triu(h, 1).T
    grad = _gradient(special, theta, rows, t)
    hess: Float64Array = -(np.outer(theta, theta) * h + np.diag(theta * grad)) / total
    return hess


def per_customer(special: Any, theta: Float64Array, rows: Rows) -> Float64Array:
    """Each row's log-likelihood at the natural parameters ``theta = (r, alpha, a, b)``."""
    tables = _tables(special, theta, rows.values)
    terms = _terms(theta, rows, tables)
    ll: Float64Array = tables.base[rows.index] + terms.mix
    return ll
