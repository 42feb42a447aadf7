"""The ledger's rules over arrays: purchase points, lot expiry, inactivity deadlines, local days.

The array path of [`crmcore.loyalty.posting_batch`][crmcore.loyalty.posting_batch] computes, for
many operations at once, exactly what the per-account path computes for one, from the same program
rules (`LoyaltyProgram._derived` in [`crmcore.loyalty.program`][crmcore.loyalty.program]):

* calendar values are computed once per distinct local day (or, in a time zone with daylight
  saving, once per distinct quarter-hour for the UTC offset), in Python, by the very functions the
  per-account path calls, then spread over the operations with numpy; only ``months_after`` and
  ``inactivity`` outside UTC depend on the time of day as well and are computed per distinct
  instant;
* purchase points are ``round(amount x rate x multipliers)`` in integer arithmetic: the
  multipliers of each distinct (campaign interval, channel, category, tier) are the program's own
  `Decimal` product, written as an integer mantissa and a power of ten, so the result is the
  `Decimal` result whenever the product fits in 62 bits; operations where it does not are
  reported, and the caller posts them on the per-account path.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Final

import numpy as np

from crmcore.kernel.arrays import BoolArray, Int32Array, Int64Array
from crmcore.kernel.clock import DAY_US, EPOCH, from_micros, to_micros
from crmcore.loyalty.expiry import add_months
from crmcore.loyalty.program import LoyaltyProgram

__all__ = [
    "FINGERPRINT_SEED",
    "NEVER_US",
    "NONE_US",
    "Quotes",
    "fingerprints",
    "inactivity_deadlines",
    "local_days",
    "lot_expiries",
    "quote_purchases",
]

NEVER_US: Final = int(np.iinfo(np.int64).max)
"""Stands for "no expiry" (after every instant)."""
NONE_US: Final = int(np.iinfo(np.int64).min)
"""Stands for "no date" where earlier than every instant is the neutral value (pending until)."""

FINGERPRINT_SEED: Final = hash("crmcore.loyalty.fingerprints")
"""Identifies this process's string hashing (randomised per process): fingerprints made with
another seed cannot be compared with these."""
_MIX: Final = np.int64(-7046029254386353131)  # 0x9E3779B97F4A7C15, Fibonacci hashing's constant
_ORDER: Final = np.int64(0x5BD1E9955BD1E995)  # marks an order's fingerprint apart from a key's

_QUARTER_US: Final = 15 * 60 * 1_000_000
_LAST_US: Final = to_micros(datetime.max.replace(tzinfo=UTC))
_LIMIT: Final = 1 << 62  # products stay below it, so 2 * remainder fits in int64 too
_MAX_SCALE: Final = 18  # 10**18 < 2**62: the largest divisor the rounding handles in int64


def _offset_us(zone: tzinfo, micros: int) -> int:
    offset = from_micros(micros).astimezone(zone).utcoffset()
    return 0 if offset is None else offset // timedelta(microseconds=1)


def _local_offsets(zone: tzinfo, at_us: Int64Array) -> Int64Array:
    """The UTC offset (microseconds) in ``zone`` at each instant.

    Offsets change on quarter-hour boundaries at most once in a quarter-hour, so one lookup per
    distinct quarter-hour serves all its instants; a quarter-hour whose two ends differ (it holds a
    change) is looked up instant by instant.
    """
    if zone is UTC:
        return np.zeros(at_us.shape, dtype=np.int64)
    quarters, inverse = np.unique(at_us // _QUARTER_US, return_inverse=True)
    offsets = np.empty(quarters.shape[0], dtype=np.int64)
    mixed = np.zeros(quarters.shape[0], dtype=bool)
    for j, quarter in enumerate(quarters.tolist()):
        start = _offset_us(zone, quarter * _QUARTER_US)
        end = _offset_us(zone, min((quarter + 1) * _QUARTER_US - 1, _LAST_US))
        offsets[j] = start
        mixed[j] = start != end
    out: Int64Array = offsets[inverse.reshape(-1)]
    for i in np.flatnonzero(mixed[inverse.reshape(-1)]).tolist():
        out[i] = _offset_us(zone, int(at_us[i]))
    return out


def local_days(program: LoyaltyProgram, at_us: Int64Array) -> Int64Array:
    """The local day (days since 1970-01-01 in the program's time zone) of each instant."""
    zone = program._derived.zone
    return (at_us + _local_offsets(zone, at_us)) // DAY_US


Compute = Callable[[datetime], datetime | None]


def _per_day(program: LoyaltyProgram, at_us: Int64Array, compute: Compute) -> Int64Array:
    """``compute(instant)`` once per distinct local day, for values that depend on the day only."""
    first, inverse = _distinct(local_days(program, at_us))
    values = np.empty(first.shape[0], dtype=np.int64)
    for j, i in enumerate(first.tolist()):
        found = compute(from_micros(int(at_us[i])))
        values[j] = NEVER_US if found is None else to_micros(found)
    out: Int64Array = values[inverse]
    return out


def _distinct(days: Int64Array) -> tuple[Int64Array, Int64Array]:
    """For whole numbers (days): a position holding each distinct value, in ascending order of
    the values, and each number's index among them. A batch's days span a few hundred values,
    so a table over the span does it in two passes (``np.unique`` sorts)."""
    low, span = int(days.min()), int(days.max()) - int(days.min()) + 1
    if span > 4 * days.shape[0] + 1024:  # sparse: sort
        _, first, inverse = np.unique(days, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    where = np.full(span, -1, dtype=np.int64)
    where[days - low] = np.arange(days.shape[0], dtype=np.int64)  # any holder will do
    seen = where >= 0
    rank = np.cumsum(seen) - 1
    return where[seen], rank[days - low]


def _per_instant(at_us: Int64Array, compute: Compute) -> Int64Array:
    unique, inverse = np.unique(at_us, return_inverse=True)
    values = np.empty(unique.shape[0], dtype=np.int64)
    for j, micros in enumerate(unique.tolist()):
        found = compute(from_micros(micros))
        values[j] = NEVER_US if found is None else to_micros(found)
    out: Int64Array = values[inverse.reshape(-1)]
    return out


def _months_later_utc(at_us: Int64Array, months: int) -> Int64Array:
    """``at + months`` calendar months (day clamped to the month's end), time of day kept, UTC;
    ``NEVER_US`` past 9999-12-31 (as `ExpiryPolicy` does)."""
    days = at_us // DAY_US
    first, inverse = _distinct(days)
    unique = days[first]
    shift = np.empty(unique.shape[0], dtype=np.int64)
    for j, day in enumerate(unique.tolist()):
        date = (EPOCH + timedelta(days=day)).date()
        try:
            shift[j] = (add_months(date, months) - date).days
        except (OverflowError, ValueError):  # past year 9999
            shift[j] = -1
    shifts = shift[inverse]
    out: Int64Array = np.where(shifts < 0, NEVER_US, at_us + shifts * DAY_US)
    return out


def lot_expiries(program: LoyaltyProgram, at_us: Int64Array) -> Int64Array:
    """When a lot earned at each instant expires (``NEVER_US`` for none): the program's
    ``lot_expiry``."""
    derived = program._derived
    if not derived.per_lot:
        return np.full(at_us.shape, NEVER_US, dtype=np.int64)
    if not at_us.size:
        return np.empty(0, dtype=np.int64)
    if derived.per_day:  # end_of_month, fixed_date: the local date decides
        return _per_day(program, at_us, derived.lot_expiry)
    if derived.zone is UTC:  # months_after in UTC
        return _months_later_utc(at_us, program.expiry.months)
    return _per_instant(at_us, derived.lot_expiry)


def inactivity_deadlines(program: LoyaltyProgram, at_us: Int64Array) -> Int64Array:
    """The inactivity deadline after activity at each instant (``NEVER_US`` for other rules)."""
    derived = program._derived
    if not derived.inactivity:
        return np.full(at_us.shape, NEVER_US, dtype=np.int64)
    if not at_us.size:
        return np.empty(0, dtype=np.int64)
    if derived.zone is UTC:
        return _months_later_utc(at_us, program.expiry.months)
    policy, zone_name = program.expiry, program.timezone
    return _per_instant(at_us, lambda at: policy.inactivity_deadline(at, zone_name))


def fingerprints(rows: Int64Array, names: Iterable[str], count: int, *, order: bool) -> Int64Array:
    """64-bit fingerprints of (account row, key) pairs, or of (row, order id) with ``order``.

    Equal pairs have equal fingerprints, so "not among the fingerprints of an account's keys"
    proves a key is new; a shared fingerprint only sends the account to the per-account path.
    They use Python's string hash, so they are only comparable within one process
    (``FINGERPRINT_SEED``).
    """
    hashes = np.fromiter(map(hash, names), dtype=np.int64, count=count)
    if order:
        hashes ^= _ORDER
    with np.errstate(over="ignore"):
        mixed: Int64Array = hashes * _MIX + rows  # wraps around: a mix, not arithmetic
    return mixed


class Quotes:
    """Purchase points over arrays: ``points`` (after the per-order cap, before the per-day cap),
    ``exact`` (False where int64 could not reproduce the `Decimal` result), and per operation the
    index of its multiplier combination in ``names`` (the running campaigns' names)."""

    __slots__ = ("combo", "exact", "names", "points")

    def __init__(
        self, points: Int64Array, exact: BoolArray, combo: Int64Array, names: list[tuple[str, ...]]
    ) -> None:
        self.points = points
        self.exact = exact
        self.combo = combo
        self.names = names


def _mantissa(number: Decimal) -> tuple[int, int]:
    """``number`` as ``(m, e)`` with ``number == m * 10**e`` (finite, non-negative)."""
    sign, digits, exponent = number.as_tuple()
    value = int("".join(map(str, digits))) if digits else 0
    return (-value if sign else value), int(exponent)


def _round(x: Int64Array, scale: int, mode: str) -> Int64Array:
    """``x / 10**scale`` (``x >= 0``) rounded to an integer by the `decimal` rounding ``mode``."""
    if scale <= 0:
        scaled: Int64Array = x * 10 ** (-scale)
        return scaled
    divisor = 10**scale
    q: Int64Array = x // divisor
    r = x - q * divisor
    if mode in (decimal.ROUND_FLOOR, decimal.ROUND_DOWN):
        up = np.zeros(x.shape, dtype=bool)
    elif mode in (decimal.ROUND_CEILING, decimal.ROUND_UP):
        up = r > 0
    elif mode == decimal.ROUND_HALF_UP:
        up = 2 * r >= divisor
    elif mode == decimal.ROUND_HALF_DOWN:
        up = 2 * r > divisor
    else:  # ROUND_HALF_EVEN
        up = (2 * r > divisor) | ((2 * r == divisor) & (q % 2 == 1))
    return q + up


def quote_purchases(
    program: LoyaltyProgram,
    amount_minor: Int64Array,
    minor: int,
    at_us: Int64Array,
    channel: Int32Array,
    channels: tuple[str, ...],
    category: Int32Array,
    categories: tuple[str, ...],
    tier: Int32Array,
    tiers: tuple[str, ...],
) -> Quotes:
    """The points of purchases of ``amount_minor / 10**minor`` (codes index the vocabularies;
    ``-1`` is no category or no tier): `LoyaltyProgram.quote` for each, per-day cap aside."""
    derived = program._derived
    n = amount_minor.shape[0]
    bounds = np.asarray([to_micros(b) for b in derived.bounds], dtype=np.int64)
    span = np.searchsorted(bounds, at_us, side="right").astype(np.int64)
    # One int64 per (interval, channel, category, tier): each part below its own radix.
    radix = (len(channels) + 1, len(categories) + 1, len(tiers) + 1)
    key = ((span * radix[0] + channel) * radix[1] + category + 1) * radix[2] + tier + 1
    codes, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    rest, t1 = np.divmod(codes, radix[2])
    rest, k1 = np.divmod(rest, radix[1])
    spans, chans = np.divmod(rest, radix[0])
    unique = np.stack([spans, chans, k1 - 1, t1 - 1], axis=1)
    rate, rate_exp = _mantissa(derived.rate)
    factor = np.empty(unique.shape[0], dtype=np.int64)
    scale = np.empty(unique.shape[0], dtype=np.int64)
    bonus = np.empty(unique.shape[0], dtype=np.int64)
    limit = np.empty(unique.shape[0], dtype=np.int64)  # the largest amount computed exactly
    names: list[tuple[str, ...]] = []
    for j, (s, c, k, t) in enumerate(unique.tolist()):
        multiplier, plus, running = derived.factor(
            s, channels[c], None if k < 0 else categories[k], None if t < 0 else tiers[t]
        )
        mult, mult_exp = _mantissa(multiplier)
        whole = rate * mult
        power = rate_exp + mult_exp - minor  # points = amount_minor * whole * 10**power
        scaled = whole * 10 ** max(power, 0)
        factor[j] = scaled if scaled < _LIMIT else 0
        scale[j] = -power if power < 0 else 0
        bonus[j] = plus
        names.append(running)
        if scaled == 0:
            limit[j] = NEVER_US  # every amount gives 0 (plus the bonus)
        elif scaled >= _LIMIT or -power > _MAX_SCALE:
            limit[j] = -1  # nothing exact in int64: the per-account path computes these
        else:
            limit[j] = (_LIMIT - 1) // scaled
    exact = amount_minor <= limit[inverse]
    product = np.where(exact, amount_minor, 0) * factor[inverse]
    points = np.zeros(n, dtype=np.int64)
    rounding = derived.rounding
    for s in np.unique(scale).tolist():
        rows = scale[inverse] == s
        points[rows] = _round(product[rows], s, rounding)
    points += bonus[inverse]
    if derived.cap is not None:
        np.minimum(points, derived.cap, out=points)
    return Quotes(points, exact, inverse.astype(np.int64), names)
