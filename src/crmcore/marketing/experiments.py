"""Experiments: control groups and A/B variants drawn by hash, and the statistics to judge them.

**Assignment by hash.** A customer's group in an experiment (a campaign's control group or one of
its variants) is a pure function of two strings, the experiment id (the *salt*) and the customer
id: the same customer lands in the same group in every run, on every machine, in Python and in
numpy, without storing anything. The hash is 64-bit FNV-1a over the UTF-8 bytes of
``salt + "\\x1f" + customer_id``, finished with the 64-bit finaliser of MurmurHash3 (``fmix64``):

* FNV-1a (Fowler, Noll, Vo; IETF draft ``draft-eastlake-fnv``) is a byte-at-a-time hash, so it
  vectorises as one numpy pass per byte *position* over a million ids at once (no loop per
  customer), and it is fixed by its published constants; Python's own ``hash()`` is salted per
  process and would move customers between runs.
* FNV's low bits mix poorly; ``fmix64`` (Appleby, SMHasher) makes every output bit depend on every
  input bit, so the top 53 bits, read as a number in [0, 1), are uniform enough that a 10 %
  control group holds 10 % of customers (the tests check the share over random ids).
* A cryptographic hash (SHA-256) would serve equally but cannot be vectorised in numpy; assignment
  is not a secret, so strength buys nothing here.

A customer's number ``u`` in [0, 1) decides: ``u < control_share`` is the control group, the rest
is split among the variants by their weights, in order. Raising the control share only moves
customers from the first variant into control, never between variants.

**Statistics.** [`compare_proportions()`][crmcore.marketing.experiments.compare_proportions]
compares a treatment rate ``p1 = x1/n1`` with a baseline (control) rate ``p2 = x2/n2``:

* the pooled two-proportion z test, ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))`` with the
  pooled ``p = (x1 + x2) / (n1 + n2)``, two-sided ``p-value = erfc(|z| / sqrt 2)``;
* a confidence interval for the difference ``p1 - p2`` by Newcombe's hybrid score method
  (Newcombe, *Statistics in Medicine* 17, 1998, method 10), built from the Wilson score interval
  of each rate (Wilson, *JASA* 22, 1927): ``[d - sqrt((p1 - l1)^2 + (u2 - p2)^2),
  d + sqrt((u1 - p1)^2 + (p2 - l2)^2)]``. Unlike the textbook Wald interval it stays inside
  [-1, 1] and keeps its coverage for small groups and rates near 0 or 1;
* the relative uplift ``(p1 - p2) / p2`` (undefined when ``p2 = 0``).

Examples:
    >>> split = Split(control_share="0.1", variants=(Variant("A"), Variant("B")))
    >>> split.group_of("summer-sale", "c-42") == split.group_of("summer-sale", "c-42")
    True
    >>> result = compare_proportions(120, 1000, 90, 1000)
    >>> round(result.difference, 3), round(result.z, 2), result.p_value < 0.05
    (0.03, 2.19, True)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.columnar.arguments import float_column
from crmcore.kernel.arrays import Float64Array, Int64Array, read_only
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.ids import validate_id
from crmcore.kernel.money import to_decimal
from crmcore.kernel.reports import json_number
from crmcore.kernel.validators import storable_text

__all__ = [
    "CONTROL",
    "ProportionComparison",
    "Split",
    "Variant",
    "assignment_hash",
    "assignment_hashes",
    "assignment_number",
    "assignment_numbers",
    "compare_proportions",
    "wilson_interval",
]

CONTROL: Final = "control"
"""The name of the control (holdout) group."""

_FNV_OFFSET: Final = 0xCBF29CE484222325
_FNV_PRIME: Final = 0x100000001B3
_MASK: Final = (1 << 64) - 1
_SEPARATOR: Final = b"\x1f"


def _fmix64(h: int) -> int:
    # MurmurHash3's 64-bit finaliser (Appleby, SMHasher, MurmurHash3.cpp fmix64).
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK
    return h ^ (h >> 33)


def _fnv1a(data: bytes, h: int = _FNV_OFFSET) -> int:
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return h


def _salt(salt: object) -> bytes:
    return validate_id(salt, "salt").encode() + _SEPARATOR


def assignment_hash(salt: str, key: str) -> int:
    """The 64-bit assignment hash of ``key`` (a customer id) in experiment ``salt``.

    FNV-1a over ``salt + "\\x1f" + key`` (UTF-8), finished with MurmurHash3's ``fmix64``; see the
    module notes for why.

    Examples:
        >>> assignment_hash("spring", "c-1") == assignment_hash("spring", "c-1")
        True
        >>> assignment_hash("spring", "c-1") != assignment_hash("autumn", "c-1")
        True
    """
    if not isinstance(key, str):
        raise ValidationError("key", key, "must be a str")
    return _fmix64(_fnv1a(_salt(salt) + storable_text(key, "key").encode()))


def assignment_number(salt: str, key: str) -> float:
    """``key``'s number in [0, 1) in experiment ``salt``: the hash's top 53 bits over 2^53."""
    return (assignment_hash(salt, key) >> 11) / float(1 << 53)


def _fmix64_array(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def assignment_hashes(salt: str, keys: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """[`assignment_hash()`][crmcore.marketing.experiments.assignment_hash] of every key at once.

    ``keys`` is an array (or list) of strings, e.g. a frame's customer ids. One numpy pass per
    byte position of the longest key, none per key.
    """
    prefix = _fnv1a(_salt(salt))
    raw = np.asarray(keys)
    if raw.ndim != 1:
        raise ValidationError("keys", keys, "must be a one-dimensional array of strings")
    if raw.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if raw.dtype.kind not in "UT":
        if raw.dtype.kind != "O" or not all(isinstance(k, str) for k in raw.tolist()):
            raise ValidationError("keys", keys, "must be strings")
        raw = raw.astype(str)
    encoded = np.strings.encode(raw.astype(np.dtypes.StringDType()), "utf-8")
    lengths = np.strings.str_len(encoded).astype(np.int64)
    width = encoded.dtype.itemsize
    table = encoded.view(np.uint8).reshape(len(encoded), width)
    h = np.full(len(encoded), prefix, dtype=np.uint64)
    prime = np.uint64(_FNV_PRIME)
    with np.errstate(over="ignore"):
        for position in range(int(lengths.max(initial=0))):
            live = lengths > position
            mixed = (h ^ table[:, position].astype(np.uint64)) * prime
            h = np.where(live, mixed, h)
        return _fmix64_array(h)


def assignment_numbers(salt: str, keys: npt.ArrayLike) -> Float64Array:
    """[`assignment_number()`][crmcore.marketing.experiments.assignment_number] of every key."""
    hashes = assignment_hashes(salt, keys)
    return (hashes >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _weight(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
        raise ValidationError("variant.weight", value, "must be a whole number in 1..1000000")


def _variant_name(value: object) -> str:
    name = validate_id(value, "variant.name")
    if name == CONTROL:
        raise ValidationError("variant.name", value, f"{CONTROL!r} names the control group")
    return name


@attrs.frozen
class Variant:
    """One arm of an experiment: a ``name`` (an id, not ``control``), a relative ``weight``, and
    optionally the ``template`` the host renders for it."""

    name: str = attrs.field(converter=_variant_name)
    weight: int = attrs.field(default=1, validator=_weight)
    template: str | None = attrs.field(default=None)

    @template.validator
    def _check_template(self, _attribute: object, value: object) -> None:
        if value is not None:
            validate_id(value, "variant.template")


def _share(value: object) -> Decimal:
    share = to_decimal(value, "control_share")
    if not Decimal(0) <= share < Decimal(1):
        raise ValidationError("control_share", value, "must be at least 0 and less than 1")
    return share


def _variants(value: object) -> tuple[Variant, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("variants", value, "must be a sequence of Variant")
    items = tuple(value)
    if not items:
        raise ValidationError("variants", items, "must name at least one variant")
    for i, item in enumerate(items):
        if not isinstance(item, Variant):
            raise ValidationError(f"variants[{i}]", item, "must be a Variant")
    names = [v.name for v in items]
    if len(set(names)) != len(names):
        raise ValidationError("variants", names, "must have distinct names")
    return items


@attrs.frozen
class Split:
    """How an experiment's customers divide: a control share, then variants by weight.

    ``control_share`` is exact (a ``Decimal`` in [0, 1), from a string such as ``"0.1"``).
    """

    control_share: Decimal = attrs.field(default=Decimal(0), converter=_share)
    variants: tuple[Variant, ...] = attrs.field(default=(Variant("A"),), converter=_variants)

    @property
    def names(self) -> tuple[str, ...]:
        """The group names: ``control`` first (when there is a control group), then the variants."""
        return ((CONTROL,) if self.control_share > 0 else ()) + tuple(v.name for v in self.variants)

    def _bounds(self) -> Float64Array:
        """Upper bounds in [0, 1] of the control group, then of each variant."""
        control = float(self.control_share)
        weights = np.array([v.weight for v in self.variants], dtype=np.float64)
        cumulative = np.cumsum(weights) / weights.sum()
        bounds = np.concatenate([[control], control + (1.0 - control) * cumulative])
        bounds[-1] = 1.0
        return bounds

    def group_codes(self, numbers: npt.ArrayLike) -> Int64Array:
        """The group of each assignment number: -1 for control, else the variant's index.

        Raises:
            ValidationError: ``numbers`` is not a one-dimensional array (or list) of numbers.
        """
        u = float_column(numbers, "numbers")
        codes = np.searchsorted(self._bounds(), u, side="right").astype(np.int64) - 1
        return read_only(np.minimum(codes, len(self.variants) - 1))

    def group_of(self, salt: str, customer_id: str) -> str:
        """The group (``control`` or a variant name) of ``customer_id`` in experiment ``salt``."""
        code = int(self.group_codes([assignment_number(salt, customer_id)])[0])
        return CONTROL if code < 0 else self.variants[code].name

    def assign(self, salt: str, customer_ids: npt.ArrayLike) -> Int64Array:
        """The group code of every id (-1 control, else the variant index), vectorised."""
        return self.group_codes(assignment_numbers(salt, customer_ids))


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (Wilson, *JASA* 22, 1927); (0, 1) for no trials.

    Examples:
        >>> low, high = wilson_interval(5, 10)
        >>> round(low, 3), round(high, 3)
        (0.237, 0.763)
    """
    x, n = _counts(successes, trials, "successes", "trials")
    z = _z(confidence)
    return (0.0, 1.0) if n == 0 else _wilson(x, n, z)


def _counts(x: object, n: object, x_name: str, n_name: str) -> tuple[int, int]:
    for name, value in ((x_name, x), (n_name, n)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValidationError(name, value, "must be a non-negative whole number")
    xi, ni = int(x), int(n)  # type: ignore[call-overload]
    if xi > ni:
        raise ValidationError(x_name, xi, f"must not exceed {n_name} ({ni})")
    return xi, ni


def _z(confidence: object) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, float | int):
        raise ValidationError("confidence", confidence, "must be a number in (0, 1)")
    if not 0.0 < float(confidence) < 1.0:
        raise ValidationError("confidence", confidence, "must be a number in (0, 1)")
    return statistics.NormalDist().inv_cdf(0.5 + float(confidence) / 2)


@attrs.frozen
class ProportionComparison:
    """A treatment rate against a baseline rate: difference, interval, z test, relative uplift.

    ``rate`` = ``successes / trials`` of the treatment, ``baseline_rate`` of the baseline (control
    or variant A); rates, ``z`` and ``p_value`` are ``None`` when a group is empty (nothing to
    compare), ``relative_uplift`` also when the baseline rate is 0.
    """

    successes: int
    trials: int
    baseline_successes: int
    baseline_trials: int
    confidence: float
    rate: float | None
    baseline_rate: float | None
    difference: float | None
    low: float | None
    high: float | None
    z: float | None
    p_value: float | None
    relative_uplift: float | None

    @property
    def significant(self) -> bool:
        """Whether the two-sided test rejects "no difference" at the interval's confidence."""
        return self.p_value is not None and self.p_value < 1.0 - self.confidence

    def to_dict(self) -> dict[str, object]:
        """The comparison as JSON data."""
        return {
            "successes": self.successes,
            "trials": self.trials,
            "baseline_successes": self.baseline_successes,
            "baseline_trials": self.baseline_trials,
            "confidence": self.confidence,
            "rate": json_number(self.rate),
            "baseline_rate": json_number(self.baseline_rate),
            "difference": json_number(self.difference),
            "low": json_number(self.low),
            "high": json_number(self.high),
            "z": json_number(self.z),
            "p_value": json_number(self.p_value),
            "relative_uplift": json_number(self.relative_uplift),
            "significant": self.significant,
        }


def compare_proportions(
    successes: int,
    trials: int,
    baseline_successes: int,
    baseline_trials: int,
    *,
    confidence: float = 0.95,
) -> ProportionComparison:
    """Compare ``successes / trials`` with ``baseline_successes / baseline_trials``.

    The pooled two-proportion z test and Newcombe's hybrid score interval for the difference (see
    the module notes for the formulas and their sources).

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for negative counts, more
    successes than trials, or a confidence outside (0, 1).

    Examples:
        Newcombe's (1998) worked example, 56/70 against 48/80:

        >>> r = compare_proportions(56, 70, 48, 80)
        >>> round(r.difference, 4), round(r.low, 4), round(r.high, 4)
        (0.2, 0.0524, 0.3339)
    """
    x1, n1 = _counts(successes, trials, "successes", "trials")
    x2, n2 = _counts(baseline_successes, baseline_trials, "baseline_successes", "baseline_trials")
    z_crit = _z(confidence)
    level = float(confidence)
    if n1 == 0 or n2 == 0:
        p1 = x1 / n1 if n1 else None
        p2 = x2 / n2 if n2 else None
        return ProportionComparison(
            x1, n1, x2, n2, level, p1, p2, None, None, None, None, None, None
        )
    p1, p2 = x1 / n1, x2 / n2
    difference = p1 - p2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se > 0:
        z: float | None = difference / se
        p_value: float | None = math.erfc(abs(difference / se) / math.sqrt(2.0))
    else:  # both groups all-success or all-failure: identical rates, nothing to test
        z, p_value = 0.0, 1.0
    l1, u1 = _wilson(x1, n1, z_crit)
    l2, u2 = _wilson(x2, n2, z_crit)
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    relative = difference / p2 if p2 > 0 else None
    return ProportionComparison(
        x1, n1, x2, n2, level, p1, p2, difference, low, high, z, p_value, relative
    )


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # the bounds are exactly 0 at x = 0 and 1 at x = n; rounding must not move them off
    low = 0.0 if x == 0 else max(0.0, centre - half)
    high = 1.0 if x == n else min(1.0, centre + half)
    return low, high
