"""Loyalty tier rules: the tiers, their thresholds, the qualification window, the downgrade rule.

A [`TierPolicy`][crmcore.loyalty.tier_policy.TierPolicy] is frozen, serialisable data: ordered
[`Tier`][crmcore.loyalty.tier_policy.Tier] s (a name, a threshold on qualifying points and/or
qualifying spend, an earn multiplier), a
[`QualificationWindow`][crmcore.loyalty.tier_policy.QualificationWindow] (calendar year or rolling
12 months), a [`DowngradePolicy`][crmcore.loyalty.tier_policy.DowngradePolicy] (Talon.One's
``one_down`` or ``balance_based``) and a grace period in days. The windows and periods are computed
here in integer microseconds (exact), for the per-customer
[`TierStatus`][crmcore.loyalty.tiers.TierStatus] and for the batch path
([`crmcore.loyalty.tiers_batch`][crmcore.loyalty.tiers_batch]) alike;
[`crmcore.loyalty.tiers`][crmcore.loyalty.tiers] states the rules.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

import attrs
from dateutil.relativedelta import relativedelta

from crmcore.kernel import validators
from crmcore.kernel.clock import from_micros, to_micros, to_utc
from crmcore.kernel.errors import CurrencyMismatchError, NotFoundError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.money import Money, currency_code, to_decimal

__all__ = [
    "MAX_GRACE_DAYS",
    "DowngradePolicy",
    "QualificationWindow",
    "Tier",
    "TierPolicy",
    "period_close",
    "period_end_of",
    "tier_micros",
    "tier_name",
    "window_start",
]

_NAME: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?\Z")
MAX_GRACE_DAYS: Final = 3660
"""The longest grace period a policy may set, in days."""
_LAST_YEAR: Final = 9990


class QualificationWindow(enum.Enum):
    """Which facts count toward a tier: the calendar year, or the last 12 months."""

    CALENDAR_YEAR = "calendar_year"
    ROLLING_12_MONTHS = "rolling_12_months"


class DowngradePolicy(enum.Enum):
    """How far a review may drop a tier (Talon.One's names).

    ``one_down``: one tier down, or less if the period supports more (never
    below what the period supports). ``balance_based``: straight to the tier
    the period's qualification supports.
    """

    ONE_DOWN = "one_down"
    BALANCE_BASED = "balance_based"


def _name(value: object, field: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationError(
            field, value, "must be 1-64 letters, digits, spaces or . _ - (no outer spaces)"
        )
    return value


def tier_name(value: object) -> str:
    return _name(value, "tier.name")


def _multiplier(value: object) -> Decimal:
    number = to_decimal(value, "tier.multiplier")
    if number <= 0:
        raise ValidationError("tier.multiplier", value, "must be positive")
    return number


def _min_points(_instance: object, _attribute: object, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError("tier.min_points", value, "must be a positive whole number or None")


def _min_spend(_instance: object, _attribute: object, value: Money | None) -> None:
    if value is None:
        return
    if not isinstance(value, Money) or value.amount <= 0:
        raise ValidationError("tier.min_spend", value, "must be a positive Money or None")
    if value.rounded() != value:
        raise ValidationError("tier.min_spend", value, "must not be finer than the minor unit")


@attrs.frozen(kw_only=False)
class Tier:
    """One tier: its ``name``, thresholds and earn ``multiplier``.

    A customer qualifies when the qualifying points reach ``min_points`` or
    the qualifying spend reaches ``min_spend`` (either one; a tier may set
    only one). The first tier of a policy is the base tier and sets neither.
    """

    name: str = attrs.field(converter=tier_name)
    min_points: int | None = attrs.field(default=None, validator=_min_points, kw_only=True)
    min_spend: Money | None = attrs.field(default=None, validator=_min_spend, kw_only=True)
    multiplier: Decimal = attrs.field(default=Decimal(1), converter=_multiplier, kw_only=True)


def _policy_name(value: object) -> str:
    return _name(value, "policy.name")


def _currency(value: object) -> str:
    return currency_code(value, "policy.currency")


def _tiers(value: object) -> tuple[Tier, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError("policy.tiers", value, "must be a sequence of Tier")
    tiers = tuple(value)
    for i, tier in enumerate(tiers):
        if not isinstance(tier, Tier):
            raise ValidationError(f"policy.tiers[{i}]", tier, "must be a Tier")
    return tiers


def _window(value: object) -> QualificationWindow:
    try:
        return QualificationWindow(value)
    except ValueError:
        allowed = ", ".join(w.value for w in QualificationWindow)
        raise ValidationError("policy.window", value, f"must be one of {allowed}") from None


def _downgrade(value: object) -> DowngradePolicy:
    try:
        return DowngradePolicy(value)
    except ValueError:
        allowed = ", ".join(d.value for d in DowngradePolicy)
        raise ValidationError("policy.downgrade", value, f"must be one of {allowed}") from None


def _grace(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GRACE_DAYS:
        raise ValidationError(
            "policy.grace_days", value, f"must be a whole number of days in 0..{MAX_GRACE_DAYS}"
        )


@attrs.frozen(kw_only=True)
class TierPolicy:
    """The tier rules of a program: frozen data that round-trips through the codec.

    ``tiers`` are ordered from the base tier up; thresholds rise strictly
    along the tiers that set them; spend thresholds are in ``currency``.
    ``window`` chooses what counts, ``downgrade`` how far a review may drop,
    ``grace_days`` how long after a period end the review happens.
    """

    name: str = attrs.field(converter=_policy_name)
    currency: str = attrs.field(converter=_currency)
    tiers: tuple[Tier, ...] = attrs.field(converter=_tiers)
    window: QualificationWindow = attrs.field(
        default=QualificationWindow.CALENDAR_YEAR, converter=_window
    )
    downgrade: DowngradePolicy = attrs.field(default=DowngradePolicy.ONE_DOWN, converter=_downgrade)
    grace_days: int = attrs.field(default=0, validator=_grace)

    def __attrs_post_init__(self) -> None:
        if len(self.tiers) < 2:
            raise ValidationError("policy.tiers", self.tiers, "must hold a base tier and one more")
        names = [t.name for t in self.tiers]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValidationError(f"policy.tiers[{i}].name", name, "is used twice")
        base = self.tiers[0]
        if base.min_points is not None or base.min_spend is not None:
            raise ValidationError(
                "policy.tiers[0]", base.name, "is the base tier and must set no threshold"
            )
        last_points = last_spend = None
        for i, tier in enumerate(self.tiers[1:], 1):
            where = f"policy.tiers[{i}]"
            if tier.min_points is None and tier.min_spend is None:
                raise ValidationError(where, tier.name, "must set min_points or min_spend")
            if tier.min_points is not None:
                if last_points is not None and tier.min_points <= last_points:
                    raise ValidationError(
                        f"{where}.min_points", tier.min_points, "must rise along the tiers"
                    )
                last_points = tier.min_points
            if tier.min_spend is not None:
                if tier.min_spend.currency != self.currency:
                    raise CurrencyMismatchError(self.currency, tier.min_spend.currency, "compare")
                if last_spend is not None and tier.min_spend <= last_spend:
                    raise ValidationError(
                        f"{where}.min_spend", tier.min_spend, "must rise along the tiers"
                    )
                last_spend = tier.min_spend

    # -- queries -------------------------------------------------------------------------------
    @property
    def base(self) -> Tier:
        """The tier every customer starts in."""
        return self.tiers[0]

    @property
    def names(self) -> tuple[str, ...]:
        """The tier names, base first."""
        return tuple(t.name for t in self.tiers)

    def index(self, tier: str) -> int:
        """The position of ``tier`` (0 is the base); raises NotFoundError for an unknown tier."""
        if not isinstance(tier, str):
            raise ValidationError("tier", tier, "must be a tier name")
        for i, t in enumerate(self.tiers):
            if t.name == tier:
                return i
        raise NotFoundError("tier", tier)

    def multiplier(self, tier: str) -> Decimal:
        """The earn multiplier of ``tier`` (pass it, or the tier name, to earning)."""
        return self.tiers[self.index(tier)].multiplier

    def multipliers(self) -> FrozenDict[str, Decimal]:
        """Earn multipliers keyed by tier name, as a program's tier multipliers expect."""
        return FrozenDict((t.name, t.multiplier) for t in self.tiers)

    # -- the rule, on scalars (the batch path has the same on arrays) ---------------------------
    def supported(self, points: int, spend: Money) -> str:
        """The highest tier whose points or spend threshold the totals reach."""
        if not isinstance(spend, Money):
            raise ValidationError("spend", spend, f"must be Money in {self.currency}")
        if spend.currency != self.currency:
            raise CurrencyMismatchError(self.currency, spend.currency, "compare")
        return self.tiers[self.supported_index(points, spend.to_minor())].name

    def supported_index(self, points: int, spend_minor: int) -> int:
        """The position of the highest tier the qualifying ``points`` or spend (in minor units of
        the policy's currency) reach."""
        if type(points) is not int:
            points = validators.integer(points, "points")
        if type(spend_minor) is not int:
            spend_minor = validators.integer(spend_minor, "spend_minor")
        best = 0
        for i, (min_points, min_spend) in enumerate(self._thresholds()):
            if (min_points is not None and points >= min_points) or (
                min_spend is not None and spend_minor >= min_spend
            ):
                best = i
        return best

    def _thresholds(self) -> list[tuple[int | None, int | None]]:
        return [
            (t.min_points, None if t.min_spend is None else t.min_spend.to_minor())
            for t in self.tiers
        ]


# ---------------------------------------------------------------------------------------------
# Time arithmetic in integer microseconds (exact; the batch path mirrors it on arrays)
# ---------------------------------------------------------------------------------------------


def tier_micros(value: object, field: str) -> int:
    """Microseconds since the epoch of an aware time before the year 9991 (periods must fit)."""
    moment = to_utc(value, field)
    if moment.year > _LAST_YEAR:
        raise ValidationError(field, value, f"must be before the year {_LAST_YEAR + 1}")
    return to_micros(moment)


def _year_start(us: int) -> int:
    return tier_micros(datetime(from_micros(us).year, 1, 1, tzinfo=UTC), "at")


def _shift_years(us: int, years: int) -> int:
    return tier_micros(from_micros(us) + relativedelta(years=years), "at")


def window_start(window: QualificationWindow, us: int) -> int:
    """The exclusive lower bound of the live window ending at ``us`` (inclusive)."""
    if window is QualificationWindow.CALENDAR_YEAR:
        return _year_start(us) - 1
    return _shift_years(us, -1)


def period_end_of(window: QualificationWindow, us: int) -> int:
    """The end of the period that starts (or runs) at ``us``."""
    if window is QualificationWindow.CALENDAR_YEAR:
        return tier_micros(datetime(from_micros(us).year + 1, 1, 1, tzinfo=UTC), "at")
    return _shift_years(us, 1)


def period_close(window: QualificationWindow, period_end: int) -> int:
    """The last instant of the period ending at ``period_end``: its window ends there."""
    return period_end - 1 if window is QualificationWindow.CALENDAR_YEAR else period_end
